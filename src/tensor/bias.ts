/**
 * Adding a bias to every row (Q/K/V projections of Qwen2-style models),
 * forward and backward.
 *
 * @module
 */

/**
 * `x[i, j] += bias[j]` for `n` rows of width `width`.
 *
 * @example
 * ```ts
 * import { biasForward } from "@proj/tinyllm/tensor";
 * const x = new Float32Array([1, 2, 3, 4]);
 * biasForward(x, new Float32Array([10, 20]), 2, 2);
 * console.log(x); // [11, 22, 13, 24]
 * ```
 */
export function biasForward(
  x: Float32Array,
  bias: Float32Array,
  n: number,
  width: number,
): void {
  for (let i = 0; i < n; i++) {
    const o = i * width;
    for (let j = 0; j < width; j++) x[o + j] += bias[j];
  }
}

/**
 * Backward of {@linkcode biasForward}: accumulates `dbias[j] += Σ_i dx[i, j]`.
 *
 * @example
 * ```ts
 * import { biasBackward } from "@proj/tinyllm/tensor";
 * const db = new Float32Array(2);
 * biasBackward(db, new Float32Array([1, 2, 3, 4]), 2, 2);
 * console.log(db); // [4, 6]
 * ```
 */
export function biasBackward(
  dbias: Float32Array,
  dx: Float32Array,
  n: number,
  width: number,
): void {
  for (let i = 0; i < n; i++) {
    const o = i * width;
    for (let j = 0; j < width; j++) dbias[j] += dx[o + j];
  }
}
