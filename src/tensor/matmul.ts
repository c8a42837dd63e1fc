/**
 * fp32 matrix products for the sequence forward and for training, with their
 * backward passes side by side. `W` is row-major `[rows, cols]` (out = W·x).
 *
 * The loops are unrolled over four rows of `W` (forward, dx) or four input
 * rows (dW) so each load of the shared operand feeds four multiply-adds.
 *
 * @module
 */

/**
 * `out[n, rows] = x[n, cols] · Wᵀ`.
 *
 * @example
 * ```ts
 * import { matmulF32 } from "@proj/tinyllm/tensor";
 * const out = new Float32Array(2);
 * matmulF32(out, new Float32Array([1, 1]), new Float32Array([1, 2, 3, 4]), 1, 2, 2);
 * console.log(out); // [3, 7]
 * ```
 */
export function matmulF32(
  out: Float32Array,
  x: Float32Array,
  w: Float32Array,
  n: number,
  cols: number,
  rows: number,
): void {
  const rows4 = rows - (rows % 4);
  for (let i = 0; i < n; i++) {
    const xo = i * cols, oo = i * rows;
    let r = 0;
    for (; r < rows4; r += 4) {
      const w0 = r * cols, w1 = w0 + cols, w2 = w1 + cols, w3 = w2 + cols;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let c = 0; c < cols; c++) {
        const xv = x[xo + c];
        s0 += w[w0 + c] * xv;
        s1 += w[w1 + c] * xv;
        s2 += w[w2 + c] * xv;
        s3 += w[w3 + c] * xv;
      }
      out[oo + r] = s0;
      out[oo + r + 1] = s1;
      out[oo + r + 2] = s2;
      out[oo + r + 3] = s3;
    }
    for (; r < rows; r++) {
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
 *
 * @example
 * ```ts
 * import { matmulBackwardF32 } from "@proj/tinyllm/tensor";
 * const dx = new Float32Array(2), dw = new Float32Array(4);
 * matmulBackwardF32(dx, dw, new Float32Array([1, 0]), new Float32Array([5, 6]),
 *   new Float32Array([1, 2, 3, 4]), 1, 2, 2);
 * console.log(dx, dw); // [1, 2] [5, 6, 0, 0]
 * ```
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
  if (dx) {
    const rows4 = rows - (rows % 4);
    for (let i = 0; i < n; i++) {
      const xo = i * cols, oo = i * rows;
      let r = 0;
      for (; r < rows4; r += 4) {
        const g0 = dout[oo + r], g1 = dout[oo + r + 1];
        const g2 = dout[oo + r + 2], g3 = dout[oo + r + 3];
        const w0 = r * cols, w1 = w0 + cols, w2 = w1 + cols, w3 = w2 + cols;
        for (let c = 0; c < cols; c++) {
          dx[xo + c] += g0 * w[w0 + c] + g1 * w[w1 + c] + g2 * w[w2 + c] +
            g3 * w[w3 + c];
        }
      }
      for (; r < rows; r++) {
        const g = dout[oo + r], wo = r * cols;
        for (let c = 0; c < cols; c++) dx[xo + c] += g * w[wo + c];
      }
    }
  }
  const n4 = n - (n % 4);
  for (let r = 0; r < rows; r++) {
    const wo = r * cols;
    let i = 0;
    for (; i < n4; i += 4) {
      const d0 = dout[i * rows + r], d1 = dout[(i + 1) * rows + r];
      const d2 = dout[(i + 2) * rows + r], d3 = dout[(i + 3) * rows + r];
      const x0 = i * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
      for (let c = 0; c < cols; c++) {
        dw[wo + c] += d0 * x[x0 + c] + d1 * x[x1 + c] + d2 * x[x2 + c] +
          d3 * x[x3 + c];
      }
    }
    for (; i < n; i++) {
      const d = dout[i * rows + r], xo = i * cols;
      for (let c = 0; c < cols; c++) dw[wo + c] += d * x[xo + c];
    }
  }
}
