/**
 * What a kernel is: the products of a {@linkcode QMatrix} with activations,
 * for one weight type on one backend, and the format the activations are
 * rounded to before the dot products (ggml's `vec_dot_type`).
 *
 * @module
 */
import type { QMatrix } from "../quant/types.ts";

/**
 * The form a kernel turns its fp32 activations into before the dot products
 * (ggml's `vec_dot_type`). The result equals the exact product of the
 * dequantized weights with the activations rounded to this format.
 *
 * - `"f32"`: used as they are.
 * - `"int8-groups"`: int8 per group, scale absmax/127 (llama2.c's runq.c;
 *   `src/kernels/activation.ts`), the format of the int8/int4 kernels.
 * - `"f16"`, `"bf16"`: rounded to half / bfloat16 (ggml's F16 / BF16 dots).
 * - `"q8_0"`, `"q8_1"`, `"q8_K"`: ggml's 8-bit activation blocks (32 values
 *   with an f16 scale; plus their sum; 256 values with an f32 scale and
 *   partial sums), used by ggml's block types.
 */
export type ActivationFormat =
  | "f32"
  | "int8-groups"
  | "f16"
  | "bf16"
  | "q8_0"
  | "q8_1"
  | "q8_K";

/** Which implementation a kernel is. */
export type KernelBackend = "reference" | "js" | "wasm";

/** Kernels that multiply by a {@linkcode QMatrix} without unpacking it. */
export interface LinearKernels {
  /** Which implementation this is. */
  readonly backend: KernelBackend;
  /** What the activations are rounded to before the dot products. */
  readonly activation: ActivationFormat;
  /** `out[r] = Σ_c W[r,c]·x[c]` for one input vector (decode). */
  matvec(m: QMatrix, x: Float32Array, out: Float32Array): void;
  /**
   * `out[i, r] = Σ_c W[r,c]·x[i, c]` for `n` input rows (a whole sequence);
   * `x` is `[n, cols]`, `out` is `[n, rows]`.
   */
  matmul(m: QMatrix, x: Float32Array, n: number, out: Float32Array): void;
}

/** One backend's kernels, keyed by weight-type name (a type may be absent). */
export type KernelTable = Readonly<Record<string, LinearKernels>>;
