/**
 * Byte-level BPE with ranked merges (`tokenizer.ggml.model` = "gpt2"), as
 * llama.cpp's BPE session runs it on each pre-tokenized word: start from
 * UTF-8 characters of the (GPT-2 byte-encoded) word, repeatedly join the
 * adjacent pair with the lowest merge rank (ties: the leftmost), then look
 * each piece up; a piece that is not a token is spelled byte by byte.
 *
 * @module
 */
import { toBinary, utf8Len } from "./unicode.ts";

/** What BPE merging needs from the vocabulary. */
export interface BpeVocab {
  /** Id of a token text (UTF-8 as a binary string), or undefined. */
  lookup(text: string): number | undefined;
}

/** Options of {@linkcode BpeMerger}. */
export interface BpeMergerOptions {
  /** Emit a word that is itself a token without merging (llama3 & co). */
  ignoreMerges?: boolean;
  /** Words are GPT-2 byte-encoded (fallback looks up single bytes). */
  byteEncode?: boolean;
  /** gemma4's rule: a word of newlines that is a token stays whole. */
  newlineWords?: boolean;
}

/** Most words cached before the cache is emptied. */
const CACHE_LIMIT = 1 << 16;
const HEX = "0123456789ABCDEF";

/** Merge ranks keyed by line (as a binary string), shared per array. */
const RANKS = new WeakMap<readonly string[], Map<string, number>>();

function mergeRanks(merges: readonly string[]): Map<string, number> {
  const hit = RANKS.get(merges);
  if (hit) return hit;
  const ranks = new Map<string, number>();
  for (let i = 0; i < merges.length; i++) {
    const line = toBinary(merges[i]);
    // llama.cpp splits at the first space after the first byte; the key
    // left + " " + right is then the line itself. Lines without one can
    // never match (their sides would be empty).
    if (line.indexOf(" ", 1) < 0) continue;
    if (!ranks.has(line)) ranks.set(line, i);
  }
  RANKS.set(merges, ranks);
  return ranks;
}

/** Runs merges on words; caches each word's ids (same word, same ids). */
export class BpeMerger {
  readonly #vocab: BpeVocab;
  readonly #ranks: Map<string, number>;
  readonly #opts: BpeMergerOptions;
  readonly #cache = new Map<string, number[]>();

  /**
   * @param merges merge lines ("left right"), in rank order; a line's first
   *   space at index ≥ 1 separates the sides
   */
  constructor(
    vocab: BpeVocab,
    merges: readonly string[],
    opts: BpeMergerOptions = {},
  ) {
    this.#vocab = vocab;
    this.#opts = opts;
    this.#ranks = mergeRanks(merges);
  }

  /** Number of distinct merges. */
  get size(): number {
    return this.#ranks.size;
  }

  #rank(left: string, right: string): number {
    // llama.cpp asserts that no side holds a space; such a pair never merges.
    if (left.includes(" ") || right.includes(" ")) return -1;
    return this.#ranks.get(left + " " + right) ?? -1;
  }

  /** Appends the ids of one word (binary string) to `out`. */
  tokenizeWord(word: string, out: number[]): void {
    const hit = this.#cache.get(word);
    if (hit) {
      for (const id of hit) out.push(id);
      return;
    }
    const ids: number[] = [];
    this.#merge(word, ids);
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(word, ids);
    for (const id of ids) out.push(id);
  }

  #merge(word: string, out: number[]): void {
    const text: string[] = [];
    const prev: number[] = [];
    const next: number[] = [];
    const whole = () => {
      text.push(word);
      prev.push(-1);
      next.push(-1);
    };
    if (this.#opts.ignoreMerges && this.#vocab.lookup(word) !== undefined) {
      whole();
    } else if (
      this.#opts.newlineWords && /^\n+$/.test(word) &&
      this.#vocab.lookup(word) !== undefined
    ) {
      whole();
    } else {
      for (let offs = 0; offs < word.length;) {
        const n = Math.min(utf8Len(word.charCodeAt(offs)), word.length - offs);
        const i = text.length;
        text.push(word.slice(offs, offs + n));
        offs += n;
        prev.push(i - 1);
        next.push(offs === word.length ? -1 : i + 1);
      }
    }

    // Queue of candidate merges, ordered by (rank, left index).
    const qLeft: number[] = [], qRight: number[] = [], qRank: number[] = [];
    const qText: string[] = [];
    const heap: number[] = [];
    const above = (a: number, b: number) =>
      qRank[a] < qRank[b] || (qRank[a] === qRank[b] && qLeft[a] < qLeft[b]);
    const push = (l: number, r: number) => {
      if (l === -1 || r === -1) return;
      const rank = this.#rank(text[l], text[r]);
      if (rank < 0) return;
      const k = qLeft.length;
      qLeft.push(l);
      qRight.push(r);
      qRank.push(rank);
      qText.push(text[l] + text[r]);
      heap.push(k);
      let i = heap.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!above(heap[i], heap[p])) break;
        [heap[i], heap[p]] = [heap[p], heap[i]];
        i = p;
      }
    };
    const pop = (): number => {
      const top = heap[0];
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1, r = l + 1;
          let m = i;
          if (l < heap.length && above(heap[l], heap[m])) m = l;
          if (r < heap.length && above(heap[r], heap[m])) m = r;
          if (m === i) break;
          [heap[i], heap[m]] = [heap[m], heap[i]];
          i = m;
        }
      }
      return top;
    };

    for (let i = 1; i < text.length; i++) push(i - 1, i);
    while (heap.length > 0) {
      const k = pop();
      const l = qLeft[k], r = qRight[k];
      if (text[l] === "" || text[r] === "") continue;
      // Skip a pair whose sides changed since it was queued.
      if (text[l] + text[r] !== qText[k]) continue;
      text[l] = qText[k];
      text[r] = "";
      next[l] = next[r];
      if (next[r] >= 0) prev[next[r]] = l;
      push(prev[l], l);
      push(l, next[l]);
    }

    for (let i = 0; i !== -1 && text.length > 0; i = next[i]) {
      const s = text[i];
      if (s === "") continue;
      const id = this.#vocab.lookup(s);
      if (id !== undefined) {
        out.push(id);
        continue;
      }
      for (let j = 0; j < s.length; j++) {
        const b = s.charCodeAt(j);
        const t = this.#opts.byteEncode === false
          ? this.#vocab.lookup(`<0x${HEX[b >> 4]}${HEX[b & 15]}>`)
          : this.#vocab.lookup(s[j]);
        if (t !== undefined) out.push(t);
      }
    }
  }
}
