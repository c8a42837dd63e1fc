/**
 * fp32 matrix products for the sequence forward and for training, with their
 * backward passes side by side. `W` is row-major `[rows, cols]` (out = W·x).
 *
 * @module
 */

/** `out[n, rows] = x[n, cols] · Wᵀ` (+ nothing: the model has no biases). */
export function matmulF32(
  out: Float32Array,
  x: Float32Array,
  w: Float32Array,
  n: number,
  cols: number,
  rows: number,
): void {
  for (let i = 0; i < n; i++) {
    const xo = i * cols, oo = i * rows;
    for (let r = 0; r < rows; r++) {
      const wo = r * cols;
      let s = 0;
      for (let c = 0; c < cols; c++) s += w[wo + c] * x[xo + c];
      out[oo + r] = s;
    }
  }
}

/**
 * Backward of {@linkcode matmulF32}: accumulates `dx[n, cols] += dout · W`
 * (skipped when `dx` is null) and `dw[rows, cols] += doutᵀ · x`.
 */
export function matmulBackwardF32(
  dx: Float32Array | null,
  dw: Float32Array,
  dout: Float32Array,
  x: Float32Array,
  w: Float32Array,
  n: number,
  cols: number,
  rows: number,
): void {
  for (let i = 0; i < n; i++) {
    const xo = i * cols, oo = i * rows;
    for (let r = 0; r < rows; r++) {
      const g = dout[oo + r];
      if (g === 0) continue;
      const wo = r * cols;
      if (dx) { for (let c = 0; c < cols; c++) dx[xo + c] += g * w[wo + c]; }
      for (let c = 0; c < cols; c++) dw[wo + c] += g * x[xo + c];
    }
  }
}
