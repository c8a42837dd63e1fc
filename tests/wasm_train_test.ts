// WebAssembly SIMD training products vs matmulF32 / matmulBackwardF32, on odd
// shapes, with operands outside wasm memory (copied per call) and inside one
// arena (used in place), with and without dx.
import assert from "node:assert/strict";
import { ShapeError } from "../src/errors.ts";
import { matmulBackwardF32, matmulF32 } from "../src/tensor/matmul.ts";
import {
  matmulBackwardF32Wasm,
  matmulF32Wasm,
} from "../src/tensor/matmul_wasm.ts";
import { createArena, wasmSupport } from "../src/wasm/runtime.ts";
import { Rng } from "../src/random.ts";

function randomVector(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

// |a - b| ≤ rel · (scale of the terms summed), per element
function assertClose(
  got: Float32Array,
  want: Float32Array,
  scale: number,
  what: string,
): void {
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= 1e-5 * scale)) {
      assert.fail(`${what}: [${i}] ${got[i]} vs ${want[i]}`);
    }
  }
}

const SHAPES: [number, number, number][] = [
  // [n, cols, rows]
  [1, 1, 1],
  [1, 13, 7],
  [3, 16, 5],
  [5, 35, 33],
  [2, 64, 17],
  [7, 128, 36],
  // rows >= 256: dw takes the other loop order; odd rows: single-row tiles
  [3, 37, 257],
  // n above the forward's input block (8192 / cols = 26 rows here)
  [31, 300, 9],
  // j (rows for dx, n for dw) above the backward's block (16384 / 512 = 32)
  [40, 512, 70],
];

Deno.test({
  name: "wasm training matmul forward/backward match TypeScript",
  ignore: !wasmSupport().simd,
  fn() {
    const rng = new Rng(9);
    for (const [n, cols, rows] of SHAPES) {
      for (const inArena of [false, true]) {
        const arena = createArena(4 * 8 * (n + rows) * (cols + rows) + 4096);
        const mk = (len: number) => {
          const v = randomVector(rng, len);
          if (!inArena) return v;
          const a = arena.allocF32(len);
          a.set(v);
          return a;
        };
        const x = mk(n * cols), w = mk(rows * cols), dout = mk(n * rows);
        const dx0 = mk(n * cols), dw0 = mk(rows * cols);
        const what = `n=${n} cols=${cols} rows=${rows} arena=${inArena}`;
        const scale = Math.max(cols, rows, n) * 4;

        const want = new Float32Array(n * rows);
        matmulF32(want, x, w, n, cols, rows);
        const got = inArena
          ? arena.allocF32(n * rows)
          : new Float32Array(n * rows);
        matmulF32Wasm(got, x, w, n, cols, rows);
        assertClose(got, want, scale, what + " forward");

        for (const withDx of [true, false]) {
          const dxWant = dx0.slice(), dwWant = dw0.slice();
          matmulBackwardF32(
            withDx ? dxWant : null,
            dwWant,
            dout,
            x,
            w,
            n,
            cols,
            rows,
          );
          const dxGot = withDx ? dx0.slice() : null, dwGot = dw0.slice();
          matmulBackwardF32Wasm(dxGot, dwGot, dout, x, w, n, cols, rows);
          if (dxGot) assertClose(dxGot, dxWant, scale, what + " dx");
          assertClose(dwGot, dwWant, scale, what + ` dw (dx=${withDx})`);
        }
        // in-place: dx and dw living in the arena accumulate there
        if (inArena) {
          const dxWant = dx0.slice(), dwWant = dw0.slice();
          matmulBackwardF32(dxWant, dwWant, dout, x, w, n, cols, rows);
          matmulBackwardF32Wasm(dx0, dw0, dout, x, w, n, cols, rows);
          assertClose(dx0, dxWant, scale, what + " dx in place");
          assertClose(dw0, dwWant, scale, what + " dw in place");
        }
      }
    }
  },
});

Deno.test({
  name: "wasm training matmul: a hand-computed example",
  ignore: !wasmSupport().simd,
  fn() {
    // W = [[1, 2], [3, 4], [5, 6]] (rows 3, cols 2); x = [[1, -1], [2, 0]]
    const w = new Float32Array([1, 2, 3, 4, 5, 6]);
    const x = new Float32Array([1, -1, 2, 0]);
    const out = new Float32Array(6);
    matmulF32Wasm(out, x, w, 2, 2, 3);
    assert.deepEqual(Array.from(out), [-1, -1, -1, 2, 6, 10]);
    const dout = new Float32Array([1, 0, 0, 0, 0, 1]);
    const dx = new Float32Array(4), dw = new Float32Array(6);
    matmulBackwardF32Wasm(dx, dw, dout, x, w, 2, 2, 3);
    assert.deepEqual(Array.from(dx), [1, 2, 5, 6]);
    assert.deepEqual(Array.from(dw), [1, -1, 0, 0, 2, 0]);
  },
});

Deno.test({
  name: "wasm training matmul: short operands are a ShapeError",
  ignore: !wasmSupport().simd,
  fn() {
    const f = (n: number) => new Float32Array(n);
    assert.throws(() => matmulF32Wasm(f(6), f(4), f(5), 2, 2, 3), ShapeError);
    assert.throws(
      () => matmulBackwardF32Wasm(f(4), f(6), f(5), f(4), f(6), 2, 2, 3),
      ShapeError,
    );
  },
});
