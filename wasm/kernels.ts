// tinyllm WebAssembly SIMD kernels (AssemblyScript source).
//
// Built twice by `deno task build:wasm` (tools/build_wasm.ts) into
// src/wasm/kernels_wasm.ts: once with SIMD128 only and once with relaxed
// SIMD as well; `ASC_FEATURE_RELAXED_SIMD` picks the code path at compile time.
// This file is AssemblyScript, not Deno TypeScript: it is excluded from
// deno fmt/lint/check (see deno.json) and never imported by Deno code.
//
// Every pointer is a byte offset into the module's own memory. The JS side
// (src/wasm/runtime.ts) owns allocation; nothing here allocates.
//
// Layouts are the project's (see the brief): matrices row-major [rows, cols];
// int8 weights one signed byte each; int4 two per byte, weight 2i in the LOW
// nibble of byte i, stored as q+8 (0..15).

// ---------------------------------------------------------------- helpers

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// a + b * c as a rounded multiply, then a rounded add, in both builds:
// relaxed_madd may fuse or not depending on the hardware, so its results
// (and a seeded generation's text) would differ between machines and
// between the relaxed and SIMD128 builds (Deno and Node 20).
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  return f32x4.add(a, f32x4.mul(b, c));
}

// Dot product of `len` floats at p and q (any alignment, any length).
// @ts-ignore: decorator
@inline function dotF32(p: usize, q: usize, len: i32): f32 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let c = 0;
  for (; c + 8 <= len; c += 8) {
    const o = <usize>c << 2;
    a0 = madd(a0, v128.load(p + o), v128.load(q + o));
    a1 = madd(a1, v128.load(p + o, 16), v128.load(q + o, 16));
  }
  for (; c + 4 <= len; c += 4) {
    const o = <usize>c << 2;
    a0 = madd(a0, v128.load(p + o), v128.load(q + o));
  }
  let s = hsum(f32x4.add(a0, a1));
  for (; c < len; c++) {
    const o = <usize>c << 2;
    s += load<f32>(p + o) * load<f32>(q + o);
  }
  return s;
}

// ---------------------------------------------------------------- fp32

/** out[r] = Σ_c W[r,c]·x[c]; four rows share each load of x. */
export function matvecF32(
  w: usize, x: usize, out: usize, rows: i32, cols: i32,
): void {
  const rowBytes = <usize>cols << 2;
  const cols4 = cols & ~3;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const w0 = w + <usize>r * rowBytes;
    const w1 = w0 + rowBytes;
    const w2 = w1 + rowBytes;
    const w3 = w2 + rowBytes;
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    for (let c = 0; c < cols4; c += 4) {
      const o = <usize>c << 2;
      const xv = v128.load(x + o);
      a0 = madd(a0, v128.load(w0 + o), xv);
      a1 = madd(a1, v128.load(w1 + o), xv);
      a2 = madd(a2, v128.load(w2 + o), xv);
      a3 = madd(a3, v128.load(w3 + o), xv);
    }
    let s0 = hsum(a0);
    let s1 = hsum(a1);
    let s2 = hsum(a2);
    let s3 = hsum(a3);
    for (let c = cols4; c < cols; c++) {
      const o = <usize>c << 2;
      const xc = load<f32>(x + o);
      s0 += load<f32>(w0 + o) * xc;
      s1 += load<f32>(w1 + o) * xc;
      s2 += load<f32>(w2 + o) * xc;
      s3 += load<f32>(w3 + o) * xc;
    }
    const op = out + (<usize>r << 2);
    store<f32>(op, s0);
    store<f32>(op, s1, 4);
    store<f32>(op, s2, 8);
    store<f32>(op, s3, 12);
  }
  for (; r < rows; r++) {
    store<f32>(out + (<usize>r << 2), dotF32(w + <usize>r * rowBytes, x, cols));
  }
}

// One block of inputs of matmulF32 (out rows are outRowBytes apart).
function matmulF32Block(
  w: usize, x: usize, out: usize, n: i32, cols: i32, rows: i32,
  outRowBytes: usize,
): void {
  const rowBytes = <usize>cols << 2;
  const cols4 = cols & ~3;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const w0 = w + <usize>r * rowBytes;
    const w1 = w0 + rowBytes;
    const w2 = w1 + rowBytes;
    const w3 = w2 + rowBytes;
    let i = 0;
    for (; i + 2 <= n; i += 2) {
      const x0 = x + <usize>i * rowBytes;
      const x1 = x0 + rowBytes;
      let a00 = f32x4.splat(0), a01 = f32x4.splat(0);
      let a10 = f32x4.splat(0), a11 = f32x4.splat(0);
      let a20 = f32x4.splat(0), a21 = f32x4.splat(0);
      let a30 = f32x4.splat(0), a31 = f32x4.splat(0);
      for (let c = 0; c < cols4; c += 4) {
        const o = <usize>c << 2;
        const xv0 = v128.load(x0 + o);
        const xv1 = v128.load(x1 + o);
        let wv = v128.load(w0 + o);
        a00 = madd(a00, wv, xv0);
        a01 = madd(a01, wv, xv1);
        wv = v128.load(w1 + o);
        a10 = madd(a10, wv, xv0);
        a11 = madd(a11, wv, xv1);
        wv = v128.load(w2 + o);
        a20 = madd(a20, wv, xv0);
        a21 = madd(a21, wv, xv1);
        wv = v128.load(w3 + o);
        a30 = madd(a30, wv, xv0);
        a31 = madd(a31, wv, xv1);
      }
      let s00 = hsum(a00), s01 = hsum(a01);
      let s10 = hsum(a10), s11 = hsum(a11);
      let s20 = hsum(a20), s21 = hsum(a21);
      let s30 = hsum(a30), s31 = hsum(a31);
      for (let c = cols4; c < cols; c++) {
        const o = <usize>c << 2;
        const xc0 = load<f32>(x0 + o);
        const xc1 = load<f32>(x1 + o);
        const wc0 = load<f32>(w0 + o);
        const wc1 = load<f32>(w1 + o);
        const wc2 = load<f32>(w2 + o);
        const wc3 = load<f32>(w3 + o);
        s00 += wc0 * xc0;
        s01 += wc0 * xc1;
        s10 += wc1 * xc0;
        s11 += wc1 * xc1;
        s20 += wc2 * xc0;
        s21 += wc2 * xc1;
        s30 += wc3 * xc0;
        s31 += wc3 * xc1;
      }
      const o0 = out + <usize>i * outRowBytes + (<usize>r << 2);
      const o1 = o0 + outRowBytes;
      store<f32>(o0, s00);
      store<f32>(o0, s10, 4);
      store<f32>(o0, s20, 8);
      store<f32>(o0, s30, 12);
      store<f32>(o1, s01);
      store<f32>(o1, s11, 4);
      store<f32>(o1, s21, 8);
      store<f32>(o1, s31, 12);
    }
    if (i < n) {
      const xi = x + <usize>i * rowBytes;
      const oi = out + <usize>i * outRowBytes + (<usize>r << 2);
      store<f32>(oi, dotF32(w0, xi, cols));
      store<f32>(oi, dotF32(w1, xi, cols), 4);
      store<f32>(oi, dotF32(w2, xi, cols), 8);
      store<f32>(oi, dotF32(w3, xi, cols), 12);
    }
  }
  for (; r < rows; r++) {
    const wr = w + <usize>r * rowBytes;
    for (let i = 0; i < n; i++) {
      store<f32>(
        out + <usize>i * outRowBytes + (<usize>r << 2),
        dotF32(wr, x + <usize>i * rowBytes, cols),
      );
    }
  }
}

/**
 * out[i, r] = Σ_c W[r,c]·x[i,c] for n inputs. Inputs go in blocks of about
 * 32 KB, so a block stays in L1/L2 while all of W streams past it; within a
 * block, 4 weight rows stay in L1 while pairs of inputs pass (8
 * accumulators).
 */
export function matmulF32(
  w: usize, x: usize, out: usize, n: i32, cols: i32, rows: i32,
): void {
  const block = max(2, (8192 / max(cols, 1)) & ~1);
  const rowBytes = <usize>cols << 2;
  const outRowBytes = <usize>rows << 2;
  for (let i0 = 0; i0 < n; i0 += block) {
    matmulF32Block(
      w, x + <usize>i0 * rowBytes, out + <usize>i0 * outRowBytes,
      min(block, n - i0), cols, rows, outRowBytes,
    );
  }
}

// One tile of gemmAccF32: C rows m, m+1 × columns [k, k+16) (kb = 4k bytes),
// 8 accumulators over all J.
// @ts-ignore: decorator
@inline function gemmTile2(
  c: usize, a: usize, aRow: usize, aCol: usize, b: usize, rowBytes: usize,
  m: i32, kb: usize, J: i32,
): void {
  const c0 = c + <usize>m * rowBytes + kb;
  const c1 = c0 + rowBytes;
  let p00 = v128.load(c0), p01 = v128.load(c0, 16);
  let p02 = v128.load(c0, 32), p03 = v128.load(c0, 48);
  let p10 = v128.load(c1), p11 = v128.load(c1, 16);
  let p12 = v128.load(c1, 32), p13 = v128.load(c1, 48);
  let ap0 = a + <usize>m * aRow;
  let ap1 = ap0 + aRow;
  let bp = b + kb;
  for (let j = 0; j < J; j++) {
    const g0 = f32x4.splat(load<f32>(ap0));
    const g1 = f32x4.splat(load<f32>(ap1));
    let bv = v128.load(bp);
    p00 = madd(p00, g0, bv);
    p10 = madd(p10, g1, bv);
    bv = v128.load(bp, 16);
    p01 = madd(p01, g0, bv);
    p11 = madd(p11, g1, bv);
    bv = v128.load(bp, 32);
    p02 = madd(p02, g0, bv);
    p12 = madd(p12, g1, bv);
    bv = v128.load(bp, 48);
    p03 = madd(p03, g0, bv);
    p13 = madd(p13, g1, bv);
    ap0 += aCol;
    ap1 += aCol;
    bp += rowBytes;
  }
  v128.store(c0, p00);
  v128.store(c0, p01, 16);
  v128.store(c0, p02, 32);
  v128.store(c0, p03, 48);
  v128.store(c1, p10);
  v128.store(c1, p11, 16);
  v128.store(c1, p12, 32);
  v128.store(c1, p13, 48);
}

// The same tile for a single C row m.
// @ts-ignore: decorator
@inline function gemmTile1(
  c: usize, a: usize, aRow: usize, aCol: usize, b: usize, rowBytes: usize,
  m: i32, kb: usize, J: i32,
): void {
  const c0 = c + <usize>m * rowBytes + kb;
  let p00 = v128.load(c0), p01 = v128.load(c0, 16);
  let p02 = v128.load(c0, 32), p03 = v128.load(c0, 48);
  let ap0 = a + <usize>m * aRow;
  let bp = b + kb;
  for (let j = 0; j < J; j++) {
    const g0 = f32x4.splat(load<f32>(ap0));
    p00 = madd(p00, g0, v128.load(bp));
    p01 = madd(p01, g0, v128.load(bp, 16));
    p02 = madd(p02, g0, v128.load(bp, 32));
    p03 = madd(p03, g0, v128.load(bp, 48));
    ap0 += aCol;
    bp += rowBytes;
  }
  v128.store(c0, p00);
  v128.store(c0, p01, 16);
  v128.store(c0, p02, 32);
  v128.store(c0, p03, 48);
}

// One block of j of gemmAccF32.
function gemmAccBlock(
  c: usize, a: usize, aRowStride: i32, aColStride: i32, b: usize,
  M: i32, J: i32, K: i32, mOuter: i32,
): void {
  const rowBytes = <usize>K << 2;
  const aRow = <usize>aRowStride << 2;
  const aCol = <usize>aColStride << 2;
  const K16 = K & ~15;
  if (mOuter) {
    // each pair of C rows finishes all its columns before the next: the
    // strided walk down A's column stays in cache across column blocks
    let m = 0;
    for (; m + 2 <= M; m += 2) {
      for (let k = 0; k < K16; k += 16) {
        gemmTile2(c, a, aRow, aCol, b, rowBytes, m, <usize>k << 2, J);
      }
    }
    if (m < M) {
      for (let k = 0; k < K16; k += 16) {
        gemmTile1(c, a, aRow, aCol, b, rowBytes, m, <usize>k << 2, J);
      }
    }
  } else {
    // each 16-column strip of B serves every row of C while it is in cache
    for (let k = 0; k < K16; k += 16) {
      let m = 0;
      for (; m + 2 <= M; m += 2) {
        gemmTile2(c, a, aRow, aCol, b, rowBytes, m, <usize>k << 2, J);
      }
      if (m < M) gemmTile1(c, a, aRow, aCol, b, rowBytes, m, <usize>k << 2, J);
    }
  }
  let k = K16;
  for (; k + 4 <= K; k += 4) {
    const kb = <usize>k << 2;
    for (let m = 0; m < M; m++) {
      const c0 = c + <usize>m * rowBytes + kb;
      let p = v128.load(c0);
      let ap = a + <usize>m * aRow;
      let bp = b + kb;
      for (let j = 0; j < J; j++) {
        p = madd(p, f32x4.splat(load<f32>(ap)), v128.load(bp));
        ap += aCol;
        bp += rowBytes;
      }
      v128.store(c0, p);
    }
  }
  for (; k < K; k++) {
    const kb = <usize>k << 2;
    for (let m = 0; m < M; m++) {
      const c0 = c + <usize>m * rowBytes + kb;
      let s = load<f32>(c0);
      let ap = a + <usize>m * aRow;
      let bp = b + kb;
      for (let j = 0; j < J; j++) {
        s += load<f32>(ap) * load<f32>(bp);
        ap += aCol;
        bp += rowBytes;
      }
      store<f32>(c0, s);
    }
  }
}

/**
 * C[m, k] += Σ_j A[m, j]·B[j, k] for m < M, j < J, k < K, where A is addressed
 * with arbitrary strides (in floats) so the same kernel serves dx += dout·W
 * (A = dout) and dw += doutᵀ·x (A = doutᵀ, i.e. strides swapped). B and C are
 * row-major with K columns. Pairs of C rows × 16 columns live in 8
 * accumulators while j runs over a strip of B; `mOuter` picks the loop order
 * (1 when A's column stride is large, as for dw). j runs in blocks whose
 * rows of B (about 64 KB) stay in cache while every tile of C passes.
 */
export function gemmAccF32(
  c: usize, a: usize, aRowStride: i32, aColStride: i32, b: usize,
  M: i32, J: i32, K: i32, mOuter: i32,
): void {
  const block = max(16, 16384 / max(K, 1));
  for (let j0 = 0; j0 < J; j0 += block) {
    gemmAccBlock(
      c, a + <usize>j0 * (<usize>aColStride << 2), aRowStride, aColStride,
      b + <usize>j0 * (<usize>K << 2), M, min(block, J - j0), K, mOuter,
    );
  }
}

// ---------------------------------------------------- activation quantizing

/**
 * Quantizes `cols` floats at x per group of G to int8, exactly as
 * src/quant/activation.ts does (so wasm and TypeScript kernels agree):
 * scale = f32(absmax/127), q = clamp(roundHalfAway(x · (1/scale)), ±127) in
 * f64. Writes sx[g] = scale and, per mode, the codes:
 *   0: i16, in order (int8 weights; widened once here, not per row)
 *   1: i16, each 32-block as [16 even-index codes][16 odd-index codes]
 *      (int4 weights, SIMD128: matches the nibble unpacking order)
 *   2: i8, permuted like mode 1 (int4 weights, relaxed dot)
 *   3: i8, each 16-block as [positive parts][negative parts] (int8
 *      weights, relaxed dot: w·q = w·max(q,0) − w·max(−q,0))
 * corr[g] = 2·Σq over the group: the int4 kernels dot the stored nibbles
 * (q+8) and subtract 8·Σq, spread as 2·Σq over the 4 lanes.
 */
export function quantizeActs(
  x: usize, cols: i32, G: i32, qx: usize, sx: usize, corr: usize, mode: i32,
): void {
  const ng = cols / G;
  for (let g = 0; g < ng; g++) {
    const xg = x + (<usize>(g * G) << 2);
    let mv = f32x4.splat(0);
    let k = 0;
    for (; k + 4 <= G; k += 4) {
      mv = f32x4.max(mv, f32x4.abs(v128.load(xg + (<usize>k << 2))));
    }
    let amax = max(
      max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)),
      max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)),
    );
    for (; k < G; k++) amax = max(amax, abs(load<f32>(xg + (<usize>k << 2))));
    const scale: f32 = amax / 127;
    const inv: f64 = scale == 0 ? 0 : 1.0 / <f64>scale;
    store<f32>(sx + (<usize>g << 2), scale);
    let sum = 0;
    for (k = 0; k < G; k++) {
      const v: f64 = <f64>load<f32>(xg + (<usize>k << 2)) * inv;
      // round half away from zero, like roundHalfAway in granularity.ts
      const t = trunc(v);
      let q = <i32>t;
      if (abs(v - t) >= 0.5) q += v < 0 ? -1 : 1;
      q = min(127, max(-127, q));
      sum += q;
      const idx = g * G + k;
      if (mode == 0) {
        store<i16>(qx + (<usize>idx << 1), <i16>q);
      } else if (mode == 3) {
        // each 16-block as [16 × max(q, 0)][16 × max(-q, 0)]: both halves
        // are in 0..127, valid 7-bit operands of the relaxed dot
        const base = qx + <usize>((idx & ~15) << 1) + <usize>(idx & 15);
        store<i8>(base, <i8>(q > 0 ? q : 0));
        store<i8>(base, <i8>(q < 0 ? -q : 0), 16);
      } else {
        const within = idx & 31;
        const pos = (idx & ~31) + ((within & 1) << 4) + (within >> 1);
        if (mode == 1) store<i16>(qx + (<usize>pos << 1), <i16>q);
        else store<i8>(qx + <usize>pos, <i8>q);
      }
    }
    store<i32>(corr + (<usize>g << 2), sum << 1);
  }
}

// ------------------------------------------------ int8 / int4, integer dots

// [Σ lanes of a, Σ lanes of b, Σ lanes of c, Σ lanes of d]: four groups'
// integer sums in one vector, so their scales apply in one multiply.
// @ts-ignore: decorator
@inline function laneSums4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(i32x4.shuffle(a, b, 0, 1, 4, 5), i32x4.shuffle(a, b, 2, 3, 6, 7));
  const cd = i32x4.add(i32x4.shuffle(c, d, 0, 1, 4, 5), i32x4.shuffle(c, d, 2, 3, 6, 7));
  return i32x4.add(i32x4.shuffle(ab, cd, 0, 2, 4, 6), i32x4.shuffle(ab, cd, 1, 3, 5, 7));
}

// Σ of the four lanes: a group's exact integer total. The lanes themselves
// hold different partial sums in the relaxed and SIMD128 builds (their dot
// instructions pair elements differently), so only totals may meet floats:
// then both builds compute the same floats, bit for bit.
// @ts-ignore: decorator
@inline function isum(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) +
    (i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3));
}

// Integer dot of 16 int8 weights at wp with their codes at qp (32 bytes:
// i16 codes, or relaxed: positive then negative parts), added to acc.
// @ts-ignore: decorator
@inline function dotQ8Block(acc: v128, wp: usize, qp: usize): v128 {
  const v = v128.load(wp);
  if (ASC_FEATURE_RELAXED_SIMD) {
    // w·q = w·max(q,0) + (−w)·max(−q,0); −w fits (|w| ≤ 127)
    acc = i32x4.relaxed_dot_i8x16_i7x16_add_s(v, v128.load(qp), acc);
    return i32x4.relaxed_dot_i8x16_i7x16_add_s(i8x16.neg(v), v128.load(qp, 16), acc);
  }
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(v), v128.load(qp)));
  return i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(v), v128.load(qp, 16)));
}

/**
 * int8 weights, activations quantized per group of G (G % 16 == 0) by
 * quantizeActs mode 0 (SIMD128 build: i16 dots) or mode 3 (relaxed build:
 * relaxed dots whose 7-bit operand is the positive/negative part, exact): out[r] = Σ_g sw[r·rs + g·gs]·sx[g]·Σ_k qw·qx, where
 * (rs, gs) are the weight-scale strides: grouped (cols/G, 1), row (1, 0),
 * tensor (0, 0). Two rows share each activation load.
 */
export function matvecQ8G(
  w: usize, sw: usize, qx: usize, sx: usize, out: usize,
  rows: i32, cols: i32, G: i32, rs: i32, gs: i32,
): void {
  const ng = cols / G;
  let r = 0;
  for (; r + 2 <= rows; r += 2) {
    let wp0 = w + <usize>r * <usize>cols;
    let wp1 = wp0 + <usize>cols;
    const swp0 = sw + (<usize>(r * rs) << 2);
    const swp1 = swp0 + (<usize>rs << 2);
    let acc0 = f32x4.splat(0);
    let acc1 = f32x4.splat(0);
    let tail0: f32 = 0, tail1: f32 = 0;
    let qp = qx;
    let g = 0;
    // four groups at a time (as in matvecQ4G)
    for (; g + 4 <= ng; g += 4) {
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0);
      let a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      let b0 = i32x4.splat(0), b1 = i32x4.splat(0);
      let b2 = i32x4.splat(0), b3 = i32x4.splat(0);
      for (let k = 0; k < G; k += 16) {
        a0 = dotQ8Block(a0, wp0, qp);
        b0 = dotQ8Block(b0, wp1, qp);
        wp0 += 16;
        wp1 += 16;
        qp += 32;
      }
      for (let k = 0; k < G; k += 16) {
        a1 = dotQ8Block(a1, wp0, qp);
        b1 = dotQ8Block(b1, wp1, qp);
        wp0 += 16;
        wp1 += 16;
        qp += 32;
      }
      for (let k = 0; k < G; k += 16) {
        a2 = dotQ8Block(a2, wp0, qp);
        b2 = dotQ8Block(b2, wp1, qp);
        wp0 += 16;
        wp1 += 16;
        qp += 32;
      }
      for (let k = 0; k < G; k += 16) {
        a3 = dotQ8Block(a3, wp0, qp);
        b3 = dotQ8Block(b3, wp1, qp);
        wp0 += 16;
        wp1 += 16;
        qp += 32;
      }
      const go = <usize>g << 2;
      const sxv = v128.load(sx + go);
      const sw0 = gs != 0 ? v128.load(swp0 + go) : f32x4.splat(load<f32>(swp0));
      const sw1 = gs != 0 ? v128.load(swp1 + go) : f32x4.splat(load<f32>(swp1));
      acc0 = madd(acc0, f32x4.convert_i32x4_s(laneSums4(a0, a1, a2, a3)), f32x4.mul(sw0, sxv));
      acc1 = madd(acc1, f32x4.convert_i32x4_s(laneSums4(b0, b1, b2, b3)), f32x4.mul(sw1, sxv));
    }
    for (; g < ng; g++) {
      let i0 = i32x4.splat(0);
      let i1 = i32x4.splat(0);
      if (ASC_FEATURE_RELAXED_SIMD) {
        let n0 = i32x4.splat(0);
        let n1 = i32x4.splat(0);
        for (let k = 0; k < G; k += 16) {
          const qpos = v128.load(qp);
          const qneg = v128.load(qp, 16);
          const v0 = v128.load(wp0);
          const v1 = v128.load(wp1);
          i0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v0, qpos, i0);
          n0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v0, qneg, n0);
          i1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v1, qpos, i1);
          n1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v1, qneg, n1);
          wp0 += 16;
          wp1 += 16;
          qp += 32;
        }
        i0 = i32x4.sub(i0, n0);
        i1 = i32x4.sub(i1, n1);
      } else {
        for (let k = 0; k < G; k += 16) {
          const qlo = v128.load(qp);
          const qhi = v128.load(qp, 16);
          const v0 = v128.load(wp0);
          const v1 = v128.load(wp1);
          i0 = i32x4.add(i0, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(v0), qlo));
          i0 = i32x4.add(i0, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(v0), qhi));
          i1 = i32x4.add(i1, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(v1), qlo));
          i1 = i32x4.add(i1, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(v1), qhi));
          wp0 += 16;
          wp1 += 16;
          qp += 32;
        }
      }
      const s = load<f32>(sx + (<usize>g << 2));
      const wso = <usize>(g * gs) << 2;
      tail0 += <f32>isum(i0) * (load<f32>(swp0 + wso) * s);
      tail1 += <f32>isum(i1) * (load<f32>(swp1 + wso) * s);
    }
    store<f32>(out + (<usize>r << 2), hsum(acc0) + tail0);
    store<f32>(out + (<usize>r << 2), hsum(acc1) + tail1, 4);
  }
  for (; r < rows; r++) {
    let wp0 = w + <usize>r * <usize>cols;
    const swp0 = sw + (<usize>(r * rs) << 2);
    let acc: f32 = 0;
    let qp = qx;
    for (let g = 0; g < ng; g++) {
      let i0 = i32x4.splat(0);
      if (ASC_FEATURE_RELAXED_SIMD) {
        let n0 = i32x4.splat(0);
        for (let k = 0; k < G; k += 16) {
          const v0 = v128.load(wp0);
          i0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v0, v128.load(qp), i0);
          n0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v0, v128.load(qp, 16), n0);
          wp0 += 16;
          qp += 32;
        }
        i0 = i32x4.sub(i0, n0);
      } else {
        for (let k = 0; k < G; k += 16) {
          const v0 = v128.load(wp0);
          i0 = i32x4.add(i0, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(v0), v128.load(qp)));
          i0 = i32x4.add(i0, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(v0), v128.load(qp, 16)));
          wp0 += 16;
          qp += 32;
        }
      }
      const s = load<f32>(sx + (<usize>g << 2));
      acc += <f32>isum(i0) * (load<f32>(swp0 + (<usize>(g * gs) << 2)) * s);
    }
    store<f32>(out + (<usize>r << 2), acc);
  }
}

// Integer dot of one 32-weight int4 block (16 bytes at wp) with the permuted
// activation codes at qp, added to acc. Nibbles are q+8 in 0..15.
// @ts-ignore: decorator
@inline function dotQ4Block(acc: v128, wp: usize, qp: usize): v128 {
  const b = v128.load(wp);
  const lo = v128.and(b, i8x16.splat(15));
  const hi = i8x16.shr_u(b, 4);
  if (ASC_FEATURE_RELAXED_SIMD) {
    // the i7 operand (second) is the nibble, always in 0..15: exact on
    // every implementation.
    acc = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(qp), lo, acc);
    return i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(qp, 16), hi, acc);
  }
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(lo), v128.load(qp)));
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(lo), v128.load(qp, 16)));
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(hi), v128.load(qp, 32)));
  return i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(hi), v128.load(qp, 48)));
}

/**
 * int4 weights, activations quantized per group of G (G % 32 == 0) by
 * quantizeActs mode 2 (relaxed build) or 1 (SIMD128 build); weight-scale
 * strides (rs, gs) as in matvecQ8G.
 */
export function matvecQ4G(
  w: usize, sw: usize, qx: usize, sx: usize, corr: usize, out: usize,
  rows: i32, cols: i32, G: i32, rs: i32, gs: i32,
): void {
  const ng = cols / G;
  const rowBytes = <usize>(cols >> 1);
  // bytes of activation codes per 32-weight block
  const qStep: usize = ASC_FEATURE_RELAXED_SIMD ? 32 : 64;
  let r = 0;
  for (; r + 2 <= rows; r += 2) {
    let wp0 = w + <usize>r * rowBytes;
    let wp1 = wp0 + rowBytes;
    const swp0 = sw + (<usize>(r * rs) << 2);
    const swp1 = swp0 + (<usize>rs << 2);
    let acc0 = f32x4.splat(0);
    let acc1 = f32x4.splat(0);
    let tail0: f32 = 0, tail1: f32 = 0;
    let qp = qx;
    let g = 0;
    // four groups at a time: their integer sums share one convert, one
    // correction and one scale multiply per row
    for (; g + 4 <= ng; g += 4) {
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0);
      let a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      let b0 = i32x4.splat(0), b1 = i32x4.splat(0);
      let b2 = i32x4.splat(0), b3 = i32x4.splat(0);
      for (let k = 0; k < G; k += 32) {
        a0 = dotQ4Block(a0, wp0, qp);
        b0 = dotQ4Block(b0, wp1, qp);
        wp0 += 16;
        wp1 += 16;
        qp += qStep;
      }
      for (let k = 0; k < G; k += 32) {
        a1 = dotQ4Block(a1, wp0, qp);
        b1 = dotQ4Block(b1, wp1, qp);
        wp0 += 16;
        wp1 += 16;
        qp += qStep;
      }
      for (let k = 0; k < G; k += 32) {
        a2 = dotQ4Block(a2, wp0, qp);
        b2 = dotQ4Block(b2, wp1, qp);
        wp0 += 16;
        wp1 += 16;
        qp += qStep;
      }
      for (let k = 0; k < G; k += 32) {
        a3 = dotQ4Block(a3, wp0, qp);
        b3 = dotQ4Block(b3, wp1, qp);
        wp0 += 16;
        wp1 += 16;
        qp += qStep;
      }
      const go = <usize>g << 2;
      const cv = i32x4.shl(v128.load(corr + go), 2);
      const sxv = v128.load(sx + go);
      const sw0 = gs != 0 ? v128.load(swp0 + go) : f32x4.splat(load<f32>(swp0));
      const sw1 = gs != 0 ? v128.load(swp1 + go) : f32x4.splat(load<f32>(swp1));
      acc0 = madd(acc0, f32x4.convert_i32x4_s(i32x4.sub(laneSums4(a0, a1, a2, a3), cv)), f32x4.mul(sw0, sxv));
      acc1 = madd(acc1, f32x4.convert_i32x4_s(i32x4.sub(laneSums4(b0, b1, b2, b3), cv)), f32x4.mul(sw1, sxv));
    }
    for (; g < ng; g++) {
      const go = <usize>g << 2;
      const wso = <usize>(g * gs) << 2;
      const cv = i32x4.splat(load<i32>(corr + go));
      let i0 = i32x4.splat(0);
      let i1 = i32x4.splat(0);
      for (let k = 0; k < G; k += 32) {
        i0 = dotQ4Block(i0, wp0, qp);
        i1 = dotQ4Block(i1, wp1, qp);
        wp0 += 16;
        wp1 += 16;
        qp += qStep;
      }
      const s = load<f32>(sx + go);
      tail0 += <f32>isum(i32x4.sub(i0, cv)) * (load<f32>(swp0 + wso) * s);
      tail1 += <f32>isum(i32x4.sub(i1, cv)) * (load<f32>(swp1 + wso) * s);
    }
    store<f32>(out + (<usize>r << 2), hsum(acc0) + tail0);
    store<f32>(out + (<usize>r << 2), hsum(acc1) + tail1, 4);
  }
  for (; r < rows; r++) {
    let wp0 = w + <usize>r * rowBytes;
    const swp0 = sw + (<usize>(r * rs) << 2);
    let acc: f32 = 0;
    let qp = qx;
    for (let g = 0; g < ng; g++) {
      const go = <usize>g << 2;
      const wso = <usize>(g * gs) << 2;
      let i0 = i32x4.splat(0);
      for (let k = 0; k < G; k += 32) {
        i0 = dotQ4Block(i0, wp0, qp);
        wp0 += 16;
        qp += qStep;
      }
      i0 = i32x4.sub(i0, i32x4.splat(load<i32>(corr + go)));
      acc += <f32>isum(i0) * (load<f32>(swp0 + wso) * load<f32>(sx + go));
    }
    store<f32>(out + (<usize>r << 2), acc);
  }
}

// ------------------------------------------- sequences: weight-block reuse

// Rows per block in the sequence kernels: a block of weights (16 rows, at
// most a few KB) stays in L1 while every input of the chunk passes over it.
const ROW_BLOCK = 16;

/**
 * matvecQ8G for n inputs whose codes are qStride bytes apart and whose
 * scales are gStride bytes apart; out is [n, rows]. Loops row blocks outside
 * and inputs inside so each weight block is read from memory once.
 */
export function matmulQ8G(
  w: usize, sw: usize, qx: usize, sx: usize, out: usize, n: i32,
  rows: i32, cols: i32, G: i32, rs: i32, gs: i32, qStride: i32, gStride: i32,
): void {
  for (let r0 = 0; r0 < rows; r0 += ROW_BLOCK) {
    const rb = min(ROW_BLOCK, rows - r0);
    const wb = w + <usize>r0 * <usize>cols;
    const sb = sw + (<usize>(r0 * rs) << 2);
    for (let i = 0; i < n; i++) {
      matvecQ8G(
        wb, sb, qx + <usize>(i * qStride), sx + <usize>(i * gStride),
        out + (<usize>(i * rows + r0) << 2), rb, cols, G, rs, gs,
      );
    }
  }
}

/** matvecQ4G for n inputs, laid out as in matmulQ8G (corr like sx). */
export function matmulQ4G(
  w: usize, sw: usize, qx: usize, sx: usize, corr: usize, out: usize, n: i32,
  rows: i32, cols: i32, G: i32, rs: i32, gs: i32, qStride: i32, gStride: i32,
): void {
  for (let r0 = 0; r0 < rows; r0 += ROW_BLOCK) {
    const rb = min(ROW_BLOCK, rows - r0);
    const wb = w + <usize>r0 * <usize>(cols >> 1);
    const sb = sw + (<usize>(r0 * rs) << 2);
    for (let i = 0; i < n; i++) {
      const go = <usize>(i * gStride);
      matvecQ4G(
        wb, sb, qx + <usize>(i * qStride), sx + go, corr + go,
        out + (<usize>(i * rows + r0) << 2), rb, cols, G, rs, gs,
      );
    }
  }
}

// ------------------------------------------------------- decode attention

/** out[t] = Σ_i q[i]·keys[t·stride + i] for t < n (one head's scores). */
export function attnScores(
  q: usize, keys: usize, stride: i32, n: i32, hs: i32, out: usize,
): void {
  const rowBytes = <usize>stride << 2;
  for (let t = 0; t < n; t++) {
    store<f32>(out + (<usize>t << 2), dotF32(q, keys + <usize>t * rowBytes, hs));
  }
}

/** out[i] = Σ_t p[t]·values[t·stride + i] for i < hs (one head's mix). */
export function attnMix(
  p: usize, values: usize, stride: i32, n: i32, hs: i32, out: usize,
): void {
  const rowBytes = <usize>stride << 2;
  let i = 0;
  for (; i + 16 <= hs; i += 16) {
    const base = values + (<usize>i << 2);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let t = 0; t < n; t++) {
      const g = f32x4.splat(load<f32>(p + (<usize>t << 2)));
      const vp = base + <usize>t * rowBytes;
      a0 = madd(a0, g, v128.load(vp));
      a1 = madd(a1, g, v128.load(vp, 16));
      a2 = madd(a2, g, v128.load(vp, 32));
      a3 = madd(a3, g, v128.load(vp, 48));
    }
    const op = out + (<usize>i << 2);
    v128.store(op, a0);
    v128.store(op, a1, 16);
    v128.store(op, a2, 32);
    v128.store(op, a3, 48);
  }
  for (; i + 4 <= hs; i += 4) {
    const base = values + (<usize>i << 2);
    let a0 = f32x4.splat(0);
    for (let t = 0; t < n; t++) {
      a0 = madd(a0, f32x4.splat(load<f32>(p + (<usize>t << 2))), v128.load(base + <usize>t * rowBytes));
    }
    v128.store(out + (<usize>i << 2), a0);
  }
  for (; i < hs; i++) {
    const base = values + (<usize>i << 2);
    let s: f32 = 0;
    for (let t = 0; t < n; t++) {
      s += load<f32>(p + (<usize>t << 2)) * load<f32>(base + <usize>t * rowBytes);
    }
    store<f32>(out + (<usize>i << 2), s);
  }
}

// ggml block types (Q8_0, Q4_0, Q4_K, Q6_K, …): see wasm/ggml.ts
export * from "./ggml";
