/**
 * Weight types and their kernels (`@proj/tinyllm/kernels`): how each type
 * stores a matrix (the storage table, `src/quant/`) and, per backend, the
 * kernels that multiply by it (`js`, `wasm`), with the activation format
 * each expects and the reference kernel they fall back to.
 * What the main module exports is not repeated here.
 *
 * @example Quantize a matrix and multiply with the TypeScript kernel
 * ```ts
 * import { int8, kernelsFor } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * const m = int8.quantize(new Float32Array([1, -1, 2, -2]), 2, 2, "row");
 * const out = new Float32Array(2);
 * kernelsFor("int8", "js").matvec(m, new Float32Array([1, 0]), out);
 * assert.equal(out[0].toFixed(2), "1.00");
 * assert.equal(out[1].toFixed(2), "2.00");
 * ```
 *
 * @module
 */
export type {
  LayoutSizes,
  PayloadDtype,
  QuantizeMatrixOptions,
} from "../quant/types.ts";
export { rowBytes } from "../quant/table.ts";
export { fp32 } from "../quant/fp32.ts";
export { int8 } from "../quant/int8.ts";
export { int4 } from "../quant/int4.ts";
export { DEFAULT_GROUP_SIZE, MAX_GROUP_SIZE } from "../quant/granularity.ts";
export type {
  ActivationFormat,
  KernelBackend,
  KernelTable,
  LinearKernels,
} from "./types.ts";
export { JS_KERNELS } from "./js.ts";
export {
  placedBytes,
  placeMatrix,
  productScratchBytes,
  WASM_KERNELS,
} from "./wasm.ts";
export { referenceKernels } from "./reference.ts";
export { KERNEL_TABLES, kernelsFor } from "./select.ts";
export { activationGroupSize, dequantizeActivations } from "./activation.ts";

// ggml's block types (src/quant/ggml/): storage rows, block-level functions,
// activation formats and their kernel table entries
export {
  bf16,
  f16,
  ggmlFallbackType,
  ggmlWeightType,
  q4_0,
  q4_1,
  q4_k,
  q5_0,
  q5_1,
  q5_k,
  q6_k,
  q8_0,
} from "../quant/ggml/weight_types.ts";
export { weightTypeOfGgml } from "../quant/table.ts";
export {
  bf16ToFloat,
  createGgmlActivations,
  dequantizeGgmlActivations,
  floatToBf16,
  floatToHalf,
  GGML_BLOCK_TYPES,
  ggmlBF16,
  ggmlBlockType,
  ggmlDequantize,
  ggmlF16,
  ggmlF32,
  ggmlHasWasm,
  ggmlMatmul,
  ggmlMatmulWasm,
  ggmlMatvec,
  ggmlQ4_0,
  ggmlQ4_1,
  ggmlQ4_K,
  ggmlQ5_0,
  ggmlQ5_1,
  ggmlQ5_K,
  ggmlQ6_K,
  ggmlQ8_0,
  ggmlQuantize,
  ggmlRowBytes,
  halfToFloat,
  packGgmlActivations,
  quantizeGgmlActivations,
  roundToHalf,
} from "../quant/ggml/mod.ts";
export type { GgmlActivations, GgmlBlockType } from "../quant/ggml/mod.ts";
export { GGML_TYPE, type GgmlTypeName } from "../quant/ggml/types.ts";
export { GGML_JS_KERNELS, GGML_WASM_KERNELS } from "./ggml.ts";
