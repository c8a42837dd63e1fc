/**
 * ggml's 32-element block types: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1. Layouts
 * (little-endian, `d`/`m` are halves):
 *
 * ```text
 * Q8_0  d, qs[32] int8                       x = d·q                 34 bytes
 * Q4_0  d, qs[16] (x[j] low nibble, x[j+16] high)   x = d·(q − 8)    18 bytes
 * Q4_1  d, m, qs[16]                         x = d·q + m             20 bytes
 * Q5_0  d, qh u32 (bit j = 5th bit of x[j]), qs[16]  x = d·(q − 16)  22 bytes
 * Q5_1  d, m, qh u32, qs[16]                 x = d·q + m             24 bytes
 * ```
 *
 * The quantizers are ggml's `quantize_row_*_ref` with every float
 * operation rounded as C rounds it, so their bytes equal llama-quantize's.
 *
 * @module
 */
import { GGML_TYPE, type GgmlTypeName } from "./types.ts";
import {
  checkBlocks,
  fr,
  type GgmlActivations,
  type GgmlBlockType,
  roundf,
  rowsOf,
  toInt8,
  toUint8,
} from "./common.ts";
import { floatToHalf, halfToFloatTable } from "./half.ts";

const H = halfToFloatTable();
const FLT_MAX = 3.4028234663852886e38;

function half(src: Uint8Array, o: number): number {
  return H[src[o] | (src[o + 1] << 8)];
}

function putHalf(dst: Uint8Array, o: number, x: number): void {
  const h = floatToHalf(x);
  dst[o] = h & 0xff;
  dst[o + 1] = h >> 8;
}

function qh32(src: Uint8Array, o: number): number {
  return (src[o] | (src[o + 1] << 8) | (src[o + 2] << 16) |
    (src[o + 3] << 24)) >>> 0;
}

// ---------------------------------------------------------------------------
// dequantization (dequantize_row_*)

function dequantQ8_0(
  src: Uint8Array,
  so: number,
  out: Float32Array,
  oo: number,
  n: number,
): void {
  checkBlocks("Q8_0", n, 32);
  for (let b = 0; b < n / 32; b++) {
    const o = so + b * 34;
    const d = half(src, o);
    for (let j = 0; j < 32; j++) {
      out[oo + b * 32 + j] = ((src[o + 2 + j] << 24) >> 24) * d;
    }
  }
}

function dequantQ4_0(
  src: Uint8Array,
  so: number,
  out: Float32Array,
  oo: number,
  n: number,
): void {
  checkBlocks("Q4_0", n, 32);
  for (let b = 0; b < n / 32; b++) {
    const o = so + b * 18;
    const d = half(src, o);
    const y = oo + b * 32;
    for (let j = 0; j < 16; j++) {
      const q = src[o + 2 + j];
      out[y + j] = ((q & 15) - 8) * d;
      out[y + j + 16] = ((q >> 4) - 8) * d;
    }
  }
}

function dequantQ4_1(
  src: Uint8Array,
  so: number,
  out: Float32Array,
  oo: number,
  n: number,
): void {
  checkBlocks("Q4_1", n, 32);
  for (let b = 0; b < n / 32; b++) {
    const o = so + b * 20;
    const d = half(src, o);
    const m = half(src, o + 2);
    const y = oo + b * 32;
    for (let j = 0; j < 16; j++) {
      const q = src[o + 4 + j];
      out[y + j] = fr((q & 15) * d) + m;
      out[y + j + 16] = fr((q >> 4) * d) + m;
    }
  }
}

function dequantQ5_0(
  src: Uint8Array,
  so: number,
  out: Float32Array,
  oo: number,
  n: number,
): void {
  checkBlocks("Q5_0", n, 32);
  for (let b = 0; b < n / 32; b++) {
    const o = so + b * 22;
    const d = half(src, o);
    const qh = qh32(src, o + 2);
    const y = oo + b * 32;
    for (let j = 0; j < 16; j++) {
      const q = src[o + 6 + j];
      const h0 = ((qh >>> j) << 4) & 0x10;
      const h1 = (qh >>> (j + 12)) & 0x10;
      out[y + j] = (((q & 15) | h0) - 16) * d;
      out[y + j + 16] = (((q >> 4) | h1) - 16) * d;
    }
  }
}

function dequantQ5_1(
  src: Uint8Array,
  so: number,
  out: Float32Array,
  oo: number,
  n: number,
): void {
  checkBlocks("Q5_1", n, 32);
  for (let b = 0; b < n / 32; b++) {
    const o = so + b * 24;
    const d = half(src, o);
    const m = half(src, o + 2);
    const qh = qh32(src, o + 4);
    const y = oo + b * 32;
    for (let j = 0; j < 16; j++) {
      const q = src[o + 8 + j];
      const h0 = ((qh >>> j) << 4) & 0x10;
      const h1 = (qh >>> (j + 12)) & 0x10;
      out[y + j] = fr(((q & 15) | h0) * d) + m;
      out[y + j + 16] = fr(((q >> 4) | h1) * d) + m;
    }
  }
}

// ---------------------------------------------------------------------------
// reference quantization (quantize_row_*_ref)

function quantQ8_0(
  x: Float32Array,
  xo: number,
  dst: Uint8Array,
  dso: number,
  n: number,
): void {
  checkBlocks("Q8_0", n, 32);
  for (let b = 0; b < n / 32; b++) {
    const xb = xo + b * 32;
    const o = dso + b * 34;
    let amax = 0;
    for (let j = 0; j < 32; j++) {
      const v = Math.abs(x[xb + j]);
      amax = amax > v ? amax : v;
    }
    const d = fr(amax / 127);
    const id = d ? fr(1 / d) : 0;
    putHalf(dst, o, d);
    for (let j = 0; j < 32; j++) {
      dst[o + 2 + j] = toInt8(roundf(fr(x[xb + j] * id))) & 0xff;
    }
  }
}

/** Q4_0 and Q5_0: the scale maps the value of largest magnitude to −2^(bits−1). */
function quantSymmetric(
  x: Float32Array,
  xo: number,
  dst: Uint8Array,
  dso: number,
  n: number,
  five: boolean,
): void {
  checkBlocks(five ? "Q5_0" : "Q4_0", n, 32);
  const size = five ? 22 : 18;
  const levels = five ? 16 : 8;
  const top = five ? 31 : 15;
  const qsAt = five ? 6 : 2;
  for (let b = 0; b < n / 32; b++) {
    const xb = xo + b * 32;
    const o = dso + b * size;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 32; j++) {
      const v = x[xb + j];
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = fr(max / -levels);
    const id = d ? fr(1 / d) : 0;
    putHalf(dst, o, d);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      const x0 = fr(x[xb + j] * id);
      const x1 = fr(x[xb + 16 + j] * id);
      // MIN(top, (int8_t)(x + levels + 0.5f)) stored into a uint8_t
      const q0 = Math.min(top, toInt8(fr(x0 + (levels + 0.5)))) & 0xff;
      const q1 = Math.min(top, toInt8(fr(x1 + (levels + 0.5)))) & 0xff;
      dst[o + qsAt + j] = (q0 & 15) | ((q1 & 15) << 4);
      qh |= ((q0 & 0x10) >> 4) << j;
      qh |= ((q1 & 0x10) >> 4) << (j + 16);
    }
    if (five) {
      dst[o + 2] = qh & 0xff;
      dst[o + 3] = (qh >>> 8) & 0xff;
      dst[o + 4] = (qh >>> 16) & 0xff;
      dst[o + 5] = (qh >>> 24) & 0xff;
    }
  }
}

/** Q4_1 and Q5_1: scale and minimum span each block's range. */
function quantAffine(
  x: Float32Array,
  xo: number,
  dst: Uint8Array,
  dso: number,
  n: number,
  five: boolean,
): void {
  checkBlocks(five ? "Q5_1" : "Q4_1", n, 32);
  const size = five ? 24 : 20;
  const qsAt = five ? 8 : 4;
  for (let b = 0; b < n / 32; b++) {
    const xb = xo + b * 32;
    const o = dso + b * size;
    let min = FLT_MAX;
    let max = -FLT_MAX;
    for (let j = 0; j < 32; j++) {
      const v = x[xb + j];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const d = fr(fr(max - min) / (five ? 31 : 15));
    const id = d ? fr(1 / d) : 0;
    putHalf(dst, o, d);
    putHalf(dst, o + 2, min);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      const x0 = fr(fr(x[xb + j] - min) * id);
      const x1 = fr(fr(x[xb + 16 + j] - min) * id);
      let q0: number, q1: number;
      if (five) {
        // (uint8_t)(x + 0.5f), no clamp
        q0 = toUint8(fr(x0 + 0.5));
        q1 = toUint8(fr(x1 + 0.5));
      } else {
        q0 = Math.min(15, toInt8(fr(x0 + 0.5))) & 0xff;
        q1 = Math.min(15, toInt8(fr(x1 + 0.5))) & 0xff;
      }
      dst[o + qsAt + j] = (q0 & 15) | ((q1 & 15) << 4);
      qh |= ((q0 & 0x10) >> 4) << j;
      qh |= ((q1 & 0x10) >> 4) << (j + 16);
    }
    if (five) {
      dst[o + 4] = qh & 0xff;
      dst[o + 5] = (qh >>> 8) & 0xff;
      dst[o + 6] = (qh >>> 16) & 0xff;
      dst[o + 7] = (qh >>> 24) & 0xff;
    }
  }
}

// ---------------------------------------------------------------------------
// dot products with Q8_0 / Q8_1 activations

const scratch = new Float32Array(32);

/** Dequantize a block of weights, multiply by the dequantized activations, sum in float64. */
function referenceDot(
  dequant: (
    src: Uint8Array,
    so: number,
    out: Float32Array,
    oo: number,
    n: number,
  ) => void,
  typeSize: number,
): GgmlBlockType["dotReference"] {
  return (w, wo, a, ao, n) => {
    let sum = 0;
    for (let b = 0; b < n / 32; b++) {
      dequant(w, wo + b * typeSize, scratch, 0, 32);
      const d = a.d[ao / 32 + b];
      for (let j = 0; j < 32; j++) {
        sum += scratch[j] * (a.qs[ao + b * 32 + j] * d);
      }
    }
    return sum;
  };
}

function dotQ8_0(
  w: Uint8Array,
  wo: number,
  a: GgmlActivations,
  ao: number,
  n: number,
): number {
  const wi = new Int8Array(w.buffer, w.byteOffset, w.length);
  const out = new Float32Array(1);
  rowsQ8_0(w, wi, wo, 0, 1, a, ao, n, out, 0);
  return out[0];
}

function rowsQ8_0(
  w: Uint8Array,
  wi: Int8Array,
  wo: number,
  rowBytes: number,
  rows: number,
  a: GgmlActivations,
  ao: number,
  n: number,
  out: Float32Array,
  oo: number,
): void {
  const qs = a.qs, ad = a.d, nb = n / 32;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (
      let b = 0, o = wo + r * rowBytes, q = ao;
      b < nb;
      b++, o += 34, q += 32
    ) {
      // two accumulators: shorter dependency chains
      let s0 = 0, s1 = 0;
      for (let j = 0; j < 32; j += 4) {
        s0 += wi[o + 2 + j] * qs[q + j] + wi[o + 3 + j] * qs[q + j + 1];
        s1 += wi[o + 4 + j] * qs[q + j + 2] + wi[o + 5 + j] * qs[q + j + 3];
      }
      sum += H[w[o] | (w[o + 1] << 8)] * ad[q >> 5] * (s0 + s1);
    }
    out[oo + r] = sum;
  }
}

function dotQ4_0(
  w: Uint8Array,
  wo: number,
  a: GgmlActivations,
  ao: number,
  n: number,
): number {
  const qs = a.qs, ad = a.d, sums = a.sums;
  let sum = 0;
  for (let b = 0, o = wo, q = ao; b < n / 32; b++, o += 18, q += 32) {
    // Σ (q−8)·a = Σ q·a − 8·Σ a
    let sumi = 0;
    for (let j = 0; j < 16; j += 2) {
      const v0 = w[o + 2 + j], v1 = w[o + 3 + j];
      sumi += (v0 & 15) * qs[q + j] + (v0 >> 4) * qs[q + j + 16] +
        (v1 & 15) * qs[q + j + 1] + (v1 >> 4) * qs[q + j + 17];
    }
    const blk = q >> 5;
    sum += H[w[o] | (w[o + 1] << 8)] * ad[blk] * (sumi - 8 * sums[blk]);
  }
  return sum;
}

function dotQ5_0(
  w: Uint8Array,
  wo: number,
  a: GgmlActivations,
  ao: number,
  n: number,
): number {
  const qs = a.qs, ad = a.d, sums = a.sums;
  let sum = 0;
  for (let b = 0, o = wo, q = ao; b < n / 32; b++, o += 22, q += 32) {
    const qh = w[o + 2] | (w[o + 3] << 8) | (w[o + 4] << 16) | (w[o + 5] << 24);
    let sumi = 0;
    for (let j = 0; j < 16; j++) {
      const v = w[o + 6 + j];
      sumi += ((v & 15) | (((qh >>> j) & 1) << 4)) * qs[q + j] +
        ((v >> 4) | (((qh >>> (j + 16)) & 1) << 4)) * qs[q + j + 16];
    }
    const blk = q >> 5;
    sum += H[w[o] | (w[o + 1] << 8)] * ad[blk] * (sumi - 16 * sums[blk]);
  }
  return sum;
}

function dotQ4_1(
  w: Uint8Array,
  wo: number,
  a: GgmlActivations,
  ao: number,
  n: number,
): number {
  const qs = a.qs, ad = a.d, as = a.s;
  let sum = 0;
  for (let b = 0, o = wo, q = ao; b < n / 32; b++, o += 20, q += 32) {
    let sumi = 0;
    for (let j = 0; j < 16; j++) {
      const v = w[o + 4 + j];
      sumi += (v & 15) * qs[q + j] + (v >> 4) * qs[q + j + 16];
    }
    const blk = q >> 5;
    sum += H[w[o] | (w[o + 1] << 8)] * ad[blk] * sumi +
      H[w[o + 2] | (w[o + 3] << 8)] * as[blk];
  }
  return sum;
}

function dotQ5_1(
  w: Uint8Array,
  wo: number,
  a: GgmlActivations,
  ao: number,
  n: number,
): number {
  const qs = a.qs, ad = a.d, as = a.s;
  let sum = 0;
  for (let b = 0, o = wo, q = ao; b < n / 32; b++, o += 24, q += 32) {
    const qh = w[o + 4] | (w[o + 5] << 8) | (w[o + 6] << 16) | (w[o + 7] << 24);
    let sumi = 0;
    for (let j = 0; j < 16; j++) {
      const v = w[o + 8 + j];
      sumi += ((v & 15) | (((qh >>> j) & 1) << 4)) * qs[q + j] +
        ((v >> 4) | (((qh >>> (j + 16)) & 1) << 4)) * qs[q + j + 16];
    }
    const blk = q >> 5;
    sum += H[w[o] | (w[o + 1] << 8)] * ad[blk] * sumi +
      H[w[o + 2] | (w[o + 3] << 8)] * as[blk];
  }
  return sum;
}

function blockType(
  name: GgmlTypeName,
  typeSize: number,
  vecDotType: number,
  dequantizeRow: GgmlBlockType["dequantizeRow"],
  quantizeRow: GgmlBlockType["quantizeRow"],
  dot: GgmlBlockType["dot"],
  dotRows?: GgmlBlockType["dotRows"],
): GgmlBlockType {
  return {
    id: GGML_TYPE[name],
    name,
    blockSize: 32,
    typeSize,
    vecDotType,
    dequantizeRow,
    quantizeRow,
    dotReference: referenceDot(dequantizeRow, typeSize),
    dot,
    dotRows: dotRows ?? rowsOf(dot),
  };
}

/**
 * Q8_0: 32 int8 quants and a half scale per block (8.5 bits per weight);
 * activations Q8_0.
 *
 * @example
 * ```ts
 * import { ggmlQ8_0 } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * const x = Float32Array.from({ length: 32 }, (_, i) => i - 16);
 * const bytes = new Uint8Array(34);
 * ggmlQ8_0.quantizeRow(x, 0, bytes, 0, 32);
 * const back = new Float32Array(32);
 * ggmlQ8_0.dequantizeRow(bytes, 0, back, 0, 32);
 * // one fp16 scale for the block: -16 comes back within half a step
 * assert.ok(Math.abs(back[0] + 16) < 0.01, String(back[0]));
 * ```
 */
export const ggmlQ8_0: GgmlBlockType = blockType(
  "Q8_0",
  34,
  GGML_TYPE.Q8_0,
  dequantQ8_0,
  quantQ8_0,
  dotQ8_0,
  (w, wo, rowBytes, rows, a, ao, n, out, oo) =>
    rowsQ8_0(
      w,
      new Int8Array(w.buffer, w.byteOffset, w.length),
      wo,
      rowBytes,
      rows,
      a,
      ao,
      n,
      out,
      oo,
    ),
);

/**
 * Q4_0: 4-bit quants with offset 8 and a half scale per block (4.5 bits per
 * weight); activations Q8_0.
 *
 * @example
 * ```ts
 * import { ggmlQ4_0 } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(ggmlQ4_0.typeSize, 18);
 * assert.equal(ggmlQ4_0.blockSize, 32);
 * ```
 */
export const ggmlQ4_0: GgmlBlockType = blockType(
  "Q4_0",
  18,
  GGML_TYPE.Q8_0,
  dequantQ4_0,
  (x, xo, dst, dso, n) => quantSymmetric(x, xo, dst, dso, n, false),
  dotQ4_0,
);

/**
 * Q4_1: 4-bit quants with a half scale and minimum per block (5 bits per
 * weight); activations Q8_1.
 *
 * @example
 * ```ts
 * import { ggmlQ4_1 } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(ggmlQ4_1.typeSize, 20);
 * ```
 */
export const ggmlQ4_1: GgmlBlockType = blockType(
  "Q4_1",
  20,
  GGML_TYPE.Q8_1,
  dequantQ4_1,
  (x, xo, dst, dso, n) => quantAffine(x, xo, dst, dso, n, false),
  dotQ4_1,
);

/**
 * Q5_0: 5-bit quants with offset 16 and a half scale per block (5.5 bits per
 * weight); activations Q8_0.
 *
 * @example
 * ```ts
 * import { ggmlQ5_0 } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(ggmlQ5_0.typeSize, 22);
 * ```
 */
export const ggmlQ5_0: GgmlBlockType = blockType(
  "Q5_0",
  22,
  GGML_TYPE.Q8_0,
  dequantQ5_0,
  (x, xo, dst, dso, n) => quantSymmetric(x, xo, dst, dso, n, true),
  dotQ5_0,
);

/**
 * Q5_1: 5-bit quants with a half scale and minimum per block (6 bits per
 * weight); activations Q8_1.
 *
 * @example
 * ```ts
 * import { ggmlQ5_1 } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(ggmlQ5_1.typeSize, 24);
 * ```
 */
export const ggmlQ5_1: GgmlBlockType = blockType(
  "Q5_1",
  24,
  GGML_TYPE.Q8_1,
  dequantQ5_1,
  (x, xo, dst, dso, n) => quantAffine(x, xo, dst, dso, n, true),
  dotQ5_1,
);
