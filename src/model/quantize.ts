/**
 * Which matrices of a model get quantized, and how big the result really is.
 *
 * The policy — the one definition of "the default quantization" that the
 * CLI, the benchmark report, the README and the site all use: every matrix
 * is quantized, the Linear layers of the blocks, the classifier and the
 * token embedding (a lookup dequantizes one row, `dequantizeRow`; a shared
 * embedding/classifier matrix is quantized once and serves both); vectors
 * (RMSNorm gains, biases) and learned position embeddings stay fp32; int8
 * keeps one scale per row, int4 one per group of 32
 * ({@linkcode DEFAULT_QUANTIZATION}). `quantizeEmbedding: false` keeps a
 * separate embedding in fp32. A group size that does not fit a matrix's input size is
 * raised to the next one that does (see {@linkcode fitGranularity}), so the
 * granularity is recorded per matrix. Granularity "tensor" is the original
 * project's scheme (int8 absmax/127, int4 absmax/7, one scale per tensor),
 * kept for contrast.
 *
 * @module
 */
import { kernelsFor } from "../kernels/select.ts";
import { ConfigError } from "../errors.ts";
import { checkGranularity, DEFAULT_GROUP_SIZE } from "../quant/granularity.ts";
import { ggmlFallbackType } from "../quant/ggml/weight_types.ts";
import { weightType } from "../quant/table.ts";
import type { Granularity, QMatrix, WeightType } from "../quant/types.ts";
import { mapLinears, modelTensors, tensorValue } from "./tensors.ts";
import type { Linear, ModelWeights } from "./weights.ts";

/**
 * The default quantization: what {@linkcode quantizeModel} does when given
 * only a type, and what `deno task quantize --type T` writes.
 *
 * @example
 * ```ts
 * import { DEFAULT_QUANTIZATION } from "@proj/tinyllm";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_QUANTIZATION.int8, "row");
 * assert.equal(DEFAULT_QUANTIZATION.int4, 32);
 * assert.equal(DEFAULT_QUANTIZATION.quantizeEmbedding, true);
 * ```
 */
export const DEFAULT_QUANTIZATION: {
  /** int8 granularity: one scale per row. */
  readonly int8: Granularity;
  /** int4 granularity: one scale per 32 consecutive inputs. */
  readonly int4: Granularity;
  /** Whether a separate token embedding is quantized too. */
  readonly quantizeEmbedding: boolean;
} = { int8: "row", int4: DEFAULT_GROUP_SIZE, quantizeEmbedding: true };

/** Options of {@linkcode quantizeModel}. */
export interface QuantizeOptions {
  /**
   * Quantize a separate (unshared) token embedding too. Default true
   * ({@linkcode DEFAULT_QUANTIZATION}).
   */
  readonly quantizeEmbedding?: boolean;
  /** Quantize the classifier. Default true. */
  readonly quantizeClassifier?: boolean;
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
 * The granularity actually used for a `[rows, cols]` matrix: `granularity`
 * itself, except that a group size which does not fit `cols` (does not divide
 * it, or is odd for int4) becomes the smallest valid group size above it (at
 * worst `cols`, one group per row). E.g. stories260K's w2 has 172 inputs: int4
 * groups of 32 become groups of 86 there.
 *
 * @example
 * ```ts
 * import { fitGranularity } from "@proj/tinyllm/model";
 * import { int4 } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(fitGranularity(int4, 64, 172, 32), 86);
 * assert.equal(fitGranularity(int4, 64, 288, 32), 32);
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
  // a ggml block type whose blocks do not fit the rows: llama.cpp's fallback
  target = ggmlFallbackType(target, m.cols);
  const granularity = fitGranularity(target, m.rows, m.cols, requested);
  // granularity means nothing to a type without separate scales
  if (
    m.type === target.name &&
    (target.scales === "none" || m.granularity === granularity)
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
 * type's `defaultGranularity`: int8 per row, int4 groups of 32) following
 * the module's policy, returning new weights (the input is not modified;
 * unquantized tensors are shared with it). Quantized inputs are dequantized
 * first, so this also converts between types (or back to fp32). Each new
 * Linear layer keeps the backend its source was bound to (WebAssembly or
 * TypeScript; see `bindKernels`).
 *
 * @example
 * ```ts
 * import { makeConfig, modelByteSize, quantizeModel, randomModelWeights } from "@proj/tinyllm";
 * import assert from "node:assert/strict";
 * const w = randomModelWeights(makeConfig({ dim: 32, hiddenDim: 64, nLayers: 1,
 *   nHeads: 2, vocabSize: 64, seqLen: 8 }), 1);
 * const q = quantizeModel(w, "int8", 32);
 * assert.equal(q.layers[0].wq.weight.type, "int8");
 * assert.equal(q.tokenEmbedding === q.classifier.weight, true);
 * assert.equal(modelByteSize(q) < modelByteSize(w) / 3, true);
 * ```
 */
export function quantizeModel(
  weights: ModelWeights,
  typeName: string,
  granularity?: Granularity,
  options: QuantizeOptions = {},
): ModelWeights {
  if (!weights || typeof weights !== "object" || !weights.config) {
    throw new ConfigError(
      `quantizeModel: weights must be ModelWeights, got ${
        weights === null ? "null" : typeof weights
      }`,
    );
  }
  const target = weightType(typeName);
  const g = granularity ?? target.defaultGranularity ?? DEFAULT_GROUP_SIZE;
  checkGranularity(`quantizeModel(${typeName})`, 0, 0, g);
  if (options.classifierGranularity !== undefined) {
    checkGranularity(
      "quantizeModel classifierGranularity",
      0,
      0,
      options.classifierGranularity,
    );
  }
  const quantizeClassifier = options.quantizeClassifier ?? true;
  const quantizeEmbedding = options.quantizeEmbedding ??
    DEFAULT_QUANTIZATION.quantizeEmbedding;
  const search = options.scaleSearch ?? false;
  const q = (m: QMatrix): QMatrix => convert(m, target, g, search);
  const clsTarget = options.classifierType === undefined
    ? target
    : weightType(options.classifierType);
  const clsGranularity = options.classifierType === undefined
    ? g
    : options.classifierGranularity ?? clsTarget.defaultGranularity ??
      DEFAULT_GROUP_SIZE;
  const qc = (m: QMatrix): QMatrix =>
    convert(m, clsTarget, clsGranularity, search);
  const rebind = (from: Linear, weight: QMatrix): Linear => ({
    weight,
    kernels: kernelsFor(
      weight.type,
      from.kernels.backend === "wasm" ? "wasm" : "js",
    ),
  });
  const shared = weights.config.sharedClassifier ||
    weights.classifier.weight === weights.tokenEmbedding;
  let tokenEmbedding = weights.tokenEmbedding;
  if (shared && (quantizeClassifier || quantizeEmbedding)) {
    tokenEmbedding = qc(weights.tokenEmbedding);
  } else if (!shared && quantizeEmbedding) {
    tokenEmbedding = q(weights.tokenEmbedding);
  }
  const out = mapLinears(weights, (l, t) => {
    if (t.spec.field !== "classifier") return rebind(l, q(l.weight));
    if (shared) return rebind(l, tokenEmbedding);
    return quantizeClassifier ? rebind(l, qc(l.weight)) : l;
  });
  return { ...out, tokenEmbedding };
}

/**
 * Real bytes of a model's weights: every matrix's payload plus scales (a
 * shared embedding/classifier matrix counted once) and every vector (norms,
 * biases, position embeddings). Config and run state are not counted.
 *
 * @example
 * ```ts
 * import { makeConfig, modelByteSize, randomModelWeights } from "@proj/tinyllm";
 * import assert from "node:assert/strict";
 * const w = randomModelWeights(makeConfig({ dim: 8, hiddenDim: 16, nLayers: 1,
 *   nHeads: 2, vocabSize: 10, seqLen: 4 }), 1);
 * // embedding 10×8 + 4 × 8×8 + 3 × 16×8 + 3 norms of 8, all fp32
 * assert.equal(modelByteSize(w), 4 * (80 + 256 + 384 + 24)); // 2976
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
 * import { makeConfig, modelByteSize, modelFp32ByteSize, quantizeModel,
 *   randomModelWeights } from "@proj/tinyllm";
 * import assert from "node:assert/strict";
 * const w = randomModelWeights(makeConfig({ dim: 8, hiddenDim: 16, nLayers: 1,
 *   nHeads: 2, vocabSize: 10, seqLen: 4 }), 1);
 * assert.equal(modelFp32ByteSize(quantizeModel(w, "int4", 8)) === modelByteSize(w), true);
 * ```
 */
export function modelFp32ByteSize(weights: ModelWeights): number {
  return byteSizeWith(weights, (m) => m.rows * m.cols * 4);
}

function byteSizeWith(
  weights: ModelWeights,
  matrixBytes: (m: QMatrix) => number,
): number {
  // every distinct matrix once (a shared classifier is the embedding)
  const matrices = new Set<QMatrix>([weights.classifier.weight]);
  let bytes = 0;
  for (const t of modelTensors(weights.config)) {
    const v = tensorValue(weights, t);
    if (v instanceof Float32Array) bytes += v.byteLength;
    else if (v) matrices.add(v);
  }
  for (const m of matrices) bytes += matrixBytes(m);
  return bytes;
}
