/**
 * GGUF models: the config a GGUF file's metadata describes, and its weights
 * bound in place (each tensor stays in its ggml type, viewed in the file's
 * bytes and computed on by that type's kernels). The tensor table's GGUF
 * names say which tensor is which; the architecture table below says how
 * each supported `general.architecture` maps onto tinyllm's decoder.
 *
 * @module
 */
import { ConfigError, FormatError, ShapeError } from "../errors.ts";
import { makeConfig, type ModelConfig } from "../model/config.ts";
import { assembleWeights } from "../model/build.ts";
import { isMatrix, type TensorValue } from "../model/tensors.ts";
import type { ModelWeights } from "../model/weights.ts";
import { WEIGHT_TYPES } from "../quant/table.ts";
import type { WeightType } from "../quant/types.ts";
import type { RopeStyle } from "../tensor/rope.ts";
import {
  type GgufFile,
  ggufNumber,
  ggufString,
  type GgufTensorInfo,
} from "./gguf.ts";

/**
 * How one GGUF architecture maps onto tinyllm's decoder.
 *
 * @example
 * ```ts
 * import { GGUF_ARCHITECTURES } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * assert.equal(GGUF_ARCHITECTURES.qwen2.ropeStyle, "neox");
 * ```
 */
export interface GgufArchitecture {
  /** Which elements RoPE pairs (llama.cpp's rope type for the architecture). */
  readonly ropeStyle: RopeStyle;
  /**
   * Q/K/V biases: `"required"` (the file must hold them), `"optional"`
   * (used when present).
   */
  readonly qkvBias: "required" | "optional";
}

/**
 * The architectures tinyllm runs, by `general.architecture`. llama.cpp's
 * llama converter permutes the Q/K rows so that its NORM rope (adjacent
 * pairs, our "interleaved") applies; qwen2 uses NEOX rope (halves).
 *
 * @example
 * ```ts
 * import { GGUF_ARCHITECTURES } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * assert.deepEqual(Object.keys(GGUF_ARCHITECTURES), ["llama", "qwen2"]);
 * ```
 */
export const GGUF_ARCHITECTURES: Readonly<Record<string, GgufArchitecture>> = {
  llama: { ropeStyle: "interleaved", qkvBias: "optional" },
  qwen2: { ropeStyle: "neox", qkvBias: "required" },
};

/** Options of {@linkcode ggufModelConfig} and {@linkcode loadGgufWeights}. */
export interface GgufModelOptions {
  /**
   * Longest context to run (caps the file's `context_length`, as llama.cpp's
   * `n_ctx`; KV caches are sized by it). Default 4096.
   */
  maxContext?: number;
}

/**
 * The default cap on a GGUF model's context (llama.cpp's default n_ctx).
 *
 * @example
 * ```ts
 * import { GGUF_DEFAULT_CONTEXT } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * assert.equal(GGUF_DEFAULT_CONTEXT, 4096);
 * ```
 */
export const GGUF_DEFAULT_CONTEXT = 4096;

function architectureOf(file: GgufFile): [string, GgufArchitecture] {
  const arch = ggufString(file, "general.architecture");
  const spec = Object.hasOwn(GGUF_ARCHITECTURES, arch)
    ? GGUF_ARCHITECTURES[arch]
    : undefined;
  if (!spec) {
    throw new ConfigError(
      `general.architecture "${arch}" is not supported (supported: ${
        Object.keys(GGUF_ARCHITECTURES).join(", ")
      })`,
    );
  }
  return [arch, spec];
}

function positiveInt(file: GgufFile, key: string, fallback?: number): number {
  const v = ggufNumber(file, key, fallback);
  if (!Number.isInteger(v) || v <= 0) {
    throw new FormatError(`gguf: ${key} must be a positive integer, got ${v}`);
  }
  return v;
}

/**
 * The model config a GGUF file describes: shape from `{arch}.*` metadata,
 * vocabulary size from `token_embd.weight`, RMS epsilon, RoPE base and RoPE
 * dimension from the metadata, a separate classifier when the file has
 * `output.weight`, Q/K/V biases when it has `blk.0.attn_q.bias`.
 *
 * @throws {ConfigError} for an architecture or feature tinyllm does not run
 *   (naming it and what is supported)
 * @throws {FormatError} naming a missing or malformed key or tensor
 *
 * @example
 * ```ts
 * import { ggufModelConfig, parseGguf, writeGguf } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * const f = parseGguf(writeGguf([
 *   ["general.architecture", "qwen2"], ["qwen2.context_length", 256],
 *   ["qwen2.embedding_length", 64], ["qwen2.feed_forward_length", 128],
 *   ["qwen2.block_count", 2], ["qwen2.attention.head_count", 4],
 *   ["qwen2.attention.head_count_kv", 2],
 *   ["qwen2.attention.layer_norm_rms_epsilon", 1e-6],
 * ], [{ name: "token_embd.weight", shape: [64, 10], type: 0,
 *   data: new Uint8Array(64 * 10 * 4) }, { name: "blk.0.attn_q.bias",
 *   shape: [64], type: 0, data: new Uint8Array(64 * 4) }]));
 * const c = ggufModelConfig(f);
 * assert.equal(c.vocabSize, 10);
 * assert.equal(c.nKvHeads, 2);
 * assert.equal(c.ropeStyle, "neox");
 * assert.equal(c.qkvBias, true);
 * ```
 */
export function ggufModelConfig(
  file: GgufFile,
  options: GgufModelOptions = {},
): ModelConfig {
  const [arch, spec] = architectureOf(file);
  const k = (name: string) => `${arch}.${name}`;
  const expertCount = ggufNumber(file, k("expert_count"), 0);
  if (expertCount > 0) {
    throw new ConfigError(
      `${
        k("expert_count")
      } is ${expertCount}: mixture-of-experts models are not supported`,
    );
  }
  const scaling = ggufString(file, k("rope.scaling.type"), "none");
  const factor = ggufNumber(file, k("rope.scaling.factor"), 0);
  if (scaling !== "none" && factor !== 0 && factor !== 1) {
    throw new ConfigError(
      `${
        k("rope.scaling.type")
      } "${scaling}" is not supported (only unscaled RoPE)`,
    );
  }
  const dim = positiveInt(file, k("embedding_length"));
  const nHeads = positiveInt(file, k("attention.head_count"));
  const nKvHeads = positiveInt(file, k("attention.head_count_kv"), nHeads);
  const headSize = dim / nHeads;
  for (const key of ["attention.key_length", "attention.value_length"]) {
    const v = ggufNumber(file, k(key), headSize);
    if (v !== headSize) {
      throw new ConfigError(
        `${
          k(key)
        } is ${v}, but tinyllm needs the head size embedding_length/head_count = ${headSize}`,
      );
    }
  }
  const embd = file.tensor("token_embd.weight");
  if (!embd) throw new FormatError("gguf: tensor token_embd.weight is missing");
  if (embd.shape.length !== 2 || embd.shape[0] !== dim) {
    throw new FormatError(
      `gguf: token_embd.weight has shape [${embd.shape}], expected [${dim}, n_vocab]`,
    );
  }
  const contextLength = positiveInt(file, k("context_length"));
  const maxContext = options.maxContext ?? GGUF_DEFAULT_CONTEXT;
  if (!Number.isInteger(maxContext) || maxContext <= 0) {
    throw new ConfigError(
      `maxContext must be a positive integer, got ${maxContext}`,
    );
  }
  const hasBias = file.tensor("blk.0.attn_q.bias") !== undefined;
  if (spec.qkvBias === "required" && !hasBias) {
    throw new FormatError("gguf: tensor blk.0.attn_q.bias is missing");
  }
  return makeConfig({
    dim,
    hiddenDim: positiveInt(file, k("feed_forward_length")),
    nLayers: positiveInt(file, k("block_count")),
    nHeads,
    nKvHeads,
    vocabSize: embd.shape[1],
    seqLen: Math.min(contextLength, maxContext),
    positional: "rope",
    sharedClassifier: file.tensor("output.weight") === undefined,
    normEps: ggufNumber(file, k("attention.layer_norm_rms_epsilon")),
    ropeTheta: ggufNumber(file, k("rope.freq_base"), 10000),
    ropeDim: ggufNumber(file, k("rope.dimension_count"), headSize),
    ropeStyle: spec.ropeStyle,
    qkvBias: hasBias,
  });
}

/**
 * The weight type whose layout is ggml type `id`.
 *
 * @throws {ConfigError} naming the tensor and type when no weight type has it
 */
function weightTypeOf(info: GgufTensorInfo): WeightType {
  const types = Object.values(WEIGHT_TYPES);
  const t = types.find((w) => w.ggmlType === info.type);
  if (!t) {
    const known = types.filter((w) => w.ggmlType !== undefined).map((w) =>
      w.name
    );
    throw new ConfigError(
      `${info.name}: ggml type ${info.typeName} is not supported (supported: ${
        known.join(", ")
      })`,
    );
  }
  return t;
}

/** `shape` in ggml order with trailing 1s dropped. */
function ggmlDims(info: GgufTensorInfo): number[] {
  const s = info.shape.slice();
  while (s.length > 1 && s[s.length - 1] === 1) s.pop();
  return s;
}

function vectorOf(info: GgufTensorInfo, n: number): Float32Array {
  const t = weightTypeOf(info);
  const m = t.fromParts(1, n, "tensor", info.data, new Float32Array(0));
  // F32 stays a view of the file; other types are dequantized (a vector).
  return m.data instanceof Float32Array ? m.data : t.dequantize(m);
}

/**
 * The weights of a GGUF file, each matrix kept in its ggml type and viewed
 * in place in the file's bytes (no copy unless misaligned), bound to the
 * TypeScript kernels of its type. Every tensor of the file must be one the
 * model uses.
 *
 * @throws {ConfigError} for an unsupported architecture or tensor type
 * @throws {FormatError} / {ShapeError} naming a missing, extra or misshapen tensor
 *
 * @example A tiny qwen2 file
 * ```ts
 * import { loadGgufWeights, parseGguf, writeGguf } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * const f32 = (n: number) => new Uint8Array(new Float32Array(n).fill(0.5).buffer);
 * const [d, h, v] = [8, 16, 4];
 * const tensors = [
 *   { name: "token_embd.weight", shape: [d, v], type: 0, data: f32(d * v) },
 *   { name: "output_norm.weight", shape: [d], type: 0, data: f32(d) },
 * ];
 * for (const [n, shape] of Object.entries({ attn_norm: [d], attn_q: [d, d],
 *   attn_k: [d, d], attn_v: [d, d], attn_output: [d, d], ffn_norm: [d],
 *   ffn_gate: [d, h], ffn_up: [d, h], ffn_down: [h, d] })) {
 *   const size = shape.reduce((a, b) => a * b, 1);
 *   tensors.push({ name: `blk.0.${n}.weight`, shape, type: 0, data: f32(size) });
 * }
 * for (const n of ["attn_q", "attn_k", "attn_v"]) {
 *   tensors.push({ name: `blk.0.${n}.bias`, shape: [d], type: 0, data: f32(d) });
 * }
 * const w = loadGgufWeights(parseGguf(writeGguf([
 *   ["general.architecture", "qwen2"], ["qwen2.context_length", 16],
 *   ["qwen2.embedding_length", d], ["qwen2.feed_forward_length", h],
 *   ["qwen2.block_count", 1], ["qwen2.attention.head_count", 2],
 *   ["qwen2.attention.layer_norm_rms_epsilon", 1e-6],
 * ], tensors)));
 * assert.equal(w.layers[0].wq.weight.type, "fp32");
 * assert.equal(w.layers[0].bq?.length, 8);
 * ```
 */
export function loadGgufWeights(
  file: GgufFile,
  options: GgufModelOptions = {},
): ModelWeights {
  const config = ggufModelConfig(file, options);
  const used = new Set<string>();
  const weights = assembleWeights(config, (t): TensorValue => {
    const name = t.ggufName;
    if (name === null) {
      throw new ConfigError(`${t.name}: GGUF has no such tensor`);
    }
    const info = file.tensor(name);
    if (!info) throw new FormatError(`gguf: tensor ${name} is missing`);
    used.add(name);
    const dims = ggmlDims(info);
    const want = t.shape.slice().reverse(); // ggml order: row length first
    if (dims.length !== want.length || dims.some((d, i) => d !== want[i])) {
      throw new ShapeError(
        `gguf: tensor ${name} has shape [${info.shape}], expected [${want}]`,
      );
    }
    if (!isMatrix(t.spec)) return vectorOf(info, t.size);
    const type = weightTypeOf(info);
    return type.fromParts(
      t.shape[0],
      t.shape[1],
      "tensor",
      info.data,
      new Float32Array(0),
    );
  });
  for (const info of file.tensors) {
    if (!used.has(info.name)) {
      throw new ConfigError(
        `gguf: tensor ${info.name} is not part of a ${
          ggufString(file, "general.architecture")
        } model tinyllm runs`,
      );
    }
  }
  return weights;
}
