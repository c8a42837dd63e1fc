/**
 * Rounding the input vectors of a matrix product to a weight type's
 * `vec_dot_type`, as ggml's CPU backend does it on x86 (the build the
 * reference outputs come from): Q8_0 and Q8_1 as `quantize_row_q8_0/1`
 * (AVX: scale `max/127`, multiplier `127/max`, round half to even), Q8_K as
 * `quantize_row_q8_K_ref`, F16 and BF16 by rounding each value.
 *
 * @module
 */
import { ConfigError } from "../../errors.ts";
import { GGML_TYPE } from "./types.ts";
import {
  checkBlocks,
  fr,
  type GgmlActivations,
  nearestInt,
  roundEven,
} from "./common.ts";
import { bf16ToFloat, floatToBf16, floatToHalf, roundToHalf } from "./half.ts";

const BLOCK: Record<number, number> = {
  [GGML_TYPE.F32]: 1,
  [GGML_TYPE.F16]: 1,
  [GGML_TYPE.BF16]: 1,
  [GGML_TYPE.Q8_0]: 32,
  [GGML_TYPE.Q8_1]: 32,
  [GGML_TYPE.Q8_K]: 256,
};

const EMPTY_F32 = new Float32Array(0);
const EMPTY_I8 = new Int8Array(0);
const EMPTY_I32 = new Int32Array(0);

/**
 * Allocates activations of a `vec_dot_type` for `rows` vectors of `length`
 * elements (a run state creates it once; quantizing into it allocates
 * nothing).
 *
 * @throws {ConfigError} for a type that is no activation format
 * @throws {ShapeError} when `length` is not a whole number of its blocks
 *
 * @example
 * ```ts
 * import { createGgmlActivations, GGML_TYPE } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * const a = createGgmlActivations(GGML_TYPE.Q8_0, 64);
 * assert.equal(a.qs.length, 64);
 * assert.equal(a.d.length, 2);
 * ```
 */
export function createGgmlActivations(
  type: number,
  length: number,
  rows = 1,
): GgmlActivations {
  const block = BLOCK[type];
  if (block === undefined) {
    throw new ConfigError(`ggml type id ${type} is not an activation format`);
  }
  checkBlocks("activations", length, block);
  const n = length * rows;
  const isFloat = block === 1;
  return {
    type,
    length,
    rows,
    values: isFloat ? new Float32Array(n) : EMPTY_F32,
    qs: isFloat ? EMPTY_I8 : new Int8Array(n),
    d: isFloat ? EMPTY_F32 : new Float32Array(n / block),
    s: type === GGML_TYPE.Q8_1 ? new Float32Array(n / block) : EMPTY_F32,
    bsums: type === GGML_TYPE.Q8_K ? new Int32Array(n / 16) : EMPTY_I32,
    sums: type === GGML_TYPE.Q8_0 || type === GGML_TYPE.Q8_1
      ? new Int32Array(n / 32)
      : EMPTY_I32,
  };
}

/**
 * Rounds `length` elements of `x` (from `xOffset`) into row `row` of `a`, in
 * `a`'s format, as ggml's CPU backend does before its dot products.
 *
 * @example
 * ```ts
 * import { createGgmlActivations, GGML_TYPE, quantizeGgmlActivations } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * const a = createGgmlActivations(GGML_TYPE.Q8_0, 32);
 * quantizeGgmlActivations(new Float32Array(32).fill(0.5), 0, a, 0);
 * assert.equal(a.qs[0], 127);
 * assert.equal(a.d[0], 0.003936767578125);
 * ```
 */
export function quantizeGgmlActivations(
  x: Float32Array,
  xOffset: number,
  a: GgmlActivations,
  row: number,
): void {
  const n = a.length;
  const base = row * n;
  switch (a.type) {
    case GGML_TYPE.F32:
      a.values.set(x.subarray(xOffset, xOffset + n), base);
      return;
    case GGML_TYPE.F16:
      for (let i = 0; i < n; i++) {
        a.values[base + i] = roundToHalf(x[xOffset + i]);
      }
      return;
    case GGML_TYPE.BF16:
      for (let i = 0; i < n; i++) {
        a.values[base + i] = bf16ToFloat(floatToBf16(x[xOffset + i]));
      }
      return;
    case GGML_TYPE.Q8_0:
    case GGML_TYPE.Q8_1:
      quantizeQ8x(x, xOffset, a, base, n, a.type === GGML_TYPE.Q8_1);
      return;
    default:
      quantizeQ8K(x, xOffset, a, base, n);
  }
}

function quantizeQ8x(
  x: Float32Array,
  xOffset: number,
  a: GgmlActivations,
  base: number,
  n: number,
  withSum: boolean,
): void {
  const { qs, d: ds, s } = a;
  for (let b = 0; b < n / 32; b++) {
    const xo = xOffset + b * 32;
    let amax = 0;
    for (let j = 0; j < 32; j++) {
      const v = Math.abs(x[xo + j]);
      if (v > amax) amax = v;
    }
    const d = fr(amax / 127);
    const id = amax !== 0 ? fr(127 / amax) : 0;
    const qo = base + b * 32;
    let sum = 0;
    for (let j = 0; j < 32; j++) {
      let q = roundEven(fr(x[xo + j] * id));
      q = q > 127 ? 127 : q < -128 ? -128 : q; // the saturating packs
      qs[qo + j] = q;
      sum += q;
    }
    const blk = base / 32 + b;
    a.sums[blk] = sum;
    ds[blk] = roundToHalf(d);
    if (withSum) s[blk] = roundToHalf(fr(d * sum));
  }
}

function quantizeQ8K(
  x: Float32Array,
  xOffset: number,
  a: GgmlActivations,
  base: number,
  n: number,
): void {
  const { qs, d, bsums } = a;
  for (let b = 0; b < n / 256; b++) {
    const xo = xOffset + b * 256;
    const qo = base + b * 256;
    const blk = base / 256 + b;
    let max = 0;
    let amax = 0;
    for (let j = 0; j < 256; j++) {
      const ax = Math.abs(x[xo + j]);
      if (ax > amax) {
        amax = ax;
        max = x[xo + j];
      }
    }
    if (amax === 0) {
      d[blk] = 0;
      qs.fill(0, qo, qo + 256);
      bsums.fill(0, blk * 16, blk * 16 + 16);
      continue;
    }
    const iscale = fr(-127 / max);
    for (let j = 0; j < 256; j++) {
      const v = nearestInt(fr(iscale * x[xo + j]));
      qs[qo + j] = v < 127 ? v : 127;
    }
    for (let g = 0; g < 16; g++) {
      let sum = 0;
      for (let j = 0; j < 16; j++) sum += qs[qo + g * 16 + j];
      bsums[blk * 16 + g] = sum;
    }
    d[blk] = fr(1 / iscale);
  }
}

/**
 * Packs row `row` of `a` as ggml lays out its activation blocks (block_q8_0:
 * half d + 32 quants; block_q8_1: half d, half s, 32 quants; block_q8_K:
 * float d, 256 quants, 16 int16 sums; F16/BF16: 16-bit values; F32: floats),
 * for comparison with ggml's own bytes.
 *
 * @example
 * ```ts
 * import { createGgmlActivations, GGML_TYPE, packGgmlActivations, quantizeGgmlActivations } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * const a = createGgmlActivations(GGML_TYPE.Q8_0, 32);
 * quantizeGgmlActivations(new Float32Array(32).fill(1), 0, a, 0);
 * assert.equal(packGgmlActivations(a, 0).length, 34);
 * ```
 */
export function packGgmlActivations(
  a: GgmlActivations,
  row: number,
): Uint8Array {
  const n = a.length;
  const base = row * n;
  const t = a.type;
  if (t === GGML_TYPE.F32) {
    return new Uint8Array(a.values.slice(base, base + n).buffer);
  }
  if (t === GGML_TYPE.F16 || t === GGML_TYPE.BF16) {
    const out = new Uint8Array(2 * n);
    for (let i = 0; i < n; i++) {
      const v = a.values[base + i];
      const h = t === GGML_TYPE.F16 ? floatToHalf(v) : floatToBf16(v);
      out[2 * i] = h & 0xff;
      out[2 * i + 1] = h >> 8;
    }
    return out;
  }
  const block = BLOCK[t];
  const size = t === GGML_TYPE.Q8_0 ? 34 : t === GGML_TYPE.Q8_1 ? 36 : 292;
  const out = new Uint8Array((n / block) * size);
  const dv = new DataView(out.buffer);
  for (let b = 0; b < n / block; b++) {
    const o = b * size;
    const blk = base / block + b;
    let q = o + 2;
    if (t === GGML_TYPE.Q8_K) {
      dv.setFloat32(o, a.d[blk], true);
      q = o + 4;
    } else {
      dv.setUint16(o, floatToHalf(a.d[blk]), true);
      if (t === GGML_TYPE.Q8_1) {
        dv.setUint16(o + 2, floatToHalf(a.s[blk]), true);
        q = o + 4;
      }
    }
    for (let j = 0; j < block; j++) {
      dv.setInt8(q + j, a.qs[base + b * block + j]);
    }
    if (t === GGML_TYPE.Q8_K) {
      for (let g = 0; g < 16; g++) {
        dv.setInt16(q + 256 + 2 * g, a.bsums[blk * 16 + g], true);
      }
    }
  }
  return out;
}

/**
 * The values row `row` of `a` stands for: the rounded floats (F32/F16/BF16)
 * or codes times their block scale (Q8_*), what a product with these
 * activations multiplies the weights by (Q8_1's sums aside: ggml adds the
 * minimum times `s`, the half-rounded `d·Σq`).
 *
 * @example
 * ```ts
 * import { createGgmlActivations, dequantizeGgmlActivations, GGML_TYPE, quantizeGgmlActivations } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * const a = createGgmlActivations(GGML_TYPE.Q8_0, 32);
 * quantizeGgmlActivations(Float32Array.from({ length: 32 }, (_, i) => i / 31), 0, a, 0);
 * assert.equal(dequantizeGgmlActivations(a, 0)[31], 0.99993896484375); // 127 × half(1/127)
 * ```
 */
export function dequantizeGgmlActivations(
  a: GgmlActivations,
  row: number,
): Float32Array {
  const n = a.length;
  const base = row * n;
  if (a.values.length > 0) return a.values.slice(base, base + n);
  const block = BLOCK[a.type];
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = a.qs[base + i] * a.d[(base + i - (i % block)) / block];
  }
  return out;
}
