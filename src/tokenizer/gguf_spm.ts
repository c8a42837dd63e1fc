/**
 * SentencePiece-style BPE with scores (`tokenizer.ggml.model` = "llama"), as
 * llama.cpp's SPM tokenizer runs it: start from UTF-8 characters, merge the
 * adjacent pair whose joined text is the vocabulary entry with the highest
 * score (ties: the leftmost), and spell anything left that is not a token as
 * `<0xXX>` byte tokens.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { utf8Len } from "./unicode.ts";

/** What the SPM algorithm needs from the vocabulary. */
export interface SpmVocab {
  /** Id of a token text (UTF-8 as a binary string), or undefined. */
  lookup(text: string): number | undefined;
  /** Score of each id. */
  readonly scores: Float32Array;
  /** Number of ids. */
  readonly size: number;
}

/** Candidate merges: max-heap on (score, then smaller left index). */
class BigramHeap {
  left: number[] = [];
  right: number[] = [];
  score: number[] = [];
  size: number[] = [];
  #order: number[] = [];

  get length(): number {
    return this.#order.length;
  }

  #above(a: number, b: number): boolean {
    const sa = this.score[a], sb = this.score[b];
    return sa > sb || (sa === sb && this.left[a] < this.left[b]);
  }

  push(left: number, right: number, score: number, size: number): void {
    const k = this.left.length;
    this.left.push(left);
    this.right.push(right);
    this.score.push(score);
    this.size.push(size);
    const h = this.#order;
    h.push(k);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#above(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  /** Removes and returns the best entry's index into the arrays. */
  pop(): number {
    const h = this.#order;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && this.#above(h[l], h[m])) m = l;
        if (r < h.length && this.#above(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

/**
 * Tokenizes one fragment (already space-escaped, as a binary string of its
 * UTF-8 bytes), appending ids to `out`.
 *
 * @param byteToken id of the byte-fallback token for a byte
 * @throws {InputError} when a byte has no token to fall back to
 */
export function spmTokenize(
  text: string,
  vocab: SpmVocab,
  byteToken: (byte: number) => number | undefined,
  out: number[],
): void {
  // Symbols: UTF-8 characters as (start, length) with a linked list.
  const start: number[] = [];
  const len: number[] = [];
  const prev: number[] = [];
  const next: number[] = [];
  for (let offs = 0; offs < text.length;) {
    const n = Math.min(utf8Len(text.charCodeAt(offs)), text.length - offs);
    const i = start.length;
    start.push(offs);
    len.push(n);
    offs += n;
    prev.push(i - 1);
    next.push(offs === text.length ? -1 : i + 1);
  }
  if (start.length === 0) return;

  const heap = new BigramHeap();
  // The last pair seen for each joined text, to undo merges that did not
  // make a token (llama.cpp's rev_merge).
  const revMerge = new Map<string, [number, number]>();
  const tryAdd = (l: number, r: number) => {
    if (l === -1 || r === -1) return;
    const s = text.slice(start[l], start[l] + len[l] + len[r]);
    const id = vocab.lookup(s);
    if (id === undefined || id >= vocab.size) return;
    heap.push(l, r, vocab.scores[id], s.length);
    revMerge.set(s, [l, r]);
  };
  for (let i = 1; i < start.length; i++) tryAdd(i - 1, i);

  while (heap.length > 0) {
    const k = heap.pop();
    const l = heap.left[k], r = heap.right[k];
    // Skip pairs whose sides have changed since they were queued.
    if (len[l] === 0 || len[r] === 0 || len[l] + len[r] !== heap.size[k]) {
      continue;
    }
    len[l] += len[r];
    len[r] = 0;
    next[l] = next[r];
    if (next[r] >= 0) prev[next[r]] = l;
    tryAdd(prev[l], l);
    tryAdd(l, next[l]);
  }

  const resegment = (i: number) => {
    const s = text.slice(start[i], start[i] + len[i]);
    const id = vocab.lookup(s);
    if (id !== undefined) {
      out.push(id);
      return;
    }
    const pair = revMerge.get(s);
    if (pair === undefined) {
      for (let j = 0; j < s.length; j++) {
        const b = s.charCodeAt(j);
        const t = byteToken(b);
        if (t === undefined) {
          throw new InputError(
            `spm tokenizer: byte 0x${
              b.toString(16).padStart(2, "0")
            } has no <0xXX> token in the vocabulary`,
          );
        }
        out.push(t);
      }
      return;
    }
    resegment(pair[0]);
    resegment(pair[1]);
  };
  for (let i = 0; i !== -1; i = next[i]) resegment(i);
}
