/**
 * SwiGLU gate, forward and backward: `out = silu(h1) · h3` with
 * `silu(z) = z / (1 + e^−z)`.
 *
 * @module
 */

/**
 * `out[i] = silu(h1[i]) · h3[i]` for `n` elements (h1 and h3 are kept for
 * backward; decode passes `out = h1`).
 *
 * @example
 * ```ts
 * import { swigluForward } from "@proj/tinyllm/tensor";
 * const out = new Float32Array(1);
 * swigluForward(out, new Float32Array([0]), new Float32Array([5]), 1);
 * console.log(out[0]); // 0: silu(0) = 0
 * ```
 */
export function swigluForward(
  out: Float32Array,
  h1: Float32Array,
  h3: Float32Array,
  n: number,
): void {
  for (let i = 0; i < n; i++) {
    const z = h1[i];
    out[i] = (z / (1 + Math.exp(-z))) * h3[i];
  }
}

/**
 * Backward of {@linkcode swigluForward}: accumulates
 * `dh1 += dout · h3 · silu'(h1)` and `dh3 += dout · silu(h1)`, where
 * `silu'(z) = σ(z)·(1 + z·(1 − σ(z)))`.
 *
 * @example
 * ```ts
 * import { swigluBackward } from "@proj/tinyllm/tensor";
 * const dh1 = new Float32Array(1), dh3 = new Float32Array(1);
 * swigluBackward(dh1, dh3, new Float32Array([1]), new Float32Array([0]), new Float32Array([2]), 1);
 * console.log(dh1[0], dh3[0]); // 1 0: silu'(0) = 0.5, times h3 = 2
 * ```
 */
export function swigluBackward(
  dh1: Float32Array,
  dh3: Float32Array,
  dout: Float32Array,
  h1: Float32Array,
  h3: Float32Array,
  n: number,
): void {
  for (let i = 0; i < n; i++) {
    const z = h1[i];
    const sig = 1 / (1 + Math.exp(-z));
    const g = dout[i];
    dh1[i] += g * h3[i] * sig * (1 + z * (1 - sig));
    dh3[i] += g * z * sig;
  }
}
