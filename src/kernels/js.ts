/**
 * The TypeScript kernel table: the portable default, one entry per weight
 * type that has fast TypeScript kernels.
 *
 * @module
 */
import { matmulFp32Fast, matvecFp32Fast } from "./js/fp32.ts";
import { matmulInt4, matvecInt4 } from "./js/int4.ts";
import { matmulInt8, matvecInt8 } from "./js/int8.ts";
import { GGML_JS_KERNELS } from "./ggml.ts";
import type { KernelTable } from "./types.ts";

/**
 * Fast pure-TypeScript kernels, keyed by weight type.
 *
 * @example
 * ```ts
 * import { fp32, JS_KERNELS } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * const m = fp32.quantize(new Float32Array([1, 2, 3, 4]), 2, 2, "tensor");
 * const out = new Float32Array(2);
 * JS_KERNELS.fp32.matvec(m, new Float32Array([1, 1]), out);
 * assert.deepEqual(Array.from(out), [3, 7]);
 * assert.equal(JS_KERNELS.int8.activation, "int8-groups");
 * ```
 */
export const JS_KERNELS: KernelTable = {
  fp32: {
    backend: "js",
    activation: "f32",
    matvec: matvecFp32Fast,
    matmul: matmulFp32Fast,
  },
  int8: {
    backend: "js",
    activation: "int8-groups",
    matvec: matvecInt8,
    matmul: matmulInt8,
  },
  int4: {
    backend: "js",
    activation: "int8-groups",
    matvec: matvecInt4,
    matmul: matmulInt4,
  },
  ...GGML_JS_KERNELS,
};
