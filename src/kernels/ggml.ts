/**
 * Kernel table entries for ggml's block types (`src/quant/ggml/`): the
 * TypeScript and WebAssembly products on the raw GGUF blocks. Both round the
 * activations to the type's `vec_dot_type` first, bit for bit as ggml's CPU
 * backend, then take integer dot products per block.
 *
 * @module
 */
import { GGML_BLOCK_TYPES, ggmlMatmul } from "../quant/ggml/mod.ts";
import { createGgmlActivations } from "../quant/ggml/activations.ts";
import type { GgmlActivations, GgmlBlockType } from "../quant/ggml/common.ts";
import { GGML_TYPE } from "../quant/ggml/types.ts";
import { ggmlMatmulWasm } from "../quant/ggml/wasm.ts";
import type { QMatrix } from "../quant/types.ts";
import type { ActivationFormat, KernelTable, LinearKernels } from "./types.ts";

/** The activation format name of a `vec_dot_type`. */
const FORMAT: Readonly<Record<number, ActivationFormat>> = {
  [GGML_TYPE.F32]: "f32",
  [GGML_TYPE.F16]: "f16",
  [GGML_TYPE.BF16]: "bf16",
  [GGML_TYPE.Q8_0]: "q8_0",
  [GGML_TYPE.Q8_1]: "q8_1",
  [GGML_TYPE.Q8_K]: "q8_K",
};

// Activation buffers per (format, row length), grown to the largest n seen:
// a product allocates nothing once its shapes have been seen.
const scratch = new Map<string, GgmlActivations>();

function activationsFor(
  t: GgmlBlockType,
  cols: number,
  n: number,
): GgmlActivations {
  const key = `${t.vecDotType}:${cols}`;
  let a = scratch.get(key);
  if (!a || a.rows < n) {
    a = createGgmlActivations(t.vecDotType, cols, Math.max(n, a?.rows ?? 0));
    scratch.set(key, a);
  }
  return a;
}

function jsKernels(t: GgmlBlockType): LinearKernels {
  const product = (m: QMatrix, x: Float32Array, n: number, out: Float32Array) =>
    ggmlMatmul(
      t,
      m.data as Uint8Array,
      m.rows,
      m.cols,
      x,
      n,
      out,
      activationsFor(t, m.cols, n),
    );
  return {
    backend: "js",
    activation: FORMAT[t.vecDotType],
    matvec: (m, x, out) => product(m, x, 1, out),
    matmul: product,
  };
}

function wasmKernels(t: GgmlBlockType): LinearKernels {
  const product = (m: QMatrix, x: Float32Array, n: number, out: Float32Array) =>
    ggmlMatmulWasm(t, m.data as Uint8Array, m.rows, m.cols, x, n, out);
  return {
    backend: "wasm",
    activation: FORMAT[t.vecDotType],
    matvec: (m, x, out) => product(m, x, 1, out),
    matmul: product,
  };
}

/** Weight-type names of the ggml block types (ggml's F32 is the table's "fp32"). */
const TYPES = Object.values(GGML_BLOCK_TYPES).filter((t) =>
  t.id !== GGML_TYPE.F32
);

/**
 * TypeScript kernels of ggml's block types, keyed by weight-type name
 * ("q8_0", "q4_k", …); part of `JS_KERNELS`.
 *
 * @example
 * ```ts
 * import { GGML_JS_KERNELS } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(GGML_JS_KERNELS.q4_k.activation, "q8_K");
 * assert.equal(GGML_JS_KERNELS.q4_1.activation, "q8_1");
 * ```
 */
export const GGML_JS_KERNELS: KernelTable = Object.fromEntries(
  TYPES.map((t) => [t.name.toLowerCase(), jsKernels(t)]),
);

/**
 * WebAssembly SIMD kernels of ggml's block types (`wasm/ggml.ts`), keyed by
 * weight-type name; part of `WASM_KERNELS`.
 *
 * @example
 * ```ts
 * import { GGML_WASM_KERNELS } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(GGML_WASM_KERNELS.q8_0.backend, "wasm");
 * assert.equal(GGML_WASM_KERNELS.q8_0.activation, "q8_0");
 * ```
 */
export const GGML_WASM_KERNELS: KernelTable = Object.fromEntries(
  TYPES.map((t) => [t.name.toLowerCase(), wasmKernels(t)]),
);
