/**
 * ggml's K types, super-blocks of 256 weights: Q4_K, Q5_K and Q6_K (the
 * types of `Q4_K_M`/`Q5_K_M`/`Q6_K` files). Layouts (halves little-endian):
 *
 * ```text
 * Q4_K  d, dmin, scales[12], qs[128]          8 sub-blocks of 32: x = d·sc·q − dmin·m   144 bytes
 * Q5_K  d, dmin, scales[12], qh[32], qs[128]  as Q4_K with a 5th bit per weight in qh  176 bytes
 * Q6_K  ql[128], qh[64], scales[16] int8, d   16 sub-blocks of 16: x = d·sc·(q − 32)    210 bytes
 * ```
 *
 * Q4_K/Q5_K pack 8 six-bit scales and 8 six-bit mins into 12 bytes
 * (ggml's `get_scale_min_k4`). Quants are stored in chunks of 64 weights:
 * byte l of a 32-byte run holds weight l in its low nibble and weight l+32 in
 * its high one. The quantizers are ggml's `quantize_row_q{4,5,6}_K_ref`
 * (with `make_qkx2_quants` / `make_qx_quants`), every float operation
 * rounded as C rounds it. Activations are Q8_K.
 *
 * @module
 */
import { GGML_TYPE } from "./types.ts";
import {
  checkBlocks,
  fr,
  type GgmlActivations,
  type GgmlBlockType,
  nearestInt,
  rowsOf,
} from "./common.ts";
import { floatToHalf, halfToFloatTable } from "./half.ts";

const H = halfToFloatTable();
const GROUP_MAX_EPS = Math.fround(1e-15);
const TENTH = Math.fround(0.1);

function half(src: Uint8Array, o: number): number {
  return H[src[o] | (src[o + 1] << 8)];
}

function putHalf(dst: Uint8Array, o: number, x: number): void {
  const h = floatToHalf(x);
  dst[o] = h & 0xff;
  dst[o + 1] = h >> 8;
}

/** Scale (`out[0]`) and min (`out[1]`) of sub-block j from the 12 packed bytes at `q`. */
function scaleMin(
  j: number,
  src: Uint8Array,
  q: number,
  out: Int32Array,
): void {
  if (j < 4) {
    out[0] = src[q + j] & 63;
    out[1] = src[q + j + 4] & 63;
  } else {
    out[0] = (src[q + j + 4] & 0xf) | ((src[q + j - 4] >> 6) << 4);
    out[1] = (src[q + j + 4] >> 4) | ((src[q + j] >> 6) << 4);
  }
}

const sm = new Int32Array(2);

// ---------------------------------------------------------------------------
// dequantization

function dequantQ4_K(
  src: Uint8Array,
  so: number,
  out: Float32Array,
  oo: number,
  n: number,
): void {
  checkBlocks("Q4_K", n, 256);
  for (let b = 0; b < n / 256; b++) {
    const o = so + b * 144;
    const d = half(src, o);
    const dmin = half(src, o + 2);
    let y = oo + b * 256;
    for (let c = 0; c < 4; c++) {
      scaleMin(2 * c, src, o + 4, sm);
      const d1 = fr(d * sm[0]), m1 = fr(dmin * sm[1]);
      scaleMin(2 * c + 1, src, o + 4, sm);
      const d2 = fr(d * sm[0]), m2 = fr(dmin * sm[1]);
      const q = o + 16 + 32 * c;
      for (let l = 0; l < 32; l++) {
        out[y + l] = fr(d1 * (src[q + l] & 0xf)) - m1;
      }
      for (let l = 0; l < 32; l++) {
        out[y + 32 + l] = fr(d2 * (src[q + l] >> 4)) - m2;
      }
      y += 64;
    }
  }
}

function dequantQ5_K(
  src: Uint8Array,
  so: number,
  out: Float32Array,
  oo: number,
  n: number,
): void {
  checkBlocks("Q5_K", n, 256);
  for (let b = 0; b < n / 256; b++) {
    const o = so + b * 176;
    const d = half(src, o);
    const dmin = half(src, o + 2);
    const qh = o + 16;
    let y = oo + b * 256;
    for (let c = 0; c < 4; c++) {
      scaleMin(2 * c, src, o + 4, sm);
      const d1 = fr(d * sm[0]), m1 = fr(dmin * sm[1]);
      scaleMin(2 * c + 1, src, o + 4, sm);
      const d2 = fr(d * sm[0]), m2 = fr(dmin * sm[1]);
      const q = o + 48 + 32 * c;
      const u1 = 1 << (2 * c), u2 = 2 << (2 * c);
      for (let l = 0; l < 32; l++) {
        out[y + l] =
          fr(d1 * ((src[q + l] & 0xf) + (src[qh + l] & u1 ? 16 : 0))) - m1;
      }
      for (let l = 0; l < 32; l++) {
        out[y + 32 + l] =
          fr(d2 * ((src[q + l] >> 4) + (src[qh + l] & u2 ? 16 : 0))) - m2;
      }
      y += 64;
    }
  }
}

function dequantQ6_K(
  src: Uint8Array,
  so: number,
  out: Float32Array,
  oo: number,
  n: number,
): void {
  checkBlocks("Q6_K", n, 256);
  for (let b = 0; b < n / 256; b++) {
    const o = so + b * 210;
    const d = half(src, o + 208);
    for (let h = 0; h < 2; h++) {
      const ql = o + 64 * h, qh = o + 128 + 32 * h, sc = o + 192 + 8 * h;
      const y = oo + b * 256 + 128 * h;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const hb = src[qh + l];
        const q1 = ((src[ql + l] & 0xf) | ((hb & 3) << 4)) - 32;
        const q2 = ((src[ql + l + 32] & 0xf) | (((hb >> 2) & 3) << 4)) - 32;
        const q3 = ((src[ql + l] >> 4) | (((hb >> 4) & 3) << 4)) - 32;
        const q4 = ((src[ql + l + 32] >> 4) | (((hb >> 6) & 3) << 4)) - 32;
        out[y + l] = fr(d * ((src[sc + is] << 24) >> 24)) * q1;
        out[y + l + 32] = fr(d * ((src[sc + is + 2] << 24) >> 24)) * q2;
        out[y + l + 64] = fr(d * ((src[sc + is + 4] << 24) >> 24)) * q3;
        out[y + l + 96] = fr(d * ((src[sc + is + 6] << 24) >> 24)) * q4;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// reference quantization

/**
 * ggml's `make_qkx2_quants`: a scale and a (non-positive) minimum for `n`
 * values with quants 0…nmax, refined by trying `nstep+1` scales around the
 * range and solving the weighted least-squares fit for each. Writes the
 * quants to L[lo…] and returns [scale, −min].
 */
function makeQkx2(
  n: number,
  nmax: number,
  x: Float32Array,
  xo: number,
  weights: Float32Array,
  L: Uint8Array,
  lo: number,
  Laux: Uint8Array,
  rmin: number,
  rdelta: number,
  nstep: number,
  out: Float32Array,
): void {
  let min = x[xo];
  let max = x[xo];
  let sumW = weights[0];
  let sumX = fr(sumW * x[xo]);
  for (let i = 1; i < n; i++) {
    const v = x[xo + i];
    if (v < min) min = v;
    if (v > max) max = v;
    const w = weights[i];
    sumW = fr(sumW + w);
    sumX = fr(sumX + fr(w * v));
  }
  if (min > 0) min = 0;
  if (max === min) {
    L.fill(0, lo, lo + n);
    out[0] = 0;
    out[1] = -min;
    return;
  }
  let iscale = fr(nmax / fr(max - min));
  let scale = fr(1 / iscale);
  let bestError = 0;
  for (let i = 0; i < n; i++) {
    const l = nearestInt(fr(iscale * fr(x[xo + i] - min)));
    L[lo + i] = l < 0 ? 0 : l > nmax ? nmax : l;
    const diff = fr(fr(fr(scale * L[lo + i]) + min) - x[xo + i]);
    bestError = fr(bestError + fr(weights[i] * fr(diff * diff)));
  }
  for (let is = 0; is <= nstep; is++) {
    // min moves to each better fit's minimum, and the next candidates scale from it
    iscale = fr(fr(fr(rmin + fr(rdelta * is)) + nmax) / fr(max - min));
    let sumL = 0, sumL2 = 0, sumXL = 0;
    for (let i = 0; i < n; i++) {
      let l = nearestInt(fr(iscale * fr(x[xo + i] - min)));
      l = l < 0 ? 0 : l > nmax ? nmax : l;
      Laux[i] = l;
      const wl = fr(weights[i] * l);
      sumL = fr(sumL + wl);
      sumL2 = fr(sumL2 + fr(wl * l));
      sumXL = fr(sumXL + fr(wl * x[xo + i]));
    }
    const D = fr(fr(sumW * sumL2) - fr(sumL * sumL));
    if (D > 0) {
      let thisScale = fr(fr(fr(sumW * sumXL) - fr(sumX * sumL)) / D);
      let thisMin = fr(fr(fr(sumL2 * sumX) - fr(sumL * sumXL)) / D);
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = fr(sumXL / sumL2);
      }
      let curError = 0;
      for (let i = 0; i < n; i++) {
        const diff = fr(fr(fr(thisScale * Laux[i]) + thisMin) - x[xo + i]);
        curError = fr(curError + fr(weights[i] * fr(diff * diff)));
      }
      if (curError < bestError) {
        for (let i = 0; i < n; i++) L[lo + i] = Laux[i];
        bestError = curError;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  out[0] = scale;
  out[1] = -min;
}

/**
 * ggml's `make_qx_quants` with `rmse_type` 1 and no importance weights (what
 * `quantize_row_q6_K_ref` calls): quants −nmax…nmax−1 (stored +nmax in
 * L[lo…]) and a scale chosen among 19 candidates by the x²-weighted fit.
 */
function makeQx(
  n: number,
  nmax: number,
  x: Float32Array,
  xo: number,
  L: Int8Array,
  lo: number,
): number {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[xo + i]);
    if (ax > amax) {
      amax = ax;
      max = x[xo + i];
    }
  }
  if (amax < GROUP_MAX_EPS) {
    L.fill(0, lo, lo + n);
    return 0;
  }
  let iscale = fr(-nmax / max);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const v = x[xo + i];
    let l = nearestInt(fr(iscale * v));
    l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
    L[lo + i] = l + nmax;
    const w = fr(v * v);
    sumlx = fr(sumlx + fr(fr(w * v) * l));
    suml2 = fr(suml2 + fr(fr(w * l) * l));
  }
  let scale = suml2 ? fr(sumlx / suml2) : 0;
  let best = fr(scale * sumlx);
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    iscale = fr(-fr(nmax + fr(TENTH * is)) / max);
    sumlx = 0;
    suml2 = 0;
    for (let i = 0; i < n; i++) {
      const v = x[xo + i];
      let l = nearestInt(fr(iscale * v));
      l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
      const w = fr(v * v);
      sumlx = fr(sumlx + fr(fr(w * v) * l));
      suml2 = fr(suml2 + fr(fr(w * l) * l));
    }
    if (suml2 > 0 && fr(sumlx * sumlx) > fr(best * suml2)) {
      for (let i = 0; i < n; i++) {
        const l = nearestInt(fr(iscale * x[xo + i]));
        L[lo + i] = nmax + (l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l);
      }
      scale = fr(sumlx / suml2);
      best = fr(scale * sumlx);
    }
  }
  return scale;
}

const Lq = new Uint8Array(256);
const Laux = new Uint8Array(32);
const weights = new Float32Array(32);
const fit = new Float32Array(2);
const subScales = new Float32Array(8);
const subMins = new Float32Array(8);

/** `quantize_row_q4_K_ref` (nmax 15) and `quantize_row_q5_K_ref` (nmax 31). */
function quantQ45K(
  x: Float32Array,
  xo: number,
  dst: Uint8Array,
  dso: number,
  n: number,
  five: boolean,
): void {
  checkBlocks(five ? "Q5_K" : "Q4_K", n, 256);
  const size = five ? 176 : 144;
  const nmax = five ? 31 : 15;
  for (let b = 0; b < n / 256; b++) {
    const xb = xo + b * 256;
    const o = dso + b * size;
    let maxScale = 0;
    let maxMin = 0;
    for (let j = 0; j < 8; j++) {
      let sumX2 = 0;
      for (let l = 0; l < 32; l++) {
        const v = x[xb + 32 * j + l];
        sumX2 = fr(sumX2 + fr(v * v));
      }
      const avX = fr(Math.sqrt(fr(sumX2 / 32)));
      for (let l = 0; l < 32; l++) {
        weights[l] = fr(avX + Math.abs(x[xb + 32 * j + l]));
      }
      if (five) {
        makeQkx2(
          32,
          31,
          x,
          xb + 32 * j,
          weights,
          Lq,
          32 * j,
          Laux,
          -0.5,
          TENTH,
          15,
          fit,
        );
      } else {makeQkx2(
          32,
          15,
          x,
          xb + 32 * j,
          weights,
          Lq,
          32 * j,
          Laux,
          -1,
          TENTH,
          20,
          fit,
        );}
      subScales[j] = fit[0];
      subMins[j] = fit[1];
      if (fit[0] > maxScale) maxScale = fit[0];
      if (fit[1] > maxMin) maxMin = fit[1];
    }
    const invScale = maxScale > 0 ? fr(63 / maxScale) : 0;
    const invMin = maxMin > 0 ? fr(63 / maxMin) : 0;
    const s = o + 4;
    for (let j = 0; j < 8; j++) {
      const ls = Math.min(63, nearestInt(fr(invScale * subScales[j])) & 0xff);
      const lm = Math.min(63, nearestInt(fr(invMin * subMins[j])) & 0xff);
      if (j < 4) {
        dst[s + j] = ls;
        dst[s + j + 4] = lm;
      } else {
        dst[s + j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
        dst[s + j - 4] |= (ls >> 4) << 6;
        dst[s + j] |= (lm >> 4) << 6;
      }
    }
    putHalf(dst, o, fr(maxScale / 63));
    putHalf(dst, o + 2, fr(maxMin / 63));
    const d0 = half(dst, o);
    const dmin0 = half(dst, o + 2);
    for (let j = 0; j < 8; j++) {
      scaleMin(j, dst, s, sm);
      const d = fr(d0 * sm[0]);
      if (!d) continue;
      const dm = fr(dmin0 * sm[1]);
      for (let ii = 0; ii < 32; ii++) {
        const l = nearestInt(fr(fr(x[xb + 32 * j + ii] + dm) / d));
        Lq[32 * j + ii] = l < 0 ? 0 : l > nmax ? nmax : l;
      }
    }
    if (five) {
      const qh = o + 16;
      dst.fill(0, qh, qh + 32);
      for (let c = 0; c < 4; c++) {
        const m1 = 1 << (2 * c), m2 = 2 << (2 * c);
        const ql = o + 48 + 32 * c;
        for (let j = 0; j < 32; j++) {
          let l1 = Lq[64 * c + j];
          if (l1 > 15) {
            l1 -= 16;
            dst[qh + j] |= m1;
          }
          let l2 = Lq[64 * c + j + 32];
          if (l2 > 15) {
            l2 -= 16;
            dst[qh + j] |= m2;
          }
          dst[ql + j] = l1 | (l2 << 4);
        }
      }
    } else {
      for (let c = 0; c < 4; c++) {
        const q = o + 16 + 32 * c;
        for (let l = 0; l < 32; l++) {
          dst[q + l] = Lq[64 * c + l] | (Lq[64 * c + l + 32] << 4);
        }
      }
    }
  }
}

const L6 = new Int8Array(256);
const scales6 = new Float32Array(16);

function quantQ6K(
  x: Float32Array,
  xo: number,
  dst: Uint8Array,
  dso: number,
  n: number,
): void {
  checkBlocks("Q6_K", n, 256);
  for (let b = 0; b < n / 256; b++) {
    const xb = xo + b * 256;
    const o = dso + b * 210;
    let maxScale = 0;
    let maxAbsScale = 0;
    for (let ib = 0; ib < 16; ib++) {
      const scale = makeQx(16, 32, x, xb + 16 * ib, L6, 16 * ib);
      scales6[ib] = scale;
      if (Math.abs(scale) > maxAbsScale) {
        maxAbsScale = Math.abs(scale);
        maxScale = scale;
      }
    }
    if (maxAbsScale < GROUP_MAX_EPS) {
      dst.fill(0, o, o + 210);
      continue;
    }
    const iscale = fr(-128 / maxScale);
    putHalf(dst, o + 208, fr(1 / iscale));
    const d0 = half(dst, o + 208);
    for (let ib = 0; ib < 16; ib++) {
      dst[o + 192 + ib] = Math.min(127, nearestInt(fr(iscale * scales6[ib]))) &
        0xff;
    }
    for (let j = 0; j < 16; j++) {
      const d = fr(d0 * ((dst[o + 192 + j] << 24) >> 24));
      if (!d) continue;
      for (let ii = 0; ii < 16; ii++) {
        let l = nearestInt(fr(x[xb + 16 * j + ii] / d));
        l = l < -32 ? -32 : l > 31 ? 31 : l;
        L6[16 * j + ii] = l + 32;
      }
    }
    for (let h = 0; h < 2; h++) {
      const ql = o + 64 * h, qh = o + 128 + 32 * h, j = 128 * h;
      for (let l = 0; l < 32; l++) {
        const a = L6[j + l],
          b2 = L6[j + l + 32],
          c = L6[j + l + 64],
          e = L6[j + l + 96];
        dst[ql + l] = (a & 0xf) | ((c & 0xf) << 4);
        dst[ql + l + 32] = (b2 & 0xf) | ((e & 0xf) << 4);
        dst[qh + l] = (a >> 4) | ((b2 >> 4) << 2) | ((c >> 4) << 4) |
          ((e >> 4) << 6);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// dot products with Q8_K activations

const scratch = new Float32Array(256);

function referenceDot(
  dequant: GgmlBlockType["dequantizeRow"],
  typeSize: number,
): GgmlBlockType["dotReference"] {
  return (w, wo, a, ao, n) => {
    let sum = 0;
    for (let b = 0; b < n / 256; b++) {
      dequant(w, wo + b * typeSize, scratch, 0, 256);
      const d = a.d[ao / 256 + b];
      for (let j = 0; j < 256; j++) {
        sum += scratch[j] * (a.qs[ao + b * 256 + j] * d);
      }
    }
    return sum;
  };
}

const sc8 = new Int32Array(8);
const mn8 = new Int32Array(8);

/** Unpacks the 8 six-bit scales and mins of the block whose scales start at `s`. */
function unpackScales(w: Uint8Array, s: number): void {
  for (let j = 0; j < 4; j++) {
    sc8[j] = w[s + j] & 63;
    mn8[j] = w[s + j + 4] & 63;
    sc8[j + 4] = (w[s + j + 8] & 0xf) | ((w[s + j] >> 6) << 4);
    mn8[j + 4] = (w[s + j + 8] >> 4) | ((w[s + j + 4] >> 6) << 4);
  }
}

function dotQ4_K(
  w: Uint8Array,
  wo: number,
  a: GgmlActivations,
  ao: number,
  n: number,
): number {
  const qs = a.qs, ad = a.d, bs = a.bsums;
  let sum = 0;
  for (let b = 0, o = wo, q = ao; b < n / 256; b++, o += 144, q += 256) {
    const blk = q >> 8;
    unpackScales(w, o + 4);
    let mins = 0;
    for (let j = 0; j < 8; j++) {
      mins += mn8[j] * (bs[blk * 16 + 2 * j] + bs[blk * 16 + 2 * j + 1]);
    }
    let sumi = 0;
    for (let c = 0; c < 4; c++) {
      const p = o + 16 + 32 * c, r = q + 64 * c;
      let lo = 0, hi = 0;
      for (let l = 0; l < 32; l++) {
        const v = w[p + l];
        lo += (v & 0xf) * qs[r + l];
        hi += (v >> 4) * qs[r + 32 + l];
      }
      sumi += sc8[2 * c] * lo + sc8[2 * c + 1] * hi;
    }
    const da = ad[blk];
    sum += H[w[o] | (w[o + 1] << 8)] * da * sumi -
      H[w[o + 2] | (w[o + 3] << 8)] * da * mins;
  }
  return sum;
}

function dotQ5_K(
  w: Uint8Array,
  wo: number,
  a: GgmlActivations,
  ao: number,
  n: number,
): number {
  const qs = a.qs, ad = a.d, bs = a.bsums;
  let sum = 0;
  for (let b = 0, o = wo, q = ao; b < n / 256; b++, o += 176, q += 256) {
    const blk = q >> 8;
    unpackScales(w, o + 4);
    let mins = 0;
    for (let j = 0; j < 8; j++) {
      mins += mn8[j] * (bs[blk * 16 + 2 * j] + bs[blk * 16 + 2 * j + 1]);
    }
    let sumi = 0;
    for (let c = 0; c < 4; c++) {
      const p = o + 48 + 32 * c, r = q + 64 * c, qh = o + 16;
      const s1 = 2 * c, s2 = 2 * c + 1;
      let lo = 0, hi = 0;
      for (let l = 0; l < 32; l++) {
        const v = w[p + l], h = w[qh + l];
        lo += ((v & 0xf) | (((h >> s1) & 1) << 4)) * qs[r + l];
        hi += ((v >> 4) | (((h >> s2) & 1) << 4)) * qs[r + 32 + l];
      }
      sumi += sc8[2 * c] * lo + sc8[2 * c + 1] * hi;
    }
    const da = ad[blk];
    sum += H[w[o] | (w[o + 1] << 8)] * da * sumi -
      H[w[o + 2] | (w[o + 3] << 8)] * da * mins;
  }
  return sum;
}

function dotQ6_K(
  w: Uint8Array,
  wo: number,
  a: GgmlActivations,
  ao: number,
  n: number,
): number {
  const qs = a.qs, ad = a.d, bs = a.bsums;
  let sum = 0;
  for (let b = 0, o = wo, q = ao; b < n / 256; b++, o += 210, q += 256) {
    const blk = q >> 8;
    let sumi = 0;
    for (let h = 0; h < 2; h++) {
      const ql = o + 64 * h,
        qh = o + 128 + 32 * h,
        sc = o + 192 + 8 * h,
        r = q + 128 * h;
      // 8 groups of 16: group g covers l in [16(g&1), +16) of quarter g>>1
      for (let g = 0; g < 8; g++) {
        const quarter = g >> 1, l0 = (g & 1) * 16;
        const lowAt = ql + (quarter & 1) * 32,
          shift = (quarter >> 1) * 4,
          hshift = quarter * 2;
        let s = 0;
        for (let l = l0; l < l0 + 16; l++) {
          const v = ((w[lowAt + l] >> shift) & 0xf) |
            (((w[qh + l] >> hshift) & 3) << 4);
          s += v * qs[r + 32 * quarter + l];
        }
        // quants are stored +32: Σ (v − 32)·a = Σ v·a − 32·Σ a
        const bsum = bs[blk * 16 + 8 * h + 2 * quarter + (g & 1)];
        sumi += ((w[sc + 2 * quarter + (g & 1)] << 24) >> 24) * (s - 32 * bsum);
      }
    }
    sum += H[w[o + 208] | (w[o + 209] << 8)] * ad[blk] * sumi;
  }
  return sum;
}

/**
 * Q4_K: super-blocks of 256 with 8 six-bit scales and mins (4.5 bits per
 * weight); activations Q8_K.
 *
 * @example
 * ```ts
 * import { ggmlQ4_K } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(ggmlQ4_K.blockSize, 256);
 * assert.equal(ggmlQ4_K.typeSize, 144);
 * ```
 */
export const ggmlQ4_K: GgmlBlockType = {
  id: GGML_TYPE.Q4_K,
  name: "Q4_K",
  blockSize: 256,
  typeSize: 144,
  vecDotType: GGML_TYPE.Q8_K,
  dequantizeRow: dequantQ4_K,
  quantizeRow: (x, xo, dst, dso, n) => quantQ45K(x, xo, dst, dso, n, false),
  dotReference: referenceDot(dequantQ4_K, 144),
  dot: dotQ4_K,
  dotRows: rowsOf(dotQ4_K),
};

/**
 * Q5_K: Q4_K with a fifth bit per weight (5.5 bits per weight); activations
 * Q8_K.
 *
 * @example
 * ```ts
 * import { ggmlQ5_K } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(ggmlQ5_K.typeSize, 176);
 * ```
 */
export const ggmlQ5_K: GgmlBlockType = {
  id: GGML_TYPE.Q5_K,
  name: "Q5_K",
  blockSize: 256,
  typeSize: 176,
  vecDotType: GGML_TYPE.Q8_K,
  dequantizeRow: dequantQ5_K,
  quantizeRow: (x, xo, dst, dso, n) => quantQ45K(x, xo, dst, dso, n, true),
  dotReference: referenceDot(dequantQ5_K, 176),
  dot: dotQ5_K,
  dotRows: rowsOf(dotQ5_K),
};

/**
 * Q6_K: 6-bit quants, 16 int8 scales and a half per 256 (6.5625 bits per
 * weight); activations Q8_K.
 *
 * @example
 * ```ts
 * import { ggmlQ6_K } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(ggmlQ6_K.typeSize, 210);
 * ```
 */
export const ggmlQ6_K: GgmlBlockType = {
  id: GGML_TYPE.Q6_K,
  name: "Q6_K",
  blockSize: 256,
  typeSize: 210,
  vecDotType: GGML_TYPE.Q8_K,
  dequantizeRow: dequantQ6_K,
  quantizeRow: quantQ6K,
  dotReference: referenceDot(dequantQ6_K, 210),
  dot: dotQ6_K,
  dotRows: rowsOf(dotQ6_K),
};
