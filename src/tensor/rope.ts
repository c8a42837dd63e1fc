/**
 * Rotary position embeddings over whole sequences, forward and backward.
 * Adjacent pairs `(x[i], x[i+1])` are rotated (llama2.c layout, not the
 * half-split one); the angle of pair `i` at position `pos` is
 * `pos / theta^((i mod headSize) / headSize)`.
 *
 * @module
 */

/** Precomputed cos/sin of every (position, pair-in-head) angle. */
export interface RopeTable {
  /** Head size the table was built for. */
  readonly headSize: number;
  /** Number of positions. */
  readonly positions: number;
  /** `cos[pos * headSize/2 + i/2]`, float64 like the per-token path computes it. */
  readonly cos: Float64Array;
  /** `sin[pos * headSize/2 + i/2]`. */
  readonly sin: Float64Array;
}

/**
 * Builds the cos/sin table for `positions` positions.
 *
 * @example
 * ```ts
 * import { ropeTable } from "@proj/tinyllm";
 * const t = ropeTable(4, 8, 10000);
 * console.log(t.cos.length, t.cos[0]); // 16 1
 * ```
 */
export function ropeTable(
  headSize: number,
  positions: number,
  theta: number,
): RopeTable {
  const half = headSize / 2;
  const cos = new Float64Array(positions * half);
  const sin = new Float64Array(positions * half);
  // per pair, the same expression as ops.ts rope(), so both agree bit for bit
  const freq = new Float64Array((headSize + 1) >> 1);
  for (let i = 0; i < headSize; i += 2) {
    freq[i >> 1] = 1 / Math.pow(theta, i / headSize);
  }
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < headSize; i += 2) {
      const a = p * freq[i >> 1];
      cos[p * half + i / 2] = Math.cos(a);
      sin[p * half + i / 2] = Math.sin(a);
    }
  }
  return { headSize, positions, cos, sin };
}

/**
 * Rotates pairs of `n` rows in place by the table's angles, or by their
 * negatives when `sign` is -1 (the backward pass).
 */
function rotate(
  x: Float32Array,
  n: number,
  width: number,
  seqLen: number,
  table: RopeTable,
  sign: 1 | -1,
): void {
  const hs = table.headSize, half = hs / 2;
  const { cos, sin } = table;
  for (let r = 0; r < n; r++) {
    const t = (r % seqLen) * half;
    const o = r * width;
    for (let i = 0; i < width; i += 2) {
      const k = t + ((i % hs) >> 1);
      const c = cos[k], s = sign * sin[k];
      const x0 = x[o + i], x1 = x[o + i + 1];
      x[o + i] = x0 * c - x1 * s;
      x[o + i + 1] = x0 * s + x1 * c;
    }
  }
}

/**
 * Rotates, in place, `n` rows of width `width` (a whole number of heads);
 * row `r` is at position `r mod seqLen` (rows are `[batch, seqLen]`).
 *
 * @example
 * ```ts
 * import { ropeForward, ropeTable } from "@proj/tinyllm";
 * const x = new Float32Array([1, 0, 1, 0, 1, 0, 1, 0]); // 2 positions × width 4
 * ropeForward(x, 2, 4, 2, ropeTable(4, 2, 10000));
 * console.log(x[0], x[4].toFixed(4)); // 1 "0.5403" (position 1 rotates by 1 rad)
 * ```
 */
export function ropeForward(
  x: Float32Array,
  n: number,
  width: number,
  seqLen: number,
  table: RopeTable,
): void {
  rotate(x, n, width, seqLen, table, 1);
}

/**
 * Backward of {@linkcode ropeForward}, in place on the gradient: a rotation's
 * transpose is the rotation by the opposite angle.
 *
 * @example
 * ```ts
 * import { ropeBackward, ropeForward, ropeTable } from "@proj/tinyllm";
 * const t = ropeTable(2, 3, 10000), x = new Float32Array([1, 2, 3, 4, 5, 6]);
 * ropeForward(x, 3, 2, 3, t);
 * ropeBackward(x, 3, 2, 3, t); // the inverse rotation
 * console.log(x.map(Math.round)); // [1, 2, 3, 4, 5, 6]
 * ```
 */
export function ropeBackward(
  dx: Float32Array,
  n: number,
  width: number,
  seqLen: number,
  table: RopeTable,
): void {
  rotate(dx, n, width, seqLen, table, -1);
}
