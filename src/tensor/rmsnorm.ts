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
 * in `rstd` (length ≥ n).
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
    // same expression as ops.ts rmsnorm, so the sequence and token paths agree
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
