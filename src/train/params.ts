/**
 * Training parameters as ONE flat `Float32Array` with named views. The
 * gradients and the AdamW moments use the same layout, so the optimizer,
 * clipping and (de)serialisation are plain loops over one buffer.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import { referenceKernels } from "../kernels/reference.ts";
import type { LinearKernels } from "../kernels/types.ts";
import { assembleWeights, fp32Matrix } from "../model/build.ts";
import { type ModelConfig, validateConfig } from "../model/config.ts";
import {
  isMatrix,
  mapLinears,
  type ModelTensor,
  modelTensors,
  tensorValue,
} from "../model/tensors.ts";
import type { ModelWeights } from "../model/weights.ts";
import type { QMatrix } from "../quant/types.ts";
import { Rng } from "../random.ts";
import { jsTrainKernels, type TrainKernels } from "../tensor/train_kernels.ts";

/** One tensor of the table, placed in the flat buffer. */
export interface ParamSpec extends ModelTensor {
  /** First element in the flat buffer. */
  readonly offset: number;
  /** Whether AdamW applies weight decay (the table's `decay`). */
  readonly decay: boolean;
}

/** Where every tensor of a config lives in the flat buffer. */
export interface ParamLayout {
  /** The model shape. */
  readonly config: ModelConfig;
  /** Tensors in buffer order. */
  readonly specs: readonly ParamSpec[];
  /** Total number of floats. */
  readonly size: number;
}

/** Views of one block's tensors. */
export interface LayerParams {
  /** RMSNorm gain before attention `[dim]`. */
  readonly rmsAtt: Float32Array;
  /** `[dim, dim]`. */
  readonly wq: Float32Array;
  /** `[kvDim, dim]`. */
  readonly wk: Float32Array;
  /** `[kvDim, dim]`. */
  readonly wv: Float32Array;
  /** `[dim]` with Q/K/V biases, else null. */
  readonly bq: Float32Array | null;
  /** `[kvDim]` with Q/K/V biases, else null. */
  readonly bk: Float32Array | null;
  /** `[kvDim]` with Q/K/V biases, else null. */
  readonly bv: Float32Array | null;
  /** `[dim, dim]`. */
  readonly wo: Float32Array;
  /** RMSNorm gain before the MLP `[dim]`. */
  readonly rmsFfn: Float32Array;
  /** `[hidden, dim]`. */
  readonly w1: Float32Array;
  /** `[dim, hidden]`. */
  readonly w2: Float32Array;
  /** `[hidden, dim]`. */
  readonly w3: Float32Array;
}

/** Named views into a flat buffer (parameters, gradients or moments). */
export interface ParamViews {
  /** `[vocab, dim]`. */
  readonly tokenEmbedding: Float32Array;
  /** `[seqLen, dim]` with learned positions, else null. */
  readonly positionEmbedding: Float32Array | null;
  /** Per block. */
  readonly layers: readonly LayerParams[];
  /** `[dim]`. */
  readonly rmsFinal: Float32Array;
  /** `[vocab, dim]`; the very same view as tokenEmbedding when shared. */
  readonly classifier: Float32Array;
}

/**
 * Lays out every tensor of `config` in one buffer.
 *
 * @example
 * ```ts
 * import { makeConfig } from "@proj/tinyllm";
 * import { paramLayout } from "@proj/tinyllm/train";
 * const layout = paramLayout(makeConfig({ dim: 8, hiddenDim: 12, nLayers: 1, nHeads: 2, nKvHeads: 1, vocabSize: 11, seqLen: 5 }));
 * console.log(layout.specs[0].name, layout.size);
 * ```
 */
export function paramLayout(config: ModelConfig): ParamLayout {
  validateConfig(config);
  const specs: ParamSpec[] = [];
  let offset = 0;
  for (const t of modelTensors(config)) {
    specs.push({ ...t, offset, decay: t.spec.decay });
    offset += t.size;
  }
  return { config, specs, size: offset };
}

/**
 * Named views into `flat` (which must have `layout.size` floats).
 *
 * @example
 * ```ts
 * import { makeConfig } from "@proj/tinyllm";
 * import { paramLayout, paramViews } from "@proj/tinyllm/train";
 * const layout = paramLayout(makeConfig({ dim: 8, hiddenDim: 12, nLayers: 1, nHeads: 2, nKvHeads: 1, vocabSize: 11, seqLen: 5 }));
 * const views = paramViews(layout, new Float32Array(layout.size));
 * console.log(views.layers[0].wq.length); // 64
 * ```
 */
export function paramViews(
  layout: ParamLayout,
  flat: Float32Array,
): ParamViews {
  const top: Record<string, Float32Array | null> = { positionEmbedding: null };
  const layers: Record<string, Float32Array | null>[] = [];
  for (let l = 0; l < layout.config.nLayers; l++) {
    layers.push({ bq: null, bk: null, bv: null });
  }
  for (const s of layout.specs) {
    const holder = s.layer === null ? top : layers[s.layer];
    holder[s.spec.field] = flat.subarray(s.offset, s.offset + s.size);
  }
  const tokenEmbedding = top.tokenEmbedding!;
  return {
    tokenEmbedding,
    positionEmbedding: top.positionEmbedding,
    layers: layers as unknown as LayerParams[],
    rmsFinal: top.rmsFinal!,
    classifier: top.classifier ?? tokenEmbedding,
  };
}

/**
 * Wraps training kernels as the `LinearKernels` of fp32 matrices.
 *
 * @example
 * ```ts
 * import { fp32Matrix } from "@proj/tinyllm/model";
 * import { jsTrainKernels } from "@proj/tinyllm/tensor";
 * import { fp32LinearKernels } from "@proj/tinyllm/train";
 * const k = fp32LinearKernels(jsTrainKernels), out = new Float32Array(2);
 * k.matmul(fp32Matrix(new Float32Array([1, 2, 3, 4]), 2, 2), new Float32Array([1, 1]), 1, out);
 * console.log(out); // [3, 7]
 * ```
 */
export function fp32LinearKernels(kernels: TrainKernels): LinearKernels {
  return {
    backend: kernels.backend,
    activation: "f32",
    matvec: referenceKernels("fp32").matvec,
    matmul(m: QMatrix, x: Float32Array, n: number, out: Float32Array): void {
      kernels.matmul(out, x, m.data as Float32Array, n, m.cols, m.rows);
    },
  };
}

/**
 * A {@linkcode ModelWeights} whose fp32 matrices are views into the
 * parameter buffer (no copies: an optimizer step changes the model).
 *
 * @example
 * ```ts
 * import { makeConfig } from "@proj/tinyllm";
 * import { paramLayout, paramViews, weightsFromParams } from "@proj/tinyllm/train";
 * const layout = paramLayout(makeConfig({ dim: 8, hiddenDim: 12, nLayers: 1,
 *   nHeads: 2, nKvHeads: 1, vocabSize: 11, seqLen: 5 }));
 * const w = weightsFromParams(layout.config, paramViews(layout, new Float32Array(layout.size)));
 * console.log(w.classifier.weight === w.tokenEmbedding); // true
 * ```
 */
export function weightsFromParams(
  config: ModelConfig,
  views: ParamViews,
  kernels: TrainKernels = jsTrainKernels,
): ModelWeights {
  const lk = fp32LinearKernels(kernels);
  const top = views as unknown as Record<string, Float32Array>;
  const weights = assembleWeights(config, (t) => {
    const holder = t.layer === null
      ? top
      : views.layers[t.layer] as unknown as Record<string, Float32Array>;
    const v = holder[t.spec.field];
    return isMatrix(t.spec) ? fp32Matrix(v, t.shape[0], t.shape[1]) : v;
  });
  return mapLinears(weights, (l) => ({ weight: l.weight, kernels: lk }));
}

/**
 * Copies fp32 model weights (e.g. a loaded archive) into a fresh flat
 * parameter buffer of `layout`. Every matrix must be fp32.
 *
 * @example
 * ```ts
 * import { makeConfig, randomModelWeights } from "@proj/tinyllm";
 * import { paramLayout, paramsFromWeights } from "@proj/tinyllm/train";
 * const w = randomModelWeights(makeConfig({ dim: 8, hiddenDim: 12, nLayers: 1, nHeads: 2, nKvHeads: 1, vocabSize: 11, seqLen: 5 }), 1);
 * const flat = paramsFromWeights(paramLayout(w.config), w);
 * console.log(flat[0] === (w.tokenEmbedding.data as Float32Array)[0]); // true
 * ```
 */
export function paramsFromWeights(
  layout: ParamLayout,
  weights: ModelWeights,
): Float32Array {
  const flat = new Float32Array(layout.size);
  for (const s of layout.specs) {
    const v = tensorValue(weights, s);
    if (v === null) {
      throw new ConfigError(`cannot train: the weights lack ${s.name}`);
    }
    if (!(v instanceof Float32Array) && v.type !== "fp32") {
      throw new ConfigError(
        `cannot train from ${v.type} weights: training needs fp32 weights`,
      );
    }
    flat.set(v instanceof Float32Array ? v : v.data as Float32Array, s.offset);
  }
  return flat;
}

/**
 * Seeded initialisation: every matrix and embedding ~ N(0, std²), the
 * residual projections (`wo`, `w2`) scaled by 1/√(2·nLayers) (GPT-2), RMSNorm
 * gains 1.
 *
 * @example
 * ```ts
 * import { makeConfig } from "@proj/tinyllm";
 * import { initParams, paramLayout } from "@proj/tinyllm/train";
 * const layout = paramLayout(makeConfig({ dim: 8, hiddenDim: 12, nLayers: 1, nHeads: 2, nKvHeads: 1, vocabSize: 11, seqLen: 5 }));
 * const flat = initParams(layout, 42);
 * console.log(flat.length === layout.size); // true
 * ```
 */
export function initParams(
  layout: ParamLayout,
  seed: number,
  std = 0.02,
): Float32Array {
  const flat = new Float32Array(layout.size);
  const rng = new Rng(seed);
  const resid = std / Math.sqrt(2 * layout.config.nLayers);
  for (const s of layout.specs) {
    const view = flat.subarray(s.offset, s.offset + s.size);
    const init = s.spec.init;
    if (init === "ones") view.fill(1);
    if (init !== "normal" && init !== "residual") continue;
    const sd = init === "residual" ? resid : std;
    for (let i = 0; i < view.length; i++) view[i] = rng.normal() * sd;
  }
  return flat;
}
