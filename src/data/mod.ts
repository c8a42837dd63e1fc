/**
 * The Brown corpus (`@proj/tinyllm/data`): parsing its files into words and
 * the fixed train/validation/test split (file access is in
 * `@proj/tinyllm/fs`).
 * What the main module exports is not repeated here.
 *
 * @example
 * ```ts
 * import { countWords } from "@proj/tinyllm/data";
 * console.log(countWords("the cat sat")); // 3
 * ```
 *
 * @module
 */
export * from "./brown.ts";
