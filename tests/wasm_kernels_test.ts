// WebAssembly SIMD kernels of the weight-type table vs their TypeScript
// references, on both builds (relaxed SIMD and SIMD128-only) where the engine
// runs them, odd shapes included, plus the memory model and the fallbacks.
import assert from "node:assert/strict";
import { ConfigError, ShapeError } from "../src/errors.ts";
import {
  activationGroupSize,
  dequantizeActivations,
} from "../src/kernels/activation.ts";
import { fp32 } from "../src/quant/fp32.ts";
import { int4 } from "../src/quant/int4.ts";
import { int8 } from "../src/quant/int8.ts";
import { WEIGHT_TYPES } from "../src/quant/table.ts";
import type { Granularity, QMatrix, WeightType } from "../src/quant/types.ts";
import {
  createArena,
  setWasmVariant,
  wasmSupport,
  type WasmVariant,
  wasmVariant,
} from "../src/wasm/runtime.ts";
import { JS_KERNELS } from "../src/kernels/js.ts";
import { placeMatrix, WASM_KERNELS } from "../src/kernels/wasm.ts";
import { kernelsFor } from "../src/kernels/select.ts";
import { bindKernels, modelArena } from "../src/model/bind.ts";
import { trainKernels } from "../src/tensor/train_kernels.ts";
import { randomModelWeights } from "../src/model/build.ts";
import { makeConfig, type ModelConfig } from "../src/model/config.ts";
import { Rng } from "../src/random.ts";

const support = wasmSupport();
const VARIANTS: WasmVariant[] = [
  ...(support.relaxed ? ["relaxed" as const] : []),
  ...(support.simd ? ["simd" as const] : []),
];

function randomVector(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

/**
 * Expected product in fp64 from first principles: dequantized weights times
 * `xs` (the exact input, or the int8-rounded input the integer kernels use),
 * plus the scale Σ|w·x| per output the tolerance is relative to.
 */
function expected(
  t: WeightType,
  m: QMatrix,
  x: Float32Array,
  n: number,
  roundActs: boolean,
): { want: Float64Array; mag: Float64Array } {
  const w = t.dequantize(m);
  const { rows, cols } = m;
  const want = new Float64Array(n * rows), mag = new Float64Array(n * rows);
  for (let i = 0; i < n; i++) {
    const row = x.subarray(i * cols, (i + 1) * cols);
    const xs = roundActs
      ? dequantizeActivations(row, activationGroupSize(m))
      : Float64Array.from(row);
    for (let r = 0; r < rows; r++) {
      let s = 0, a = 0;
      for (let c = 0; c < cols; c++) {
        s += w[r * cols + c] * xs[c];
        a += Math.abs(w[r * cols + c] * xs[c]);
      }
      want[i * rows + r] = s;
      mag[i * rows + r] = a;
    }
  }
  return { want, mag };
}

function assertClose(
  got: Float32Array,
  want: Float64Array,
  mag: Float64Array,
  rel: number,
  what: string,
): void {
  for (let i = 0; i < want.length; i++) {
    const tol = rel * mag[i] + 1e-30;
    if (!(Math.abs(got[i] - want[i]) <= tol)) {
      assert.fail(
        `${what}: out[${i}] = ${got[i]}, want ${want[i]} (tol ${tol})`,
      );
    }
  }
}

// [rows, cols]: rows not a multiple of 4 (or 2), cols not a multiple of 16
const SHAPES: [number, number][] = [
  [1, 2],
  [5, 13],
  [7, 14],
  [3, 48],
  [33, 64],
  [6, 96],
  [13, 160],
];
const GRANULARITIES: Granularity[] = ["tensor", "row", 32, 16, 64];

for (const variant of VARIANTS) {
  Deno.test(`wasm kernels (${variant}) match the TypeScript references on odd shapes`, () => {
    setWasmVariant(variant);
    try {
      const rng = new Rng(11);
      let checked = 0, integerPath = 0;
      for (const t of [fp32, int8, int4]) {
        const k = WASM_KERNELS[t.name];
        assert.equal(k.backend, "wasm");
        for (const [rows, cols] of SHAPES) {
          if (t === int4 && cols % 2 !== 0) continue;
          for (const g of GRANULARITIES) {
            if (typeof g === "number" && cols % g !== 0) continue;
            const m = t.quantize(randomVector(rng, rows * cols), rows, cols, g);
            const quantized = t !== fp32;
            const gs = activationGroupSize(m);
            if (quantized && gs % (t === int4 ? 32 : 16) === 0) integerPath++;
            for (const n of [1, 3]) {
              const x = randomVector(rng, n * cols, 2);
              const { want, mag } = expected(t, m, x, n, quantized);
              const what =
                `${variant} ${t.name} [${rows},${cols}] g=${g} n=${n}`;
              // unplaced matrix, plain arrays
              const out = new Float32Array(n * rows);
              if (n === 1) k.matvec(m, x, out);
              else k.matmul(m, x, n, out);
              assertClose(out, want, mag, 1e-5, what);
              // same kernels' TypeScript sibling agrees too
              const js = new Float32Array(n * rows);
              JS_KERNELS[t.name].matmul(m, x, n, js);
              assertClose(
                out,
                Float64Array.from(js),
                mag,
                2e-5,
                what + " vs js",
              );
              // placed matrix, activations in the same arena
              const arena = createArena(4 * (rows + 2) * (cols + 2) * n + 4096);
              const pm = placeMatrix(arena, m);
              const px = arena.allocF32(n * cols);
              px.set(x);
              const pout = arena.allocF32(n * rows);
              k.matmul(pm, px, n, pout);
              assertClose(pout, want, mag, 1e-5, what + " placed");
              checked++;
            }
          }
        }
      }
      assert.ok(checked > 100, `checked ${checked}`);
      assert.ok(integerPath > 10, `integer path cases ${integerPath}`);
    } finally {
      setWasmVariant(null);
    }
  });

  Deno.test(`wasm int8/int4 (${variant}) stay within the activation-rounding bound of fp32`, () => {
    setWasmVariant(variant);
    try {
      const rng = new Rng(5);
      const rows = 37, cols = 288;
      for (const t of [int8, int4]) {
        for (const g of [32, "row"] as Granularity[]) {
          const m = t.quantize(randomVector(rng, rows * cols), rows, cols, g);
          const x = randomVector(rng, cols);
          const out = new Float32Array(rows);
          WASM_KERNELS[t.name].matvec(m, x, out);
          // exact product of the dequantized weights with x itself; the
          // integer kernel moves each x[c] by at most half its group's step
          const w = t.dequantize(m);
          const gs = activationGroupSize(m);
          for (let r = 0; r < rows; r++) {
            let s = 0, bound = 0;
            for (let c = 0; c < cols; c++) {
              s += w[r * cols + c] * x[c];
              let amax = 0;
              const g0 = Math.floor(c / gs) * gs;
              for (let j = g0; j < g0 + gs; j++) {
                amax = Math.max(amax, Math.abs(x[j]));
              }
              bound += Math.abs(w[r * cols + c]) * (amax / 127 / 2);
            }
            assert.ok(
              Math.abs(out[r] - s) <= bound * 1.0001 + 1e-6,
              `${t.name} g=${g} row ${r}: ${out[r]} vs ${s} (bound ${bound})`,
            );
          }
        }
      }
    } finally {
      setWasmVariant(null);
    }
  });
}

Deno.test("wasm relaxed and SIMD128 builds give the same integer results", {
  ignore: !support.relaxed,
}, () => {
  const rng = new Rng(3);
  const m = int4.quantize(randomVector(rng, 64 * 96), 64, 96, 32);
  const x = randomVector(rng, 96);
  const a = new Float32Array(64), b = new Float32Array(64);
  setWasmVariant("relaxed");
  try {
    WASM_KERNELS.int4.matvec(m, x, a);
    setWasmVariant("simd");
    // a fresh matrix object so the pooled copy comes from the simd build
    WASM_KERNELS.int4.matvec({ ...m }, x, b);
  } finally {
    setWasmVariant(null);
  }
  const { mag } = expected(int4, m, x, 1, true);
  assertClose(a, Float64Array.from(b), mag, 1e-5, "relaxed vs simd");
});

Deno.test("forcing 'none' falls back to the TypeScript kernels everywhere", () => {
  setWasmVariant("none");
  try {
    assert.equal(wasmVariant(), "none");
    assert.equal(kernelsFor("int8", "auto"), JS_KERNELS.int8);
    assert.equal(kernelsFor("int8", "wasm").backend, "js");
    assert.equal(trainKernels("auto").backend, "js");
    assert.throws(() => trainKernels("wasm"), ConfigError);
    const w = randomModelWeights(TINY, 1);
    assert.throws(() => bindKernels(w, "wasm"), ConfigError);
    assert.equal(bindKernels(w, "auto").layers[0].wq.kernels, JS_KERNELS.fp32);
  } finally {
    setWasmVariant(null);
  }
  if (support.simd) {
    assert.equal(trainKernels("auto").backend, "wasm");
    assert.equal(kernelsFor("int8", "wasm").backend, "wasm");
  }
});

Deno.test("the wasm table covers every weight type, with the js activation formats", () => {
  for (const name of Object.keys(WEIGHT_TYPES)) {
    assert.equal(WASM_KERNELS[name].backend, "wasm");
    assert.equal(WASM_KERNELS[name].activation, JS_KERNELS[name].activation);
  }
});

const TINY: ModelConfig = makeConfig({
  dim: 32,
  hiddenDim: 64,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: 50,
  seqLen: 16,
});

Deno.test({
  name: "bindKernels(wasm) places every matrix once and keeps results",
  ignore: !support.simd,
  fn() {
    const w = randomModelWeights(TINY, 7);
    const fast = bindKernels(w, "wasm");
    const arena = modelArena(fast)!;
    assert.ok(arena);
    assert.equal(fast.classifier.weight, fast.tokenEmbedding);
    const rng = new Rng(2);
    for (const [i, layer] of fast.layers.entries()) {
      for (const key of ["wq", "wk", "wv", "wo", "w1", "w2", "w3"] as const) {
        const lin = layer[key];
        assert.equal(lin.kernels.backend, "wasm");
        assert.ok(arena.owns(lin.weight.data), `${key} in the arena`);
        const orig = w.layers[i][key].weight;
        assert.deepEqual(Array.from(lin.weight.data), Array.from(orig.data));
        const x = arena.allocF32(orig.cols);
        x.set(randomVector(rng, orig.cols));
        const out = new Float32Array(orig.rows);
        lin.kernels.matvec(lin.weight, x, out);
        const { want, mag } = expected(fp32, orig, x, 1, false);
        assertClose(out, want, mag, 1e-5, key);
      }
    }
    // the arena never grows: views handed out earlier are still attached
    const before = fast.layers[0].wq.weight.data;
    assert.throws(() => arena.allocF32(1 << 20), ConfigError);
    assert.ok(before.length > 0 && arena.owns(before));
  },
});

Deno.test({
  name: "arena views survive growth of the scratch arena (training kernels)",
  ignore: !support.simd,
  fn() {
    const arena = createArena(1024);
    const v = arena.allocF32(8).fill(3);
    // large operands force the shared scratch arena to grow
    const n = 64, cols = 300, rows = 700;
    const rng = new Rng(4);
    const x = randomVector(rng, n * cols), wt = randomVector(rng, rows * cols);
    const out = new Float32Array(n * rows);
    trainKernels("wasm").matmul(out, x, wt, n, cols, rows);
    assert.equal(v.length, 8);
    assert.equal(v[7], 3);
    let s = 0;
    for (let c = 0; c < cols; c++) s += x[c] * wt[5 * cols + c];
    assert.ok(Math.abs(out[5] - s) < 1e-4);
  },
});

Deno.test({
  name: "wasm kernels: empty products, and short operands are a ShapeError",
  ignore: !support.simd,
  fn() {
    for (const t of [fp32, int8, int4]) {
      const k = WASM_KERNELS[t.name];
      const m = t.quantize(new Float32Array(4 * 32).fill(1), 4, 32, 32);
      k.matmul(m, new Float32Array(0), 0, new Float32Array(0));
      assert.throws(
        () => k.matvec(m, new Float32Array(31), new Float32Array(4)),
        ShapeError,
      );
      assert.throws(
        () => k.matmul(m, new Float32Array(64), 2, new Float32Array(7)),
        ShapeError,
      );
    }
  },
});

Deno.test({
  name: "wasm sequence products split into chunks when the scratch is small",
  ignore: !support.simd,
  fn() {
    const rng = new Rng(8);
    const rows = 37, cols = 64, n = 23;
    for (const t of [fp32, int8, int4]) {
      const m = t.quantize(randomVector(rng, rows * cols), rows, cols, 32);
      // 4 KiB of scratch holds only a few input rows per chunk
      const arena = createArena(rows * cols * 4 + 1024, 4096);
      const pm = placeMatrix(arena, m);
      const x = randomVector(rng, n * cols);
      const out = new Float32Array(n * rows);
      WASM_KERNELS[t.name].matmul(pm, x, n, out);
      const { want, mag } = expected(t, m, x, n, t !== fp32);
      assertClose(out, want, mag, 1e-5, `${t.name} chunked`);
    }
  },
});

Deno.test({
  name: "wasm int8 stays exact on a matrix holding -128 (outside the layout)",
  ignore: !support.simd,
  fn() {
    // four groups per row: the path that negates weights
    const rows = 4, cols = 128;
    const data = new Int8Array(rows * cols).fill(-128);
    const m: QMatrix = {
      type: "int8",
      rows,
      cols,
      granularity: 32,
      data,
      scales: new Float32Array(rows * (cols / 32)).fill(0.5),
    };
    // negative activations exercise the negated-weight half of the dot
    const x = new Float32Array(cols).fill(-1);
    const want = new Float32Array(rows), got = new Float32Array(rows);
    JS_KERNELS.int8.matvec(m, x, want);
    WASM_KERNELS.int8.matvec(m, x, got);
    assert.deepEqual(Array.from(got), Array.from(want));
    assert.ok(Math.abs(want[0] - 128 * 0.5 * cols) < 1e-2, `${want[0]}`);
  },
});
