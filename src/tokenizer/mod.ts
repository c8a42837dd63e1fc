/**
 * Tokenizer internals: the GGUF pre-tokenizer table and the plain data a
 * GGUF tokenizer is built from. The tokenizers themselves are exported from
 * the package root.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PRE_TOKENIZERS } from "@proj/tinyllm/tokenizer";
 * assert.ok("gpt-2" in PRE_TOKENIZERS);
 * ```
 *
 * @module
 */
export {
  GGUF_TOKEN_ATTR,
  GGUF_TOKEN_TYPE,
  ggufTokenizerData,
} from "./gguf_tokenizer.ts";
export {
  PRE_TOKENIZERS,
  PreTokenizer,
  type PreTokenizerSpec,
  preTokenizerSpec,
} from "./pretokenize.ts";
