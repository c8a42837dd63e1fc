/**
 * Token (and learned position) embeddings, forward and backward.
 *
 * @module
 */
import { weightType } from "../quant/table.ts";
import type { QMatrix } from "../quant/types.ts";

/**
 * Writes `out[i] = table[tokens[i]] (+ positions[i mod seqLen])` for `n`
 * rows of width `dim`. The token table may be any weight type (its rows are
 * dequantized through the weight-type table).
 */
export function embeddingForward(
  out: Float32Array,
  tokens: ArrayLike<number>,
  table: QMatrix,
  positions: Float32Array | null,
  n: number,
  seqLen: number,
): void {
  const dim = table.cols;
  const type = weightType(table.type);
  for (let i = 0; i < n; i++) {
    const row = out.subarray(i * dim, (i + 1) * dim);
    type.dequantizeRow(table, tokens[i], row);
    if (positions) {
      const p = (i % seqLen) * dim;
      for (let j = 0; j < dim; j++) row[j] += positions[p + j];
    }
  }
}

/**
 * Backward of {@linkcode embeddingForward}: accumulates `dout` rows into the
 * token rows they came from (`dtable`) and into the position rows (`dpos`,
 * when learned).
 */
export function embeddingBackward(
  dtable: Float32Array,
  dpos: Float32Array | null,
  dout: Float32Array,
  tokens: ArrayLike<number>,
  n: number,
  seqLen: number,
  dim: number,
): void {
  for (let i = 0; i < n; i++) {
    const o = i * dim, t = tokens[i] * dim;
    for (let j = 0; j < dim; j++) dtable[t + j] += dout[o + j];
    if (dpos) {
      const p = (i % seqLen) * dim;
      for (let j = 0; j < dim; j++) dpos[p + j] += dout[o + j];
    }
  }
}
