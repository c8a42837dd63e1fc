/**
 * Which matrices of a model get quantized, how big the result really is, and
 * which kernels multiply by each matrix.
 *
 * The policy: every Linear in the blocks (wq wk wv wo w1 w2 w3) and the
 * classifier are quantized; RMSNorm gains and learned position embeddings
 * stay fp32; the token embedding stays fp32 unless `quantizeEmbedding` — except
 * when the classifier shares the embedding matrix, where the one shared matrix
 * is quantized and serves both (embedding lookups go through
 * `dequantizeRow`). A group size that does not fit a matrix's input size is
 * raised to the next one that does (see {@linkcode fitGranularity}), so the
 * granularity is recorded per matrix. Granularity "tensor" is the original project's scheme
 * (int8 absmax/127, int4 absmax/7, one scale per tensor), kept for contrast.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import type {
  Backend,
  LayerWeights,
  Linear,
  ModelWeights,
} from "../model/weights.ts";
import { DEFAULT_GROUP_SIZE } from "./granularity.ts";
import { weightType } from "./table.ts";
import type {
  Granularity,
  LinearKernels,
  QMatrix,
  WeightType,
} from "./types.ts";

/** Options of {@linkcode quantizeModel}. */
export interface QuantizeOptions {
  /** Quantize a separate (unshared) token embedding too. Default false. */
  readonly quantizeEmbedding?: boolean;
  /** Quantize the classifier. Default true. */
  readonly quantizeClassifier?: boolean;
  /** Kernels chosen for every Linear of the result. Default "auto". */
  readonly backend?: Backend;
  /**
   * Weight type for the classifier (and a shared embedding) when it should
   * differ from the blocks' — e.g. int4 blocks with an int8 classifier, as
   * llama.cpp keeps its output matrix at higher precision. Default: the
   * model's type.
   */
  readonly classifierType?: string;
  /**
   * Choose every scale to minimise the squared rounding error instead of
   * absmax/qmax (see `QuantizeMatrixOptions.scaleSearch`). Default false.
   */
  readonly scaleSearch?: boolean;
  /** Granularity for {@linkcode QuantizeOptions.classifierType} (default: that type's default). */
  readonly classifierGranularity?: Granularity;
}

/**
 * Chooses the kernels of a weight type for a backend: `"js"` → the
 * pure-TypeScript kernels; `"auto"` and `"wasm"` → the WebAssembly kernels
 * when the row has them and the engine supports them, else the TypeScript ones
 * (so a model always runs; the chosen `backend` field says which it got).
 *
 * @example
 * ```ts
 * import { int8, selectKernels } from "@proj/tinyllm";
 * console.log(selectKernels(int8, "js").backend); // "js"
 * ```
 */
export function selectKernels(
  type: WeightType,
  backend: Backend,
): LinearKernels {
  if (backend === "js") return type.js;
  if (backend !== "auto" && backend !== "wasm") {
    throw new ConfigError(
      `backend must be "auto", "wasm" or "js", got "${String(backend)}"`,
    );
  }
  if (type.wasm && (type.wasmSupported?.() ?? true)) return type.wasm;
  return type.js;
}

/**
 * Wraps a packed matrix as a {@linkcode Linear} with the kernels of its
 * weight type for `backend` (default "auto").
 *
 * @example
 * ```ts
 * import { int4, makeLinear } from "@proj/tinyllm";
 * const lin = makeLinear(int4.quantize(new Float32Array([1, -1, 2, -2]), 2, 2, "row"), "js");
 * const out = new Float32Array(2);
 * lin.kernels.matvec(lin.weight, new Float32Array([1, 0]), out);
 * console.log(Array.from(out)); // [1, 2]
 * ```
 */
export function makeLinear(weight: QMatrix, backend: Backend = "auto"): Linear {
  return { weight, kernels: selectKernels(weightType(weight.type), backend) };
}

/**
 * The granularity actually used for a `[rows, cols]` matrix: `granularity`
 * itself, except that a group size which does not fit `cols` (does not divide
 * it, or is odd for int4) becomes the smallest valid group size above it (at
 * worst `cols`, one group per row). E.g. stories260K's w2 has 172 inputs: int4
 * groups of 32 become groups of 86 there.
 *
 * @example
 * ```ts
 * import { fitGranularity, int4 } from "@proj/tinyllm";
 * console.log(fitGranularity(int4, 64, 172, 32)); // 86
 * console.log(fitGranularity(int4, 64, 288, 32)); // 32
 * ```
 */
export function fitGranularity(
  type: WeightType,
  rows: number,
  cols: number,
  granularity: Granularity,
): Granularity {
  if (typeof granularity !== "number" || granularity <= 0) return granularity;
  const fits = (g: number): boolean => {
    try {
      type.layoutSizes(rows, cols, g);
      return true;
    } catch {
      return false;
    }
  };
  if (fits(granularity)) return granularity;
  for (let g = Math.ceil(granularity); g <= cols; g++) {
    if (cols % g === 0 && fits(g)) return g;
  }
  return granularity; // let quantize report why nothing fits
}

/** `m` in weight type `target` (unchanged if already that type and granularity). */
function convert(
  m: QMatrix,
  target: WeightType,
  requested: Granularity,
  scaleSearch: boolean,
): QMatrix {
  const granularity = fitGranularity(target, m.rows, m.cols, requested);
  if (
    m.type === target.name &&
    (target.name === "fp32" || m.granularity === granularity)
  ) {
    return m;
  }
  const w = m.type === "fp32"
    ? m.data as Float32Array
    : weightType(m.type).dequantize(m);
  return target.quantize(w, m.rows, m.cols, granularity, { scaleSearch });
}

/**
 * Quantizes a model to weight type `typeName` at `granularity` (default: the
 * type's `defaultGranularity`: int8 per row, int4 groups of 32) following the module's policy, returning new weights (the input is
 * not modified; unquantized tensors are shared with it). Quantized inputs are
 * dequantized first, so this also converts between types (or back to fp32).
 *
 * @example
 * ```ts
 * import { modelByteSize, quantizeModel } from "@proj/tinyllm";
 * import { randomModelWeights } from "../model/model.ts";
 * const w = randomModelWeights({ dim: 32, hiddenDim: 64, nLayers: 1, nHeads: 2,
 *   nKvHeads: 2, vocabSize: 64, seqLen: 8, positional: "rope",
 *   sharedClassifier: true, normEps: 1e-5, ropeTheta: 10000 }, 1);
 * const q = quantizeModel(w, "int8", 32);
 * console.log(q.layers[0].wq.weight.type, q.tokenEmbedding === q.classifier.weight); // int8 true
 * console.log(modelByteSize(q) < modelByteSize(w) / 3); // true
 * ```
 */
export function quantizeModel(
  weights: ModelWeights,
  typeName: string,
  granularity?: Granularity,
  options: QuantizeOptions = {},
): ModelWeights {
  const target = weightType(typeName);
  const g = granularity ?? target.defaultGranularity ?? DEFAULT_GROUP_SIZE;
  const backend = options.backend ?? "auto";
  const quantizeClassifier = options.quantizeClassifier ?? true;
  const quantizeEmbedding = options.quantizeEmbedding ?? false;
  const search = options.scaleSearch ?? false;
  const q = (m: QMatrix): QMatrix => convert(m, target, g, search);
  const lin = (l: Linear): Linear => makeLinear(q(l.weight), backend);
  const clsTarget = options.classifierType === undefined
    ? target
    : weightType(options.classifierType);
  const clsGranularity = options.classifierType === undefined
    ? g
    : options.classifierGranularity ?? clsTarget.defaultGranularity ??
      DEFAULT_GROUP_SIZE;
  const qc = (m: QMatrix): QMatrix =>
    convert(m, clsTarget, clsGranularity, search);
  const layers: LayerWeights[] = weights.layers.map((l) => ({
    ...l,
    wq: lin(l.wq),
    wk: lin(l.wk),
    wv: lin(l.wv),
    wo: lin(l.wo),
    w1: lin(l.w1),
    w2: lin(l.w2),
    w3: lin(l.w3),
  }));
  const shared = weights.config.sharedClassifier ||
    weights.classifier.weight === weights.tokenEmbedding;
  let tokenEmbedding: QMatrix;
  let classifier: Linear;
  if (shared) {
    tokenEmbedding = quantizeClassifier || quantizeEmbedding
      ? qc(weights.tokenEmbedding)
      : weights.tokenEmbedding;
    classifier = makeLinear(tokenEmbedding, backend);
  } else {
    tokenEmbedding = quantizeEmbedding
      ? q(weights.tokenEmbedding)
      : weights.tokenEmbedding;
    classifier = makeLinear(
      quantizeClassifier
        ? qc(weights.classifier.weight)
        : weights.classifier.weight,
      backend,
    );
  }
  return { ...weights, tokenEmbedding, layers, classifier };
}

/**
 * Real bytes of a model's weights: every matrix's payload plus scales (a
 * shared embedding/classifier matrix counted once), norms and position
 * embeddings. Config and run state are not counted.
 *
 * @example
 * ```ts
 * import { modelByteSize } from "@proj/tinyllm";
 * import { randomModelWeights } from "../model/model.ts";
 * const w = randomModelWeights({ dim: 8, hiddenDim: 16, nLayers: 1, nHeads: 2,
 *   nKvHeads: 2, vocabSize: 10, seqLen: 4, positional: "rope",
 *   sharedClassifier: true, normEps: 1e-5, ropeTheta: 10000 }, 1);
 * // embedding 10×8 + 4 × 8×8 + 3 × 16×8 + 3 norms of 8, all fp32
 * console.log(modelByteSize(w)); // 4 * (80 + 256 + 384 + 24) = 2976
 * ```
 */
export function modelByteSize(weights: ModelWeights): number {
  return byteSizeWith(weights, (m) => weightType(m.type).byteSize(m));
}

/**
 * What {@linkcode modelByteSize} would be with every matrix in fp32: the
 * reference the size ratios are quoted against.
 *
 * @example
 * ```ts
 * import { modelByteSize, modelFp32ByteSize, quantizeModel } from "@proj/tinyllm";
 * import { randomModelWeights } from "../model/model.ts";
 * const w = randomModelWeights({ dim: 8, hiddenDim: 16, nLayers: 1, nHeads: 2,
 *   nKvHeads: 2, vocabSize: 10, seqLen: 4, positional: "rope",
 *   sharedClassifier: true, normEps: 1e-5, ropeTheta: 10000 }, 1);
 * console.log(modelFp32ByteSize(quantizeModel(w, "int4", 8)) === modelByteSize(w)); // true
 * ```
 */
export function modelFp32ByteSize(weights: ModelWeights): number {
  return byteSizeWith(weights, (m) => m.rows * m.cols * 4);
}

function byteSizeWith(
  weights: ModelWeights,
  matrixBytes: (m: QMatrix) => number,
): number {
  const matrices = new Set<QMatrix>([
    weights.tokenEmbedding,
    weights.classifier.weight,
  ]);
  let bytes = weights.rmsFinal.byteLength +
    (weights.positionEmbedding?.byteLength ?? 0);
  for (const l of weights.layers) {
    for (const m of [l.wq, l.wk, l.wv, l.wo, l.w1, l.w2, l.w3]) {
      matrices.add(m.weight);
    }
    bytes += l.rmsAtt.byteLength + l.rmsFfn.byteLength;
  }
  for (const m of matrices) bytes += matrixBytes(m);
  return bytes;
}
