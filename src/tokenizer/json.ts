/**
 * `tokenizer.json` dispatch: rebuilds any tokenizer from its JSON form.
 *
 * @module
 */
import { FormatError } from "../errors.ts";
import { BpeTokenizer } from "./bpe.ts";
import { GgufTokenizer } from "./gguf_tokenizer.ts";
import { Llama2cTokenizer } from "./llama2c.ts";
import type { Tokenizer, TokenizerJson } from "./types.ts";
import { WordTokenizer } from "./word.ts";

/**
 * Rebuilds a tokenizer from {@linkcode Tokenizer.toJSON}'s output, dispatching
 * on `kind` ("word", "bpe", "llama2c", "gguf").
 *
 * @throws {FormatError} on an unknown kind or invalid data
 *
 * @example
 * ```ts
 * import { tokenizerFromJSON, WordTokenizer } from "@proj/tinyllm";
 * const tok = WordTokenizer.fromWords(["a", "b", "a"], { maxSize: 5 });
 * const back = tokenizerFromJSON(JSON.parse(JSON.stringify(tok.toJSON())));
 * console.log(back.kind, back.vocabSize); // word 6
 * ```
 */
export function tokenizerFromJSON(json: unknown): Tokenizer {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new FormatError("tokenizer.json: not a JSON object");
  }
  const j = json as TokenizerJson;
  switch (j.kind) {
    case "word":
      return WordTokenizer.fromJSON(j);
    case "bpe":
      return BpeTokenizer.fromJSON(j);
    case "llama2c":
      return Llama2cTokenizer.fromJSON(j);
    case "gguf":
      return GgufTokenizer.fromJSON(j);
    default:
      throw new FormatError(
        `tokenizer.json: unknown tokenizer kind ${JSON.stringify(j.kind)}`,
      );
  }
}
