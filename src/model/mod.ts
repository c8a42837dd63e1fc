/**
 * The model internals (`@proj/tinyllm/model`): config helpers, the tensor
 * table, building and binding weights, and the two forward passes (one token
 * against a KV cache; a whole sequence saving what backward needs).
 * What the main module exports is not repeated here.
 *
 * @example One decode step
 * ```ts
 * import { makeConfig, randomModelWeights } from "@proj/tinyllm";
 * import { createRunState, forwardToken } from "@proj/tinyllm/model";
 * import { KvCacheFp32 } from "@proj/tinyllm/kv";
 * const w = randomModelWeights(makeConfig({ dim: 16, hiddenDim: 32, nLayers: 1,
 *   nHeads: 2, vocabSize: 10, seqLen: 8 }), 1);
 * const logits = forwardToken(w, createRunState(w.config), new KvCacheFp32(w.config), 1, 0);
 * console.log(logits.length); // 10
 * ```
 *
 * @module
 */
export { headSize, kvDim, ropeShape } from "./config.ts";
export {
  forEachTensor,
  isMatrix,
  type LayerField,
  mapLinears,
  type ModelField,
  type ModelTensor,
  modelTensors,
  parameterCount,
  type TensorInit,
  type TensorRole,
  TENSORS,
  type TensorSpec,
  type TensorValue,
  tensorValue,
} from "./tensors.ts";
export { assembleWeights, fp32Matrix, linearOf } from "./build.ts";
export { modelArena, runStateMatvecBytes } from "./bind.ts";
export { fitGranularity } from "./quantize.ts";
export { createRunState, forwardToken, type RunState } from "./decode.ts";
export {
  type Activations,
  createActivations,
  type LayerActivations,
  sequenceForward,
  type SequenceForwardOptions,
} from "./sequence.ts";
