/**
 * The tensor table: every tensor a model can have, once. Each row says where
 * the tensor lives in {@linkcode ModelWeights}, its shape as a function of the
 * config, its role, whether AdamW decays it, how training initialises it, and
 * its name in each file format (the tinyllm archive's safetensors, llama2.c's
 * checkpoint order, GGUF). Parameters and their views, loaders and writers,
 * kernel binding, quantization and byte counts all walk this table, so a new
 * tensor (Qwen2's Q/K/V biases, say) is one row here plus the forward and
 * backward code that uses it.
 *
 * @module
 */
import { kvDim, type ModelConfig } from "./config.ts";
import type { LayerWeights, Linear, ModelWeights } from "./weights.ts";
import type { QMatrix } from "../quant/types.ts";

/** What a tensor is to the model. */
export type TensorRole =
  /** The token embedding table (a matrix of any weight type). */
  | "embedding"
  /** The learned position table (fp32). */
  | "position"
  /** An RMSNorm gain (fp32). */
  | "norm"
  /** The matrix of a Linear layer (any weight type). */
  | "linear"
  /** A bias vector (fp32). */
  | "bias";

/** How training initialises a tensor. */
export type TensorInit =
  /** N(0, std²). */
  | "normal"
  /** N(0, (std/√(2·nLayers))²): projections into the residual stream (GPT-2). */
  | "residual"
  /** All ones (RMSNorm gains). */
  | "ones"
  /** All zeros (biases). */
  | "zeros";

/** A field of {@linkcode ModelWeights} holding one tensor. */
export type ModelField =
  | "tokenEmbedding"
  | "positionEmbedding"
  | "rmsFinal"
  | "classifier";

/** A field of {@linkcode LayerWeights}. */
export type LayerField = keyof LayerWeights;

/** One row of the tensor table. */
export interface TensorSpec {
  /** The field holding it: of {@linkcode ModelWeights}, or of each block when `perLayer`. */
  readonly field: ModelField | LayerField;
  /** One per transformer block. */
  readonly perLayer: boolean;
  /** What it is. */
  readonly role: TensorRole;
  /** Its shape: `[rows, cols]` for matrices, `[n]` for vectors. */
  shape(config: ModelConfig): readonly number[];
  /** Whether a model of this config has it. */
  present(config: ModelConfig): boolean;
  /** AdamW applies weight decay (the matrices of Linear layers). */
  readonly decay: boolean;
  /** Training initialisation. */
  readonly init: TensorInit;
  /** Name in the archive's `model.safetensors` (`{i}`: the block). */
  readonly archive: string;
  /** Name in a GGUF file (`{i}`: the block), or null when GGUF has none. */
  readonly gguf: string | null;
  /**
   * Place in a llama2.c checkpoint, which stores each kind for all blocks
   * together, kinds in this order; null when llama2.c cannot hold it.
   */
  readonly llama2c: number | null;
}

const always = (): boolean => true;

/**
 * Every tensor, in parameter-buffer order (which fixes the order training
 * draws its initial values in).
 *
 * @example List a config's tensors with their GGUF names
 * ```ts
 * import { TENSORS } from "@proj/tinyllm/model";
 * console.log(TENSORS.map((t) => t.gguf).filter((n) => n?.startsWith("blk")).length); // 12
 * ```
 */
export const TENSORS: readonly TensorSpec[] = [
  {
    field: "tokenEmbedding",
    perLayer: false,
    role: "embedding",
    shape: (c) => [c.vocabSize, c.dim],
    present: always,
    decay: false,
    init: "normal",
    archive: "tok_embeddings",
    gguf: "token_embd.weight",
    llama2c: 0,
  },
  {
    field: "positionEmbedding",
    perLayer: false,
    role: "position",
    shape: (c) => [c.seqLen, c.dim],
    present: (c) => c.positional === "learned",
    decay: false,
    init: "normal",
    archive: "pos_embeddings",
    gguf: null,
    llama2c: null,
  },
  {
    field: "rmsAtt",
    perLayer: true,
    role: "norm",
    shape: (c) => [c.dim],
    present: always,
    decay: false,
    init: "ones",
    archive: "layers.{i}.attention_norm",
    gguf: "blk.{i}.attn_norm.weight",
    llama2c: 1,
  },
  {
    field: "wq",
    perLayer: true,
    role: "linear",
    shape: (c) => [c.dim, c.dim],
    present: always,
    decay: true,
    init: "normal",
    archive: "layers.{i}.wq",
    gguf: "blk.{i}.attn_q.weight",
    llama2c: 2,
  },
  {
    field: "wk",
    perLayer: true,
    role: "linear",
    shape: (c) => [kvDim(c), c.dim],
    present: always,
    decay: true,
    init: "normal",
    archive: "layers.{i}.wk",
    gguf: "blk.{i}.attn_k.weight",
    llama2c: 3,
  },
  {
    field: "wv",
    perLayer: true,
    role: "linear",
    shape: (c) => [kvDim(c), c.dim],
    present: always,
    decay: true,
    init: "normal",
    archive: "layers.{i}.wv",
    gguf: "blk.{i}.attn_v.weight",
    llama2c: 4,
  },
  {
    field: "bq",
    perLayer: true,
    role: "bias",
    shape: (c) => [c.dim],
    present: (c) => c.qkvBias,
    decay: false,
    init: "zeros",
    archive: "layers.{i}.bq",
    gguf: "blk.{i}.attn_q.bias",
    llama2c: null,
  },
  {
    field: "bk",
    perLayer: true,
    role: "bias",
    shape: (c) => [kvDim(c)],
    present: (c) => c.qkvBias,
    decay: false,
    init: "zeros",
    archive: "layers.{i}.bk",
    gguf: "blk.{i}.attn_k.bias",
    llama2c: null,
  },
  {
    field: "bv",
    perLayer: true,
    role: "bias",
    shape: (c) => [kvDim(c)],
    present: (c) => c.qkvBias,
    decay: false,
    init: "zeros",
    archive: "layers.{i}.bv",
    gguf: "blk.{i}.attn_v.bias",
    llama2c: null,
  },
  {
    field: "wo",
    perLayer: true,
    role: "linear",
    shape: (c) => [c.dim, c.dim],
    present: always,
    decay: true,
    init: "residual",
    archive: "layers.{i}.wo",
    gguf: "blk.{i}.attn_output.weight",
    llama2c: 5,
  },
  {
    field: "rmsFfn",
    perLayer: true,
    role: "norm",
    shape: (c) => [c.dim],
    present: always,
    decay: false,
    init: "ones",
    archive: "layers.{i}.ffn_norm",
    gguf: "blk.{i}.ffn_norm.weight",
    llama2c: 6,
  },
  {
    field: "w1",
    perLayer: true,
    role: "linear",
    shape: (c) => [c.hiddenDim, c.dim],
    present: always,
    decay: true,
    init: "normal",
    archive: "layers.{i}.w1",
    gguf: "blk.{i}.ffn_gate.weight",
    llama2c: 7,
  },
  {
    field: "w2",
    perLayer: true,
    role: "linear",
    shape: (c) => [c.dim, c.hiddenDim],
    present: always,
    decay: true,
    init: "residual",
    archive: "layers.{i}.w2",
    gguf: "blk.{i}.ffn_down.weight",
    llama2c: 8,
  },
  {
    field: "w3",
    perLayer: true,
    role: "linear",
    shape: (c) => [c.hiddenDim, c.dim],
    present: always,
    decay: true,
    init: "normal",
    archive: "layers.{i}.w3",
    gguf: "blk.{i}.ffn_up.weight",
    llama2c: 9,
  },
  {
    field: "rmsFinal",
    perLayer: false,
    role: "norm",
    shape: (c) => [c.dim],
    present: always,
    decay: false,
    init: "ones",
    archive: "norm",
    gguf: "output_norm.weight",
    llama2c: 10,
  },
  {
    field: "classifier",
    perLayer: false,
    role: "linear",
    shape: (c) => [c.vocabSize, c.dim],
    present: (c) => !c.sharedClassifier,
    decay: true,
    init: "normal",
    archive: "output",
    gguf: "output.weight",
    llama2c: 11,
  },
];

/**
 * Whether tensors of this row are {@linkcode QMatrix}es (embedding and Linear
 * layers, stored in any weight type) rather than fp32 `Float32Array`s.
 *
 * @example
 * ```ts
 * import { isMatrix, TENSORS } from "@proj/tinyllm/model";
 * console.log(TENSORS.filter(isMatrix).length); // 9
 * ```
 */
export function isMatrix(spec: TensorSpec): boolean {
  return spec.role === "linear" || spec.role === "embedding";
}

/** One tensor of a particular model: a table row at a block. */
export interface ModelTensor {
  /** Its row of the table. */
  readonly spec: TensorSpec;
  /** The block, or null for a tensor outside the blocks. */
  readonly layer: number | null;
  /** Parameter name: the field, as `layers.{i}.<field>` inside a block. */
  readonly name: string;
  /** Its shape for this config. */
  readonly shape: readonly number[];
  /** Number of elements. */
  readonly size: number;
  /** Name in the archive's safetensors. */
  readonly archiveName: string;
  /** Name in a GGUF file, or null. */
  readonly ggufName: string | null;
}

function named(pattern: string, layer: number | null): string {
  return layer === null ? pattern : pattern.replace("{i}", String(layer));
}

function tensorAt(
  spec: TensorSpec,
  config: ModelConfig,
  layer: number | null,
): ModelTensor {
  const shape = spec.shape(config);
  return {
    spec,
    layer,
    name: layer === null ? spec.field : `layers.${layer}.${spec.field}`,
    shape,
    size: shape.reduce((a, b) => a * b, 1),
    archiveName: named(spec.archive, layer),
    ggufName: spec.gguf === null ? null : named(spec.gguf, layer),
  };
}

/**
 * The tensors a model of `config` has, in parameter-buffer order: those
 * before the blocks, every block's, then those after.
 *
 * @example
 * ```ts
 * import { makeConfig } from "@proj/tinyllm";
 * import { modelTensors } from "@proj/tinyllm/model";
 * const c = makeConfig({ dim: 8, hiddenDim: 16, nLayers: 2, nHeads: 2,
 *   vocabSize: 10, seqLen: 4, qkvBias: true });
 * console.log(modelTensors(c).map((t) => t.name).slice(0, 6));
 * // ["tokenEmbedding", "layers.0.rmsAtt", "layers.0.wq", "layers.0.wk", "layers.0.wv", "layers.0.bq"]
 * ```
 */
export function modelTensors(config: ModelConfig): ModelTensor[] {
  const out: ModelTensor[] = [];
  const firstLayered = TENSORS.findIndex((s) => s.perLayer);
  const before = TENSORS.slice(0, firstLayered);
  const layered = TENSORS.filter((s) => s.perLayer);
  const after = TENSORS.slice(firstLayered).filter((s) => !s.perLayer);
  for (const s of before) {
    if (s.present(config)) out.push(tensorAt(s, config, null));
  }
  for (let l = 0; l < config.nLayers; l++) {
    for (const s of layered) {
      if (s.present(config)) out.push(tensorAt(s, config, l));
    }
  }
  for (const s of after) {
    if (s.present(config)) out.push(tensorAt(s, config, null));
  }
  return out;
}

/**
 * Calls `fn` for every tensor of a model of `config`, in parameter-buffer
 * order (see {@linkcode modelTensors}).
 *
 * @example Count a config's parameters
 * ```ts
 * import { makeConfig } from "@proj/tinyllm";
 * import { forEachTensor } from "@proj/tinyllm/model";
 * let n = 0;
 * forEachTensor(makeConfig({ dim: 8, hiddenDim: 16, nLayers: 1, nHeads: 2,
 *   vocabSize: 10, seqLen: 4 }), (t) => { n += t.size; });
 * console.log(n); // 80 + 8 + 4·64 + 8 + 3·128 + 8 = 744
 * ```
 */
export function forEachTensor(
  config: ModelConfig,
  fn: (t: ModelTensor) => void,
): void {
  for (const t of modelTensors(config)) fn(t);
}

/**
 * Number of trainable parameters (floats) of a model of `config`; a shared
 * classifier counts once.
 *
 * @example
 * ```ts
 * import { makeConfig } from "@proj/tinyllm";
 * import { parameterCount } from "@proj/tinyllm/model";
 * console.log(parameterCount(makeConfig({ dim: 8, hiddenDim: 16, nLayers: 1,
 *   nHeads: 2, vocabSize: 10, seqLen: 4 }))); // 744
 * ```
 */
export function parameterCount(config: ModelConfig): number {
  let n = 0;
  forEachTensor(config, (t) => (n += t.size));
  return n;
}

/** What a tensor of {@linkcode ModelWeights} holds: a matrix or a vector. */
export type TensorValue = QMatrix | Float32Array;

/**
 * The value of tensor `t` in `weights`: the {@linkcode QMatrix} of an
 * embedding or Linear layer, or the `Float32Array` of a vector (null when
 * the weights lack it).
 *
 * @example
 * ```ts
 * import { makeConfig, randomModelWeights } from "@proj/tinyllm";
 * import { modelTensors, tensorValue } from "@proj/tinyllm/model";
 * const w = randomModelWeights(makeConfig({ dim: 8, hiddenDim: 16, nLayers: 1,
 *   nHeads: 2, vocabSize: 10, seqLen: 4 }), 1);
 * const wq = modelTensors(w.config).find((t) => t.name === "layers.0.wq")!;
 * console.log(tensorValue(w, wq) === w.layers[0].wq.weight); // true
 * ```
 */
export function tensorValue(
  weights: ModelWeights,
  t: ModelTensor,
): TensorValue | null {
  const holder =
    (t.layer === null ? weights : weights.layers[t.layer]) as unknown as Record<
      string,
      Linear | TensorValue | null
    >;
  const v = holder[t.spec.field];
  if (v && t.spec.role === "linear") return (v as Linear).weight;
  return v as TensorValue | null;
}

/**
 * `weights` with every Linear layer (each block's and the classifier)
 * replaced by `fn(linear, tensor)`; everything else is shared with the input.
 * A shared classifier is passed like any other Linear (its weight is the
 * token embedding).
 *
 * @example Rebind every Linear to the reference kernels
 * ```ts
 * import { makeConfig, randomModelWeights } from "@proj/tinyllm";
 * import { mapLinears } from "@proj/tinyllm/model";
 * import { referenceKernels } from "@proj/tinyllm/kernels";
 * const w = randomModelWeights(makeConfig({ dim: 8, hiddenDim: 16, nLayers: 1,
 *   nHeads: 2, vocabSize: 10, seqLen: 4 }), 1);
 * const r = mapLinears(w, (l) => ({ weight: l.weight, kernels: referenceKernels(l.weight.type) }));
 * console.log(r.layers[0].w2.kernels.backend, r.rmsFinal === w.rmsFinal); // "reference" true
 * ```
 */
export function mapLinears(
  weights: ModelWeights,
  fn: (linear: Linear, t: ModelTensor) => Linear,
): ModelWeights {
  const c = weights.config;
  const layers = weights.layers.map((l) => ({ ...l }));
  let classifier = weights.classifier;
  for (const spec of TENSORS) {
    if (spec.role !== "linear") continue;
    if (spec.perLayer) {
      const f = spec.field as LayerField;
      layers.forEach((l, i) => {
        (l as Record<LayerField, unknown>)[f] = fn(
          l[f] as Linear,
          tensorAt(spec, c, i),
        );
      });
    } else if (spec.field === "classifier") {
      classifier = fn(weights.classifier, tensorAt(spec, c, null));
    }
  }
  return { ...weights, layers, classifier };
}
