/**
 * The WebAssembly SIMD kernel table: fp32, int8 and int4 products on the
 * packed weights, with the same contracts as the TypeScript kernels; see
 * `src/wasm/runtime.ts` for where operands live.
 *
 * int8/int4 quantize the activations per group to int8 exactly as
 * `src/quant/activation.ts` does (runq.c's scheme) and take integer dot
 * products: `i32x4.dot_i16x8_s` (SIMD128); with relaxed SIMD,
 * `i32x4.relaxed_dot_i8x16_i7x16_add_s` with a 7-bit operand that is always
 * in 0..127, so the result is exact on every engine: for int4 the stored
 * nibble (q+8, 0..15), for int8 the positive and negative parts of the
 * activation codes (w·q = w·max(q,0) + (−w)·max(−q,0), which needs the
 * layout's |w| ≤ 127). Four groups per pass share one int→float convert and
 * one scale multiply. Shapes whose
 * activation group is not a multiple of 16 (int8) or 32 (int4) run the
 * TypeScript kernel of the type instead.
 *
 * @module
 */
import { alignUp } from "../bytes.ts";
import { ConfigError, ShapeError } from "../errors.ts";
import { scaleStrides } from "../quant/granularity.ts";
import type { QMatrix } from "../quant/types.ts";
import {
  arenaOf,
  createArena,
  type WasmArena,
  wasmVariant,
} from "../wasm/runtime.ts";
import { activationGroupSize } from "./activation.ts";
import { GGML_WASM_KERNELS } from "./ggml.ts";
import { JS_KERNELS } from "./js.ts";
import type { KernelTable, LinearKernels } from "./types.ts";

/** Bytes {@linkcode placeMatrix} takes in an arena for `m` (with alignment). */
export function placedBytes(m: QMatrix): number {
  return alignUp(m.data.byteLength, 64) + alignUp(m.scales.byteLength, 64) +
    128;
}

/**
 * Copies a matrix into `arena` and returns the same matrix whose `data` and
 * `scales` are views into the arena's memory (so kernels use it in place).
 *
 * @example
 * ```ts
 * import { fp32, placeMatrix } from "@proj/tinyllm/kernels";
 * import { createArena, wasmVariant } from "@proj/tinyllm/wasm";
 * import assert from "node:assert/strict";
 * if (wasmVariant() !== "none") {
 *   const m = fp32.quantize(new Float32Array([1, 2, 3, 4]), 2, 2, "tensor");
 *   const arena = createArena(1024);
 *   const placed = placeMatrix(arena, m);
 *   assert.equal(arena.owns(placed.data), true);
 *   assert.deepEqual(Array.from(placed.data), [ 1, 2, 3, 4 ]);
 * }
 * ```
 */
export function placeMatrix(arena: WasmArena, m: QMatrix): QMatrix {
  return { ...m, data: arena.copyIn(m.data), scales: arena.copyIn(m.scales) };
}

/** How one product's operands were placed for the call. */
interface Call {
  arena: WasmArena;
  /** byte offsets of the matrix data and scales */
  w: number;
  s: number;
  /** input rows per chunk that fit the scratch */
  chunk: number;
  /** scratch layout: per-row extra area, then x and out copies if needed */
  extra: number;
  xScratch: number;
  outScratch: number;
  xIn: boolean;
  outIn: boolean;
}

// Matrices that were never placed get a copy in a pool arena on first use
// (so a kernel swap is fast without placing the whole model). Weights must
// not change after that first use.
const autoPlaced = new WeakMap<QMatrix, QMatrix>();
let pool: WasmArena | null = null;
const POOL_BYTES = 32 << 20;

/**
 * Scratch bytes an arena needs for products with matrices up to
 * `[rows, cols]`: a decode product with x and out copied in and the
 * quantized activations, and room for sequence chunks (1 MiB at least).
 */
export function productScratchBytes(rows: number, cols: number): number {
  return Math.max(1 << 20, (rows + 4 * cols) * 4 + 4096);
}

function residentCopy(m: QMatrix): QMatrix {
  let p = autoPlaced.get(m);
  if (p) return p;
  const need = placedBytes(m);
  if (
    !pool || pool.freeBytes < need || pool.variant !== wasmVariant() ||
    pool.scratchBytes < productScratchBytes(m.rows, m.cols)
  ) {
    pool = createArena(
      Math.max(need, POOL_BYTES),
      productScratchBytes(m.rows, m.cols),
    );
  }
  p = placeMatrix(pool, m);
  autoPlaced.set(m, p);
  return p;
}

/**
 * Finds the arena for a product with `m`: the matrix's own arena when it was
 * placed, else that of its pooled copy. x and out are used in place when they
 * live in the same arena, else copied through scratch in chunks of input
 * rows; `extraPerRow` bytes of scratch per input row are reserved for the
 * caller (quantized activations).
 */
function setUp(
  m: QMatrix,
  x: Float32Array,
  out: Float32Array,
  n: number,
  extraPerRow: number,
): Call {
  const { rows, cols } = m;
  let arena = arenaOf(m.data);
  if (!arena || (m.scales.length > 0 && !arena.owns(m.scales))) {
    m = residentCopy(m);
    arena = arenaOf(m.data)!;
  }
  const xIn = arena.owns(x), outIn = arena.owns(out);
  const perRow = extraPerRow + (xIn ? 0 : cols * 4) + (outIn ? 0 : rows * 4);
  const start = arena.ensureScratch(0);
  const room = arena.scratchBytes - 128; // alignment slack
  const chunk = perRow === 0 ? n : Math.min(n, Math.floor(room / perRow));
  if (chunk < 1) {
    throw new ConfigError(
      `WebAssembly arena scratch (${arena.scratchBytes} bytes) too small for a [${rows}, ${cols}] product`,
    );
  }
  const xScratch = alignUp(start + chunk * extraPerRow, 16);
  const outScratch = alignUp(xScratch + (xIn ? 0 : chunk * cols * 4), 16);
  return {
    arena,
    w: m.data.byteOffset,
    s: m.scales.byteOffset,
    chunk,
    extra: start,
    xScratch,
    outScratch,
    xIn,
    outIn,
  };
}

/**
 * Runs `body` over chunks of input rows with x and out placed in the arena:
 * `body(xPtr, outPtr, count)` for rows [i0, i0+count).
 */
function chunked(
  c: Call,
  m: QMatrix,
  x: Float32Array,
  n: number,
  out: Float32Array,
  body: (xPtr: number, outPtr: number, count: number) => void,
): void {
  const { rows, cols } = m;
  const f32 = c.arena.f32;
  for (let i0 = 0; i0 < n; i0 += c.chunk) {
    const count = Math.min(c.chunk, n - i0);
    let xPtr: number, outPtr: number;
    if (c.xIn) xPtr = x.byteOffset + i0 * cols * 4;
    else {
      xPtr = c.xScratch;
      f32.set(x.subarray(i0 * cols, (i0 + count) * cols), xPtr >> 2);
    }
    if (c.outIn) outPtr = out.byteOffset + i0 * rows * 4;
    else outPtr = c.outScratch;
    body(xPtr, outPtr, count);
    if (!c.outIn) {
      out.set(
        f32.subarray(outPtr >> 2, (outPtr >> 2) + count * rows),
        i0 * rows,
      );
    }
  }
}

/**
 * Checks operand sizes (wasm would read past them silently) and handles the
 * empty products; true when nothing is left to do.
 */
function trivial(
  m: QMatrix,
  x: Float32Array,
  n: number,
  out: Float32Array,
): boolean {
  const { rows, cols } = m;
  if (!(Number.isInteger(n) && n >= 0)) {
    throw new ShapeError(`wasm ${m.type} product: n must be >= 0, got ${n}`);
  }
  if (x.length < n * cols || out.length < n * rows) {
    throw new ShapeError(
      `wasm ${m.type} product with [${rows}, ${cols}]: x has ${x.length} floats (needs ${
        n * cols
      }), out ${out.length} (needs ${n * rows})`,
    );
  }
  if (n === 0 || rows === 0) return true;
  if (cols === 0) {
    out.fill(0, 0, n * rows);
    return true;
  }
  return false;
}

function fp32Matmul(
  m: QMatrix,
  x: Float32Array,
  n: number,
  out: Float32Array,
): void {
  if (trivial(m, x, n, out)) return;
  const c = setUp(m, x, out, n, 0);
  const k = c.arena.exports;
  chunked(c, m, x, n, out, (xp, op, count) => {
    if (count === 1) k.matvecF32(c.w, xp, op, m.rows, m.cols);
    else k.matmulF32(c.w, xp, op, count, m.cols, m.rows);
  });
}

const fp32Wasm: LinearKernels = {
  backend: "wasm",
  activation: "f32",
  matvec(m: QMatrix, x: Float32Array, out: Float32Array): void {
    fp32Matmul(m, x, 1, out);
  },
  matmul: fp32Matmul,
};

function quantMatmul(
  m: QMatrix,
  x: Float32Array,
  n: number,
  out: Float32Array,
  int4Weights: boolean,
  fallback: LinearKernels,
): void {
  if (trivial(m, x, n, out)) return;
  const gs = activationGroupSize(m);
  if (gs % (int4Weights ? 32 : 16) !== 0) {
    fallback.matmul(m, x, n, out);
    return;
  }
  const { rows, cols } = m;
  const ng = cols / gs;
  const { rowStride, groupStride } = scaleStrides(cols, m.granularity);
  // quantized activations per input row: codes, scales, int4 corrections
  const codeBytes = alignUp(cols * 2, 16);
  const groupBytes = alignUp(ng * 4, 16);
  const c = setUp(m, x, out, n, codeBytes + 2 * groupBytes);
  const k = c.arena.exports;
  const qx = c.extra;
  const sx = qx + c.chunk * codeBytes;
  const corr = sx + c.chunk * groupBytes;
  const relaxed = c.arena.variant === "relaxed";
  const mode = int4Weights ? (relaxed ? 2 : 1) : (relaxed ? 3 : 0);
  chunked(c, m, x, n, out, (xp, op, count) => {
    for (let i = 0; i < count; i++) {
      k.quantizeActs(
        xp + i * cols * 4,
        cols,
        gs,
        qx + i * codeBytes,
        sx + i * groupBytes,
        corr + i * groupBytes,
        mode,
      );
    }
    if (int4Weights) {
      k.matmulQ4G(
        c.w,
        c.s,
        qx,
        sx,
        corr,
        op,
        count,
        rows,
        cols,
        gs,
        rowStride,
        groupStride,
        codeBytes,
        groupBytes,
      );
    } else {
      k.matmulQ8G(
        c.w,
        c.s,
        qx,
        sx,
        op,
        count,
        rows,
        cols,
        gs,
        rowStride,
        groupStride,
        codeBytes,
        groupBytes,
      );
    }
  });
}

// The relaxed int8 dot negates weights, exact only for codes in -127..127
// (the layout's range); a matrix holding -128 (a hand-made or corrupt one)
// runs the TypeScript kernel instead. Checked once per data array.
const int8InRange = new WeakMap<ArrayBufferView, boolean>();

function hasNoMinus128(m: QMatrix): boolean {
  let ok = int8InRange.get(m.data);
  if (ok === undefined) {
    ok = !(m.data as Int8Array).includes(-128);
    int8InRange.set(m.data, ok);
  }
  return ok;
}

function int8Matmul(
  m: QMatrix,
  x: Float32Array,
  n: number,
  out: Float32Array,
): void {
  if (wasmVariant() === "relaxed" && !hasNoMinus128(m)) {
    JS_KERNELS.int8.matmul(m, x, n, out);
    return;
  }
  quantMatmul(m, x, n, out, false, JS_KERNELS.int8);
}

const int8Wasm: LinearKernels = {
  backend: "wasm",
  activation: "int8-groups",
  matvec(m: QMatrix, x: Float32Array, out: Float32Array): void {
    int8Matmul(m, x, 1, out);
  },
  matmul: int8Matmul,
};

const int4Wasm: LinearKernels = {
  backend: "wasm",
  activation: "int8-groups",
  matvec(m: QMatrix, x: Float32Array, out: Float32Array): void {
    quantMatmul(m, x, 1, out, true, JS_KERNELS.int4);
  },
  matmul(m: QMatrix, x: Float32Array, n: number, out: Float32Array): void {
    quantMatmul(m, x, n, out, true, JS_KERNELS.int4);
  },
};

/**
 * WebAssembly SIMD kernels, keyed by weight type; they run only where
 * {@linkcode wasmVariant} is not "none" (see `kernelsFor`).
 *
 * @example
 * ```ts
 * import { fp32, WASM_KERNELS } from "@proj/tinyllm/kernels";
 * import { wasmVariant } from "@proj/tinyllm/wasm";
 * import assert from "node:assert/strict";
 * if (wasmVariant() !== "none") {
 *   const m = fp32.quantize(new Float32Array([1, 2, 3, 4]), 2, 2, "tensor");
 *   const out = new Float32Array(2);
 *   WASM_KERNELS.fp32.matvec(m, new Float32Array([1, 1]), out);
 *   assert.deepEqual(Array.from(out), [3, 7]);
 * }
 * ```
 */
export const WASM_KERNELS: KernelTable = {
  fp32: fp32Wasm,
  int8: int8Wasm,
  int4: int4Wasm,
  ...GGML_WASM_KERNELS,
};
