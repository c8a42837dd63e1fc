/**
 * Fast fp32 kernels in TypeScript.
 *
 * @module
 */
import type { QMatrix } from "../../quant/types.ts";

/**
 * Fast fp32 matmul `out[n, rows] = x[n, cols] · Wᵀ`: four independent
 * accumulators per dot product (about 3× the plain loop in V8, which
 * otherwise serialises on one add chain).
 */
export function matmulFp32Fast(
  m: QMatrix,
  x: Float32Array,
  n: number,
  out: Float32Array,
): void {
  const w = m.data as Float32Array;
  const { rows, cols } = m;
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const wo = r * cols;
    for (let i = 0; i < n; i++) {
      const xo = i * cols;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let o = wo, c = xo;
      for (const end = xo + c4; c < end; c += 4, o += 4) {
        s0 += w[o] * x[c];
        s1 += w[o + 1] * x[c + 1];
        s2 += w[o + 2] * x[c + 2];
        s3 += w[o + 3] * x[c + 3];
      }
      for (const end = xo + cols; c < end; c++, o++) s0 += w[o] * x[c];
      out[i * rows + r] = (s0 + s1) + (s2 + s3);
    }
  }
}

/** Fast fp32 matrix-vector product (decode): {@linkcode matmulFp32Fast} with n = 1. */
export function matvecFp32Fast(
  m: QMatrix,
  x: Float32Array,
  out: Float32Array,
): void {
  matmulFp32Fast(m, x, 1, out);
}
