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
 *
 * @example
 * ```ts
 * import { embeddingForward, fp32Matrix } from "@proj/tinyllm";
 * const table = fp32Matrix(new Float32Array([0, 0, 1, 2, 3, 4]), 3, 2);
 * const out = new Float32Array(4);
 * embeddingForward(out, [2, 1], table, null, 2, 2);
 * console.log(out); // [3, 4, 1, 2]
 * ```
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
 *
 * @example
 * ```ts
 * import { embeddingBackward } from "@proj/tinyllm";
 * const dtable = new Float32Array(6);
 * embeddingBackward(dtable, null, new Float32Array([1, 1, 2, 2]), [1, 1], 2, 2, 2);
 * console.log(dtable); // [0, 0, 3, 3, 0, 0]
 * ```
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
