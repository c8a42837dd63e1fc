/**
 * The one loading function every tool goes through: model bytes in (a
 * tinyllm archive, a GGUF file, or a llama2.c checkpoint plus its tokenizer,
 * told apart by content), weights and tokenizer out. Core module: bytes, not paths
 * (`load_fs.ts` reads the files).
 *
 * @module
 */
import { isGzip } from "../bytes.ts";
import { ConfigError, FormatError, ShapeError } from "../errors.ts";
import type { ModelConfig } from "../model/config.ts";
import type { ModelWeights } from "../model/weights.ts";
import { forEachTensor, tensorValue } from "../model/tensors.ts";
import { tokenizerFromGguf } from "../tokenizer/gguf_tokenizer.ts";
import { parseLlama2cTokenizer } from "../tokenizer/llama2c.ts";
import type { Tokenizer } from "../tokenizer/types.ts";
import { loadModelArchive, type OptimizerState } from "./archive.ts";
import { isGguf, parseGguf } from "./gguf.ts";
import { type GgufModelOptions, loadGgufWeights } from "./gguf_model.ts";
import { parseLlama2cCheckpoint } from "./llama2c.ts";
import { isLlama2cQ80, parseLlama2cQ80 } from "./llama2c_q80.ts";

/**
 * Largest magnitude a stored weight, gain or scale may have: the float16
 * range, which every llama-family model fits (their weights are O(1)). Larger
 * values are damage, and would turn every logit into NaN or ±Infinity.
 */
export const MAX_ABS_WEIGHT = 65504;

/**
 * Throws a {@linkcode FormatError} naming the tensor and element of the
 * first weight (or quantization scale) that is NaN, ±Infinity or larger in
 * magnitude than {@linkcode MAX_ABS_WEIGHT}.
 *
 * @example
 * ```ts
 * import { makeConfig, randomModelWeights } from "@proj/tinyllm";
 * import { checkWeightValues } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * const w = randomModelWeights(makeConfig({ dim: 8, hiddenDim: 16, nLayers: 1,
 *   nHeads: 2, vocabSize: 4, seqLen: 8 }), 1);
 * checkWeightValues(w, "ok.bin"); // fine
 * w.layers[0].rmsAtt[3] = NaN;
 * assert.throws(() => checkWeightValues(w, "bad.bin"), {
 *   name: "FormatError",
 *   message:
 *     "bad.bin: tensor layers.0.attention_norm element 3 is NaN (not a usable weight)",
 * });
 * ```
 */
export function checkWeightValues(weights: ModelWeights, name: string): void {
  forEachTensor(weights.config, (t) => {
    const v = tensorValue(weights, t);
    if (v === null) return;
    const check = (values: ArrayLike<number>, what: string) => {
      for (let i = 0; i < values.length; i++) {
        const x = values[i];
        if (!(Math.abs(x) <= MAX_ABS_WEIGHT)) {
          throw new FormatError(
            `${name}: tensor ${t.archiveName}${what} element ${i} is ${x} (not a usable weight)`,
          );
        }
      }
    };
    if (v instanceof Float32Array) check(v, "");
    else if (v.type === "fp32") check(v.data as Float32Array, "");
    else check(v.scales, " scales");
  });
}

/**
 * The file formats {@linkcode loadModel} reads: a tinyllm archive, a GGUF
 * file, a llama2.c checkpoint (fp32, "version 0") or llama2.c's int8
 * "version 2" (Q8_0).
 */
export type ModelFormat = "archive" | "gguf" | "llama2c" | "llama2c-q80";

/**
 * The format of a model file, from its first bytes: gzip → a tinyllm
 * archive; "GGUF" → a GGUF file; llama2.c's `ak42` magic with version 2 →
 * its int8 format; anything else is read as a llama2.c checkpoint (which has
 * no magic number; its header is validated when parsed).
 *
 * @example
 * ```ts
 * import { detectModelFormat } from "@proj/tinyllm";
 * import assert from "node:assert/strict";
 * assert.equal(detectModelFormat(new Uint8Array([0x1f, 0x8b, 8])), "archive");
 * ```
 */
export function detectModelFormat(bytes: Uint8Array): ModelFormat {
  if (isGzip(bytes)) return "archive";
  if (isGguf(bytes)) return "gguf";
  return isLlama2cQ80(bytes) ? "llama2c-q80" : "llama2c";
}

/** Options of {@linkcode loadModel}. */
export interface LoadModelOptions extends GgufModelOptions {
  /** File name for error messages (default "model"). */
  name?: string;
  /** The tokenizer file's bytes (llama2.c `tokenizer.bin`); required with a llama2.c checkpoint, ignored for archives. */
  tokenizer?: Uint8Array;
  /** The tokenizer file's name for error messages (default "tokenizer"). */
  tokenizerName?: string;
}

/** A loaded model, whatever file it came from. */
export interface LoadedModel {
  /** The model shape. */
  config: ModelConfig;
  /** The weights, bound to the TypeScript kernels (see `bindKernels`). */
  weights: ModelWeights;
  /** The tokenizer. */
  tokenizer: Tokenizer;
  /** The archive's `training.json` (undefined for llama2.c checkpoints). */
  training?: Record<string, unknown>;
  /** The archive's AdamW state, when it has one. */
  optimizer?: OptimizerState;
  /** A GGUF file's `tokenizer.chat_template`, when it has one. */
  chatTemplate?: string;
  /** Which kind of file it was. */
  source: ModelFormat;
}

/**
 * Loads a tinyllm archive, a GGUF file (weights kept in their ggml types,
 * tokenizer from its metadata; `options.maxContext` caps its context) or a
 * llama2.c checkpoint (with `options.tokenizer`). The weights come bound to
 * the TypeScript kernels: bind another backend with `bindKernels`.
 *
 * @throws {ConfigError} when a llama2.c checkpoint comes without tokenizer,
 *   or a GGUF file holds an architecture or tensor type tinyllm does not run
 * @throws {FormatError} / {ShapeError} when a file is damaged
 *
 * @example
 * ```ts
 * import { loadModel, makeConfig, randomModelWeights, saveModelArchive,
 *   WordTokenizer } from "@proj/tinyllm";
 * import assert from "node:assert/strict";
 * const tokenizer = WordTokenizer.fromWords(["a", "b"], { maxSize: 2 });
 * const weights = randomModelWeights(makeConfig({ dim: 8, hiddenDim: 16,
 *   nLayers: 1, nHeads: 2, vocabSize: tokenizer.vocabSize, seqLen: 8 }), 1);
 * const m = await loadModel(await saveModelArchive({ weights, tokenizer }));
 * assert.equal(m.source, "archive");
 * assert.equal(m.config.dim, 8);
 * ```
 */
export async function loadModel(
  bytes: Uint8Array,
  options: LoadModelOptions = {},
): Promise<LoadedModel> {
  const name = options.name ?? "model";
  if (bytes.length === 0) throw new FormatError(`${name}: the file is empty`);
  const format = detectModelFormat(bytes);
  if (format === "archive") {
    const a = await loadModelArchive(bytes, { name });
    checkWeightValues(a.weights, name);
    return { ...a, source: "archive" };
  }
  if (format === "gguf") {
    const file = parseGguf(bytes);
    const weights = loadGgufWeights(file, options);
    checkWeightValues(weights, name);
    const tokenizer = tokenizerFromGguf(file.metadata);
    if (tokenizer.vocabSize !== weights.config.vocabSize) {
      throw new ShapeError(
        `${name}: the tokenizer has ${tokenizer.vocabSize} tokens but token_embd.weight has ${weights.config.vocabSize} rows`,
      );
    }
    const template = file.metadata.get("tokenizer.chat_template");
    return {
      config: weights.config,
      weights,
      tokenizer,
      source: "gguf",
      ...(typeof template === "string" && { chatTemplate: template }),
    };
  }
  if (/\.(tar\.gz|tgz|gz)$/i.test(name)) {
    throw new FormatError(
      `${name}: not a gzip archive (a tinyllm archive starts with the gzip bytes 1f 8b)`,
    );
  }
  // the file itself first: a damaged one is named as such, not as a
  // checkpoint that lacks its tokenizer
  const weights = format === "llama2c-q80"
    ? parseLlama2cQ80(bytes, name)
    : parseLlama2cCheckpoint(bytes, name);
  checkWeightValues(weights, name);
  if (options.tokenizer === undefined) {
    throw new ConfigError(
      `${name}: a tokenizer is required with a llama2.c checkpoint`,
    );
  }
  const tokenizer = parseLlama2cTokenizer(options.tokenizer, {
    vocabSize: weights.config.vocabSize,
    name: options.tokenizerName ?? "tokenizer",
  });
  return { config: weights.config, weights, tokenizer, source: format };
}
