/**
 * File-system side of model loading and saving: {@linkcode loadModelFile}
 * reads the files and hands the bytes to `loadModel` (the one loading
 * function of every tool); {@linkcode saveModelFile} writes an archive
 * atomically.
 *
 * @module
 */
import { baseName, readFileNamed, writeFileAtomic } from "../files_fs.ts";
import { type ModelArchiveInput, saveModelArchive } from "./archive.ts";
import type { GgufModelOptions } from "./gguf_model.ts";
import { detectModelFormat, type LoadedModel, loadModel } from "./load.ts";

/** Options of {@linkcode loadModelFile}. */
export interface LoadModelFileOptions extends GgufModelOptions {
  /** Tokenizer file (llama2.c `tokenizer.bin` format); required with a llama2.c checkpoint, ignored for archives and GGUF files. */
  tokenizer?: string;
}

/**
 * Reads a tinyllm archive, a GGUF file or a llama2.c checkpoint (and its
 * tokenizer file) and loads it with `loadModel`; the weights are bound to the
 * TypeScript kernels (see `bindKernels`).
 *
 * @throws {InputError} when a file is missing
 * @throws {ConfigError} when a llama2.c checkpoint comes without tokenizer
 * @throws {FormatError} / {ShapeError} when a file is damaged
 *
 * @example
 * ```ts ignore
 * import { loadModelFile } from "@proj/tinyllm/fs";
 * const m = await loadModelFile("stories260K.bin", { tokenizer: "tok512.bin" });
 * const a = await loadModelFile("dist/model.tar.gz");
 * const g = await loadModelFile("qwen2.5-0.5b-q8_0.gguf", { maxContext: 2048 });
 * ```
 */
export async function loadModelFile(
  path: string,
  options: LoadModelFileOptions = {},
): Promise<LoadedModel> {
  const bytes = await readFileNamed(path, "model");
  const tok = options.tokenizer;
  const needsTokenizer = detectModelFormat(bytes) !== "archive";
  return await loadModel(bytes, {
    name: baseName(path),
    ...(options.maxContext !== undefined &&
      { maxContext: options.maxContext }),
    ...(needsTokenizer && tok !== undefined && {
      tokenizer: await readFileNamed(tok, "tokenizer"),
      tokenizerName: baseName(tok),
    }),
  });
}

/**
 * Writes a model archive to `path` atomically (temp file + rename): an
 * interrupted run never leaves a half-written archive nor destroys the
 * previous one. Returns the archive's size in bytes.
 *
 * @example
 * ```ts ignore
 * import { saveModelFile } from "@proj/tinyllm/fs";
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
