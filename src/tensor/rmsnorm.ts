/**
 * RMSNorm over rows, forward and backward side by side.
 *
 * Forward: `out[i, j] = w[j] · x[i, j] · rstd[i]` with
 * `rstd[i] = 1 / sqrt(mean_j(x[i, j]²) + eps)`; `rstd` is saved for backward.
 *
 * @module
 */

/**
 * Normalises `n` rows of width `dim`, saving the reciprocal RMS of each row
 * in `rstd` (length ≥ n). `out` may be `x` (decode normalises in place).
 *
 * @example
 * ```ts
 * import { rmsnormForward } from "@proj/tinyllm/tensor";
 * const out = new Float32Array(2), rstd = new Float32Array(1);
 * rmsnormForward(out, rstd, new Float32Array([3, 4]), new Float32Array([1, 1]), 1, 2, 0);
 * console.log(out); // ≈ [0.8485, 1.1314]: x / rms(x), rms = √12.5
 * ```
 */
export function rmsnormForward(
  out: Float32Array,
  rstd: Float32Array,
  x: Float32Array,
  w: Float32Array,
  n: number,
  dim: number,
  eps: number,
): void {
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    let ss = 0;
    for (let j = 0; j < dim; j++) ss += x[o + j] * x[o + j];
    const r = 1 / Math.sqrt(ss / dim + eps);
    rstd[i] = r;
    for (let j = 0; j < dim; j++) out[o + j] = w[j] * (r * x[o + j]);
  }
}

/**
 * Backward of {@linkcode rmsnormForward}: accumulates `dx += ∂L/∂x` and
 * `dw += ∂L/∂w` given `dout = ∂L/∂out`.
 *
 * With `xhat = x·rstd`: `dx_j = rstd · (w_j·dout_j − xhat_j · mean_k(w_k·dout_k·xhat_k))`.
 *
 * @example
 * ```ts
 * import { rmsnormBackward, rmsnormForward } from "@proj/tinyllm/tensor";
 * const x = new Float32Array([3, 4]), w = new Float32Array([1, 1]);
 * const out = new Float32Array(2), rstd = new Float32Array(1);
 * rmsnormForward(out, rstd, x, w, 1, 2, 0);
 * const dx = new Float32Array(2), dw = new Float32Array(2);
 * // the output is scale-invariant in x, so moving along x changes nothing
 * rmsnormBackward(dx, dw, new Float32Array([3, 4]), x, w, rstd, 1, 2);
 * console.log(Math.abs(dx[0] * 3 + dx[1] * 4) < 1e-6); // true
 * ```
 */
export function rmsnormBackward(
  dx: Float32Array,
  dw: Float32Array,
  dout: Float32Array,
  x: Float32Array,
  w: Float32Array,
  rstd: Float32Array,
  n: number,
  dim: number,
): void {
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    const r = rstd[i];
    let dot = 0;
    for (let j = 0; j < dim; j++) {
      const xhat = x[o + j] * r;
      dot += w[j] * dout[o + j] * xhat;
      dw[j] += dout[o + j] * xhat;
    }
    const m = dot / dim;
    for (let j = 0; j < dim; j++) {
      dx[o + j] += r * (w[j] * dout[o + j] - x[o + j] * r * m);
    }
  }
}
