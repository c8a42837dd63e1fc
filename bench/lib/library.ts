/**
 * The benchmark's view of the library: loading the three benchmark models,
 * quantizing them, and measuring perplexity. Everything the report needs from
 * other modules goes through here.
 *
 * @module
 */
import { LLAMA2C_SHAPES } from "../../src/model/shapes.ts";
import type { ModelConfig } from "../../src/model/config.ts";
import type { Backend } from "../../src/backend.ts";
import type { ModelWeights } from "../../src/model/weights.ts";
import type { Granularity } from "../../src/quant/types.ts";
import type { Tokenizer, TokenizerJson } from "../../src/tokenizer/types.ts";
import { randomModelWeights } from "../../src/model/build.ts";
import { bindKernels } from "../../src/model/bind.ts";
import { parseLlama2cTokenizer } from "../../src/tokenizer/llama2c.ts";
import { modelByteSize, quantizeModel } from "../../src/model/quantize.ts";
import { perplexity as libraryPerplexity } from "../../src/eval/perplexity.ts";
import { loadModelFile, saveModelFile } from "../../src/io/load_fs.ts";
import { loadCorpus } from "../../src/data/brown_fs.ts";
import { loadModel } from "../../src/io/load.ts";
import stories260KBin from "../../tests/testdata/stories260K.bin" with {
  type: "bytes",
};
import tok512Bin from "../../tests/testdata/tok512.bin" with { type: "bytes" };
import tokenizer32kBin from "../../tests/testdata/tokenizer.bin" with {
  type: "bytes",
};

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
export const STORIES15M: ModelConfig = LLAMA2C_SHAPES["15M"];

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

/**
 * stories260K: from a llama2.c directory (stories260K.bin + tok512.bin), or
 * the repository's copy in tests/testdata/ when `dir` is omitted (a module
 * import, so no read permission is needed).
 */
export async function loadStories260K(dir?: string): Promise<BenchModel> {
  const { weights, tokenizer } = dir
    ? await loadModelFile(`${dir}/stories260K.bin`, {
      tokenizer: `${dir}/tok512.bin`,
    })
    : await loadModel(stories260KBin.slice(), {
      name: "stories260K.bin",
      tokenizer: tok512Bin.slice(),
      tokenizerName: "tok512.bin",
    });
  return {
    name: "stories260K",
    weights,
    tokenizer,
    evalTokens: tokenizer.encode(FIXED_TEXT, { bos: true }),
    evalText: `a fixed ${FIXED_TEXT.split(" ").length}-word story text`,
  };
}

/**
 * The 32000-token llama2.c tokenizer: `dir/tokenizer.bin` if `dir` has it,
 * the repository's copy when `dir` is omitted.
 */
export async function loadLlama2cTokenizer32k(
  dir?: string,
): Promise<Tokenizer | null> {
  try {
    return parseLlama2cTokenizer(
      dir
        ? await Deno.readFile(`${dir}/tokenizer.bin`)
        : tokenizer32kBin.slice(),
      { vocabSize: 32000, name: "tokenizer.bin" },
    );
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
  // int8 defaults to one scale per row: with fp32 scales, G32 costs 9 bits a
  // weight (3.55x) and misses the 3.7x size target; G32 stays for contrast.
  { config: "int8 row", type: "int8", granularity: "row" },
  { config: "int8 G32", type: "int8", granularity: 32 },
  { config: "int4 G32", type: "int4", granularity: 32 },
  { config: "int8 tensor", type: "int8", granularity: "tensor" },
  { config: "int4 tensor", type: "int4", granularity: "tensor" },
];

/**
 * Quantizes with the library's policy (src/model/quantize.ts) applied to every
 * weight matrix: the blocks, the classifier and the token embedding (so the
 * compression is that of the whole model whether or not the classifier is
 * shared); RMSNorm gains stay fp32. The result is bound to `backend`.
 */
export function quantizeWeights(
  w: ModelWeights,
  type: string,
  granularity: Granularity,
  backend: Backend = "auto",
): ModelWeights {
  const q = type === "fp32"
    ? w
    : quantizeModel(w, type, granularity, { quantizeEmbedding: true });
  return bindKernels(q, backend);
}

/** Real bytes of all weights: packed payloads, scales, fp32 tables and norms. */
export function modelBytes(w: ModelWeights): number {
  return modelByteSize(w);
}

/** Per-token perplexity of `tokens` (starting with BOS), windows of seqLen. */
export function perplexity(w: ModelWeights, tokens: number[]): number {
  return libraryPerplexity(w, tokens).perToken;
}

/** The trained model's archive contents the report needs. */
export interface TrainedArchive {
  model: BenchModel;
  /** The archive's training.json. */
  training: Record<string, unknown> | null;
}

/** Finds the training data name ("brown" or a file) in a training record. */
function dataOf(training: Record<string, unknown>): string {
  const direct = training["data"];
  if (typeof direct === "string") return direct;
  for (const v of Object.values(training)) {
    if (
      v && typeof v === "object" &&
      typeof (v as { data?: unknown }).data === "string"
    ) {
      return (v as { data: string }).data;
    }
  }
  return "brown";
}

/**
 * Loads the trained model archive and its evaluation tokens: the first
 * `evalTokens` tokens of the validation split of the data it was trained on
 * (0 = none).
 */
export async function loadTrained(
  path: string,
  evalTokens: number,
  name = "seed (trained)",
): Promise<TrainedArchive> {
  const a = await loadModelFile(path);
  const training = a.training ?? {};
  let tokens: number[] | null = null;
  let evalText = "not measured";
  if (evalTokens > 0) {
    const data = dataOf(training);
    const corpus = await loadCorpus(data);
    // Encode a prefix of the split generous enough for evalTokens tokens.
    const words = corpus.val.text.split(" ");
    const approx = corpus.val.text.length *
      Math.min(1, (evalTokens * 2) / words.length);
    const all = a.tokenizer.encode(
      corpus.val.text.slice(0, Math.max(approx, 1000)),
      { bos: true },
    );
    tokens = all.slice(0, evalTokens + 1);
    evalText = `the first ${tokens.length - 1} tokens of the ${
      data === "brown" ? "Brown" : data
    } validation split`;
  }
  return {
    model: {
      name,
      weights: a.weights,
      tokenizer: a.tokenizer,
      evalTokens: tokens,
      evalText,
    },
    training,
  };
}

/** Saves a quantized copy of the trained archive (for the demo page). */
export async function saveQuantizedArchive(
  src: string,
  dst: string,
  type: string,
  granularity: Granularity,
): Promise<void> {
  const a = await loadModelFile(src);
  const weights = quantizeModel(a.weights, type, granularity);
  await saveModelFile(dst, {
    weights,
    tokenizer: a.tokenizer,
    training: {
      ...a.training,
      quantized: { type, granularity: String(granularity), from: src },
    },
  });
}
