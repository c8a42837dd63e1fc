/**
 * Word-level tokenizer: `<pad> <unk> <bos> <eos>` (ids 0..3), then the
 * training words by descending frequency, ties broken by first occurrence.
 *
 * @module
 */
import { FormatError, InputError } from "../errors.ts";
import type { EncodeOptions, Tokenizer, TokenizerJson } from "./types.ts";

/** The four special tokens, ids 0..3. */
export const WORD_SPECIALS: readonly string[] = [
  "<pad>",
  "<unk>",
  "<bos>",
  "<eos>",
];

/**
 * Vocabulary rule: the `maxSize` most frequent words, or every word seen at
 * least `minCount` times (Bengio et al.'s "more than 3 times" is
 * `{ minCount: 4 }`).
 */
export type WordVocabOptions = { maxSize: number } | { minCount: number };

const encoder = new TextEncoder();

/**
 * Word-level tokenizer over whitespace-separated words.
 *
 * @example
 * ```ts
 * import { WordTokenizer } from "@proj/tinyllm";
 * import assert from "node:assert/strict";
 * const tok = WordTokenizer.fromWords(["the", "cat", "the", "dog"], { maxSize: 2 });
 * assert.equal(tok.vocabSize, 6);
 * assert.deepEqual(tok.encode("the cat sat"), [2, 4, 5, 1]);
 * assert.equal(tok.decode(tok.encode("the cat")), "the cat");
 * ```
 */
export class WordTokenizer implements Tokenizer {
  /** Always "word". */
  readonly kind = "word";
  /** `<pad>` id. */
  readonly padId = 0;
  /** `<unk>` id, for words outside the vocabulary. */
  readonly unkId = 1;
  /** `<bos>` id. */
  readonly bosId = 2;
  /** `<eos>` id. */
  readonly eosId = 3;
  /** All tokens by id: the four specials, then the words. */
  readonly tokens: readonly string[];
  readonly #ids: Map<string, number>;
  readonly #pieces: Uint8Array[];

  /**
   * Builds a tokenizer from its token list (specials first).
   * @param tokens all tokens by id; must start with {@linkcode WORD_SPECIALS}
   */
  constructor(tokens: readonly string[]) {
    for (let i = 0; i < WORD_SPECIALS.length; i++) {
      if (tokens[i] !== WORD_SPECIALS[i]) {
        throw new FormatError(
          `word tokenizer: token ${i} must be ${WORD_SPECIALS[i]}, got ${
            JSON.stringify(tokens[i])
          }`,
        );
      }
    }
    this.tokens = tokens;
    this.#ids = new Map();
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (typeof t !== "string" || t === "" || /\s/.test(t)) {
        throw new FormatError(
          `word tokenizer: token ${i} (${JSON.stringify(t)}) is not a word`,
        );
      }
      if (this.#ids.has(t)) {
        throw new FormatError(`word tokenizer: token ${i} "${t}" repeats`);
      }
      this.#ids.set(t, i);
    }
    this.#pieces = tokens.map((t) => encoder.encode(" " + t));
  }

  /** Number of token ids (words + 4 specials). */
  get vocabSize(): number {
    return this.tokens.length;
  }

  /**
   * Builds the vocabulary from training words: descending count, ties by
   * first occurrence.
   *
   * @example
   * ```ts
   * import { WordTokenizer } from "@proj/tinyllm";
   * import assert from "node:assert/strict";
   * const t = WordTokenizer.fromWords("b a b c a d".split(" "), { minCount: 2 });
   * assert.deepEqual(t.tokens.slice(4), ["b", "a"]);
   * ```
   */
  static fromWords(
    words: readonly string[],
    options: WordVocabOptions,
  ): WordTokenizer {
    const counts = wordCounts(words);
    // Map iteration order is first-occurrence order and Array.sort is
    // stable, so equal counts keep first-occurrence order.
    let entries = [...counts].sort((a, b) => b[1] - a[1]);
    if ("maxSize" in options) {
      if (!(Number.isInteger(options.maxSize) && options.maxSize >= 0)) {
        throw new InputError(
          `word vocabulary: maxSize must be a non-negative integer, got ${options.maxSize}`,
        );
      }
      entries = entries.slice(0, options.maxSize);
    } else {
      entries = entries.filter(([, c]) => c >= options.minCount);
    }
    return new WordTokenizer([...WORD_SPECIALS, ...entries.map(([w]) => w)]);
  }

  /** Id of `word`, or `<unk>`'s id. */
  id(word: string): number {
    return this.#ids.get(word) ?? this.unkId;
  }

  /** Encodes a list of words (`bos` default true, `eos` default false). */
  encodeWords(words: readonly string[], options: EncodeOptions = {}): number[] {
    const out: number[] = [];
    if (options.bos ?? true) out.push(this.bosId);
    for (const w of words) out.push(this.#ids.get(w) ?? this.unkId);
    if (options.eos ?? false) out.push(this.eosId);
    return out;
  }

  /** Encodes whitespace-separated text. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.encodeWords(
      text.split(/\s+/).filter((w) => w !== ""),
      options,
    );
  }

  #check(id: number): void {
    if (!(Number.isInteger(id) && id >= 0 && id < this.tokens.length)) {
      throw new InputError(
        `word tokenizer: token id ${id} outside [0, ${this.tokens.length})`,
      );
    }
  }

  /** Words joined by single spaces; `<pad>`, `<bos>`, `<eos>` dropped, `<unk>` kept. */
  decode(ids: readonly number[]): string {
    const out: string[] = [];
    for (const id of ids) {
      this.#check(id);
      if (id === this.padId || id === this.bosId || id === this.eosId) continue;
      out.push(this.tokens[id]);
    }
    return out.join(" ");
  }

  /** `" word"` as UTF-8 (no leading space right after `<bos>`); specials give no bytes. */
  decodePiece(prev: number, id: number): Uint8Array {
    this.#check(id);
    if (id === this.padId || id === this.bosId || id === this.eosId) {
      return new Uint8Array(0);
    }
    const p = this.#pieces[id];
    return prev === this.bosId ? p.subarray(1) : p;
  }

  /** `{ kind: "word", tokens }`. */
  toJSON(): TokenizerJson {
    return { kind: "word", tokens: [...this.tokens] };
  }

  /**
   * Reads {@linkcode WordTokenizer.toJSON}'s output.
   * @throws {FormatError} when the JSON is not a word tokenizer
   */
  static fromJSON(json: TokenizerJson): WordTokenizer {
    if (json.kind !== "word" || !Array.isArray(json.tokens)) {
      throw new FormatError(
        `tokenizer.json: not a word tokenizer (kind ${
          JSON.stringify(json.kind)
        }, tokens ${Array.isArray(json.tokens) ? "array" : "missing"})`,
      );
    }
    return new WordTokenizer(json.tokens as string[]);
  }
}

/**
 * Counts each word, in first-occurrence order.
 *
 * @example
 * ```ts
 * import { wordCounts } from "@proj/tinyllm";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...wordCounts(["a", "b", "a"])], [["a", 2], ["b", 1]]);
 * ```
 */
export function wordCounts(words: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}
