/**
 * WebAssembly SIMD products for the ggml block types (kernels in
 * `wasm/ggml.ts`, part of the project's kernel module): the input is rounded
 * to the type's `vec_dot_type` inside wasm, bit for bit as
 * {@linkcode quantizeGgmlActivations}, then one integer-dot matvec per input
 * row. Operands follow the arena rules of `src/wasm/runtime.ts`:
 * weights already in an arena are used in place; others are copied once
 * into a pool arena on first use (and must not change afterwards).
 *
 * @module
 */
import { ShapeError } from "../../errors.ts";
import { GGML_TYPE } from "./types.ts";
import {
  arenaOf,
  createArena,
  type WasmArena,
  wasmVariant,
} from "../../wasm/runtime.ts";
import type { GgmlBlockType } from "./common.ts";

/** The ggml exports of the kernel module (pointers are byte offsets). */
interface GgmlKernelExports {
  matvecF32(
    w: number,
    x: number,
    out: number,
    rows: number,
    cols: number,
  ): void;
  ggmlQuantizeQ8(
    x: number,
    n: number,
    qa: number,
    d: number,
    s: number,
    asum: number,
    mode: number,
  ): void;
  ggmlQuantizeQ8K(
    x: number,
    n: number,
    qa: number,
    d: number,
    bsums: number,
    mode: number,
  ): void;
  ggmlMatvecQ8_0(
    w: number,
    qa: number,
    d: number,
    out: number,
    rows: number,
    cols: number,
  ): void;
  ggmlMatvecQ4Q5(
    w: number,
    qa: number,
    d: number,
    aux: number,
    out: number,
    rows: number,
    cols: number,
    kind: number,
  ): void;
  ggmlMatvecQ45K(
    w: number,
    qa: number,
    d: number,
    bsums: number,
    out: number,
    rows: number,
    cols: number,
    five: number,
  ): void;
  ggmlMatvecQ6K(
    w: number,
    qa: number,
    d: number,
    bsums: number,
    out: number,
    rows: number,
    cols: number,
  ): void;
  ggmlRoundF16(x: number, xr: number, n: number, bf: number): void;
  ggmlMatvecF16(
    w: number,
    xr: number,
    out: number,
    rows: number,
    cols: number,
    bf: number,
  ): void;
}

/** Types with wasm kernels (all of tinyllm's ggml types). */
const WASM_TYPES: ReadonlySet<number> = new Set([
  GGML_TYPE.F32,
  GGML_TYPE.F16,
  GGML_TYPE.BF16,
  GGML_TYPE.Q8_0,
  GGML_TYPE.Q4_0,
  GGML_TYPE.Q4_1,
  GGML_TYPE.Q5_0,
  GGML_TYPE.Q5_1,
  GGML_TYPE.Q4_K,
  GGML_TYPE.Q5_K,
  GGML_TYPE.Q6_K,
]);

/**
 * Whether {@linkcode ggmlMatmulWasm} can run this type here (the engine has
 * WebAssembly SIMD and the type has kernels).
 *
 * @example
 * ```ts
 * import { ggmlHasWasm, ggmlQ4_K } from "@proj/tinyllm/kernels";
 * import { wasmVariant } from "@proj/tinyllm/wasm";
 * import assert from "node:assert/strict";
 * assert.equal(ggmlHasWasm(ggmlQ4_K) === (wasmVariant() !== "none"), true);
 * ```
 */
export function ggmlHasWasm(t: GgmlBlockType): boolean {
  return wasmVariant() !== "none" && WASM_TYPES.has(t.id);
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

const placed = new WeakMap<Uint8Array, Uint8Array>();
let pool: WasmArena | null = null;
const POOL_BYTES = 32 << 20;
const SCRATCH_BYTES = 4 << 20;

/** The weights as bytes in an arena: in place, or a pooled copy made once. */
function resident(w: Uint8Array): Uint8Array {
  if (arenaOf(w)) return w;
  let p = placed.get(w);
  if (p) return p;
  const need = alignUp(w.byteLength, 64) + 64;
  if (!pool || pool.freeBytes < need || pool.variant !== wasmVariant()) {
    pool = createArena(Math.max(need, POOL_BYTES), SCRATCH_BYTES);
  }
  p = pool.copyIn(w);
  placed.set(w, p);
  return p;
}

/**
 * `out[i, r] = Σ_c W[r,c]·x[i, c]` for `n` input rows, in WebAssembly SIMD
 * (see the module doc); same results as {@linkcode ggmlMatmul} up to float
 * summation order.
 *
 * @throws {ShapeError} when the sizes disagree
 * @throws {ConfigError} when the engine has no WebAssembly SIMD
 *
 * @example
 * ```ts
 * import { ggmlHasWasm, ggmlMatmulWasm, ggmlQ4_0, ggmlQuantize } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * if (ggmlHasWasm(ggmlQ4_0)) {
 *   const w = ggmlQuantize(ggmlQ4_0, new Float32Array(64).fill(1), 2, 32);
 *   const out = new Float32Array(2);
 *   ggmlMatmulWasm(ggmlQ4_0, w, 2, 32, new Float32Array(32).fill(0.5), 1, out);
 *   // 32 × 1 × 0.5, within the fp16 scales' rounding
 *   assert.ok(out.every((v) => Math.abs(v - 16) < 0.01), String(out));
 * }
 * ```
 */
export function ggmlMatmulWasm(
  t: GgmlBlockType,
  w: Uint8Array,
  rows: number,
  cols: number,
  x: Float32Array,
  n: number,
  out: Float32Array,
): void {
  if (!WASM_TYPES.has(t.id)) {
    throw new ShapeError(`${t.name}: no WebAssembly kernel`);
  }
  if (cols % t.blockSize !== 0) {
    throw new ShapeError(
      `${t.name}: rows of ${cols} are not a whole number of ${t.blockSize}-element blocks`,
    );
  }
  const rowBytes = (cols / t.blockSize) * t.typeSize;
  if (
    w.length < rows * rowBytes || x.length < n * cols || out.length < n * rows
  ) {
    throw new ShapeError(
      `${t.name}: a ${rows}×${cols} product over ${n} inputs needs ${
        rows * rowBytes
      } weight bytes, ${n * cols} inputs and ${
        n * rows
      } outputs, got ${w.length}, ${x.length} and ${out.length}`,
    );
  }
  if (n === 0 || rows === 0) return;
  const wr = resident(w);
  const arena = arenaOf(wr)!;
  const k = arena.exports as unknown as GgmlKernelExports;
  const relaxed = arena.variant === "relaxed";
  const id = t.id;
  const kBlocks = t.blockSize === 256;
  const nb32 = cols / 32;
  // scratch: x (floats), activation operand (2 bytes per element at most),
  // d, aux (asum / s / bsums), then as many output rows as fit
  const base = arena.ensureScratch(0);
  const xp = base;
  const qa = alignUp(xp + cols * 4, 64);
  const dp = alignUp(qa + cols * 2, 64);
  const auxp = alignUp(dp + nb32 * 4, 64);
  const sp = alignUp(auxp + (cols / 16) * 4, 64);
  const outp = alignUp(sp + nb32 * 4, 64);
  const room = base + arena.scratchBytes - outp;
  const chunk = Math.floor(room / 4);
  if (chunk < 1) {
    throw new ShapeError(
      `${t.name}: rows of ${cols} are too long for the wasm scratch area`,
    );
  }
  const f32 = arena.f32;
  const wp = wr.byteOffset;
  for (let i = 0; i < n; i++) {
    f32.set(x.subarray(i * cols, (i + 1) * cols), xp >> 2);
    // round the input once (mode: 0 i8, 1 i8 positive/negative parts, 2 i16)
    if (id === GGML_TYPE.F16 || id === GGML_TYPE.BF16) {
      k.ggmlRoundF16(xp, xp, cols, id === GGML_TYPE.BF16 ? 1 : 0);
    } else if (kBlocks) {
      k.ggmlQuantizeQ8K(xp, cols, qa, dp, auxp, relaxed ? 0 : 2);
    } else if (id !== GGML_TYPE.F32) {
      const q8_1 = id === GGML_TYPE.Q4_1 || id === GGML_TYPE.Q5_1;
      const mode = relaxed ? (id === GGML_TYPE.Q8_0 ? 1 : 0) : 2;
      k.ggmlQuantizeQ8(xp, cols, qa, dp, q8_1 ? sp : 0, auxp, mode);
    }
    for (let r0 = 0; r0 < rows; r0 += chunk) {
      const count = Math.min(chunk, rows - r0);
      const w0 = wp + r0 * rowBytes;
      switch (id) {
        case GGML_TYPE.F32:
          k.matvecF32(w0, xp, outp, count, cols);
          break;
        case GGML_TYPE.F16:
        case GGML_TYPE.BF16:
          k.ggmlMatvecF16(
            w0,
            xp,
            outp,
            count,
            cols,
            id === GGML_TYPE.BF16 ? 1 : 0,
          );
          break;
        case GGML_TYPE.Q8_0:
          k.ggmlMatvecQ8_0(w0, qa, dp, outp, count, cols);
          break;
        case GGML_TYPE.Q4_0:
          k.ggmlMatvecQ4Q5(w0, qa, dp, auxp, outp, count, cols, 0);
          break;
        case GGML_TYPE.Q4_1:
          k.ggmlMatvecQ4Q5(w0, qa, dp, sp, outp, count, cols, 1);
          break;
        case GGML_TYPE.Q5_0:
          k.ggmlMatvecQ4Q5(w0, qa, dp, auxp, outp, count, cols, 2);
          break;
        case GGML_TYPE.Q5_1:
          k.ggmlMatvecQ4Q5(w0, qa, dp, sp, outp, count, cols, 3);
          break;
        case GGML_TYPE.Q4_K:
          k.ggmlMatvecQ45K(w0, qa, dp, auxp, outp, count, cols, 0);
          break;
        case GGML_TYPE.Q5_K:
          k.ggmlMatvecQ45K(w0, qa, dp, auxp, outp, count, cols, 1);
          break;
        default:
          k.ggmlMatvecQ6K(w0, qa, dp, auxp, outp, count, cols);
      }
      out.set(f32.subarray(outp >> 2, (outp >> 2) + count), i * rows + r0);
    }
  }
}
