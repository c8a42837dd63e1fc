/**
 * llama2.c's SentencePiece-derived tokenizer (`tokenizer.bin`), encoding and
 * decoding exactly as llama2.c's `run.c` does, so generated text matches it
 * byte for byte.
 *
 * @module
 */
import { FormatError, ShapeError } from "../errors.ts";
import type { EncodeOptions, Tokenizer, TokenizerJson } from "./types.ts";

/** Longest piece accepted when reading `tokenizer.bin`; longer means a foreign file. */
const MAX_PIECE_BYTES = 1 << 16;

const utf8 = new TextEncoder();

/** Bytes as a "binary string" (one char per byte): exact, cheap map keys. */
function binaryString(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/**
 * The raw byte of a `<0xXX>` byte-fallback piece (as run.c's
 * `sscanf(piece, "<0x%02hhX>")`), or -1.
 */
function byteFallback(p: Uint8Array): number {
  if (p.length < 4 || p[0] !== 60 || p[1] !== 48 || p[2] !== 120) return -1;
  if (!isHex(p[3])) return -1;
  const digits = p.length > 4 && isHex(p[4]) ? 2 : 1;
  return parseInt(String.fromCharCode(...p.subarray(3, 3 + digits)), 16);
}

/** C's `isprint || isspace` in the "C" locale. */
function printable(b: number): boolean {
  return (b >= 0x20 && b <= 0x7e) || (b >= 0x09 && b <= 0x0d);
}

/**
 * A llama2.c tokenizer: pieces (raw bytes) with merge scores.
 *
 * @example Encode and decode like run.c
 * ```ts
 * import { Llama2cTokenizer } from "@proj/tinyllm";
 * const pieces = ["<unk>", "\n<s>\n", "\n</s>\n", " ", "a", "b", " a", "ab", " ab"];
 * const tok = new Llama2cTokenizer(pieces.map((p) => new TextEncoder().encode(p)),
 *   new Float32Array([0, 0, 0, 0, 0, 0, -1, -2, -3]));
 * console.log(tok.encode("ab")); // [1, 8]
 * console.log(tok.decode([1, 8])); // "ab"
 * ```
 */
export class Llama2cTokenizer implements Tokenizer {
  /** Always "llama2c". */
  readonly kind = "llama2c";
  /** Number of pieces. */
  readonly vocabSize: number;
  /** Beginning-of-sequence id (1). */
  readonly bosId = 1;
  /** End-of-sequence id (2). */
  readonly eosId = 2;
  /** The longest piece in bytes, as stored in the file header. */
  readonly maxTokenLength: number;
  readonly #pieces: Uint8Array[];
  readonly #scores: Float32Array;
  readonly #lookup = new Map<string, number>();
  readonly #keys: string[];
  // decodePiece results, precomputed per (after BOS?, id): no work per token.
  readonly #printed: Uint8Array[];
  readonly #printedAfterBos: Uint8Array[];
  readonly #raw: Uint8Array[];

  /**
   * Builds a tokenizer from its pieces and scores.
   * @param pieces raw bytes of each piece, indexed by id
   * @param scores merge score of each piece
   * @param maxTokenLength header value (defaults to the longest piece)
   */
  constructor(
    pieces: Uint8Array[],
    scores: Float32Array,
    maxTokenLength?: number,
  ) {
    if (pieces.length !== scores.length) {
      throw new ShapeError(
        `tokenizer: ${pieces.length} pieces but ${scores.length} scores`,
      );
    }
    if (pieces.length < 3) {
      throw new FormatError(
        `tokenizer: ${pieces.length} pieces, need at least 3 (<unk>, BOS, EOS)`,
      );
    }
    this.vocabSize = pieces.length;
    this.#pieces = pieces;
    this.#scores = scores;
    this.maxTokenLength = maxTokenLength ??
      pieces.reduce((m, p) => Math.max(m, p.length), 0);
    this.#keys = pieces.map(binaryString);
    // run.c binary-searches a sorted copy; with distinct pieces a map is the
    // same function. For duplicates, the lowest id wins.
    for (let i = 0; i < pieces.length; i++) {
      if (!this.#lookup.has(this.#keys[i])) this.#lookup.set(this.#keys[i], i);
    }
    this.#raw = pieces.map((p) => {
      const b = byteFallback(p);
      return b >= 0 ? Uint8Array.of(b) : p;
    });
    const safe = (p: Uint8Array) =>
      p.length === 0 || (p.length === 1 && !printable(p[0]))
        ? new Uint8Array(0)
        : p;
    this.#printed = this.#raw.map(safe);
    this.#printedAfterBos = this.#raw.map((p, i) =>
      safe(p === pieces[i] && p[0] === 32 ? p.subarray(1) : p)
    );
    this.#printed[this.bosId] = new Uint8Array(0);
    this.#printedAfterBos[this.bosId] = new Uint8Array(0);
  }

  /** Raw bytes of piece `id` as stored in the file. */
  piece(id: number): Uint8Array {
    this.#checkId(id);
    return this.#pieces[id];
  }

  /** Merge score of piece `id`. */
  score(id: number): number {
    this.#checkId(id);
    return this.#scores[id];
  }

  #checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new ShapeError(
        `tokenizer: token id ${id} outside the vocabulary (0..${
          this.vocabSize - 1
        })`,
      );
    }
  }

  /**
   * Encodes as run.c's `encode`: optional BOS, a dummy " " token for
   * non-empty text, one token per UTF-8 code point (byte fallback `byte + 3`
   * when a code point is not a piece), then repeated merging of the adjacent
   * pair whose merged piece has the highest score (leftmost on ties).
   */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const { bos = true, eos = false } = options;
    const bytes = utf8.encode(text);
    const ids: number[] = [];
    if (bos) ids.push(this.bosId);
    if (bytes.length > 0) {
      const space = this.#lookup.get(" ");
      if (space !== undefined) ids.push(space);
    }
    let buf = "";
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i];
      if ((c & 0xc0) !== 0x80) buf = "";
      buf += String.fromCharCode(c);
      // keep appending continuation bytes, up to 4 bytes per code point
      if (
        i + 1 < bytes.length && (bytes[i + 1] & 0xc0) === 0x80 && buf.length < 4
      ) {
        continue;
      }
      const id = this.#lookup.get(buf);
      if (id !== undefined) ids.push(id);
      else for (let j = 0; j < buf.length; j++) ids.push(buf.charCodeAt(j) + 3);
      buf = "";
    }
    // merge loop: greedy by the merged piece's score, strict > (leftmost wins)
    for (;;) {
      let best = -1e10, bestId = -1, bestIdx = -1;
      for (let i = 0; i + 1 < ids.length; i++) {
        const id = this.#lookup.get(
          this.#keys[ids[i]] + this.#keys[ids[i + 1]],
        );
        if (id !== undefined && this.#scores[id] > best) {
          best = this.#scores[id];
          bestId = id;
          bestIdx = i;
        }
      }
      if (bestIdx === -1) break;
      ids.splice(bestIdx, 2, bestId);
    }
    if (eos) ids.push(this.eosId);
    return ids;
  }

  /**
   * Bytes run.c prints for `id` following `prev`: the piece, minus its leading
   * space right after BOS; `<0xXX>` becomes the raw byte; a lone byte that is
   * neither printable nor whitespace prints nothing (run.c's `safe_printf`).
   * BOS prints nothing.
   */
  decodePiece(prev: number, id: number): Uint8Array {
    this.#checkId(id);
    return prev === this.bosId ? this.#printedAfterBos[id] : this.#printed[id];
  }

  /**
   * Decodes ids to text: BOS and EOS are dropped, the leading space after BOS
   * is removed, byte-fallback pieces become their raw bytes (so characters
   * split over several byte tokens come back whole), and the bytes are read as
   * UTF-8.
   */
  decode(ids: readonly number[]): string {
    const parts: Uint8Array[] = [];
    let prev = -1, n = 0;
    for (const id of ids) {
      this.#checkId(id);
      if (id !== this.bosId && id !== this.eosId) {
        let p = this.#raw[id];
        if (prev === this.bosId && p === this.#pieces[id] && p[0] === 32) {
          p = p.subarray(1);
        }
        parts.push(p);
        n += p.length;
      }
      prev = id;
    }
    const all = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    return new TextDecoder().decode(all);
  }

  /**
   * Plain JSON: pieces as strings when they are valid UTF-8, otherwise as
   * arrays of byte values; scores as base64 of little-endian float32 (exact,
   * negative zero included).
   */
  toJSON(): TokenizerJson {
    const strict = new TextDecoder("utf-8", { fatal: true });
    const pieces = this.#pieces.map((p): string | number[] => {
      try {
        const s = strict.decode(p);
        if (binaryString(utf8.encode(s)) === binaryString(p)) return s;
      } catch { /* not UTF-8: stored as bytes */ }
      return Array.from(p);
    });
    return {
      kind: "llama2c",
      maxTokenLength: this.maxTokenLength,
      pieces,
      scores: toBase64(
        new Uint8Array(
          this.#scores.buffer,
          this.#scores.byteOffset,
          this.#scores.byteLength,
        ),
      ),
    };
  }

  /**
   * Rebuilds a tokenizer from {@linkcode Llama2cTokenizer.toJSON} output.
   *
   * @example
   * ```ts
   * import { Llama2cTokenizer } from "@proj/tinyllm";
   * const t = new Llama2cTokenizer(["<unk>", "<s>", "</s>", " ", "x"].map((p) =>
   *   new TextEncoder().encode(p)), new Float32Array(5));
   * const back = Llama2cTokenizer.fromJSON(JSON.parse(JSON.stringify(t)));
   * console.log(back.encode("x")); // [1, 3, 4]
   * ```
   */
  static fromJSON(json: TokenizerJson): Llama2cTokenizer {
    const { kind, maxTokenLength, pieces, scores } = json;
    if (
      kind !== "llama2c" || !Array.isArray(pieces) || typeof scores !== "string"
    ) {
      throw new FormatError(
        `tokenizer.json: not a llama2c tokenizer (kind ${
          JSON.stringify(kind)
        })`,
      );
    }
    const bytes = pieces.map((p: unknown, i: number) => {
      if (typeof p === "string") return utf8.encode(p);
      if (
        Array.isArray(p) &&
        p.every((b) => Number.isInteger(b) && b >= 0 && b < 256)
      ) return Uint8Array.from(p as number[]);
      throw new FormatError(
        `tokenizer.json: piece ${i} is not a string or byte list`,
      );
    });
    let raw: Uint8Array;
    try {
      raw = fromBase64(scores);
    } catch {
      throw new FormatError("tokenizer.json: scores are not base64");
    }
    if (raw.length !== bytes.length * 4) {
      throw new FormatError(
        `tokenizer.json: ${bytes.length} pieces but ${raw.length / 4} scores`,
      );
    }
    return new Llama2cTokenizer(
      bytes,
      new Float32Array(raw.slice().buffer),
      typeof maxTokenLength === "number" ? maxTokenLength : undefined,
    );
  }
}

function toBase64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) {
    s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Parses llama2.c's `tokenizer.bin`: int32 max_token_length, then per token a
 * float32 score, an int32 byte length and the raw bytes. The file holds no
 * token count, so all records up to the end are read; pass `vocabSize` (the
 * model's) to check it, a mismatch being a {@linkcode ShapeError}. A
 * truncated or foreign file is a {@linkcode FormatError} naming the token.
 *
 * @example
 * ```ts
 * import { parseLlama2cTokenizer } from "@proj/tinyllm";
 * const enc = new TextEncoder();
 * const parts: number[] = [...new Uint8Array(new Int32Array([6]).buffer)];
 * for (const p of ["<unk>", "\n<s>\n", "\n</s>\n"]) {
 *   parts.push(...new Uint8Array(new Float32Array([0]).buffer));
 *   parts.push(...new Uint8Array(new Int32Array([enc.encode(p).length]).buffer));
 *   parts.push(...enc.encode(p));
 * }
 * const tok = parseLlama2cTokenizer(new Uint8Array(parts), { vocabSize: 3 });
 * console.log(tok.vocabSize); // 3
 * ```
 */
export function parseLlama2cTokenizer(
  bytes: Uint8Array,
  options: { vocabSize?: number; name?: string } = {},
): Llama2cTokenizer {
  const name = options.name ?? "tokenizer";
  if (bytes.length < 4) {
    throw new FormatError(
      `${name}: file is ${bytes.length} bytes, too short for a llama2.c tokenizer`,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const maxLen = dv.getInt32(0, true);
  if (maxLen <= 0 || maxLen > MAX_PIECE_BYTES) {
    throw new FormatError(
      `${name}: max_token_length ${maxLen} is out of range (not a llama2.c tokenizer?)`,
    );
  }
  const pieces: Uint8Array[] = [];
  const scores: number[] = [];
  let off = 4;
  while (off < bytes.length) {
    const i = pieces.length;
    if (off + 8 > bytes.length) {
      throw new FormatError(
        `${name}: truncated in the header of token ${i} (offset ${off})`,
      );
    }
    const score = dv.getFloat32(off, true);
    const len = dv.getInt32(off + 4, true);
    if (!Number.isFinite(score)) {
      throw new FormatError(
        `${name}: token ${i} has a non-finite score (not a llama2.c tokenizer?)`,
      );
    }
    if (len < 0 || len > maxLen) {
      throw new FormatError(
        `${name}: token ${i} has length ${len}, max_token_length is ${maxLen} (not a llama2.c tokenizer?)`,
      );
    }
    off += 8;
    if (off + len > bytes.length) {
      throw new FormatError(
        `${name}: truncated in token ${i}: needs ${len} bytes at offset ${off}, file ends at ${bytes.length}`,
      );
    }
    pieces.push(bytes.slice(off, off + len));
    scores.push(score);
    off += len;
  }
  if (options.vocabSize !== undefined && options.vocabSize !== pieces.length) {
    throw new ShapeError(
      `${name}: holds ${pieces.length} tokens but the model's vocab_size is ${options.vocabSize}`,
    );
  }
  return new Llama2cTokenizer(pieces, Float32Array.from(scores), maxLen);
}

/**
 * Writes a tokenizer in llama2.c's `tokenizer.bin` format.
 *
 * @example
 * ```ts
 * import { encodeLlama2cTokenizer, Llama2cTokenizer, parseLlama2cTokenizer } from "@proj/tinyllm";
 * const t = new Llama2cTokenizer(["<unk>", "<s>", "</s>"].map((p) =>
 *   new TextEncoder().encode(p)), new Float32Array(3));
 * console.log(parseLlama2cTokenizer(encodeLlama2cTokenizer(t)).vocabSize); // 3
 * ```
 */
export function encodeLlama2cTokenizer(
  tok: Llama2cTokenizer,
): Uint8Array<ArrayBuffer> {
  let n = 4;
  for (let i = 0; i < tok.vocabSize; i++) n += 8 + tok.piece(i).length;
  const out = new Uint8Array(n);
  const dv = new DataView(out.buffer);
  dv.setInt32(0, tok.maxTokenLength, true);
  let off = 4;
  for (let i = 0; i < tok.vocabSize; i++) {
    const p = tok.piece(i);
    dv.setFloat32(off, tok.score(i), true);
    dv.setInt32(off + 4, p.length, true);
    out.set(p, off + 8);
    off += 8 + p.length;
  }
  return out;
}
