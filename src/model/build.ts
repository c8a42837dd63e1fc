/**
 * Building {@linkcode ModelWeights}: wrapping matrices as Linear layers,
 * assembling a model from its tensors (what every loader does), and seeded
 * random weights for benchmarks and tests.
 *
 * @module
 */
import { JS_KERNELS } from "../kernels/js.ts";
import { referenceKernels } from "../kernels/reference.ts";
import { weightType } from "../quant/table.ts";
import type { QMatrix } from "../quant/types.ts";
import { Rng } from "../random.ts";
import { type ModelConfig, validateConfig } from "./config.ts";
import {
  isMatrix,
  type ModelTensor,
  modelTensors,
  type TensorValue,
} from "./tensors.ts";
import type { LayerWeights, Linear, ModelWeights } from "./weights.ts";

/**
 * Wraps a packed matrix as a {@linkcode Linear} with the TypeScript kernels
 * of its weight type (the reference kernels for a type the TypeScript table
 * lacks). `bindKernels` chooses other backends.
 *
 * @example
 * ```ts
 * import { fp32Matrix, linearOf } from "@proj/tinyllm/model";
 * const lin = linearOf(fp32Matrix(new Float32Array([1, 2, 3, 4]), 2, 2));
 * const out = new Float32Array(2);
 * lin.kernels.matvec(lin.weight, new Float32Array([1, 1]), out);
 * console.log(out); // Float32Array [3, 7]
 * ```
 */
export function linearOf(weight: QMatrix): Linear {
  return {
    weight,
    kernels: JS_KERNELS[weight.type] ?? referenceKernels(weight.type),
  };
}

/**
 * An fp32 {@linkcode QMatrix} `[rows, cols]` over `data` (no copy).
 *
 * @example
 * ```ts
 * import { fp32Matrix } from "@proj/tinyllm/model";
 * const m = fp32Matrix(new Float32Array(6), 2, 3);
 * console.log(m.rows, m.cols, m.type); // 2 3 "fp32"
 * ```
 */
export function fp32Matrix(
  data: Float32Array,
  rows: number,
  cols: number,
): QMatrix {
  return weightType("fp32").quantize(data, rows, cols, "tensor");
}

/**
 * Assembles the weights of a model of `config` from its tensors: `get(t)` is
 * called once for every tensor of the table the config has (a matrix for
 * embeddings and Linear layers, a vector otherwise), in parameter order.
 * Linear layers get {@linkcode linearOf}'s kernels; a shared classifier is
 * the token embedding.
 *
 * @example
 * ```ts
 * import { makeConfig } from "@proj/tinyllm";
 * import { assembleWeights, fp32Matrix, isMatrix } from "@proj/tinyllm/model";
 * const c = makeConfig({ dim: 4, hiddenDim: 8, nLayers: 1, nHeads: 1,
 *   vocabSize: 5, seqLen: 4 });
 * const w = assembleWeights(c, (t) => {
 *   const data = new Float32Array(t.size).fill(0.5);
 *   return isMatrix(t.spec) ? fp32Matrix(data, t.shape[0], t.shape[1]) : data;
 * });
 * console.log(w.layers[0].w2.weight.cols, w.classifier.weight === w.tokenEmbedding); // 8 true
 * ```
 */
export function assembleWeights(
  config: ModelConfig,
  get: (t: ModelTensor) => TensorValue,
): ModelWeights {
  const top: Record<string, unknown> = {
    positionEmbedding: null,
  };
  const layers: Record<string, unknown>[] = [];
  for (let l = 0; l < config.nLayers; l++) {
    layers.push({ bq: null, bk: null, bv: null });
  }
  for (const t of modelTensors(config)) {
    const v = get(t);
    const holder = t.layer === null ? top : layers[t.layer];
    holder[t.spec.field] = t.spec.role === "linear"
      ? linearOf(v as QMatrix)
      : v;
  }
  const tokenEmbedding = top.tokenEmbedding as QMatrix;
  return {
    config,
    tokenEmbedding,
    positionEmbedding: top.positionEmbedding as Float32Array | null,
    layers: layers as unknown as LayerWeights[],
    rmsFinal: top.rmsFinal as Float32Array,
    classifier: (top.classifier as Linear | undefined) ??
      linearOf(tokenEmbedding),
  };
}

/**
 * Seeded random weights of the given shape: every matrix and embedding
 * N(0, std²), RMSNorm gains 1, biases 0 (as llama2.c's random benchmark
 * checkpoints). Speed depends only on shape, so these stand in for real
 * checkpoints in benchmarks and tests.
 *
 * @example
 * ```ts
 * import { makeConfig, randomModelWeights } from "@proj/tinyllm";
 * const w = randomModelWeights(makeConfig({ dim: 16, hiddenDim: 32, nLayers: 2,
 *   nHeads: 2, nKvHeads: 1, vocabSize: 10, seqLen: 8, positional: "learned" }), 3);
 * console.log(w.layers.length, w.positionEmbedding?.length); // 2 128
 * ```
 */
export function randomModelWeights(
  config: ModelConfig,
  seed: number,
  std = 0.02,
): ModelWeights {
  validateConfig(config);
  const rng = new Rng(seed);
  return assembleWeights(config, (t) => {
    const a = new Float32Array(t.size);
    if (t.spec.init === "ones") a.fill(1);
    else if (t.spec.init !== "zeros") {
      for (let i = 0; i < a.length; i++) a[i] = rng.normal() * std;
    }
    return isMatrix(t.spec) ? fp32Matrix(a, t.shape[0], t.shape[1]) : a;
  });
}
