/**
 * WebAssembly SIMD vs TypeScript kernels: `deno bench bench/wasm_bench.ts`.
 *
 * - matvec on stories15M shapes (dim 288, hidden 768, vocab 32000) for fp32,
 *   int8 and int4 (G = 32), js vs wasm (matrix placed in a wasm arena with
 *   x/out beside it, as prepared models run), and wasm on unplaced arrays;
 * - a whole decode-step's products (6 layers × 7 + classifier), the
 *   ms/token figure without attention;
 * - training products at n = 256, 128 → 512: forward + backward, js vs wasm.
 *
 * GFLOP/s = 2·rows·cols·n / time.
 *
 * @module
 */
import { Rng } from "../src/random.ts";
import { fp32 } from "../src/quant/fp32.ts";
import { int4 } from "../src/quant/int4.ts";
import { int8 } from "../src/quant/int8.ts";
import type { QMatrix, WeightType } from "../src/quant/types.ts";
import { createArena, wasmVariant } from "../src/wasm/runtime.ts";
import { placeMatrix, WASM_KERNELS } from "../src/kernels/wasm.ts";
import { JS_KERNELS } from "../src/kernels/js.ts";
import { matmulBackwardF32, matmulF32 } from "../src/tensor/matmul.ts";
import {
  matmulBackwardF32Wasm,
  matmulF32Wasm,
} from "../src/tensor/matmul_wasm.ts";

const rng = new Rng(288);
const hasWasm = wasmVariant() !== "none";

function gaussian(n: number, std: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * std;
  return a;
}

const SHAPES: [string, number, number][] = [
  ["288x288 (wq/wk/wv/wo)", 288, 288],
  ["768x288 (w1/w3)", 768, 288],
  ["288x768 (w2)", 288, 768],
  ["32000x288 (classifier)", 32000, 288],
];
const TYPES: WeightType[] = [fp32, int8, int4];

for (const [label, rows, cols] of SHAPES) {
  const w = gaussian(rows * cols, 0.02);
  const x = gaussian(cols, 1);
  const out = new Float32Array(rows);
  for (const t of TYPES) {
    const m = t.quantize(w, rows, cols, 32);
    const group = `matvec ${label} ${t.name}`;
    Deno.bench({
      name: `${t.name} js`,
      group,
      baseline: true,
      fn: () => JS_KERNELS[t.name].matvec(m, x, out),
    });
    if (!hasWasm) continue;
    const k = WASM_KERNELS[t.name];
    const arena = createArena(
      m.data.byteLength + m.scales.byteLength + 8 * (rows + cols) + 1024,
    );
    const pm = placeMatrix(arena, m);
    const px = arena.allocF32(cols);
    px.set(x);
    const pout = arena.allocF32(rows);
    Deno.bench({
      name: `${t.name} wasm-${wasmVariant()} (placed)`,
      group,
      fn: () => k.matvec(pm, px, pout),
    });
    Deno.bench({
      name: `${t.name} wasm-${wasmVariant()} (x/out copied)`,
      group,
      fn: () => k.matvec(m, x, out),
    });
  }
}

// One decode step's matrix products on the stories15M shape.
{
  const dim = 288, hidden = 768, vocab = 32000, layers = 6;
  const shapes: [number, number][] = [];
  for (let l = 0; l < layers; l++) {
    shapes.push([dim, dim], [dim, dim], [dim, dim], [dim, dim]);
    shapes.push([hidden, dim], [dim, hidden], [hidden, dim]);
  }
  shapes.push([vocab, dim]);
  for (const t of TYPES) {
    const mats: QMatrix[] = shapes.map(([r, c]) =>
      t.quantize(gaussian(r * c, 0.02), r, c, 32)
    );
    const x = gaussian(hidden, 1);
    const out = new Float32Array(vocab);
    const group = `decode-step products stories15M ${t.name}`;
    Deno.bench({
      name: `${t.name} js`,
      group,
      baseline: true,
      fn: () => {
        for (const m of mats) {
          JS_KERNELS[t.name].matvec(
            m,
            x.subarray(0, m.cols),
            out.subarray(0, m.rows),
          );
        }
      },
    });
    if (!hasWasm) continue;
    const k = WASM_KERNELS[t.name];
    let bytes = 8 * (hidden + vocab) + 4096;
    for (const m of mats) {
      bytes += m.data.byteLength + m.scales.byteLength + 256;
    }
    const arena = createArena(bytes);
    const placed = mats.map((m) => placeMatrix(arena, m));
    const px = arena.allocF32(hidden);
    px.set(x);
    const pout = arena.allocF32(vocab);
    Deno.bench({
      name: `${t.name} wasm-${wasmVariant()}`,
      group,
      fn: () => {
        for (const m of placed) {
          k.matvec(m, px.subarray(0, m.cols), pout.subarray(0, m.rows));
        }
      },
    });
  }
}

// Training products: forward + backward (dx and dw), n = 256, 128 -> 512.
for (const [n, cols, rows] of [[256, 128, 512], [256, 512, 128]]) {
  const x = gaussian(n * cols, 1), w = gaussian(rows * cols, 0.02);
  const out = new Float32Array(n * rows), dout = gaussian(n * rows, 1);
  const dx = new Float32Array(n * cols), dw = new Float32Array(rows * cols);
  const group = `train fwd+bwd n=${n} ${cols}->${rows}`;
  Deno.bench({
    name: "js",
    group,
    baseline: true,
    fn: () => {
      matmulF32(out, x, w, n, cols, rows);
      matmulBackwardF32(dx, dw, dout, x, w, n, cols, rows);
    },
  });
  if (!hasWasm) continue;
  Deno.bench({
    name: `wasm-${wasmVariant()}`,
    group,
    fn: () => {
      matmulF32Wasm(out, x, w, n, cols, rows);
      matmulBackwardF32Wasm(dx, dw, dout, x, w, n, cols, rows);
    },
  });
}
