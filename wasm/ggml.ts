// ggml block-type kernels in WebAssembly SIMD (AssemblyScript source),
// re-exported by wasm/kernels.ts and built with it by `deno task build:wasm`
// (twice: SIMD128 only, and with relaxed SIMD; ASC_FEATURE_RELAXED_SIMD picks
// the code path at compile time). Not Deno TypeScript: excluded from deno
// fmt/lint/check. The JS side is src/quant/ggml/wasm.ts.
//
// Weights are ggml's raw blocks (GGUF layout, see src/quant/ggml/*.ts), rows
// of whole blocks, row r at w + r·rowBytes. Activations are first rounded to
// the weight type's vec_dot_type exactly as src/quant/ggml/activations.ts
// does (Q8_0/Q8_1: scale max/127 rounded to half, multiplier 127/max, round
// half to even; Q8_K: ggml's quantize_row_q8_K_ref), then the products are
// integer dots per block scaled by d_w·d_a, as ggml computes them.
//
// Integer dots: with relaxed SIMD, i32x4.relaxed_dot_i8x16_i7x16_add_s whose
// 7-bit operand is always in 0..127 (exact on every engine): the unsigned
// quants of Q4/Q5/Q6 weights, or for Q8_0 weights the positive and negative
// parts of the activations. Without it, i16 activations and
// i32x4.dot_i16x8_s. Activation operand layouts (per `mode`):
//   0: i8 in order (nibble/6-bit weights, relaxed)
//   1: i8, per 16 elements [16 × max(q,0)][16 × max(−q,0)] (Q8_0 weights, relaxed)
//   2: i16 in order (SIMD128 build)
// Halves are converted by scaling their bits (no table); infinite or NaN
// scales (never written by ggml's quantizers) read as large finite values.

// ------------------------------------------------------------- helpers

// @ts-ignore: decorator
@inline function gHsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// @ts-ignore: decorator
@inline function gHsumI(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) +
    i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

// a + b·c, fused where relaxed SIMD allows it.
// @ts-ignore: decorator
@inline function gMadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(b, c, a);
  return f32x4.add(a, f32x4.mul(b, c));
}

// Half bits → float: the bits shifted into a float's place are the value
// times 2^-112 (subnormals included), so one multiply restores it.
// @ts-ignore: decorator
@inline function gHalf(p: usize): f32 {
  const h = <u32>load<u16>(p);
  const f = reinterpret<f32>((h & 0x7fff) << 13) * reinterpret<f32>(0x77800000);
  // sign by bit OR, not a branch: Q4_0/Q5_0 scales have random signs
  return reinterpret<f32>(reinterpret<u32>(f) | ((h & 0x8000) << 16));
}

// Float → nearest half (ties to even) → float: as floatToHalf in
// src/quant/ggml/half.ts.
function gRoundHalf(x: f32): f32 {
  const b = reinterpret<u32>(x);
  const sign = (b >> 16) & 0x8000;
  const exp = <i32>((b >> 23) & 0xff);
  const mant = b & 0x7fffff;
  let h: u32;
  if (exp == 0xff) {
    h = sign | (mant != 0 ? 0x7e00 : 0x7c00);
  } else {
    const e = exp - 127 + 15;
    if (e >= 31) {
      h = sign | 0x7c00;
    } else if (e <= 0) {
      const shift = 14 - e;
      if (shift > 24) {
        h = sign;
      } else {
        const m = mant | 0x800000;
        let v = m >> <u32>shift;
        const rem = m & ((<u32>1 << <u32>shift) - 1);
        const half = <u32>1 << <u32>(shift - 1);
        if (rem > half || (rem == half && (v & 1) != 0)) v++;
        h = sign | v;
      }
    } else {
      let v = (<u32>e << 10) | (mant >> 13);
      const rem = mant & 0x1fff;
      if (rem > 0x1000 || (rem == 0x1000 && (v & 1) != 0)) v++;
      h = sign | v;
    }
  }
  if ((h & 0x7c00) == 0x7c00) {
    return (h & 0x3ff) != 0 ? NaN : ((h & 0x8000) != 0 ? -Infinity : Infinity);
  }
  const f = reinterpret<f32>((h & 0x7fff) << 13) * reinterpret<f32>(0x77800000);
  return (h & 0x8000) != 0 ? -f : f;
}

// [Σ lanes of a, Σ lanes of b, Σ lanes of c, Σ lanes of d]: four rows'
// integer sums in one vector, so their scales apply in one multiply.
// @ts-ignore: decorator
@inline function gLaneSums4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(i32x4.shuffle(a, b, 0, 1, 4, 5), i32x4.shuffle(a, b, 2, 3, 6, 7));
  const cd = i32x4.add(i32x4.shuffle(c, d, 0, 1, 4, 5), i32x4.shuffle(c, d, 2, 3, 6, 7));
  return i32x4.add(i32x4.shuffle(ab, cd, 0, 2, 4, 6), i32x4.shuffle(ab, cd, 1, 3, 5, 7));
}

// The halves at p0..p3 as four floats (same scaling as gHalf, in one vector).
// @ts-ignore: decorator
@inline function gHalves4(p0: usize, p1: usize, p2: usize, p3: usize): v128 {
  let v = i32x4.splat(<i32>load<u16>(p0));
  v = i32x4.replace_lane(v, 1, <i32>load<u16>(p1));
  v = i32x4.replace_lane(v, 2, <i32>load<u16>(p2));
  v = i32x4.replace_lane(v, 3, <i32>load<u16>(p3));
  const mag = f32x4.mul(i32x4.shl(v128.and(v, i32x4.splat(0x7fff)), 13), f32x4.splat(reinterpret<f32>(0x77800000)));
  return v128.or(mag, i32x4.shl(v128.and(v, i32x4.splat(0x8000)), 16));
}

// Stores 16 int8 codes (one v128) as the activation operand of `mode` at
// element offset `e` of the operand starting at `qa`.
// @ts-ignore: decorator
@inline function gStoreCodes(qa: usize, e: usize, q: v128, mode: i32): void {
  if (mode == 0) {
    v128.store(qa + e, q);
  } else if (mode == 1) {
    v128.store(qa + (e << 1), i8x16.max_s(q, i8x16.splat(0)));
    v128.store(qa + (e << 1), i8x16.max_s(i8x16.neg(q), i8x16.splat(0)), 16);
  } else {
    v128.store(qa + (e << 1), i16x8.extend_low_i8x16_s(q));
    v128.store(qa + (e << 1), i16x8.extend_high_i8x16_s(q), 16);
  }
}

// ------------------------------------------------ activation rounding

/**
 * Q8_0 (and, with `s` ≠ 0, Q8_1) activations of `n` floats at x: per block of
 * 32, d[b] = half(max|x|/127) as a float, the codes into qa (per `mode`),
 * asum[b] = d[b]·Σ codes (f32; the Q4_0/Q5_0 offset correction), and for
 * Q8_1 s[b] = half(d·Σ codes) with the unrounded d.
 */
export function ggmlQuantizeQ8(
  x: usize, n: i32, qa: usize, d: usize, s: usize, asum: usize, mode: i32,
): void {
  const nb = n >> 5;
  for (let b = 0; b < nb; b++) {
    const xp = x + (<usize>b << 7);
    const v0 = v128.load(xp), v1 = v128.load(xp, 16);
    const v2 = v128.load(xp, 32), v3 = v128.load(xp, 48);
    const v4 = v128.load(xp, 64), v5 = v128.load(xp, 80);
    const v6 = v128.load(xp, 96), v7 = v128.load(xp, 112);
    let m = f32x4.max(f32x4.max(f32x4.abs(v0), f32x4.abs(v1)), f32x4.max(f32x4.abs(v2), f32x4.abs(v3)));
    m = f32x4.max(m, f32x4.max(f32x4.max(f32x4.abs(v4), f32x4.abs(v5)), f32x4.max(f32x4.abs(v6), f32x4.abs(v7))));
    const amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
    const dd: f32 = amax / <f32>127;
    const id: f32 = amax != 0 ? <f32>127 / amax : 0;
    const idv = f32x4.splat(id);
    const i0 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v0, idv)));
    const i1 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v1, idv)));
    const i2 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v2, idv)));
    const i3 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v3, idv)));
    const i4 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v4, idv)));
    const i5 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v5, idv)));
    const i6 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v6, idv)));
    const i7 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v7, idv)));
    const sum = gHsumI(i32x4.add(i32x4.add(i32x4.add(i0, i1), i32x4.add(i2, i3)), i32x4.add(i32x4.add(i4, i5), i32x4.add(i6, i7))));
    // saturating narrows, as ggml's packs
    const q0 = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(i0, i1), i16x8.narrow_i32x4_s(i2, i3));
    const q1 = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(i4, i5), i16x8.narrow_i32x4_s(i6, i7));
    const e = <usize>b << 5;
    gStoreCodes(qa, e, q0, mode);
    gStoreCodes(qa, e + 16, q1, mode);
    const dh = gRoundHalf(dd);
    store<f32>(d + (<usize>b << 2), dh);
    store<f32>(asum + (<usize>b << 2), dh * <f32>sum);
    if (s != 0) store<f32>(s + (<usize>b << 2), gRoundHalf(dd * <f32>sum));
  }
}

/**
 * Q8_K activations of `n` floats at x (ggml's quantize_row_q8_K_ref): per
 * block of 256, iscale = −127/max (max = the first value of largest
 * magnitude), codes = min(127, round-half-even(iscale·x)) into qa (per
 * `mode`), d[b] = 1/iscale; per block 64 bytes at bsums: the 16 sums of
 * codes per 16 (i16), then the 8 sums per 32 (i16, pairs of those), then 16
 * bytes of padding.
 */
export function ggmlQuantizeQ8K(
  x: usize, n: i32, qa: usize, d: usize, bsums: usize, mode: i32,
): void {
  const nb = n >> 8;
  for (let b = 0; b < nb; b++) {
    const xp = x + (<usize>b << 10);
    let m = f32x4.splat(0);
    for (let k = 0; k < 256; k += 4) m = f32x4.max(m, f32x4.abs(v128.load(xp + (<usize>k << 2))));
    const amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
    const e0 = <usize>b << 8;
    if (amax == 0) {
      store<f32>(d + (<usize>b << 2), 0);
      memory.fill(bsums + (<usize>b << 6), 0, 64);
      for (let g = 0; g < 16; g++) {
        gStoreCodes(qa, e0 + (<usize>g << 4), i8x16.splat(0), mode);
      }
      continue;
    }
    let mx: f32 = 0;
    for (let k = 0; k < 256; k++) {
      const v = load<f32>(xp + (<usize>k << 2));
      if (abs(v) == amax) {
        mx = v;
        break;
      }
    }
    const iscale: f32 = <f32>-127 / mx;
    const isv = f32x4.splat(iscale);
    const top = i32x4.splat(127);
    for (let g = 0; g < 16; g++) {
      const gp = xp + (<usize>g << 6);
      const i0 = i32x4.min_s(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(gp), isv))), top);
      const i1 = i32x4.min_s(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(gp, 16), isv))), top);
      const i2 = i32x4.min_s(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(gp, 32), isv))), top);
      const i3 = i32x4.min_s(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(gp, 48), isv))), top);
      store<i16>(bsums + (<usize>b << 6) + (<usize>g << 1), <i16>gHsumI(i32x4.add(i32x4.add(i0, i1), i32x4.add(i2, i3))));
      const q = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(i0, i1), i16x8.narrow_i32x4_s(i2, i3));
      gStoreCodes(qa, e0 + (<usize>g << 4), q, mode);
    }
    const bs = bsums + (<usize>b << 6);
    v128.store(bs, i16x8.narrow_i32x4_s(
      i32x4.extadd_pairwise_i16x8_s(v128.load(bs)),
      i32x4.extadd_pairwise_i16x8_s(v128.load(bs, 16)),
    ), 32);
    store<f32>(d + (<usize>b << 2), <f32>1 / iscale);
  }
}

// ------------------------------------------------ integer dot helpers

// acc += Σ a·u over 16 elements: u = 16 unsigned quants (0..127) in a
// v128, a = the activation operand (mode 0: i8 at ap; mode 2: i16 at ap).
// @ts-ignore: decorator
@inline function gDotU(acc: v128, u: v128, ap: usize): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(ap), u, acc);
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(u), v128.load(ap)));
  return i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(u), v128.load(ap, 16)));
}

// Bytes of activation operand per element for unsigned-quant weights.
// @ts-ignore: decorator
@inline function gAB(): usize {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 2;
}

// ------------------------------------------------------------- Q8_0

// Σ w·a over 16 signed weights at wp; activation operand (mode 1 or 2, 32
// bytes per 16 elements) at ap.
// @ts-ignore: decorator
@inline function gDotQ8(acc: v128, wp: usize, ap: usize): v128 {
  const w = v128.load(wp);
  if (ASC_FEATURE_RELAXED_SIMD) {
    // w·a = w·max(a,0) − w·max(−a,0): the activation parts are the 7-bit operands
    acc = i32x4.relaxed_dot_i8x16_i7x16_add_s(w, v128.load(ap), acc);
    return i32x4.sub(acc, i32x4.relaxed_dot_i8x16_i7x16_add_s(w, v128.load(ap, 16), i32x4.splat(0)));
  }
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w), v128.load(ap)));
  return i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w), v128.load(ap, 16)));
}

/** Q8_0 weights × Q8_0 activations (mode 1 relaxed, 2 SIMD128): out[r] = Σ_b d_w·d_a·Σ w·a. */
export function ggmlMatvecQ8_0(w: usize, qa: usize, d: usize, out: usize, rows: i32, cols: i32): void {
  const nb = cols >> 5;
  const rowBytes = <usize>nb * 34;
  let r = 0;
  // four rows per pass share the activation loads and one scale multiply
  for (; r + 4 <= rows; r += 4) {
    let w0 = w + <usize>r * rowBytes;
    let w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes;
    let acc = f32x4.splat(0);
    for (let b = 0; b < nb; b++) {
      const ap = qa + (<usize>b << 6);
      const i0 = gDotQ8(gDotQ8(i32x4.splat(0), w0 + 2, ap), w0 + 18, ap + 32);
      const i1 = gDotQ8(gDotQ8(i32x4.splat(0), w1 + 2, ap), w1 + 18, ap + 32);
      const i2 = gDotQ8(gDotQ8(i32x4.splat(0), w2 + 2, ap), w2 + 18, ap + 32);
      const i3 = gDotQ8(gDotQ8(i32x4.splat(0), w3 + 2, ap), w3 + 18, ap + 32);
      const dw = f32x4.mul(gHalves4(w0, w1, w2, w3), f32x4.splat(load<f32>(d + (<usize>b << 2))));
      acc = gMadd(acc, f32x4.convert_i32x4_s(gLaneSums4(i0, i1, i2, i3)), dw);
      w0 += 34;
      w1 += 34;
      w2 += 34;
      w3 += 34;
    }
    v128.store(out + (<usize>r << 2), acc);
  }
  for (; r < rows; r++) {
    let w0 = w + <usize>r * rowBytes;
    let acc0 = f32x4.splat(0);
    for (let b = 0; b < nb; b++) {
      const ap = qa + (<usize>b << 6);
      let i0 = gDotQ8(i32x4.splat(0), w0 + 2, ap);
      i0 = gDotQ8(i0, w0 + 18, ap + 32);
      acc0 = gMadd(acc0, f32x4.convert_i32x4_s(i0), f32x4.splat(gHalf(w0) * load<f32>(d + (<usize>b << 2))));
      w0 += 34;
    }
    store<f32>(out + (<usize>r << 2), gHsum(acc0));
  }
}

// ------------------------------------------------- Q4_0, Q4_1, Q5_0, Q5_1

// Integer dot of one 32-weight block whose 16 quant bytes are at qp (low
// nibble = element j, high = element j+16) with the activations at ap; for
// Q5, the fifth bits come from the u32 qh.
// @ts-ignore: decorator
@inline function gDotNibbles(qp: usize, ap: usize, five: bool, qh: u32): v128 {
  const bytes = v128.load(qp);
  let lo = v128.and(bytes, i8x16.splat(15));
  let hi = i8x16.shr_u(bytes, 4);
  if (five) {
    // spread the 32 bits of qh to one byte per element, then keep bit 4
    const sel = i8x16(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
    const hl = i8x16.shuffle(i32x4.splat(<i32>qh), i32x4.splat(0), 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const hh = i8x16.shuffle(i32x4.splat(<i32>qh), i32x4.splat(0), 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const bitL = i8x16.eq(v128.and(hl, sel), sel);
    const bitH = i8x16.eq(v128.and(hh, sel), sel);
    lo = v128.or(lo, v128.and(bitL, i8x16.splat(16)));
    hi = v128.or(hi, v128.and(bitH, i8x16.splat(16)));
  }
  const ab = gAB();
  const acc = gDotU(i32x4.splat(0), lo, ap);
  return gDotU(acc, hi, ap + (ab << 4));
}

/**
 * Q4_0 / Q5_0 (Q8_0 activations, mode 0 relaxed / 2 SIMD128) and Q4_1 / Q5_1
 * (Q8_1 activations): out[r] = Σ_b d_w·(d_a·Σ q·a − off·asum) for the
 * symmetric types (off 8 or 16, asum = d_a·Σ a), Σ_b d_w·d_a·Σ q·a + m_w·s_a
 * for the others. kind: 0 Q4_0, 1 Q4_1, 2 Q5_0, 3 Q5_1.
 */
export function ggmlMatvecQ4Q5(
  w: usize, qa: usize, d: usize, aux: usize, out: usize, rows: i32, cols: i32, kind: i32,
): void {
  if (kind == 0) gQ4Q5(w, qa, d, aux, out, rows, cols, false, false);
  else if (kind == 1) gQ4Q5(w, qa, d, aux, out, rows, cols, false, true);
  else if (kind == 2) gQ4Q5(w, qa, d, aux, out, rows, cols, true, false);
  else gQ4Q5(w, qa, d, aux, out, rows, cols, true, true);
}

// One specialisation per type (five, affine are constants after inlining).
// @ts-ignore: decorator
@inline function gQ4Q5(
  w: usize, qa: usize, d: usize, aux: usize, out: usize, rows: i32, cols: i32, five: bool, affine: bool,
): void {
  const nb = cols >> 5;
  const size: usize = five ? (affine ? 24 : 22) : (affine ? 20 : 18);
  const qsAt: usize = five ? (affine ? 8 : 6) : (affine ? 4 : 2);
  const qhAt: usize = affine ? 4 : 2;
  const off: f32 = five ? 16 : 8;
  const rowBytes = <usize>nb * size;
  const astep: usize = <usize>32 * gAB();
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    let w0 = w + <usize>r * rowBytes;
    let w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes;
    let acc = f32x4.splat(0);
    let corr = f32x4.splat(0);
    for (let b = 0; b < nb; b++) {
      const ap = qa + <usize>b * astep;
      const i0 = gDotNibbles(w0 + qsAt, ap, five, five ? load<u32>(w0 + qhAt) : 0);
      const i1 = gDotNibbles(w1 + qsAt, ap, five, five ? load<u32>(w1 + qhAt) : 0);
      const i2 = gDotNibbles(w2 + qsAt, ap, five, five ? load<u32>(w2 + qhAt) : 0);
      const i3 = gDotNibbles(w3 + qsAt, ap, five, five ? load<u32>(w3 + qhAt) : 0);
      const dw = gHalves4(w0, w1, w2, w3);
      const bo = <usize>b << 2;
      acc = gMadd(acc, f32x4.convert_i32x4_s(gLaneSums4(i0, i1, i2, i3)), f32x4.mul(dw, f32x4.splat(load<f32>(d + bo))));
      if (affine) corr = gMadd(corr, gHalves4(w0 + 2, w1 + 2, w2 + 2, w3 + 2), f32x4.splat(load<f32>(aux + bo)));
      else corr = gMadd(corr, dw, f32x4.splat(off * load<f32>(aux + bo)));
      w0 += size;
      w1 += size;
      w2 += size;
      w3 += size;
    }
    v128.store(out + (<usize>r << 2), affine ? f32x4.add(acc, corr) : f32x4.sub(acc, corr));
  }
  for (; r < rows; r++) {
    let w0 = w + <usize>r * rowBytes;
    let acc0 = f32x4.splat(0);
    let c0: f32 = 0;
    for (let b = 0; b < nb; b++) {
      const ap = qa + <usize>b * astep;
      const i0 = gDotNibbles(w0 + qsAt, ap, five, five ? load<u32>(w0 + qhAt) : 0);
      const da = load<f32>(d + (<usize>b << 2));
      const d0 = gHalf(w0);
      acc0 = gMadd(acc0, f32x4.convert_i32x4_s(i0), f32x4.splat(d0 * da));
      if (affine) c0 += gHalf(w0 + 2) * load<f32>(aux + (<usize>b << 2));
      else c0 -= d0 * (off * load<f32>(aux + (<usize>b << 2)));
      w0 += size;
    }
    store<f32>(out + (<usize>r << 2), gHsum(acc0) + c0);
  }
}

// ------------------------------------------------------- Q4_K, Q5_K

// The 8 six-bit scales (lanes 0..7) and mins (lanes 8..15) of a Q4_K/Q5_K
// block whose 12 scale bytes are at s (16 bytes are read; the rest are quants).
// @ts-ignore: decorator
@inline function gScalesK4(s: usize): v128 {
  const q = v128.load(s);
  // sc j<4: q[j]&63; sc j≥4: (q[j+4]&15) | (q[j−4]>>6)<<4;
  // m j<4: q[j+4]&63; m j≥4: (q[j+4]>>4) | (q[j]>>6)<<4
  const low = i8x16.shuffle(q, q, 0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11);
  const masked = v128.and(low, i8x16(63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 0, 0, 0, 0));
  const highNibble = v128.and(i8x16.shr_u(low, 4), i8x16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 15, 15, 15));
  const top = i8x16.shuffle(q, i8x16.splat(0), 16, 16, 16, 16, 0, 1, 2, 3, 16, 16, 16, 16, 4, 5, 6, 7);
  return v128.or(v128.or(masked, highNibble), i8x16.shl(i8x16.shr_u(top, 6), 4));
}

// i32 lanes all equal to unsigned byte j of v.
// @ts-ignore: decorator
@inline function gByteLanes(v: v128, j: u8): v128 {
  return i8x16.swizzle(v, i32x4.splat(<i32>j | 0x80808000));
}

// Σ_j sc_j·Σ q·a over one 256-block of Q4_K (five = false) or Q5_K weights
// at wb with scales/mins `sm` (gScalesK4), activations at ap (mode 0/2).
// @ts-ignore: decorator
@inline function gDotK45(wb: usize, ap: usize, five: bool, sm: v128): v128 {
  const ab = gAB();
  const qs = wb + (five ? 48 : 16);
  let isum = i32x4.splat(0);
  const h0 = five ? v128.load(wb + 16) : i32x4.splat(0);
  const h1 = five ? v128.load(wb + 32) : i32x4.splat(0);
  for (let c = 0; c < 4; c++) {
    const q = qs + (<usize>c << 5);
    const a = ap + (<usize>c << 6) * ab;
    const b0 = v128.load(q), b1 = v128.load(q, 16);
    let lo0 = v128.and(b0, i8x16.splat(15)), lo1 = v128.and(b1, i8x16.splat(15));
    let hi0 = i8x16.shr_u(b0, 4), hi1 = i8x16.shr_u(b1, 4);
    if (five) {
      const bitLo: i32 = 1 << (2 * c);
      const bitHi: i32 = 2 << (2 * c);
      const mlo = i8x16.splat(<i8>bitLo), mhi = i8x16.splat(<i8>bitHi);
      const s16 = i8x16.splat(16);
      lo0 = v128.or(lo0, v128.and(i8x16.eq(v128.and(h0, mlo), mlo), s16));
      lo1 = v128.or(lo1, v128.and(i8x16.eq(v128.and(h1, mlo), mlo), s16));
      hi0 = v128.or(hi0, v128.and(i8x16.eq(v128.and(h0, mhi), mhi), s16));
      hi1 = v128.or(hi1, v128.and(i8x16.eq(v128.and(h1, mhi), mhi), s16));
    }
    let dlo = gDotU(i32x4.splat(0), lo0, a);
    dlo = gDotU(dlo, lo1, a + (ab << 4));
    let dhi = gDotU(i32x4.splat(0), hi0, a + (ab << 5));
    dhi = gDotU(dhi, hi1, a + (ab << 5) + (ab << 4));
    isum = i32x4.add(isum, i32x4.mul(dlo, gByteLanes(sm, <u8>(2 * c))));
    isum = i32x4.add(isum, i32x4.mul(dhi, gByteLanes(sm, <u8>(2 * c + 1))));
  }
  return isum;
}

// Σ_j m_j·(Σ codes of sub-block j) as lane sums: mins are lanes 8..15 of sm,
// the 8 per-32 code sums are the i16x8 at bs + 32.
// @ts-ignore: decorator
@inline function gMinsK4(sm: v128, bs: usize): v128 {
  return i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(sm), v128.load(bs, 32));
}

/**
 * Q4_K (five = 0) or Q5_K (five = 1) weights × Q8_K activations (mode 0/2):
 * out[r] = Σ_b d_a·(d_w·Σ_j sc_j·Σ q·a − dmin_w·Σ_j m_j·Σ a).
 */
export function ggmlMatvecQ45K(
  w: usize, qa: usize, d: usize, bsums: usize, out: usize, rows: i32, cols: i32, five: i32,
): void {
  if (five != 0) gQ45K(w, qa, d, bsums, out, rows, cols, true);
  else gQ45K(w, qa, d, bsums, out, rows, cols, false);
}

// @ts-ignore: decorator
@inline function gQ45K(
  w: usize, qa: usize, d: usize, bsums: usize, out: usize, rows: i32, cols: i32, five: bool,
): void {
  const nb = cols >> 8;
  const size: usize = five ? 176 : 144;
  const rowBytes = <usize>nb * size;
  const astep: usize = <usize>256 * gAB();
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    let w0 = w + <usize>r * rowBytes;
    let w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes;
    let acc = f32x4.splat(0), corr = f32x4.splat(0);
    for (let b = 0; b < nb; b++) {
      const ap = qa + <usize>b * astep;
      const bs = bsums + (<usize>b << 6);
      const da = f32x4.splat(load<f32>(d + (<usize>b << 2)));
      const s0 = gScalesK4(w0 + 4), s1 = gScalesK4(w1 + 4), s2 = gScalesK4(w2 + 4), s3 = gScalesK4(w3 + 4);
      const i0 = gDotK45(w0, ap, five, s0), i1 = gDotK45(w1, ap, five, s1);
      const i2 = gDotK45(w2, ap, five, s2), i3 = gDotK45(w3, ap, five, s3);
      acc = gMadd(acc, f32x4.convert_i32x4_s(gLaneSums4(i0, i1, i2, i3)), f32x4.mul(gHalves4(w0, w1, w2, w3), da));
      const m = gLaneSums4(gMinsK4(s0, bs), gMinsK4(s1, bs), gMinsK4(s2, bs), gMinsK4(s3, bs));
      corr = gMadd(corr, f32x4.convert_i32x4_s(m), f32x4.mul(gHalves4(w0 + 2, w1 + 2, w2 + 2, w3 + 2), da));
      w0 += size;
      w1 += size;
      w2 += size;
      w3 += size;
    }
    v128.store(out + (<usize>r << 2), f32x4.sub(acc, corr));
  }
  for (; r < rows; r++) {
    let w0 = w + <usize>r * rowBytes;
    let acc0 = f32x4.splat(0);
    let c0: f32 = 0;
    for (let b = 0; b < nb; b++) {
      const ap = qa + <usize>b * astep;
      const da = load<f32>(d + (<usize>b << 2));
      const s0 = gScalesK4(w0 + 4);
      acc0 = gMadd(acc0, f32x4.convert_i32x4_s(gDotK45(w0, ap, five, s0)), f32x4.splat(gHalf(w0) * da));
      c0 += gHalf(w0 + 2) * da * <f32>gHsumI(gMinsK4(s0, bsums + (<usize>b << 6)));
      w0 += size;
    }
    store<f32>(out + (<usize>r << 2), gHsum(acc0) - c0);
  }
}

// ------------------------------------------------------------- Q6_K

// Σ_g sc_g·(Σ q·a − 32·bsum_g) over one Q6_K block at wb (quants stored +32).
// @ts-ignore: decorator
@inline function gDotQ6K(wb: usize, ap: usize, bs: usize): v128 {
  const ab = gAB();
  const scv = v128.load(wb + 192);
  const sc16a = i16x8.extend_low_i8x16_s(scv), sc16b = i16x8.extend_high_i8x16_s(scv);
  // the offset 32 of every quant: 32·Σ_g sc_g·bsum_g
  const corr = i32x4.shl(i32x4.add(
    i32x4.dot_i16x8_s(sc16a, v128.load(bs)),
    i32x4.dot_i16x8_s(sc16b, v128.load(bs, 16)),
  ), 5);
  let isum = i32x4.splat(0);
  for (let h = 0; h < 2; h++) {
    const ql = wb + (<usize>h << 6);
    const qh = wb + 128 + (<usize>h << 5);
    const sc32 = h == 0 ? sc16a : sc16b;
    const sA = i32x4.extend_low_i16x8_s(sc32), sB = i32x4.extend_high_i16x8_s(sc32);
    const a = ap + (<usize>h << 7) * ab;
    const l0 = v128.load(ql), l1 = v128.load(ql, 16);
    const l2 = v128.load(ql, 32), l3 = v128.load(ql, 48);
    const hb0 = v128.load(qh), hb1 = v128.load(qh, 16);
    const m15 = i8x16.splat(15), m48 = i8x16.splat(48);
    // quarter k of 32 elements: low nibbles of ql[0..32) (k=0), ql[32..64)
    // (k=1), their high nibbles (k=2, 3); two bits of qh each, moved to 4..5
    const q00 = v128.or(v128.and(l0, m15), v128.and(i8x16.shl(hb0, 4), m48));
    const q01 = v128.or(v128.and(l1, m15), v128.and(i8x16.shl(hb1, 4), m48));
    const q10 = v128.or(v128.and(l2, m15), v128.and(i8x16.shl(hb0, 2), m48));
    const q11 = v128.or(v128.and(l3, m15), v128.and(i8x16.shl(hb1, 2), m48));
    const q20 = v128.or(i8x16.shr_u(l0, 4), v128.and(hb0, m48));
    const q21 = v128.or(i8x16.shr_u(l1, 4), v128.and(hb1, m48));
    const q30 = v128.or(i8x16.shr_u(l2, 4), v128.and(i8x16.shr_u(hb0, 2), m48));
    const q31 = v128.or(i8x16.shr_u(l3, 4), v128.and(i8x16.shr_u(hb1, 2), m48));
    const s16 = ab << 4;
    isum = i32x4.add(isum, i32x4.mul(gDotU(i32x4.splat(0), q00, a), i32x4.shuffle(sA, sA, 0, 0, 0, 0)));
    isum = i32x4.add(isum, i32x4.mul(gDotU(i32x4.splat(0), q01, a + s16), i32x4.shuffle(sA, sA, 1, 1, 1, 1)));
    isum = i32x4.add(isum, i32x4.mul(gDotU(i32x4.splat(0), q10, a + 2 * s16), i32x4.shuffle(sA, sA, 2, 2, 2, 2)));
    isum = i32x4.add(isum, i32x4.mul(gDotU(i32x4.splat(0), q11, a + 3 * s16), i32x4.shuffle(sA, sA, 3, 3, 3, 3)));
    isum = i32x4.add(isum, i32x4.mul(gDotU(i32x4.splat(0), q20, a + 4 * s16), i32x4.shuffle(sB, sB, 0, 0, 0, 0)));
    isum = i32x4.add(isum, i32x4.mul(gDotU(i32x4.splat(0), q21, a + 5 * s16), i32x4.shuffle(sB, sB, 1, 1, 1, 1)));
    isum = i32x4.add(isum, i32x4.mul(gDotU(i32x4.splat(0), q30, a + 6 * s16), i32x4.shuffle(sB, sB, 2, 2, 2, 2)));
    isum = i32x4.add(isum, i32x4.mul(gDotU(i32x4.splat(0), q31, a + 7 * s16), i32x4.shuffle(sB, sB, 3, 3, 3, 3)));
  }
  return i32x4.sub(isum, corr);
}

/** Q6_K weights × Q8_K activations (mode 0/2): out[r] = Σ_b d_w·d_a·Σ_g sc_g·Σ (q−32)·a. */
export function ggmlMatvecQ6K(w: usize, qa: usize, d: usize, bsums: usize, out: usize, rows: i32, cols: i32): void {
  const nb = cols >> 8;
  const rowBytes = <usize>nb * 210;
  const astep: usize = <usize>256 * gAB();
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    let w0 = w + <usize>r * rowBytes;
    let w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes;
    let acc = f32x4.splat(0);
    for (let b = 0; b < nb; b++) {
      const ap = qa + <usize>b * astep;
      const bs = bsums + (<usize>b << 6);
      const i0 = gDotQ6K(w0, ap, bs), i1 = gDotQ6K(w1, ap, bs);
      const i2 = gDotQ6K(w2, ap, bs), i3 = gDotQ6K(w3, ap, bs);
      const dw = f32x4.mul(gHalves4(w0 + 208, w1 + 208, w2 + 208, w3 + 208), f32x4.splat(load<f32>(d + (<usize>b << 2))));
      acc = gMadd(acc, f32x4.convert_i32x4_s(gLaneSums4(i0, i1, i2, i3)), dw);
      w0 += 210;
      w1 += 210;
      w2 += 210;
      w3 += 210;
    }
    v128.store(out + (<usize>r << 2), acc);
  }
  for (; r < rows; r++) {
    let w0 = w + <usize>r * rowBytes;
    let acc0 = f32x4.splat(0);
    for (let b = 0; b < nb; b++) {
      const ap = qa + <usize>b * astep;
      const da = load<f32>(d + (<usize>b << 2));
      acc0 = gMadd(acc0, f32x4.convert_i32x4_s(gDotQ6K(w0, ap, bsums + (<usize>b << 6))), f32x4.splat(gHalf(w0 + 208) * da));
      w0 += 210;
    }
    store<f32>(out + (<usize>r << 2), gHsum(acc0));
  }
}

// ------------------------------------------------------- F16, BF16

// 8 halves at p → two f32x4 (lo: elements 0..3, returned; hi via gHalf8Hi).
// @ts-ignore: decorator
@inline function gHalf4(v: v128): v128 {
  // v: four halves in the low 16 bits of each i32 lane
  const mag = i32x4.shl(v128.and(v, i32x4.splat(0x7fff)), 13);
  const f = f32x4.mul(mag, f32x4.splat(reinterpret<f32>(0x77800000)));
  return v128.or(f, i32x4.shl(v128.and(v, i32x4.splat(0x8000)), 16));
}

/**
 * Rounds `n` floats at x to half (or bfloat16 when bf = 1) and back, in
 * place at xr: the F16/BF16 activations.
 */
export function ggmlRoundF16(x: usize, xr: usize, n: i32, bf: i32): void {
  for (let i = 0; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    let r: f32;
    if (bf != 0) {
      const b = reinterpret<u32>(v);
      const h = (b & 0x7fffffff) > 0x7f800000 ? ((b >> 16) | 64) : ((b + 0x7fff + ((b >> 16) & 1)) >> 16);
      r = reinterpret<f32>(h << 16);
    } else {
      r = gRoundHalf(v);
    }
    store<f32>(xr + (<usize>i << 2), r);
  }
}

/** F16 (bf = 0) or BF16 (bf = 1) weights × rounded float activations at xr. */
export function ggmlMatvecF16(w: usize, xr: usize, out: usize, rows: i32, cols: i32, bf: i32): void {
  const rowBytes = <usize>cols << 1;
  const c8 = cols & ~7;
  for (let r = 0; r < rows; r++) {
    const wr = w + <usize>r * rowBytes;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
    for (let c = 0; c < c8; c += 8) {
      const h = v128.load(wr + (<usize>c << 1));
      const lo = i32x4.extend_low_i16x8_u(h);
      const hi = i32x4.extend_high_i16x8_u(h);
      const xp = xr + (<usize>c << 2);
      if (bf != 0) {
        a0 = gMadd(a0, i32x4.shl(lo, 16), v128.load(xp));
        a1 = gMadd(a1, i32x4.shl(hi, 16), v128.load(xp, 16));
      } else {
        a0 = gMadd(a0, gHalf4(lo), v128.load(xp));
        a1 = gMadd(a1, gHalf4(hi), v128.load(xp, 16));
      }
    }
    let s = gHsum(f32x4.add(a0, a1));
    for (let c = c8; c < cols; c++) {
      const hp = wr + (<usize>c << 1);
      const wv: f32 = bf != 0 ? reinterpret<f32>(<u32>load<u16>(hp) << 16) : gHalf(hp);
      s += wv * load<f32>(xr + (<usize>c << 2));
    }
    store<f32>(out + (<usize>r << 2), s);
  }
}
