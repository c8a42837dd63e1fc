/**
 * Elementwise and normalisation kernels used by both forward paths.
 * Backward versions live beside their forward (training).
 *
 * @module
 */

/**
 * RMSNorm: `out[i] = w[i] · x[i] / sqrt(mean(x²) + eps)` over `n` elements
 * starting at `xOff` / `outOff`.
 */
export function rmsnorm(
  out: Float32Array,
  outOff: number,
  x: Float32Array,
  xOff: number,
  w: Float32Array,
  n: number,
  eps: number,
): void {
  let ss = 0;
  for (let i = 0; i < n; i++) ss += x[xOff + i] * x[xOff + i];
  const inv = 1 / Math.sqrt(ss / n + eps);
  for (let i = 0; i < n; i++) out[outOff + i] = w[i] * (inv * x[xOff + i]);
}

/** In-place softmax over `x[off .. off+n)`. */
export function softmax(x: Float32Array, off: number, n: number): void {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (x[off + i] > max) max = x[off + i];
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(x[off + i] - max);
    x[off + i] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let i = 0; i < n; i++) x[off + i] *= inv;
}

/**
 * Rotary position embedding on adjacent pairs (llama2.c layout), in place, for
 * one position: rotates `n` elements of `x` starting at `off`, where the
 * element index within a head decides the frequency.
 */
export function rope(
  x: Float32Array,
  off: number,
  n: number,
  headSize: number,
  pos: number,
  theta: number,
): void {
  for (let i = 0; i < n; i += 2) {
    const hd = i % headSize;
    const freq = 1 / Math.pow(theta, hd / headSize);
    const a = pos * freq;
    const c = Math.cos(a), s = Math.sin(a);
    const x0 = x[off + i], x1 = x[off + i + 1];
    x[off + i] = x0 * c - x1 * s;
    x[off + i + 1] = x0 * s + x1 * c;
  }
}

/** SwiGLU gate in place: `h1[i] = silu(h1[i]) · h3[i]` for `n` elements. */
export function swiglu(h1: Float32Array, h3: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const z = h1[i];
    h1[i] = (z / (1 + Math.exp(-z))) * h3[i];
  }
}
