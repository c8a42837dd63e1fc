/**
 * The `"int8-groups"` activation format of the integer kernels: the input
 * vector is rounded to int8 per group once per product (as llama2.c's runq.c
 * does), so the inner loops are integer dot products over packed weights.
 * Every kernel whose `activation` is `"int8-groups"` uses exactly this
 * scheme, so its result equals the exact product of the dequantized weights
 * with {@linkcode dequantizeActivations}.
 *
 * @module
 */
import { roundHalfAway } from "../quant/granularity.ts";
import type { QMatrix } from "../quant/types.ts";

/**
 * Group size the activations of a product with `m` are quantized in: the
 * weight group size G when `m` is grouped (so one float multiply-add per group
 * combines both scales). Otherwise 32 when it divides `cols`, else the largest
 * divisor of `cols` up to 64 that is a multiple of 8 (the word-at-a-time
 * kernels), else the largest even one up to 128 (int4 packs weight pairs, so
 * a group must never split a byte), else the largest up to 64.
 *
 * @example
 * ```ts
 * import { activationGroupSize, int8 } from "@proj/tinyllm/kernels";
 * const m = int8.quantize(new Float32Array(2 * 64), 2, 64, "row");
 * console.log(activationGroupSize(m)); // 32
 * ```
 */
export function activationGroupSize(
  m: Pick<QMatrix, "cols" | "granularity">,
): number {
  if (typeof m.granularity === "number") return m.granularity;
  const cols = m.cols;
  if (cols % 32 === 0) return 32;
  for (let d = Math.min(64, cols); d >= 8; d--) {
    if (cols % d === 0 && d % 8 === 0) return d;
  }
  for (let d = Math.min(128, cols); d >= 2; d--) {
    if (cols % d === 0 && d % 2 === 0) return d;
  }
  for (let d = Math.min(64, cols); d > 1; d--) {
    if (cols % d === 0) return d;
  }
  return 1;
}

/**
 * Quantizes `x[xOff .. xOff+cols)` to int8 per group of `groupSize`:
 * `scale = absmax/127`, `q = round(x/scale)` (half away from zero). Writes the
 * codes to `q[qOff..]`, one scale per group to `s[sOff..]` and, per group,
 * `8 × Σq` to `bias[sOff..]` (int4 kernels subtract it instead of re-centring
 * every nibble).
 */
export function quantizeActivations(
  x: Float32Array,
  xOff: number,
  cols: number,
  groupSize: number,
  q: Int8Array,
  qOff: number,
  s: Float32Array,
  bias: Int32Array,
  sOff: number,
): void {
  for (let c0 = 0, g = sOff; c0 < cols; c0 += groupSize, g++) {
    let absmax = 0;
    const end = xOff + c0 + groupSize;
    for (let c = xOff + c0; c < end; c++) {
      const a = Math.abs(x[c]);
      if (a > absmax) absmax = a;
    }
    const scale = Math.fround(absmax / 127);
    s[g] = scale;
    const inv = scale === 0 ? 0 : 1 / scale;
    let sum = 0;
    for (let c = xOff + c0, o = qOff + c0; c < end; c++, o++) {
      let v = roundHalfAway(x[c] * inv);
      if (v > 127) v = 127;
      else if (v < -127) v = -127;
      q[o] = v;
      sum += v;
    }
    bias[g] = sum * 8;
  }
}

/**
 * What an activation-quantizing kernel actually multiplies by: `x` rounded to
 * int8 per group and scaled back (fp64). Used by tests to check such kernels
 * exactly, and to bound their error against the fp32 product.
 *
 * @example
 * ```ts
 * import { dequantizeActivations } from "@proj/tinyllm/kernels";
 * const x = new Float32Array([1, 0.5, -0.25, 0]);
 * const xq = dequantizeActivations(x, 4); // steps of 1/127 (in float32)
 * console.log(Math.round(xq[1] * 127), Math.abs(xq[0] - 1) < 1e-6); // 64 true
 * ```
 */
export function dequantizeActivations(
  x: Float32Array,
  groupSize: number,
): Float64Array {
  const n = x.length, ng = Math.ceil(n / groupSize);
  const q = new Int8Array(n), s = new Float32Array(ng);
  const bias = new Int32Array(ng);
  quantizeActivations(x, 0, n, groupSize, q, 0, s, bias, 0);
  const out = new Float64Array(n);
  for (let c = 0; c < n; c++) out[c] = q[c] * s[Math.floor(c / groupSize)];
  return out;
}

// Scratch for the quantized activations, shared by every kernel in this
// thread: grown on demand, never allocated per call.
let scratchQ = new Int8Array(4096);
let scratchS = new Float32Array(256);
let scratchBias = new Int32Array(256);

/** Int8 codes of the activations (at least `nq` long after {@linkcode activationScratch}). */
export function scratchCodes(): Int8Array {
  return scratchQ;
}
/** Per-group activation scales. */
export function scratchScales(): Float32Array {
  return scratchS;
}
/** Per-group `8 × Σq` (int4 re-centring term). */
export function scratchBiases(): Int32Array {
  return scratchBias;
}

/**
 * Multiplier packing two activation rows into one float64 (see
 * {@linkcode packActivationPairs}): a per-group dot product with it holds
 * `lo + hi·2^21` exactly while `|lo|, |hi| < 2^20`.
 */
export const PAIR_SHIFT = 2 ** 21;

let scratchPairs = new Float64Array(0);

/**
 * Packs the scratch codes of input rows 2j and 2j+1 (from
 * {@linkcode quantizeActivations}) as `P[j·cols + c] = q[2j][c] +
 * q[2j+1][c]·2^21` (the high half is 0 for the last row of an odd `n`), so
 * one multiply by an integer weight yields both rows' products and a
 * group's sum splits back exactly into two integer dot products:
 * `hi = round(S / 2^21)`, `lo = S − hi·2^21`. Only valid while every group's
 * |dot product| stays below 2^20. Returns the (reused) buffer.
 */
export function packActivationPairs(n: number, cols: number): Float64Array {
  const pairs = (n + 1) >> 1;
  if (scratchPairs.length < pairs * cols) {
    scratchPairs = new Float64Array(
      Math.max(pairs * cols, scratchPairs.length * 2),
    );
  }
  const p = scratchPairs, q = scratchQ;
  for (let j = 0; j < pairs; j++) {
    const lo = 2 * j * cols, hi = lo + cols, o = j * cols;
    if (2 * j + 1 < n) {
      for (let c = 0; c < cols; c++) {
        p[o + c] = q[lo + c] + q[hi + c] * PAIR_SHIFT;
      }
    } else {
      for (let c = 0; c < cols; c++) p[o + c] = q[lo + c];
    }
  }
  return p;
}

/**
 * Quantizes the `n` rows of `x` (`[n, cols]`) per group of `groupSize` into
 * the scratch buffers, as {@linkcode quantizeActivations}: row i's codes at
 * `i·cols` of {@linkcode scratchCodes}, its scales and biases at
 * `i·cols/groupSize` of {@linkcode scratchScales} and {@linkcode scratchBiases}
 * (read those after this call: it may grow them).
 */
export function quantizeActivationRows(
  x: Float32Array,
  n: number,
  cols: number,
  groupSize: number,
): void {
  const ng = cols / groupSize;
  activationScratch(n * cols, n * ng);
  for (let i = 0; i < n; i++) {
    quantizeActivations(
      x,
      i * cols,
      cols,
      groupSize,
      scratchQ,
      i * cols,
      scratchS,
      scratchBias,
      i * ng,
    );
  }
}

/** Makes sure the scratch buffers hold `nq` codes and `ns` groups. */
export function activationScratch(nq: number, ns: number): void {
  if (scratchQ.length < nq) {
    // 32 bytes of slack so word loads never straddle the end.
    scratchQ = new Int8Array(Math.max(nq, scratchQ.length * 2) + 32);
  }
  if (scratchS.length < ns) {
    const n = Math.max(ns, scratchS.length * 2);
    scratchS = new Float32Array(n);
    scratchBias = new Int32Array(n);
  }
}
