/**
 * Training internals (`@proj/tinyllm/train`): the flat parameter buffer and
 * its views, the model backward pass, AdamW with its schedule and clipping,
 * and seeded batches. The `Trainer` that runs them is in the main module.
 * What the main module exports is not repeated here.
 *
 * @example Parameters of a config
 * ```ts
 * import { makeConfig } from "@proj/tinyllm";
 * import { initParams, paramLayout } from "@proj/tinyllm/train";
 * const layout = paramLayout(makeConfig({ dim: 8, hiddenDim: 16, nLayers: 1,
 *   nHeads: 2, vocabSize: 10, seqLen: 4 }));
 * console.log(initParams(layout, 1).length); // 744
 * ```
 *
 * @module
 */
export {
  fp32LinearKernels,
  initParams,
  type LayerParams,
  type ParamLayout,
  paramLayout,
  paramsFromWeights,
  type ParamSpec,
  type ParamViews,
  paramViews,
  weightsFromParams,
} from "./params.ts";
export {
  type BackwardState,
  createBackwardState,
  modelBackward,
} from "./backward.ts";
export {
  type AdamWOptions,
  adamwStep,
  clipGradNorm,
  learningRate,
  type ScheduleOptions,
} from "./optim.ts";
export { evenWindow, sampleBatch, stepRng } from "./data.ts";
