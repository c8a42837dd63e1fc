/**
 * The layer functions (`@proj/tinyllm/tensor`), each forward beside its
 * backward, on plain `Float32Array` rows, and the fp32 products training
 * uses (TypeScript and WebAssembly SIMD).
 * What the main module exports is not repeated here.
 *
 * @example
 * ```ts
 * import { rmsnormForward } from "@proj/tinyllm/tensor";
 * const out = new Float32Array(2), rstd = new Float32Array(1);
 * rmsnormForward(out, rstd, new Float32Array([3, 4]), new Float32Array([1, 1]), 1, 2, 0);
 * console.log(out[0].toFixed(4)); // "0.8485"
 * ```
 *
 * @module
 */
export {
  attentionBackward,
  attentionForward,
  type AttentionShape,
  softmax,
} from "./attention.ts";
export { biasBackward, biasForward } from "./bias.ts";
export {
  crossEntropyBackward,
  crossEntropyBackwardFromProbs,
  crossEntropyForward,
  crossEntropyForwardToProbs,
  expNonPositive,
} from "./crossentropy.ts";
export {
  embeddingBackward,
  embeddingForward,
  type RowReader,
} from "./embedding.ts";
export { matmulBackwardF32, matmulF32 } from "./matmul.ts";
export { matmulBackwardF32Wasm, matmulF32Wasm } from "./matmul_wasm.ts";
export { rmsnormBackward, rmsnormForward } from "./rmsnorm.ts";
export {
  ropeBackward,
  ropeForward,
  ropeSetPosition,
  type RopeShape,
  type RopeTable,
  ropeTable,
} from "./rope.ts";
export { swigluBackward, swigluForward } from "./swiglu.ts";
export {
  jsTrainKernels,
  type TrainKernels,
  trainKernels,
  wasmTrainKernels,
} from "./train_kernels.ts";
