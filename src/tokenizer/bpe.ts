/**
 * Byte-level BPE tokenizer: ids 0..255 are the bytes, 256 is `<bos>`, 257 is
 * `<eos>`, then one id per learned merge. Text is UTF-8 encoded and pre-split
 * at whitespace boundaries (a word keeps one leading space, as in GPT-2), so
 * every string — any Unicode — encodes, and `decode(encode(s)) === s`
 * (for well-formed strings: a lone UTF-16 surrogate has no UTF-8 encoding and
 * comes back as U+FFFD, as with `TextEncoder`).
 *
 * @module
 */
import { FormatError, InputError } from "../errors.ts";
import type { EncodeOptions, Tokenizer, TokenizerJson } from "./types.ts";

/** Id of `<bos>`. */
export const BPE_BOS = 256;
/** Id of `<eos>`. */
export const BPE_EOS = 257;
/** Id of the first merged token. */
export const BPE_FIRST_MERGE = 258;

/**
 * Pre-split pattern: a word with at most one leading space, or a whitespace
 * run (leaving the last space to the next word). Runs are capped at 64 code
 * points so pathological inputs stay linear.
 */
const PRESPLIT = / ?[^\s]{1,64}|\s{1,64}(?!\S)|\s{1,64}/gu;
/** Pair key: a·2^20 + b (ids stay below 2^20). */
const SHIFT = 1 << 20;
const MAX_VOCAB = SHIFT;

const encoder = new TextEncoder();

/** Options of {@linkcode BpeTokenizer.train}. */
export interface BpeTrainOptions {
  /** Called every `every` merges with (merges done, merges wanted). */
  onProgress?: (done: number, total: number) => void;
  /** Progress interval in merges (default 100). */
  every?: number;
}

/** Max-heap of (count, pair key): higher count first, then smaller key. */
class PairHeap {
  counts: number[] = [];
  keys: number[] = [];

  #above(i: number, j: number): boolean {
    const ci = this.counts[i], cj = this.counts[j];
    return ci > cj || (ci === cj && this.keys[i] < this.keys[j]);
  }

  #swap(i: number, j: number): void {
    const c = this.counts[i], k = this.keys[i];
    this.counts[i] = this.counts[j];
    this.keys[i] = this.keys[j];
    this.counts[j] = c;
    this.keys[j] = k;
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#above(i, p)) break;
      this.#swap(i, p);
      i = p;
    }
  }

  get size(): number {
    return this.counts.length;
  }

  /** Removes the top; its (count, key) are left in `topCount`/`topKey`. */
  pop(): void {
    this.topCount = this.counts[0];
    this.topKey = this.keys[0];
    const lastC = this.counts.pop()!, lastK = this.keys.pop()!;
    const n = this.counts.length;
    if (n === 0) return;
    this.counts[0] = lastC;
    this.keys[0] = lastK;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < n && this.#above(l, m)) m = l;
      if (r < n && this.#above(r, m)) m = r;
      if (m === i) break;
      this.#swap(i, m);
      i = m;
    }
  }

  topCount = 0;
  topKey = 0;
}

/** The chunks `text` is pre-split into before BPE (exported for tests). */
export function presplit(text: string): string[] {
  return text.match(PRESPLIT) ?? [];
}

/**
 * Byte-level BPE tokenizer.
 *
 * @example Train, encode, decode
 * ```ts
 * import { BpeTokenizer } from "@proj/tinyllm";
 * import assert from "node:assert/strict";
 * const tok = BpeTokenizer.train("the cat and the hat and the bat ".repeat(20), 270);
 * const ids = tok.encode("the cat 🐈", { bos: false });
 * assert.equal(tok.decode(ids), "the cat 🐈");
 * assert.equal(tok.vocabSize, 270);
 * ```
 */
export class BpeTokenizer implements Tokenizer {
  /** Always "bpe". */
  readonly kind = "bpe";
  /** `<bos>` id (256). */
  readonly bosId: number = BPE_BOS;
  /** `<eos>` id (257). */
  readonly eosId: number = BPE_EOS;
  /** Merges in order: merge i joins `merges[2i]` and `merges[2i+1]` into id 258 + i. */
  readonly merges: Int32Array;
  readonly #rank = new Map<number, number>();
  readonly #bytes: Uint8Array[] = [];
  readonly #cache = new Map<string, number[]>();

  /**
   * Builds a tokenizer from its merge list.
   * @param merges flat pairs; each pair may only use byte ids and earlier merges
   * @throws {FormatError} on an invalid merge list
   */
  constructor(merges: ArrayLike<number>) {
    if (merges.length % 2 !== 0) {
      throw new FormatError(
        `bpe tokenizer: merges has odd length ${merges.length}`,
      );
    }
    if (BPE_FIRST_MERGE + merges.length / 2 > MAX_VOCAB) {
      throw new FormatError(
        `bpe tokenizer: ${
          merges.length / 2
        } merges exceed the vocabulary limit`,
      );
    }
    for (let i = 0; i < merges.length; i++) {
      const x = merges[i];
      // Int32Array.from would turn 1.5, "97" or 2**32 + 97 into ids silently
      if (
        typeof x !== "number" || !Number.isInteger(x) || x < 0 || x >= MAX_VOCAB
      ) {
        throw new FormatError(
          `bpe tokenizer: merges[${i}] = ${
            JSON.stringify(x) ?? String(x)
          } is not a token id`,
        );
      }
    }
    this.merges = Int32Array.from(merges);
    for (let b = 0; b < 256; b++) this.#bytes.push(Uint8Array.of(b));
    this.#bytes.push(new Uint8Array(0), new Uint8Array(0));
    for (let i = 0; i < this.merges.length / 2; i++) {
      const a = this.merges[2 * i], b = this.merges[2 * i + 1];
      const id = BPE_FIRST_MERGE + i;
      const ok = (x: number) =>
        Number.isInteger(x) && x >= 0 && x < id && x !== BPE_BOS &&
        x !== BPE_EOS;
      if (!ok(a) || !ok(b)) {
        throw new FormatError(
          `bpe tokenizer: merge ${i} (${a}, ${b}) uses an id that is not a byte or an earlier merge`,
        );
      }
      const key = a * SHIFT + b;
      if (this.#rank.has(key)) {
        throw new FormatError(`bpe tokenizer: merge ${i} (${a}, ${b}) repeats`);
      }
      this.#rank.set(key, i);
      const ab = new Uint8Array(this.#bytes[a].length + this.#bytes[b].length);
      ab.set(this.#bytes[a]);
      ab.set(this.#bytes[b], this.#bytes[a].length);
      this.#bytes.push(ab);
    }
  }

  /** 256 bytes + 2 specials + merges. */
  get vocabSize(): number {
    return BPE_FIRST_MERGE + this.merges.length / 2;
  }

  /**
   * Learns merges on `text` until the vocabulary has `vocabSize` ids (or no
   * pair occurs twice). Pair counts are updated incrementally: each merge only
   * revisits the distinct pre-split chunks that contain the merged pair, and
   * a lazy max-heap finds the next pair. Ties go to the smaller (left, right)
   * id pair, so training is deterministic.
   *
   * @param text training text
   * @param vocabSize wanted vocabulary size, ≥ 258
   * @throws {InputError} when vocabSize is out of range
   *
   * @example
   * ```ts
   * import { BpeTokenizer } from "@proj/tinyllm";
   * import assert from "node:assert/strict";
   * const t = BpeTokenizer.train("aaab aaab aaab", 259);
   * assert.deepEqual([...t.merges], [97, 97]);
   * ```
   */
  static train(
    text: string,
    vocabSize: number,
    options: BpeTrainOptions = {},
  ): BpeTokenizer {
    if (
      !Number.isInteger(vocabSize) || vocabSize < BPE_FIRST_MERGE ||
      vocabSize > MAX_VOCAB
    ) {
      throw new InputError(
        `bpe: vocabSize must be an integer in [${BPE_FIRST_MERGE}, ${MAX_VOCAB}], got ${vocabSize}`,
      );
    }
    // Distinct chunks with their frequencies.
    const chunkCounts = new Map<string, number>();
    for (const m of text.matchAll(PRESPLIT)) {
      const s = m[0];
      chunkCounts.set(s, (chunkCounts.get(s) ?? 0) + 1);
    }
    const words: number[][] = [];
    const freqs: number[] = [];
    for (const [s, f] of chunkCounts) {
      const b = encoder.encode(s);
      if (b.length < 2) continue; // can never contain a pair
      words.push(Array.from(b));
      freqs.push(f);
    }
    const pairCount = new Map<number, number>();
    const where = new Map<number, Set<number>>();
    for (let w = 0; w < words.length; w++) {
      const ids = words[w], f = freqs[w];
      for (let i = 0; i + 1 < ids.length; i++) {
        const key = ids[i] * SHIFT + ids[i + 1];
        pairCount.set(key, (pairCount.get(key) ?? 0) + f);
        let set = where.get(key);
        if (!set) where.set(key, set = new Set());
        set.add(w);
      }
    }
    const heap = new PairHeap();
    for (const [key, c] of pairCount) heap.push(c, key);

    const wanted = vocabSize - BPE_FIRST_MERGE;
    const merges: number[] = [];
    const every = options.every ?? 100;
    const touched = new Set<number>();
    while (merges.length / 2 < wanted && heap.size > 0) {
      heap.pop();
      const key = heap.topKey, count = heap.topCount;
      if (pairCount.get(key) !== count) continue; // stale entry
      if (count < 2) break;
      const a = Math.floor(key / SHIFT), b = key - a * SHIFT;
      const id = BPE_FIRST_MERGE + merges.length / 2;
      merges.push(a, b);
      touched.clear();
      const inWords = where.get(key)!;
      where.delete(key);
      for (const w of inWords) {
        const ids = words[w], f = freqs[w];
        // Remove this word's pairs, merge, add its pairs back.
        for (let i = 0; i + 1 < ids.length; i++) {
          const k = ids[i] * SHIFT + ids[i + 1];
          pairCount.set(k, pairCount.get(k)! - f);
          touched.add(k);
        }
        let o = 0;
        for (let i = 0; i < ids.length; i++) {
          if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) {
            ids[o++] = id;
            i++;
          } else ids[o++] = ids[i];
        }
        ids.length = o;
        for (let i = 0; i + 1 < ids.length; i++) {
          const k = ids[i] * SHIFT + ids[i + 1];
          pairCount.set(k, (pairCount.get(k) ?? 0) + f);
          touched.add(k);
          let set = where.get(k);
          if (!set) where.set(k, set = new Set());
          set.add(w);
        }
      }
      pairCount.delete(key);
      touched.delete(key);
      for (const k of touched) {
        const c = pairCount.get(k)!;
        if (c > 0) heap.push(c, k);
        else {
          pairCount.delete(k);
          where.delete(k);
        }
      }
      if (options.onProgress && (merges.length / 2) % every === 0) {
        options.onProgress(merges.length / 2, wanted);
      }
    }
    return new BpeTokenizer(merges);
  }

  #encodeChunk(chunk: string): number[] {
    const hit = this.#cache.get(chunk);
    if (hit) return hit;
    const ids = Array.from(encoder.encode(chunk));
    for (;;) {
      let best = -1, bestRank = Infinity;
      for (let i = 0; i + 1 < ids.length; i++) {
        const r = this.#rank.get(ids[i] * SHIFT + ids[i + 1]);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const a = this.merges[2 * bestRank], b = this.merges[2 * bestRank + 1];
      const id = BPE_FIRST_MERGE + bestRank;
      let o = 0;
      for (let i = 0; i < ids.length; i++) {
        if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) {
          ids[o++] = id;
          i++;
        } else ids[o++] = ids[i];
      }
      ids.length = o;
    }
    if (this.#cache.size > 100_000) this.#cache.clear();
    this.#cache.set(chunk, ids);
    return ids;
  }

  /** Encodes any string (`bos` default true, `eos` default false). */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const out: number[] = [];
    if (options.bos ?? true) out.push(BPE_BOS);
    for (const m of text.matchAll(PRESPLIT)) {
      for (const id of this.#encodeChunk(m[0])) out.push(id);
    }
    if (options.eos ?? false) out.push(BPE_EOS);
    return out;
  }

  #check(id: number): void {
    if (!(Number.isInteger(id) && id >= 0 && id < this.vocabSize)) {
      throw new InputError(
        `bpe tokenizer: token id ${id} outside [0, ${this.vocabSize})`,
      );
    }
  }

  /** The UTF-8 bytes of the non-special ids, decoded (invalid UTF-8 → U+FFFD). */
  decode(ids: readonly number[]): string {
    let n = 0;
    for (const id of ids) {
      this.#check(id);
      n += this.#bytes[id].length;
    }
    const buf = new Uint8Array(n);
    let o = 0;
    for (const id of ids) {
      buf.set(this.#bytes[id], o);
      o += this.#bytes[id].length;
    }
    return new TextDecoder().decode(buf);
  }

  /** The raw bytes of `id` (may be part of a UTF-8 character; specials give none). */
  decodePiece(_prev: number, id: number): Uint8Array {
    this.#check(id);
    return this.#bytes[id];
  }

  /** Bytes of token `id` (for inspection). */
  tokenBytes(id: number): Uint8Array {
    this.#check(id);
    return this.#bytes[id];
  }

  /** `{ kind: "bpe", merges: [a0, b0, a1, b1, …] }`. */
  toJSON(): TokenizerJson {
    return { kind: "bpe", presplit: "ws64", merges: Array.from(this.merges) };
  }

  /**
   * Reads {@linkcode BpeTokenizer.toJSON}'s output.
   * @throws {FormatError} when the JSON is not a valid BPE tokenizer
   */
  static fromJSON(json: TokenizerJson): BpeTokenizer {
    if (json.kind !== "bpe" || !Array.isArray(json.merges)) {
      throw new FormatError(
        `tokenizer.json: not a bpe tokenizer (kind ${
          JSON.stringify(json.kind)
        }, merges ${Array.isArray(json.merges) ? "array" : "missing"})`,
      );
    }
    if (json.presplit !== undefined && json.presplit !== "ws64") {
      throw new FormatError(
        `tokenizer.json: unknown bpe presplit ${JSON.stringify(json.presplit)}`,
      );
    }
    return new BpeTokenizer(json.merges as number[]);
  }
}
