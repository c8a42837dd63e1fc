// ggml wasm SIMD kernels (wasm/ggml.ts) against the TypeScript ones: the
// activation rounding bit for bit (ties included), the products to float
// summation order, for both kernel builds (relaxed SIMD and SIMD128).
import assert from "node:assert/strict";
import { ggufFixture } from "./gguf_fixtures.ts";
import { ShapeError } from "../src/errors.ts";
import { GGML_TYPE, parseGguf } from "../src/io/gguf.ts";
import {
  createGgmlActivations,
  GGML_BLOCK_TYPES,
  ggmlDequantize,
  ggmlHasWasm,
  ggmlMatmul,
  ggmlMatmulWasm,
  ggmlQuantize,
  quantizeGgmlActivations,
} from "../src/quant/ggml/mod.ts";
import {
  createArena,
  setWasmVariant,
  wasmSupport,
  type WasmVariant,
} from "../src/wasm/runtime.ts";

const support = wasmSupport();
const variants: WasmVariant[] = [
  ...(support.relaxed ? ["relaxed" as const] : []),
  ...(support.simd ? ["simd" as const] : []),
];

const vectors = parseGguf(ggufFixture("ggml_vectors.gguf"));
const xT = vectors.tensor("x")!;
const [COLS, M] = xT.shape;
const X = new Float32Array(xT.data.slice().buffer);

interface Q8Exports {
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
  ggmlRoundF16(x: number, xr: number, n: number, bf: number): void;
}

/** The operand a wasm quantizer wrote, decoded back to int8 codes. */
function codesOf(
  mem: ArrayBuffer,
  qa: number,
  n: number,
  mode: number,
): Int8Array {
  const out = new Int8Array(n);
  if (mode === 0) out.set(new Int8Array(mem, qa, n));
  else if (mode === 2) out.set(new Int16Array(mem, qa, n));
  else {
    const parts = new Uint8Array(mem, qa, 2 * n);
    for (let i = 0; i < n; i++) {
      const base = (i & ~15) * 2 + (i & 15);
      out[i] = parts[base] - parts[base + 16];
    }
  }
  return out;
}

for (const variant of variants) {
  Deno.test(`ggml wasm (${variant}): activation rounding equals the TypeScript quantizers bit for bit`, () => {
    setWasmVariant(variant);
    try {
      const arena = createArena(1 << 20);
      const k = arena.exports as unknown as Q8Exports;
      const mem = () => arena.buffer;
      const xp = arena.alloc(COLS * 4),
        qa = arena.alloc(COLS * 2),
        d = arena.alloc(COLS);
      const aux = arena.alloc(COLS),
        s = arena.alloc(COLS),
        xr = arena.alloc(COLS * 4);
      for (let i = 0; i < M; i++) {
        const x = X.subarray(i * COLS, (i + 1) * COLS);
        new Float32Array(mem(), xp, COLS).set(x);
        for (const mode of variant === "relaxed" ? [0, 1] : [2]) {
          for (const type of [GGML_TYPE.Q8_0, GGML_TYPE.Q8_1]) {
            const a = createGgmlActivations(type, COLS);
            quantizeGgmlActivations(x, 0, a, 0);
            k.ggmlQuantizeQ8(
              xp,
              COLS,
              qa,
              d,
              type === GGML_TYPE.Q8_1 ? s : 0,
              aux,
              mode,
            );
            const where = `vector ${i} type ${type} mode ${mode}`;
            assert.deepEqual(codesOf(mem(), qa, COLS, mode), a.qs, where);
            assert.deepEqual(new Float32Array(mem(), d, COLS / 32), a.d, where);
            if (type === GGML_TYPE.Q8_1) {
              assert.deepEqual(
                new Float32Array(mem(), s, COLS / 32),
                a.s,
                where,
              );
            }
            const asum = new Float32Array(mem(), aux, COLS / 32);
            for (let b = 0; b < COLS / 32; b++) {
              let sum = 0;
              for (let j = 0; j < 32; j++) sum += a.qs[b * 32 + j];
              assert.equal(asum[b], Math.fround(a.d[b] * sum), where);
            }
          }
          if (mode === 1) continue;
          const a = createGgmlActivations(GGML_TYPE.Q8_K, COLS);
          quantizeGgmlActivations(x, 0, a, 0);
          k.ggmlQuantizeQ8K(xp, COLS, qa, d, aux, mode);
          assert.deepEqual(
            codesOf(mem(), qa, COLS, mode),
            a.qs,
            `Q8_K vector ${i}`,
          );
          assert.deepEqual(
            new Float32Array(mem(), d, COLS / 256),
            a.d,
            `Q8_K vector ${i}`,
          );
          const sums = new Int16Array(mem(), aux, (COLS / 256) * 32);
          for (let b = 0; b < COLS / 256; b++) {
            for (let g = 0; g < 16; g++) {
              assert.equal(sums[b * 32 + g], a.bsums[b * 16 + g]);
            }
            for (let p = 0; p < 8; p++) {
              assert.equal(
                sums[b * 32 + 16 + p],
                a.bsums[b * 16 + 2 * p] + a.bsums[b * 16 + 2 * p + 1],
              );
            }
          }
        }
        for (const [type, bf] of [[GGML_TYPE.F16, 0], [GGML_TYPE.BF16, 1]]) {
          const a = createGgmlActivations(type, COLS);
          quantizeGgmlActivations(x, 0, a, 0);
          k.ggmlRoundF16(xp, xr, COLS, bf);
          assert.deepEqual(
            new Float32Array(mem(), xr, COLS),
            a.values,
            `type ${type} vector ${i}`,
          );
        }
      }
    } finally {
      setWasmVariant(null);
    }
  });

  Deno.test(`ggml wasm (${variant}): every type's product equals the TypeScript kernel's (all row remainders)`, () => {
    setWasmVariant(variant);
    try {
      let seed = 3;
      const rnd = () =>
        (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5;
      for (const t of Object.values(GGML_BLOCK_TYPES)) {
        assert.ok(ggmlHasWasm(t));
        for (const rows of [1, 2, 3, 4, 5, 7, 9]) {
          const cols = 512, n = 2;
          const w = ggmlQuantize(
            t,
            Float32Array.from({ length: rows * cols }, rnd),
            rows,
            cols,
          );
          const x = Float32Array.from({ length: n * cols }, () => 4 * rnd());
          const js = new Float32Array(n * rows),
            wasm = new Float32Array(n * rows);
          ggmlMatmul(t, w, rows, cols, x, n, js);
          ggmlMatmulWasm(t, w, rows, cols, x, n, wasm);
          // float summation order differs: bound by the size of the terms
          const deq = ggmlDequantize(t, w, rows, cols);
          for (let i = 0; i < n; i++) {
            for (let r = 0; r < rows; r++) {
              let mag = 0;
              for (let c = 0; c < cols; c++) {
                mag += Math.abs(deq[r * cols + c] * x[i * cols + c]);
              }
              const k = i * rows + r;
              assert.ok(
                Math.abs(js[k] - wasm[k]) <= 1e-6 * mag,
                `${t.name} rows ${rows} [${k}]: ${js[k]} vs ${wasm[k]}`,
              );
            }
          }
        }
      }
      // the fixture's vectors (ties, zeros, outliers) through Q8_0 and Q4_K
      for (const id of [GGML_TYPE.Q8_0, GGML_TYPE.Q4_K]) {
        const t = GGML_BLOCK_TYPES[id];
        const w = ggmlQuantize(
          t,
          Float32Array.from({ length: 8 * COLS }, rnd),
          8,
          COLS,
        );
        const js = new Float32Array(8 * M), wasm = new Float32Array(8 * M);
        ggmlMatmul(t, w, 8, COLS, X, M, js);
        ggmlMatmulWasm(t, w, 8, COLS, X, M, wasm);
        const scale = Math.max(...js.map(Math.abs));
        for (let i = 0; i < js.length; i++) {
          assert.ok(
            Math.abs(js[i] - wasm[i]) <= 1e-6 * scale,
            `${t.name} [${i}]`,
          );
        }
      }
      assert.throws(
        () =>
          ggmlMatmulWasm(
            GGML_BLOCK_TYPES[GGML_TYPE.Q8_0],
            new Uint8Array(33),
            1,
            32,
            new Float32Array(32),
            1,
            new Float32Array(1),
          ),
        ShapeError,
      );
    } finally {
      setWasmVariant(null);
    }
  });
}

Deno.test("ggml wasm: both kernel builds export the ggml kernels", async () => {
  const { KERNELS_RELAXED_BASE64, KERNELS_SIMD_BASE64 } = await import(
    "../src/wasm/kernels_wasm.ts"
  );
  for (const b64 of [KERNELS_SIMD_BASE64, KERNELS_RELAXED_BASE64]) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const names = WebAssembly.Module.exports(new WebAssembly.Module(bytes))
      .map((e) => e.name).filter((n) => n.startsWith("ggml")).sort();
    assert.deepEqual(names, [
      "ggmlMatvecF16",
      "ggmlMatvecQ45K",
      "ggmlMatvecQ4Q5",
      "ggmlMatvecQ6K",
      "ggmlMatvecQ8_0",
      "ggmlQuantizeQ8",
      "ggmlQuantizeQ8K",
      "ggmlRoundF16",
    ]);
  }
});
