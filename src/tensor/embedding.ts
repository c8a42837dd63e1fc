/**
 * Token (and learned position) embeddings, forward and backward.
 *
 * @module
 */

/** Reads row `row` of an embedding table into `out` (whatever its storage). */
export type RowReader = (row: number, out: Float32Array) => void;

/**
 * Writes `out[i] = table[tokens[i]] (+ positions[i mod seqLen])` for `n`
 * rows of width `dim`. The token table is read through `readRow`, so it may
 * be stored in any weight type.
 *
 * @example
 * ```ts
 * import { embeddingForward } from "@proj/tinyllm/tensor";
 * const table = new Float32Array([0, 0, 1, 2, 3, 4]); // 3 rows of width 2
 * const out = new Float32Array(4);
 * const readRow = (r: number, o: Float32Array) => o.set(table.subarray(2 * r, 2 * r + 2));
 * embeddingForward(out, [2, 1], readRow, null, 2, 2, 2);
 * console.log(out); // [3, 4, 1, 2]
 * ```
 */
export function embeddingForward(
  out: Float32Array,
  tokens: ArrayLike<number>,
  readRow: RowReader,
  positions: Float32Array | null,
  n: number,
  seqLen: number,
  dim: number,
): void {
  for (let i = 0; i < n; i++) {
    const row = out.subarray(i * dim, (i + 1) * dim);
    readRow(tokens[i], row);
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
 * import { embeddingBackward } from "@proj/tinyllm/tensor";
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
