/**
 * The tokenizer interface shared by the llama2.c, word-level and byte-level
 * BPE tokenizers.
 *
 * @module
 */

/** Options of {@linkcode Tokenizer.encode}. */
export interface EncodeOptions {
  /** Prepend the beginning-of-sequence id (default true). */
  bos?: boolean;
  /** Append the end-of-sequence id (default false). */
  eos?: boolean;
}

/** Turns text into token ids and back. */
export interface Tokenizer {
  /** "llama2c", "word", "bpe" or "gguf". */
  readonly kind: string;
  /** Number of token ids. */
  readonly vocabSize: number;
  /** Beginning-of-sequence id. */
  readonly bosId: number;
  /** End-of-sequence id. */
  readonly eosId: number;
  /** Encodes text to ids. */
  encode(text: string, options?: EncodeOptions): number[];
  /** Decodes ids (special ids dropped) to text. */
  decode(ids: readonly number[]): string;
  /**
   * Raw bytes printed for `id` when it follows `prev` in a stream (lets
   * streaming output split UTF-8 characters across tokens safely).
   */
  decodePiece(prev: number, id: number): Uint8Array;
  /**
   * Plain-JSON form saved as `tokenizer.json` in model archives; always has a
   * `kind` field naming the tokenizer.
   */
  toJSON(): TokenizerJson;
}

/** Serialized tokenizer: `kind` plus kind-specific fields. */
export interface TokenizerJson {
  /** "llama2c", "word", "bpe" or "gguf". */
  kind: string;
  /** Kind-specific data. */
  [field: string]: unknown;
}
