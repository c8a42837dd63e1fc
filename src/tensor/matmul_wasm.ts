/**
 * WebAssembly SIMD versions of the training products in
 * `src/tensor/matmul.ts`, with the same signatures and semantics:
 * {@linkcode matmulF32Wasm} is `out = x · Wᵀ`, {@linkcode matmulBackwardF32Wasm}
 * accumulates `dx += dout · W` and `dw += doutᵀ · x`.
 *
 * Operands that live in one WebAssembly arena (e.g. parameters allocated with
 * `WasmArena.allocF32`) are used in place; all others are copied into the
 * shared scratch arena for the call and results copied back, which costs
 * O(size) against the product's O(n·size).
 *
 * @module
 */
import { alignUp } from "../bytes.ts";
import { ShapeError } from "../errors.ts";
import { arenaOf, scratchArena, type WasmArena } from "../wasm/runtime.ts";

/** Places each operand: in place when in `arena`, else at a scratch offset. */
function place(
  operands: (Float32Array | null)[],
): { arena: WasmArena; ptrs: number[]; copied: boolean[] } {
  // Use a fixed arena only if every operand already lives in it.
  const first = operands[0] ? arenaOf(operands[0]) : undefined;
  if (first && operands.every((a) => !a || first.owns(a))) {
    return {
      arena: first,
      ptrs: operands.map((a) => (a ? a.byteOffset : 0)),
      copied: operands.map(() => false),
    };
  }
  const arena = scratchArena();
  let need = 0;
  for (const a of operands) if (a) need += alignUp(a.byteLength, 64);
  let p = arena.ensureScratch(need);
  const f32 = arena.f32;
  const ptrs: number[] = [];
  for (const a of operands) {
    if (!a) {
      ptrs.push(0);
      continue;
    }
    ptrs.push(p);
    f32.set(a, p >> 2);
    p += alignUp(a.byteLength, 64);
  }
  return { arena, ptrs, copied: operands.map((a) => !!a) };
}

function need(a: Float32Array, len: number, what: string): void {
  if (a.length < len) {
    throw new ShapeError(
      `wasm training matmul: ${what} has ${a.length} floats, needs ${len}`,
    );
  }
}

function copyBack(
  arena: WasmArena,
  a: Float32Array,
  ptr: number,
): void {
  a.set(arena.f32.subarray(ptr >> 2, (ptr >> 2) + a.length));
}

/**
 * `out[n, rows] = x[n, cols] · Wᵀ` in WebAssembly SIMD (see
 * `matmulF32` in `src/tensor/matmul.ts`).
 *
 * @example
 * ```ts
 * import { wasmVariant } from "@proj/tinyllm/wasm";
 * import { matmulF32Wasm } from "@proj/tinyllm/tensor";
 * if (wasmVariant() !== "none") {
 *   const out = new Float32Array(2);
 *   matmulF32Wasm(out, new Float32Array([1, 2]), new Float32Array([1, 1, 2, -1]), 1, 2, 2);
 *   console.log(Array.from(out)); // [ 3, 0 ]
 * }
 * ```
 */
export function matmulF32Wasm(
  out: Float32Array,
  x: Float32Array,
  w: Float32Array,
  n: number,
  cols: number,
  rows: number,
): void {
  need(out, n * rows, "out");
  need(x, n * cols, "x");
  need(w, rows * cols, "w");
  const outView = out.subarray(0, n * rows);
  const { arena, ptrs, copied } = place([
    w.subarray(0, rows * cols),
    x.subarray(0, n * cols),
    outView,
  ]);
  arena.exports.matmulF32(ptrs[0], ptrs[1], ptrs[2], n, cols, rows);
  if (copied[2]) copyBack(arena, outView, ptrs[2]);
}

/**
 * Backward of {@linkcode matmulF32Wasm}: `dx[n, cols] += dout · W` (skipped
 * when `dx` is null) and `dw[rows, cols] += doutᵀ · x`, in WebAssembly SIMD.
 *
 * @example
 * ```ts
 * import { wasmVariant } from "@proj/tinyllm/wasm";
 * import { matmulBackwardF32Wasm } from "@proj/tinyllm/tensor";
 * if (wasmVariant() !== "none") {
 *   const dx = new Float32Array(2), dw = new Float32Array(4);
 *   matmulBackwardF32Wasm(dx, dw, new Float32Array([1, 0]), new Float32Array([3, 4]),
 *     new Float32Array([1, 2, 5, 6]), 1, 2, 2);
 *   console.log(Array.from(dx), Array.from(dw)); // [ 1, 2 ] [ 3, 4, 0, 0 ]
 * }
 * ```
 */
export function matmulBackwardF32Wasm(
  dx: Float32Array | null,
  dw: Float32Array,
  dout: Float32Array,
  x: Float32Array,
  w: Float32Array,
  n: number,
  cols: number,
  rows: number,
): void {
  if (dx) need(dx, n * cols, "dx");
  need(dw, rows * cols, "dw");
  need(dout, n * rows, "dout");
  need(x, n * cols, "x");
  need(w, rows * cols, "w");
  const dxView = dx ? dx.subarray(0, n * cols) : null;
  const dwView = dw.subarray(0, rows * cols);
  const { arena, ptrs, copied } = place([
    dwView,
    dout.subarray(0, n * rows),
    x.subarray(0, n * cols),
    w.subarray(0, rows * cols),
    dxView,
  ]);
  const [pdw, pdout, px, pw, pdx] = ptrs;
  const k = arena.exports;
  // dx[n, cols] += dout[n, rows] · W[rows, cols]
  // Loop orders measured (CPU time, n = 256..1024, 128..14000 rows): row
  // pairs outermost is as fast or faster for dx, and for dw once dout's
  // column stride (rows) is large; column strips outermost win for small dw.
  if (dxView) k.gemmAccF32(pdx, pdout, rows, 1, pw, n, rows, cols, 1);
  // dw[rows, cols] += doutᵀ[rows, n] · x[n, cols]
  k.gemmAccF32(pdw, pdout, 1, rows, px, rows, n, cols, rows >= 256 ? 1 : 0);
  if (copied[0]) copyBack(arena, dwView, pdw);
  if (dxView && copied[4]) copyBack(arena, dxView, pdx);
}
