/**
 * Writing a tinyllm model as a llama-architecture GGUF file that llama.cpp
 * (and what builds on it: ollama, llama-server) loads and runs: the model's
 * hyper-parameters as `llama.*` metadata, every tensor of the tensor table
 * under its GGUF name (F32), and the tokenizer as GGUF tokenizer metadata:
 *
 * - a llama2.c tokenizer → `llama` (SentencePiece) with its scores, as
 *   llama.cpp's `convert-llama2c-to-ggml` writes it;
 * - tinyllm's byte-level BPE → `gpt2` with its merges and pre-tokenizer
 *   `bloom` (split at whitespace and at `. , ! ? … ( ) |`, the closest of
 *   llama.cpp's pre-tokenizers to tinyllm's whitespace-only pre-split: text
 *   where those characters touch a word tokenizes differently there);
 * - a GGUF tokenizer → its own metadata again;
 * - a word-level vocabulary → a ConfigError: GGUF has no such tokenizer.
 *
 * NeoX-style RoPE is turned into llama's adjacent-pair RoPE by permuting the
 * rows of the Q and K projections (as llama.cpp's converter does the other
 * way round), so every rope model exports as `llama`.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import { headSize, type ModelConfig } from "../model/config.ts";
import { isMatrix, modelTensors, tensorValue } from "../model/tensors.ts";
import type { ModelWeights } from "../model/weights.ts";
import { weightType } from "../quant/table.ts";
import type { QMatrix } from "../quant/types.ts";
import {
  BPE_BOS,
  BPE_EOS,
  BPE_FIRST_MERGE,
  BpeTokenizer,
} from "../tokenizer/bpe.ts";
import {
  GGUF_TOKEN_TYPE,
  GgufTokenizer,
  type GgufTokenizerData,
} from "../tokenizer/gguf_tokenizer.ts";
import { Llama2cTokenizer } from "../tokenizer/llama2c.ts";
import type { Tokenizer } from "../tokenizer/types.ts";
import { byteToUnicode } from "../tokenizer/unicode.ts";
import {
  GGML_TYPE,
  type GgufTensorInput,
  type GgufValue,
  type GgufValueTypeName,
  writeGguf,
} from "./gguf.ts";
import { quantizeGguf } from "./gguf_quantize.ts";

/** Options of {@linkcode ggufFromModel}. */
export interface GgufFromModelOptions {
  /** `general.name` (default "tinyllm"). */
  name?: string;
}

/** One metadata entry to write: key, value and (where a number is ambiguous) its type. */
export type GgufMetadataEntry = [string, GgufValue, GgufValueTypeName?];

type Meta = GgufMetadataEntry[];

/**
 * The tokenizer metadata (`tokenizer.ggml.*`) of `tokenizer`, as llama.cpp
 * reads it (see the module doc for the mapping).
 *
 * @throws {ConfigError} for a tokenizer GGUF has no type for (word-level),
 *   or tokens that are not distinct
 *
 * @example
 * ```ts
 * import { BpeTokenizer } from "@proj/tinyllm";
 * import { ggufTokenizerMetadata } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * const meta = ggufTokenizerMetadata(BpeTokenizer.train("ab ab ab", 259));
 * assert.deepEqual(meta.find(([k]) => k === "tokenizer.ggml.merges")?.[1], ["a b"]);
 * ```
 */
export function ggufTokenizerMetadata(
  tokenizer: Tokenizer,
): GgufMetadataEntry[] {
  if (tokenizer instanceof Llama2cTokenizer) return llama2cMeta(tokenizer);
  if (tokenizer instanceof BpeTokenizer) return bpeMeta(tokenizer);
  if (tokenizer instanceof GgufTokenizer) {
    return ggufDataMeta(tokenizer.toJSON() as unknown as GgufTokenizerData);
  }
  throw new ConfigError(
    `a ${tokenizer.kind} tokenizer cannot be written to GGUF: GGUF has no word-level tokenizer type (llama2.c and byte-level BPE tokenizers can)`,
  );
}

function checkDistinct(tokens: readonly string[]): void {
  const seen = new Map<string, number>();
  tokens.forEach((t, i) => {
    const had = seen.get(t);
    if (had !== undefined) {
      throw new ConfigError(
        `tokens ${had} and ${i} are both ${
          JSON.stringify(t)
        }: GGUF needs distinct tokens`,
      );
    }
    seen.set(t, i);
  });
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function llama2cMeta(tok: Llama2cTokenizer): Meta {
  const n = tok.vocabSize;
  const tokens: string[] = [];
  const scores = new Float32Array(n);
  const types = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let text: string;
    try {
      text = strictUtf8.decode(tok.piece(i));
    } catch {
      throw new ConfigError(
        `tokenizer piece ${i} is not UTF-8: GGUF stores tokens as text`,
      );
    }
    let type: number = GGUF_TOKEN_TYPE.NORMAL;
    if (i === 0) {
      text = "<unk>";
      type = GGUF_TOKEN_TYPE.UNKNOWN;
    } else if (i === tok.bosId) {
      text = "<s>";
      type = GGUF_TOKEN_TYPE.CONTROL;
    } else if (i === tok.eosId) {
      text = "</s>";
      type = GGUF_TOKEN_TYPE.CONTROL;
    } else if (text === "") {
      type = GGUF_TOKEN_TYPE.CONTROL;
    } else if (/^<0x[0-9A-Fa-f]{2}>$/.test(text)) {
      type = GGUF_TOKEN_TYPE.BYTE;
    }
    tokens.push(text.replaceAll(" ", "\u2581"));
    scores[i] = tok.score(i);
    types[i] = type;
  }
  checkDistinct(tokens);
  return [
    ["tokenizer.ggml.model", "llama"],
    ["tokenizer.ggml.tokens", tokens],
    ["tokenizer.ggml.scores", scores],
    ["tokenizer.ggml.token_type", types],
    ["tokenizer.ggml.unknown_token_id", 0, "uint32"],
    ["tokenizer.ggml.bos_token_id", tok.bosId, "uint32"],
    ["tokenizer.ggml.eos_token_id", tok.eosId, "uint32"],
  ];
}

function bpeMeta(tok: BpeTokenizer): Meta {
  const n = tok.vocabSize;
  const text: string[] = new Array(n);
  for (let b = 0; b < 256; b++) {
    text[b] = String.fromCodePoint(byteToUnicode(b));
  }
  text[BPE_BOS] = "<bos>";
  text[BPE_EOS] = "<eos>";
  const merges: string[] = [];
  for (let id = BPE_FIRST_MERGE; id < n; id++) {
    const i = id - BPE_FIRST_MERGE;
    const a = text[tok.merges[2 * i]], b = text[tok.merges[2 * i + 1]];
    text[id] = a + b;
    merges.push(`${a} ${b}`);
  }
  checkDistinct(text);
  const types = new Int32Array(n).fill(GGUF_TOKEN_TYPE.NORMAL);
  types[BPE_BOS] = types[BPE_EOS] = GGUF_TOKEN_TYPE.CONTROL;
  return [
    ["tokenizer.ggml.model", "gpt2"],
    ["tokenizer.ggml.pre", "bloom"],
    ["tokenizer.ggml.tokens", text],
    ["tokenizer.ggml.token_type", types],
    ["tokenizer.ggml.merges", merges],
    ["tokenizer.ggml.bos_token_id", BPE_BOS, "uint32"],
    ["tokenizer.ggml.eos_token_id", BPE_EOS, "uint32"],
    ["tokenizer.ggml.add_bos_token", true],
    ["tokenizer.ggml.add_eos_token", false],
  ];
}

const ID_KEYS: [keyof GgufTokenizerData, string][] = [
  ["bosId", "bos_token_id"],
  ["eosId", "eos_token_id"],
  ["eotId", "eot_token_id"],
  ["eomId", "eom_token_id"],
  ["unkId", "unknown_token_id"],
  ["sepId", "seperator_token_id"],
  ["padId", "padding_token_id"],
  ["maskId", "mask_token_id"],
  ["fimPreId", "fim_pre_token_id"],
  ["fimSufId", "fim_suf_token_id"],
  ["fimMidId", "fim_mid_token_id"],
  ["fimPadId", "fim_pad_token_id"],
  ["fimRepId", "fim_rep_token_id"],
  ["fimSepId", "fim_sep_token_id"],
];

function ggufDataMeta(d: GgufTokenizerData): Meta {
  const m: Meta = [["tokenizer.ggml.model", d.model]];
  if (d.pre !== undefined) m.push(["tokenizer.ggml.pre", d.pre]);
  m.push(["tokenizer.ggml.tokens", d.tokens.slice()]);
  if (d.scores) m.push(["tokenizer.ggml.scores", Float32Array.from(d.scores)]);
  if (d.tokenTypes) {
    m.push(["tokenizer.ggml.token_type", Int32Array.from(d.tokenTypes)]);
  }
  if (d.merges) m.push(["tokenizer.ggml.merges", d.merges.slice()]);
  for (const [field, key] of ID_KEYS) {
    const v = d[field];
    if (typeof v === "number") m.push([`tokenizer.ggml.${key}`, v, "uint32"]);
  }
  const flags: [keyof GgufTokenizerData, string][] = [
    ["addBos", "add_bos_token"],
    ["addEos", "add_eos_token"],
    ["addSep", "add_sep_token"],
    ["addSpacePrefix", "add_space_prefix"],
  ];
  for (const [field, key] of flags) {
    const v = d[field];
    if (typeof v === "boolean") m.push([`tokenizer.ggml.${key}`, v]);
  }
  return m;
}

/**
 * The rows of a `[rows, dim]` Q or K projection (or its bias, `dim` = 1)
 * reordered so that adjacent-pair RoPE on the result equals NeoX RoPE on the
 * input: within the rotated part of each head, row `2i` ← row `i`, row
 * `2i+1` ← row `i + ropeDim/2`.
 */
function neoxToInterleaved(
  w: Float32Array,
  rows: number,
  cols: number,
  config: ModelConfig,
): Float32Array {
  const hs = headSize(config), half = config.ropeDim / 2;
  const out = w.slice();
  for (let h = 0; h < rows / hs; h++) {
    for (let i = 0; i < half; i++) {
      const from0 = (h * hs + i) * cols, from1 = (h * hs + i + half) * cols;
      out.set(w.subarray(from0, from0 + cols), (h * hs + 2 * i) * cols);
      out.set(w.subarray(from1, from1 + cols), (h * hs + 2 * i + 1) * cols);
    }
  }
  return out;
}

function floatsOf(v: QMatrix | Float32Array): Float32Array {
  if (v instanceof Float32Array) return v;
  return weightType(v.type).dequantize(v);
}

/**
 * A llama-architecture GGUF file (all tensors F32) holding `weights` and
 * `tokenizer`; requantize it with `quantizeGguf` for smaller types.
 *
 * @throws {ConfigError} for a model llama.cpp's llama cannot hold (learned
 *   positions) or a tokenizer GGUF has no type for (word-level)
 *
 * @example Round trip through our own loader
 * ```ts
 * import { BpeTokenizer, loadModel, makeConfig, randomModelWeights } from "@proj/tinyllm";
 * import { ggufFromModel } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * const tokenizer = BpeTokenizer.train("a cat sat on a mat ".repeat(50), 262);
 * const weights = randomModelWeights(makeConfig({ dim: 16, hiddenDim: 32, nLayers: 1,
 *   nHeads: 2, vocabSize: tokenizer.vocabSize, seqLen: 16 }), 1);
 * const m = await loadModel(ggufFromModel(weights, tokenizer));
 * assert.equal(m.source, "gguf");
 * assert.equal(m.config.vocabSize, 262);
 * ```
 */
export function ggufFromModel(
  weights: ModelWeights,
  tokenizer: Tokenizer,
  options: GgufFromModelOptions = {},
): Uint8Array {
  const c = weights.config;
  if (c.positional !== "rope") {
    throw new ConfigError(
      "the model has a learned position table: GGUF's llama architecture has only RoPE",
    );
  }
  if (tokenizer.vocabSize !== c.vocabSize) {
    throw new ConfigError(
      `the tokenizer has ${tokenizer.vocabSize} tokens but the model ${c.vocabSize}`,
    );
  }
  const tokMeta = ggufTokenizerMetadata(tokenizer);
  const meta: Meta = [
    ["general.architecture", "llama"],
    ["general.name", options.name ?? "tinyllm"],
    ["llama.context_length", c.seqLen, "uint32"],
    ["llama.embedding_length", c.dim, "uint32"],
    ["llama.feed_forward_length", c.hiddenDim, "uint32"],
    ["llama.block_count", c.nLayers, "uint32"],
    ["llama.attention.head_count", c.nHeads, "uint32"],
    ["llama.attention.head_count_kv", c.nKvHeads, "uint32"],
    ["llama.attention.layer_norm_rms_epsilon", c.normEps, "float32"],
    ["llama.rope.freq_base", c.ropeTheta, "float32"],
    ["llama.rope.dimension_count", c.ropeDim, "uint32"],
    ["llama.vocab_size", c.vocabSize, "uint32"],
    ["general.file_type", 0, "uint32"],
    ...tokMeta,
  ];
  const permute = c.ropeStyle === "neox";
  const tensors: GgufTensorInput[] = [];
  for (const t of modelTensors(c)) {
    const v = tensorValue(weights, t);
    if (v === null || t.ggufName === null) {
      throw new ConfigError(`${t.name}: GGUF has no such tensor`);
    }
    let data = floatsOf(v);
    const rows = t.shape[0];
    const cols = isMatrix(t.spec) ? t.shape[1] : 1;
    if (permute && ["wq", "wk", "bq", "bk"].includes(t.spec.field)) {
      data = neoxToInterleaved(data, rows, cols, c);
    }
    tensors.push({
      name: t.ggufName,
      shape: t.shape.slice().reverse(),
      type: GGML_TYPE.F32,
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
  }
  const types = new Map<string, GgufValueTypeName>();
  for (const [k, , type] of meta) if (type) types.set(k, type);
  return writeGguf(meta.map(([k, v]) => [k, v]), tensors, { types });
}

/** The tensor types {@linkcode exportGguf} writes. */
export const GGUF_EXPORT_TYPES = [
  "f32",
  "f16",
  "q8_0",
  "q4_0",
  "q4_k",
] as const;

/** A type {@linkcode exportGguf} writes. */
export type GgufExportType = typeof GGUF_EXPORT_TYPES[number];

/** Options of {@linkcode exportGguf}. */
export interface ExportGgufOptions extends GgufFromModelOptions {
  /**
   * Type of the matrices (default "f32"): the F32 file requantized as
   * `llama-quantize --pure` would (rows that are not whole blocks fall back
   * as llama.cpp does: Q4_K → Q5_0 → F16, Q8_0/Q4_0 → F16); norms and biases
   * stay F32.
   */
  type?: GgufExportType;
}

const EXPORT_GGML_TYPE: Record<GgufExportType, number> = {
  f32: GGML_TYPE.F32,
  f16: GGML_TYPE.F16,
  q8_0: GGML_TYPE.Q8_0,
  q4_0: GGML_TYPE.Q4_0,
  q4_k: GGML_TYPE.Q4_K,
};

/**
 * A model as a llama-architecture GGUF file of the given type, for
 * llama.cpp, ollama and the like (see the module doc for what is written).
 *
 * @throws {ConfigError} for an unknown type, a model llama.cpp's llama cannot
 *   hold or a tokenizer GGUF has no type for
 *
 * @example
 * ```ts
 * import { BpeTokenizer, makeConfig, randomModelWeights } from "@proj/tinyllm";
 * import { exportGguf, parseGguf } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * const tokenizer = BpeTokenizer.train("a cat sat on a mat ".repeat(50), 262);
 * const weights = randomModelWeights(makeConfig({ dim: 32, hiddenDim: 64, nLayers: 1,
 *   nHeads: 2, vocabSize: tokenizer.vocabSize, seqLen: 16 }), 1);
 * const f = parseGguf(exportGguf(weights, tokenizer, { type: "q8_0" }));
 * assert.equal(f.tensor("blk.0.attn_q.weight")?.typeName, "Q8_0");
 * ```
 */
export function exportGguf(
  weights: ModelWeights,
  tokenizer: Tokenizer,
  options: ExportGgufOptions = {},
): Uint8Array {
  const type = options.type ?? "f32";
  if (!Object.hasOwn(EXPORT_GGML_TYPE, type)) {
    throw new ConfigError(
      `unknown GGUF export type "${type}" (known: ${
        GGUF_EXPORT_TYPES.join(", ")
      })`,
    );
  }
  const f32 = ggufFromModel(weights, tokenizer, options);
  return type === "f32" ? f32 : quantizeGguf(f32, EXPORT_GGML_TYPE[type]);
}
