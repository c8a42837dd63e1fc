/**
 * File-system side of model loading and saving: one call that takes either a
 * tinyllm archive (`.tar.gz`) or a llama2.c checkpoint (`.bin` plus its
 * tokenizer file), and an atomic archive writer. Every tool (generate, eval,
 * quantize, benchmarks) loads models through {@linkcode loadModelFile}.
 *
 * @module
 */
import { readFileNamed, UsageError, writeFileAtomic } from "../cli/common.ts";
import type { ModelConfig } from "../model/config.ts";
import { withBackend } from "../model/model.ts";
import type { Backend, ModelWeights } from "../model/weights.ts";
import { parseLlama2cTokenizer } from "../tokenizer/llama2c.ts";
import type { Tokenizer } from "../tokenizer/types.ts";
import {
  loadModelArchive,
  type ModelArchiveInput,
  type OptimizerState,
  saveModelArchive,
} from "./archive.ts";
import { parseLlama2cCheckpoint } from "./llama2c.ts";
import { isLlama2cQ80, parseLlama2cQ80 } from "./llama2c_q80.ts";

/** Options of {@linkcode loadModelFile}. */
export interface LoadModelFileOptions {
  /** Tokenizer file (llama2.c `tokenizer.bin` format); required with a `.bin` model, ignored for archives. */
  tokenizer?: string;
  /** Kernel backend for the Linear layers (default "js"). */
  backend?: Backend;
}

/** A loaded model, whatever file it came from. */
export interface LoadedModel {
  /** The model shape. */
  config: ModelConfig;
  /** The weights. */
  weights: ModelWeights;
  /** The tokenizer. */
  tokenizer: Tokenizer;
  /** The archive's `training.json` (undefined for llama2.c checkpoints). */
  training?: Record<string, unknown>;
  /** The archive's AdamW state, when it has one. */
  optimizer?: OptimizerState;
  /** Which kind of file it was. */
  source: "archive" | "llama2c";
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

/** True when `bytes` start with the gzip magic number (a tinyllm archive). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Loads a tinyllm archive or a llama2.c checkpoint (told apart by content:
 * archives are gzip). A `.bin` needs `options.tokenizer`.
 *
 * @throws {UsageError} when a file is missing or a `.bin` comes without tokenizer
 * @throws {FormatError} / {ShapeError} when a file is damaged
 *
 * @example
 * ```ts ignore
 * import { loadModelFile } from "./load_fs.ts";
 * const m = await loadModelFile("stories260K.bin", { tokenizer: "tok512.bin" });
 * const a = await loadModelFile("dist/model.tar.gz", { backend: "auto" });
 * ```
 */
export async function loadModelFile(
  path: string,
  options: LoadModelFileOptions = {},
): Promise<LoadedModel> {
  const bytes = await readFileNamed(path, "model");
  const name = baseName(path);
  if (isGzip(bytes)) {
    const a = await loadModelArchive(bytes, { name, backend: options.backend });
    return { ...a, source: "archive" };
  }
  if (options.tokenizer === undefined) {
    throw new UsageError(
      `--tokenizer is required with the llama2.c checkpoint ${name}`,
    );
  }
  let weights = isLlama2cQ80(bytes)
    ? parseLlama2cQ80(bytes, name)
    : parseLlama2cCheckpoint(bytes, name);
  const tokenizer = parseLlama2cTokenizer(
    await readFileNamed(options.tokenizer, "tokenizer"),
    { vocabSize: weights.config.vocabSize, name: baseName(options.tokenizer) },
  );
  if (options.backend && options.backend !== "js") {
    weights = withBackend(weights, options.backend);
  }
  return { config: weights.config, weights, tokenizer, source: "llama2c" };
}

/**
 * Writes a model archive to `path` atomically (temp file + rename): an
 * interrupted run never leaves a half-written archive nor destroys the
 * previous one. Returns the archive's size in bytes.
 *
 * @example
 * ```ts ignore
 * import { saveModelFile } from "./load_fs.ts";
 * const bytes = await saveModelFile("dist/model.tar.gz", { weights, tokenizer, training });
 * ```
 */
export async function saveModelFile(
  path: string,
  input: ModelArchiveInput,
): Promise<number> {
  const bytes = await saveModelArchive(input);
  await writeFileAtomic(path, bytes);
  return bytes.length;
}
