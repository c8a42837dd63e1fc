/**
 * Training parameters as ONE flat `Float32Array` with named views. The
 * gradients and the AdamW moments use the same layout, so the optimizer,
 * clipping and (de)serialisation are plain loops over one buffer.
 *
 * @module
 */
import { kvDim, type ModelConfig, validateConfig } from "../model/config.ts";
import type { Linear, ModelWeights } from "../model/weights.ts";
import type { LinearKernels, QMatrix } from "../quant/types.ts";
import { matvecFp32 } from "../quant/fp32.ts";
import { jsTrainKernels, type TrainKernels } from "../tensor/matmul.ts";
import { Rng } from "../random.ts";
import { ConfigError } from "../errors.ts";

/** One named tensor inside the flat buffer. */
export interface ParamSpec {
  /** Name, e.g. `layers.0.wq`. */
  readonly name: string;
  /** First element in the flat buffer. */
  readonly offset: number;
  /** Number of elements. */
  readonly size: number;
  /** `[rows, cols]` or `[n]`. */
  readonly shape: readonly number[];
  /** Whether AdamW applies weight decay (matrices of Linear layers only). */
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
 * import { paramLayout } from "@proj/tinyllm";
 * const layout = paramLayout({ dim: 8, hiddenDim: 12, nLayers: 1, nHeads: 2,
 *   nKvHeads: 1, vocabSize: 11, seqLen: 5, positional: "rope",
 *   sharedClassifier: true, normEps: 1e-5, ropeTheta: 10000 });
 * console.log(layout.specs[0].name, layout.size);
 * ```
 */
export function paramLayout(config: ModelConfig): ParamLayout {
  validateConfig(config);
  const { dim, hiddenDim, vocabSize, seqLen } = config;
  const kv = kvDim(config);
  const specs: ParamSpec[] = [];
  let offset = 0;
  const add = (name: string, shape: number[], decay: boolean) => {
    const size = shape.reduce((a, b) => a * b, 1);
    specs.push({ name, offset, size, shape, decay });
    offset += size;
  };
  add("tokenEmbedding", [vocabSize, dim], false);
  if (config.positional === "learned") {
    add("positionEmbedding", [seqLen, dim], false);
  }
  for (let l = 0; l < config.nLayers; l++) {
    add(`layers.${l}.rmsAtt`, [dim], false);
    add(`layers.${l}.wq`, [dim, dim], true);
    add(`layers.${l}.wk`, [kv, dim], true);
    add(`layers.${l}.wv`, [kv, dim], true);
    add(`layers.${l}.wo`, [dim, dim], true);
    add(`layers.${l}.rmsFfn`, [dim], false);
    add(`layers.${l}.w1`, [hiddenDim, dim], true);
    add(`layers.${l}.w2`, [dim, hiddenDim], true);
    add(`layers.${l}.w3`, [hiddenDim, dim], true);
  }
  add("rmsFinal", [dim], false);
  if (!config.sharedClassifier) add("classifier", [vocabSize, dim], true);
  return { config, specs, size: offset };
}

/**
 * Named views into `flat` (which must have `layout.size` floats).
 *
 * @example
 * ```ts
 * import { paramLayout, paramViews } from "@proj/tinyllm";
 * const layout = paramLayout({ dim: 8, hiddenDim: 12, nLayers: 1, nHeads: 2,
 *   nKvHeads: 1, vocabSize: 11, seqLen: 5, positional: "rope",
 *   sharedClassifier: true, normEps: 1e-5, ropeTheta: 10000 });
 * const views = paramViews(layout, new Float32Array(layout.size));
 * console.log(views.layers[0].wq.length); // 64
 * ```
 */
export function paramViews(
  layout: ParamLayout,
  flat: Float32Array,
): ParamViews {
  const byName = new Map<string, Float32Array>();
  for (const s of layout.specs) {
    byName.set(s.name, flat.subarray(s.offset, s.offset + s.size));
  }
  const get = (name: string) => byName.get(name)!;
  const cfg = layout.config;
  const layers: LayerParams[] = [];
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `layers.${l}.`;
    layers.push({
      rmsAtt: get(p + "rmsAtt"),
      wq: get(p + "wq"),
      wk: get(p + "wk"),
      wv: get(p + "wv"),
      wo: get(p + "wo"),
      rmsFfn: get(p + "rmsFfn"),
      w1: get(p + "w1"),
      w2: get(p + "w2"),
      w3: get(p + "w3"),
    });
  }
  const tokenEmbedding = get("tokenEmbedding");
  return {
    tokenEmbedding,
    positionEmbedding: byName.get("positionEmbedding") ?? null,
    layers,
    rmsFinal: get("rmsFinal"),
    classifier: cfg.sharedClassifier ? tokenEmbedding : get("classifier"),
  };
}

/**
 * Wraps training kernels as the `LinearKernels` of fp32 matrices.
 *
 * @example
 * ```ts
 * import { fp32LinearKernels, fp32Matrix, jsTrainKernels } from "@proj/tinyllm";
 * const k = fp32LinearKernels(jsTrainKernels), out = new Float32Array(2);
 * k.matmul(fp32Matrix(new Float32Array([1, 2, 3, 4]), 2, 2), new Float32Array([1, 1]), 1, out);
 * console.log(out); // [3, 7]
 * ```
 */
export function fp32LinearKernels(kernels: TrainKernels): LinearKernels {
  return {
    backend: kernels.backend === "wasm" ? "wasm" : "js",
    matvec: matvecFp32,
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
 * import { paramLayout, paramViews, weightsFromParams } from "@proj/tinyllm";
 * const layout = paramLayout({ dim: 8, hiddenDim: 12, nLayers: 1, nHeads: 2,
 *   nKvHeads: 1, vocabSize: 11, seqLen: 5, positional: "rope",
 *   sharedClassifier: true, normEps: 1e-5, ropeTheta: 10000 });
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
  const mat = (data: Float32Array, rows: number, cols: number): QMatrix => ({
    type: "fp32",
    rows,
    cols,
    granularity: "tensor",
    data,
    scales: new Float32Array(0),
  });
  const lin = (data: Float32Array, rows: number, cols: number): Linear => ({
    weight: mat(data, rows, cols),
    kernels: lk,
  });
  const { dim, hiddenDim, vocabSize } = config;
  const kv = kvDim(config);
  const tokenEmbedding = mat(views.tokenEmbedding, vocabSize, dim);
  return {
    config,
    tokenEmbedding,
    positionEmbedding: views.positionEmbedding,
    layers: views.layers.map((l) => ({
      rmsAtt: l.rmsAtt,
      wq: lin(l.wq, dim, dim),
      wk: lin(l.wk, kv, dim),
      wv: lin(l.wv, kv, dim),
      wo: lin(l.wo, dim, dim),
      rmsFfn: l.rmsFfn,
      w1: lin(l.w1, hiddenDim, dim),
      w2: lin(l.w2, dim, hiddenDim),
      w3: lin(l.w3, hiddenDim, dim),
    })),
    rmsFinal: views.rmsFinal,
    classifier: config.sharedClassifier
      ? { weight: tokenEmbedding, kernels: lk }
      : lin(views.classifier, vocabSize, dim),
  };
}

/**
 * Copies fp32 model weights (e.g. a loaded archive) into a fresh flat
 * parameter buffer of `layout`. Every matrix must be fp32.
 *
 * @example
 * ```ts
 * import { paramLayout, paramsFromWeights, randomModelWeights } from "@proj/tinyllm";
 * const w = randomModelWeights({ dim: 8, hiddenDim: 12, nLayers: 1, nHeads: 2,
 *   nKvHeads: 1, vocabSize: 11, seqLen: 5, positional: "rope",
 *   sharedClassifier: true, normEps: 1e-5, ropeTheta: 10000 }, 1);
 * const flat = paramsFromWeights(paramLayout(w.config), w);
 * console.log(flat[0] === (w.tokenEmbedding.data as Float32Array)[0]); // true
 * ```
 */
export function paramsFromWeights(
  layout: ParamLayout,
  weights: ModelWeights,
): Float32Array {
  const flat = new Float32Array(layout.size);
  const v = paramViews(layout, flat);
  const f = (m: QMatrix) => {
    if (m.type !== "fp32") {
      throw new ConfigError(
        `cannot train from ${m.type} weights: training needs fp32 weights`,
      );
    }
    return m.data as Float32Array;
  };
  v.tokenEmbedding.set(f(weights.tokenEmbedding));
  if (v.positionEmbedding && weights.positionEmbedding) {
    v.positionEmbedding.set(weights.positionEmbedding);
  }
  weights.layers.forEach((l, i) => {
    const d = v.layers[i];
    d.rmsAtt.set(l.rmsAtt);
    d.wq.set(f(l.wq.weight));
    d.wk.set(f(l.wk.weight));
    d.wv.set(f(l.wv.weight));
    d.wo.set(f(l.wo.weight));
    d.rmsFfn.set(l.rmsFfn);
    d.w1.set(f(l.w1.weight));
    d.w2.set(f(l.w2.weight));
    d.w3.set(f(l.w3.weight));
  });
  v.rmsFinal.set(weights.rmsFinal);
  if (!layout.config.sharedClassifier) {
    v.classifier.set(f(weights.classifier.weight));
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
 * import { initParams, paramLayout } from "@proj/tinyllm";
 * const layout = paramLayout({ dim: 8, hiddenDim: 12, nLayers: 1, nHeads: 2,
 *   nKvHeads: 1, vocabSize: 11, seqLen: 5, positional: "rope",
 *   sharedClassifier: true, normEps: 1e-5, ropeTheta: 10000 });
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
    if (s.shape.length === 1) {
      view.fill(1);
      continue;
    }
    const sd = /\.(wo|w2)$/.test(s.name) ? resid : std;
    for (let i = 0; i < view.length; i++) view[i] = rng.normal() * sd;
  }
  return flat;
}
