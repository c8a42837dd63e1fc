/**
 * IEEE half (F16) and bfloat16 (BF16) conversions as ggml does them: float →
 * half rounds to nearest, ties to even; float → bf16 rounds the same way on
 * the top 16 bits (ggml_compute_fp32_to_bf16). Half → float is exact and goes
 * through a 64K-entry table, since dot kernels convert a scale per block.
 *
 * @module
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * The float value of every half bit pattern (index = bits). 256 KiB, built on
 * first use.
 */
let halfTable: Float32Array | undefined;

function buildHalfTable(): Float32Array {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) t[h] = sign * mant * 2 ** -24;
    else if (exp === 31) t[h] = mant ? NaN : sign * Infinity;
    else t[h] = sign * (1024 + mant) * 2 ** (exp - 25);
  }
  return t;
}

/**
 * The half → float table (index = the 16 bits). Kernels keep a reference to
 * it instead of calling {@linkcode halfToFloat} per value.
 *
 * @example
 * ```ts
 * import { halfToFloatTable } from "./half.ts";
 * import assert from "node:assert/strict";
 * assert.equal(halfToFloatTable()[0x3c00], 1);
 * ```
 */
export function halfToFloatTable(): Float32Array {
  return halfTable ??= buildHalfTable();
}

/**
 * Half bits → float (exact).
 *
 * @example
 * ```ts
 * import { halfToFloat } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(halfToFloat(0xc000), -2);
 * ```
 */
export function halfToFloat(h: number): number {
  return (halfTable ??= buildHalfTable())[h & 0xffff];
}

/**
 * Float → half bits, rounding to nearest even (ggml's FP32_TO_FP16: F16C's
 * `vcvtps2ph` and its software fallback agree). Overflow gives ±infinity,
 * NaN gives 0x7e00 with the sign.
 *
 * @example
 * ```ts
 * import { floatToHalf } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(floatToHalf(1).toString(16), "3c00");
 * assert.equal(floatToHalf(65520).toString(16), "7c00");
 * ```
 */
export function floatToHalf(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | (mant ? 0x7e00 : 0x7c00);
  const e = exp - 127 + 15; // the half's biased exponent
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // subnormal half (or zero): shift the full significand into place
    const shift = 14 - e;
    if (shift > 24) return sign;
    const m = mant | 0x800000;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++; // a carry may reach infinity: correct
  return sign | h;
}

/**
 * Rounds a float to the nearest half value (and back to a number).
 *
 * @example
 * ```ts
 * import { roundToHalf } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(roundToHalf(0.1), 0.0999755859375);
 * ```
 */
export function roundToHalf(x: number): number {
  return halfToFloat(floatToHalf(x));
}

/**
 * bfloat16 bits → float (exact: the bits are a float's top half).
 *
 * @example
 * ```ts
 * import { bf16ToFloat } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(bf16ToFloat(0x3f80), 1);
 * ```
 */
export function bf16ToFloat(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

/**
 * Float → bfloat16 bits, rounding to nearest even; NaN stays a quiet NaN
 * (ggml_compute_fp32_to_bf16).
 *
 * @example
 * ```ts
 * import { floatToBf16 } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(floatToBf16(1).toString(16), "3f80");
 * ```
 */
export function floatToBf16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 64) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}
