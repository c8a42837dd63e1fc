/**
 * The benchmark's view of the library: loading the three benchmark models,
 * quantizing them, and measuring perplexity. Everything the report needs from
 * other modules goes through here.
 *
 * @module
 */
import type { ModelConfig } from "../../src/model/config.ts";
import type {
  LayerWeights,
  Linear,
  ModelWeights,
} from "../../src/model/weights.ts";
import type { Granularity } from "../../src/quant/types.ts";
import type { Tokenizer, TokenizerJson } from "../../src/tokenizer/types.ts";
import { weightType } from "../../src/quant/table.ts";
import { linearOf, randomModelWeights } from "../../src/model/model.ts";
import { parseLlama2cCheckpoint } from "../../src/io/llama2c.ts";
import { parseLlama2cTokenizer } from "../../src/tokenizer/llama2c.ts";
import { createRunState, forwardToken } from "../../src/model/decode.ts";
import { KvCacheFp32 } from "../../src/kv/caches.ts";

/** A model under benchmark. */
export interface BenchModel {
  /** Name used in every table. */
  name: string;
  weights: ModelWeights;
  tokenizer: Tokenizer;
  /** Token ids perplexity is measured on (null: not measured). */
  evalTokens: number[] | null;
  /** What `evalTokens` are. */
  evalText: string;
}

/** stories15M's shape (llama2.c): dim 288, hidden 768, 6 layers, 6 heads, vocab 32000. */
export const STORIES15M: ModelConfig = {
  dim: 288,
  hiddenDim: 768,
  nLayers: 6,
  nHeads: 6,
  nKvHeads: 6,
  vocabSize: 32000,
  seqLen: 256,
  positional: "rope",
  sharedClassifier: true,
  normEps: 1e-5,
  ropeTheta: 10000,
};

/**
 * A tokenizer for timing models that have no tokenizer of their own (random
 * weights): ids map to no text.
 */
export function silentTokenizer(vocabSize: number): Tokenizer {
  return {
    kind: "silent",
    vocabSize,
    bosId: 1,
    eosId: 2,
    encode: (_text, o) => (o?.bos ?? true) ? [1] : [],
    decode: () => "",
    decodePiece: () => new Uint8Array(0),
    toJSON: (): TokenizerJson => ({ kind: "silent" }),
  };
}

/** The random-weight stories15M-shaped model (seeded, built in memory). */
export function randomStories15M(
  tokenizer: Tokenizer | null,
  seed = 15,
): BenchModel {
  return {
    name: "stories15M-shaped (random)",
    weights: randomModelWeights(STORIES15M, seed),
    tokenizer: tokenizer ?? silentTokenizer(STORIES15M.vocabSize),
    evalTokens: null,
    evalText: "not measured (random weights)",
  };
}

/** A small TinyStories-style text (written for this benchmark) to measure llama2.c models on. */
export const FIXED_TEXT =
  "Once upon a time, there was a little boy named Tom. Tom liked to play with his red ball in the garden. " +
  "One day, the ball rolled under a big tree. Tom looked and looked, but he could not find it. " +
  "He felt sad and sat down on the grass. Then his friend Sue came to help him. " +
  "Sue saw the ball behind the tree and gave it back to Tom. Tom was very happy. " +
  'He said, "Thank you, Sue! You are a good friend." They played with the ball together until the sun went down.';

/** stories260K from a llama2.c directory (stories260K.bin + tok512.bin). */
export async function loadStories260K(dir: string): Promise<BenchModel> {
  const weights = parseLlama2cCheckpoint(
    await Deno.readFile(`${dir}/stories260K.bin`),
    "stories260K.bin",
  );
  const tokenizer = parseLlama2cTokenizer(
    await Deno.readFile(`${dir}/tok512.bin`),
    { vocabSize: weights.config.vocabSize, name: "tok512.bin" },
  );
  return {
    name: "stories260K",
    weights,
    tokenizer,
    evalTokens: tokenizer.encode(FIXED_TEXT, { bos: true }),
    evalText: `a fixed ${FIXED_TEXT.split(" ").length}-word story text`,
  };
}

/** The 32000-token llama2.c tokenizer, if `dir` has it. */
export async function loadLlama2cTokenizer32k(
  dir: string,
): Promise<Tokenizer | null> {
  try {
    return parseLlama2cTokenizer(await Deno.readFile(`${dir}/tokenizer.bin`), {
      vocabSize: 32000,
      name: "tokenizer.bin",
    });
  } catch {
    return null;
  }
}

/** The quantization configurations measured, in table order. */
export const QUANT_CONFIGS: {
  config: string;
  type: string;
  granularity: Granularity;
}[] = [
  { config: "fp32", type: "fp32", granularity: "tensor" },
  { config: "int8 G32", type: "int8", granularity: 32 },
  { config: "int4 G32", type: "int4", granularity: 32 },
  { config: "int8 tensor", type: "int8", granularity: "tensor" },
  { config: "int4 tensor", type: "int4", granularity: "tensor" },
];

/**
 * Quantizes every Linear of the blocks and the classifier (the default
 * policy); embeddings and norms stay fp32. A shared classifier gets its own
 * quantized copy while the embedding table stays fp32.
 */
export function quantizeWeights(
  w: ModelWeights,
  type: string,
  granularity: Granularity,
): ModelWeights {
  if (type === "fp32") return w;
  const t = weightType(type);
  const q = (l: Linear): Linear => {
    const src = weightType(l.weight.type).dequantize(l.weight);
    // A group size that does not divide the input width (stories260K's
    // hidden 172) falls back to one scale per row for that matrix.
    const g = typeof granularity === "number" && l.weight.cols % granularity
      ? "row"
      : granularity;
    return linearOf(t.quantize(src, l.weight.rows, l.weight.cols, g));
  };
  const layers: LayerWeights[] = w.layers.map((l) => ({
    ...l,
    wq: q(l.wq),
    wk: q(l.wk),
    wv: q(l.wv),
    wo: q(l.wo),
    w1: q(l.w1),
    w2: q(l.w2),
    w3: q(l.w3),
  }));
  return { ...w, layers, classifier: q(w.classifier) };
}

/** Real bytes of all weights: packed payloads, scales, fp32 tables and norms. */
export function modelBytes(w: ModelWeights): number {
  const seen = new Set<unknown>();
  let bytes = 0;
  const add = (m: Linear["weight"]) => {
    if (seen.has(m)) return;
    seen.add(m);
    bytes += weightType(m.type).byteSize(m);
  };
  add(w.tokenEmbedding);
  add(w.classifier.weight);
  if (w.positionEmbedding) bytes += w.positionEmbedding.byteLength;
  bytes += w.rmsFinal.byteLength;
  for (const l of w.layers) {
    bytes += l.rmsAtt.byteLength + l.rmsFfn.byteLength;
    for (const m of [l.wq, l.wk, l.wv, l.wo, l.w1, l.w2, l.w3]) add(m.weight);
  }
  return bytes;
}

/**
 * Per-token perplexity of `tokens` (starting with BOS): windows of seqLen
 * tokens, each scored from a fresh cache, exp of the mean NLL of every token
 * after the first of its window.
 */
export function perplexity(w: ModelWeights, tokens: number[]): number {
  const c = w.config;
  const state = createRunState(c);
  const cache = new KvCacheFp32(c);
  let nll = 0;
  let n = 0;
  for (let start = 0; start + 1 < tokens.length; start += c.seqLen) {
    const end = Math.min(tokens.length, start + c.seqLen);
    cache.reset();
    for (let i = start; i < end - 1; i++) {
      const logits = forwardToken(w, state, cache, tokens[i], i - start);
      let max = -Infinity;
      for (let j = 0; j < logits.length; j++) {
        if (logits[j] > max) max = logits[j];
      }
      let sum = 0;
      for (let j = 0; j < logits.length; j++) sum += Math.exp(logits[j] - max);
      nll += Math.log(sum) + max - logits[tokens[i + 1]];
      n++;
    }
  }
  return Math.exp(nll / n);
}

/** The trained model's archive contents the report needs. */
export interface TrainedArchive {
  model: BenchModel;
  /** The archive's training.json. */
  training: Record<string, unknown> | null;
}

/**
 * Loads the trained model archive and its evaluation tokens (the first
 * `evalTokens` tokens of the validation split).
 */
export function loadTrained(
  _path: string,
  _evalTokens: number,
): Promise<TrainedArchive> {
  return Promise.reject(
    new Error("the model archive loader (src/io/load_fs.ts) has not landed"),
  );
}

/** Saves a quantized copy of the trained archive (for the demo page). */
export function saveQuantizedArchive(
  _src: string,
  _dst: string,
  _type: string,
  _granularity: Granularity,
): Promise<void> {
  return Promise.reject(
    new Error("the model archive writer (src/io/archive.ts) has not landed"),
  );
}
