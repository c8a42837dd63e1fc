/**
 * Unicode helpers with llama.cpp's semantics: its category flags per code
 * point, its lenient UTF-8 decoder (each bad byte becomes U+FFFD), and the
 * GPT-2 byte-to-character map of byte-level BPE.
 *
 * @module
 */
import { UNICODE_RANGES, UNICODE_WHITESPACE } from "./unicode_data.ts";

/** Category flag: unassigned code point. */
export const UNDEFINED = 0x0001;
/** Category flag: \p{N}. */
export const NUMBER = 0x0002;
/** Category flag: \p{L}. */
export const LETTER = 0x0004;
/** Category flag: \p{Z}. */
export const SEPARATOR = 0x0008;
/** Category flag: \p{M}. */
export const ACCENT_MARK = 0x0010;
/** Category flag: \p{P}. */
export const PUNCTUATION = 0x0020;
/** Category flag: \p{S}. */
export const SYMBOL = 0x0040;
/** Category flag: \p{C}. */
export const CONTROL = 0x0080;
/** Mask of the category flags. */
export const MASK_CATEGORIES = 0x00ff;
/** Helper flag: \s. */
export const WHITESPACE = 0x0100;

const MAX_CODEPOINTS = 0x110000;
let table: Uint16Array | undefined;

function buildTable(): Uint16Array {
  const t = new Uint16Array(MAX_CODEPOINTS);
  const pairs = UNICODE_RANGES.trim().split(" ");
  let start = 0;
  let prevStart = 0, prevFlags = -1;
  for (const p of pairs) {
    const dot = p.indexOf(".");
    start += parseInt(p.slice(0, dot), 36);
    const flags = parseInt(p.slice(dot + 1), 36);
    if (prevFlags >= 0) t.fill(prevFlags, prevStart, start);
    prevStart = start;
    prevFlags = flags;
  }
  for (const c of UNICODE_WHITESPACE) t[c] |= WHITESPACE;
  return t;
}

/**
 * llama.cpp's flags of a code point (categories plus WHITESPACE); code points
 * past U+10FFFF are UNDEFINED.
 */
export function cptFlags(cpt: number): number {
  table ??= buildTable();
  return cpt < MAX_CODEPOINTS ? table[cpt] : UNDEFINED;
}

/**
 * Length of the UTF-8 sequence a lead byte announces, as llama.cpp's
 * `unicode_len_utf8` (from the high nibble; continuation bytes count 1).
 */
export function utf8Len(byte: number): number {
  const hi = byte >> 4;
  return hi < 12 ? 1 : hi < 14 ? 2 : hi === 14 ? 3 : 4;
}

/**
 * Decodes UTF-8 the way llama.cpp's `unicode_cpts_from_utf8` does: a sequence
 * that is cut short or has a bad continuation byte yields U+FFFD for its lead
 * byte only (decoding resumes at the next byte); overlong forms and
 * surrogates are decoded as they are, not rejected.
 */
export function cptsFromUtf8(
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
): number[] {
  const out: number[] = [];
  let i = start;
  while (i < end) {
    const b0 = bytes[i];
    if (b0 < 0x80) {
      out.push(b0);
      i += 1;
    } else if (!(b0 & 0x40)) {
      out.push(0xfffd);
      i += 1;
    } else if (!(b0 & 0x20)) {
      if (i + 1 >= end || (bytes[i + 1] & 0xc0) !== 0x80) {
        out.push(0xfffd);
        i += 1;
      } else {
        out.push(((b0 & 0x1f) << 6) | (bytes[i + 1] & 0x3f));
        i += 2;
      }
    } else if (!(b0 & 0x10)) {
      if (
        i + 2 >= end || (bytes[i + 1] & 0xc0) !== 0x80 ||
        (bytes[i + 2] & 0xc0) !== 0x80
      ) {
        out.push(0xfffd);
        i += 1;
      } else {
        out.push(
          ((b0 & 0x0f) << 12) | ((bytes[i + 1] & 0x3f) << 6) |
            (bytes[i + 2] & 0x3f),
        );
        i += 3;
      }
    } else if (!(b0 & 0x08)) {
      if (
        i + 3 >= end || (bytes[i + 1] & 0xc0) !== 0x80 ||
        (bytes[i + 2] & 0xc0) !== 0x80 || (bytes[i + 3] & 0xc0) !== 0x80
      ) {
        out.push(0xfffd);
        i += 1;
      } else {
        out.push(
          ((b0 & 0x07) << 18) | ((bytes[i + 1] & 0x3f) << 12) |
            ((bytes[i + 2] & 0x3f) << 6) | (bytes[i + 3] & 0x3f),
        );
        i += 4;
      }
    } else {
      out.push(0xfffd);
      i += 1;
    }
  }
  return out;
}

/** Appends the UTF-8 bytes of `cpt` to `out` as a binary string's chars. */
export function cptToBinary(cpt: number): string {
  if (cpt <= 0x7f) return String.fromCharCode(cpt);
  if (cpt <= 0x7ff) {
    return String.fromCharCode(0xc0 | (cpt >> 6), 0x80 | (cpt & 0x3f));
  }
  if (cpt <= 0xffff) {
    return String.fromCharCode(
      0xe0 | (cpt >> 12),
      0x80 | ((cpt >> 6) & 0x3f),
      0x80 | (cpt & 0x3f),
    );
  }
  return String.fromCharCode(
    0xf0 | ((cpt >> 18) & 0x07),
    0x80 | ((cpt >> 12) & 0x3f),
    0x80 | ((cpt >> 6) & 0x3f),
    0x80 | (cpt & 0x3f),
  );
}

/**
 * A string's UTF-8 bytes as a binary string (one char per byte); a lone
 * surrogate becomes U+FFFD's bytes, as with TextEncoder.
 */
export function toBinary(s: string): string {
  let i = 0;
  // Pure ASCII needs no work: the common case for vocabulary entries.
  while (i < s.length && s.charCodeAt(i) < 0x80) i++;
  if (i === s.length) return s;
  let out = s.slice(0, i);
  for (; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      } else {
        c = 0xfffd;
      }
    }
    out += cptToBinary(c);
  }
  return out;
}

/** Bytes as a binary string (one char per byte). */
export function bytesToBinary(
  b: Uint8Array,
  start = 0,
  end = b.length,
): string {
  let s = "";
  for (let i = start; i < end; i += 4096) {
    s += String.fromCharCode(...b.subarray(i, Math.min(end, i + 4096)));
  }
  return s;
}

/** A binary string's bytes. */
export function binaryToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

let byteToCpt: Uint16Array | undefined;
let cptToByte: Map<number, number> | undefined;

function buildByteMaps(): void {
  byteToCpt = new Uint16Array(256);
  cptToByte = new Map();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) ||
      (b >= 0xae && b <= 0xff);
    byteToCpt[b] = printable ? b : 256 + n++;
    cptToByte.set(byteToCpt[b], b);
  }
}

/**
 * GPT-2's byte-to-character map of byte-level BPE: the code point that
 * stands for raw byte `b` in vocabulary entries.
 */
export function byteToUnicode(b: number): number {
  if (!byteToCpt) buildByteMaps();
  return byteToCpt![b];
}

/** Inverse of {@linkcode byteToUnicode}: the byte, or -1. */
export function unicodeToByte(cpt: number): number {
  if (!cptToByte) buildByteMaps();
  return cptToByte!.get(cpt) ?? -1;
}

/** llama.cpp's `unicode_cpt_is_han`: CJK ideograph blocks. */
export function isHan(cpt: number): boolean {
  return (cpt >= 0x4e00 && cpt <= 0x9fff) ||
    (cpt >= 0x3400 && cpt <= 0x4dbf) ||
    (cpt >= 0x20000 && cpt <= 0x2a6df) ||
    (cpt >= 0x2a700 && cpt <= 0x2b73f) ||
    (cpt >= 0x2b740 && cpt <= 0x2b81f) ||
    (cpt >= 0x2b820 && cpt <= 0x2ceaf) ||
    (cpt >= 0x2ceb0 && cpt <= 0x2ebef) ||
    (cpt >= 0xf900 && cpt <= 0xfaff) ||
    (cpt >= 0x2f800 && cpt <= 0x2fa1f);
}

/**
 * ASCII-only lowercase: the only part of llama.cpp's `unicode_tolower` that
 * its contraction rules ('s, 't, 're …) can observe (no other code point
 * lowercases to one of those ASCII letters).
 */
export function asciiLower(cpt: number): number {
  return cpt >= 0x41 && cpt <= 0x5a ? cpt + 32 : cpt;
}
