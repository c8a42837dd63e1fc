// The weight-type table: every row × granularity is checked for round-trip
// bounds, kernel agreement with an fp64 product of the dequantized weights,
// packed layout against hand-computed bytes, and stored-part validation.
import assert from "node:assert/strict";
import fc from "fast-check";
import { ConfigError, InputError, ShapeError } from "../src/errors.ts";
import { Rng } from "../src/random.ts";
import {
  activationGroupSize,
  dequantizeActivations,
} from "../src/kernels/activation.ts";
import {
  granularityToString,
  parseGranularity,
  scaleStrides,
} from "../src/quant/granularity.ts";
import { int4 } from "../src/quant/int4.ts";
import { int8 } from "../src/quant/int8.ts";
import { WEIGHT_TYPES, weightType } from "../src/quant/table.ts";
import type { Granularity, QMatrix, WeightType } from "../src/quant/types.ts";
import type { LinearKernels } from "../src/kernels/types.ts";
import { JS_KERNELS } from "../src/kernels/js.ts";
import { WASM_KERNELS } from "../src/kernels/wasm.ts";
import { referenceKernels } from "../src/kernels/reference.ts";
import { wasmVariant } from "../src/wasm/runtime.ts";

// tinyllm's own types (ggml's block types: tests/ggml_types_test.ts)
const TYPES = [WEIGHT_TYPES.fp32, WEIGHT_TYPES.int8, WEIGHT_TYPES.int4];
const GRANULARITIES: Granularity[] = ["tensor", "row", 32, 8, 2];
// Shapes exercising the word-at-a-time paths (cols % 8 === 0; 120 → groups
// of 40) and the
// byte-at-a-time fallbacks (cols 6, 10, 34).
// byte-at-a-time fallbacks (cols 6, 10, 34, 86, 172: activation groups of 6,
// 10, 34, 86 and 86 for row/tensor scales; 86 = 2 × 43 once gave an odd group
// that split int4 byte pairs).
const SHAPES: [number, number][] = [
  [9, 64],
  [3, 96],
  [5, 6],
  [4, 10],
  [2, 34],
  [3, 86],
  [2, 172],
  [2, 120],
];

function fits(t: WeightType, rows: number, cols: number, g: Granularity) {
  try {
    t.layoutSizes(rows, cols, g);
    return true;
  } catch {
    return false;
  }
}

function cases(): [WeightType, Granularity, number, number][] {
  const out: [WeightType, Granularity, number, number][] = [];
  for (const t of TYPES) {
    for (const g of GRANULARITIES) {
      for (const [rows, cols] of SHAPES) {
        if (fits(t, rows, cols, g)) out.push([t, g, rows, cols]);
      }
    }
  }
  return out;
}

function randn(rng: Rng, n: number, std = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * std;
  return a;
}

/** Largest code magnitude of a type (int8: 127, int4: 7); 0 for fp32. */
function qmax(t: WeightType): number {
  return t.bitsPerWeight >= 32 ? 0 : 2 ** (t.bitsPerWeight - 1) - 1;
}

function scaleOf(m: QMatrix, r: number, c: number): number {
  const { rowStride, groupStride, groupSize } = scaleStrides(
    m.cols,
    m.granularity,
  );
  return m.scales[r * rowStride + Math.floor(c / groupSize) * groupStride];
}

function kernelSets(t: WeightType): LinearKernels[] {
  const ks = [referenceKernels(t.name), JS_KERNELS[t.name]];
  if (wasmVariant() !== "none") ks.push(WASM_KERNELS[t.name]);
  return ks;
}

Deno.test("table: names match keys, weightType finds rows and rejects unknown names", () => {
  for (const [k, t] of Object.entries(WEIGHT_TYPES)) {
    assert.equal(t.name, k);
    assert.equal(weightType(k), t);
  }
  assert.deepEqual(Object.keys(WEIGHT_TYPES), [
    "fp32",
    "int8",
    "int4",
    ...["f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1"],
    ...["q4_k", "q5_k", "q6_k"],
  ]);
  assert.throws(() => weightType("int3"), ConfigError);
});

Deno.test("table: round trip |w - deq(q(w))| <= scale/2 and scale = absmax/qmax", () => {
  const rng = new Rng(1);
  for (const [t, g, rows, cols] of cases()) {
    const w = randn(rng, rows * cols);
    w[3] = 0; // exact zeros stay zero
    const m = t.quantize(w, rows, cols, g);
    const d = t.dequantize(m);
    const label = `${t.name} ${granularityToString(g)} [${rows},${cols}]`;
    assert.equal(d.length, rows * cols, label);
    if (t.bitsPerWeight >= 32) {
      assert.deepEqual(d, w, label);
      continue;
    }
    assert.equal(d[3], 0, label);
    // scales recomputed independently: absmax of each slot / qmax
    const absmax = new Map<number, number>();
    const { rowStride, groupStride, groupSize } = scaleStrides(cols, g);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const si = r * rowStride + Math.floor(c / groupSize) * groupStride;
        absmax.set(
          si,
          Math.max(absmax.get(si) ?? 0, Math.abs(w[r * cols + c])),
        );
      }
    }
    assert.equal(absmax.size, m.scales.length, label);
    for (const [si, a] of absmax) {
      assert.equal(
        m.scales[si],
        Math.fround(a / qmax(t)),
        `${label} scale ${si}`,
      );
    }
    const row = new Float32Array(cols);
    for (let r = 0; r < rows; r++) {
      t.dequantizeRow(m, r, row);
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        assert.equal(row[c], d[i], `${label} dequantizeRow`);
        const s = scaleOf(m, r, c);
        const err = Math.abs(w[i] - d[i]);
        assert.ok(
          err <= s / 2 + 1e-6 * Math.abs(w[i]),
          `${label} [${r},${c}]: |${w[i]} - ${d[i]}| > ${s}/2`,
        );
      }
    }
  }
});

Deno.test("table: every kernel equals an fp64 product of the dequantized weights (1e-5 relative)", () => {
  const rng = new Rng(2);
  for (const [t, g, rows, cols] of cases()) {
    const m = t.quantize(randn(rng, rows * cols), rows, cols, g);
    const d = t.dequantize(m);
    for (const n of [1, 3]) {
      const x = randn(rng, n * cols);
      x[0] = 0;
      for (const k of kernelSets(t)) {
        const label = `${t.name} ${
          granularityToString(g)
        } [${rows},${cols}] n=${n} ${k.backend}`;
        const out = new Float32Array(n * rows).fill(NaN);
        if (n === 1) k.matvec(m, x, out);
        else k.matmul(m, x, n, out);
        for (let i = 0; i < n; i++) {
          const xi = x.subarray(i * cols, (i + 1) * cols);
          // What the kernel claims to multiply by: x, or x rounded per group.
          const xk = k.activation === "int8-groups"
            ? dequantizeActivations(xi, activationGroupSize(m))
            : xi;
          for (let r = 0; r < rows; r++) {
            let exact = 0, mag = 0, vsX = 0, bound = 0;
            for (let c = 0; c < cols; c++) {
              const wd = d[r * cols + c];
              exact += wd * xk[c];
              mag += Math.abs(wd * xk[c]);
              vsX += wd * xi[c];
              // |x - x'| <= xscale/2 per element, xscale = group absmax/127
              bound += Math.abs(wd) * Math.abs(xi[c] - xk[c]);
            }
            const got = out[i * rows + r];
            assert.ok(
              Math.abs(got - exact) <= 1e-5 * mag + 1e-30,
              `${label} out[${i},${r}] = ${got}, expected ${exact}`,
            );
            // and against the un-rounded x: within the activation rounding
            assert.ok(
              Math.abs(got - vsX) <= bound + 1e-5 * mag + 1e-30,
              `${label} out[${i},${r}] vs fp32 x: ${got} vs ${vsX}`,
            );
          }
        }
      }
    }
  }
});

Deno.test("activationGroupSize: G when grouped, else a divisor of cols that never splits a byte pair", () => {
  const size = (cols: number, granularity: Granularity = "row") =>
    activationGroupSize({ cols, granularity });
  assert.equal(size(288), 32);
  assert.equal(size(768, "tensor"), 32);
  assert.equal(size(120), 40);
  assert.equal(size(172), 86);
  assert.equal(size(86), 86);
  assert.equal(size(6), 6);
  assert.equal(size(258), 86); // 2 × 3 × 43
  assert.equal(size(129), 43); // odd cols (int8 only): any divisor
  assert.equal(size(172, 4), 4);
  for (let cols = 2; cols <= 600; cols += 2) {
    const g = size(cols);
    assert.ok(cols % g === 0 && g % 2 === 0, `cols ${cols}: group ${g}`);
  }
});

Deno.test("table: activation rounding error is bounded by half a step per element", () => {
  const rng = new Rng(3);
  const x = randn(rng, 96, 3);
  for (const gs of [32, 8, 96]) {
    const xq = dequantizeActivations(x, gs);
    for (let c = 0; c < x.length; c++) {
      let absmax = 0;
      const g0 = Math.floor(c / gs) * gs;
      for (let j = g0; j < g0 + gs; j++) {
        absmax = Math.max(absmax, Math.abs(x[j]));
      }
      const step = Math.fround(absmax / 127);
      assert.ok(Math.abs(x[c] - xq[c]) <= step / 2 + 1e-7 * absmax);
    }
  }
});

Deno.test("kernels: extreme codes in every row of a matmul (pair packing at its limits) are exact", () => {
  for (const t of TYPES) {
    for (const g of ["row", 32, 64] as Granularity[]) {
      const rows = 3, cols = 128, n = 5;
      const w = new Float32Array(rows * cols);
      for (let c = 0; c < cols; c++) {
        w[c] = 1; // all max codes
        w[cols + c] = c % 2 ? 1 : -1; // alternating signs
        w[2 * cols + c] = -1; // all min codes (int4: -7, stored 1)
      }
      const x = new Float32Array(n * cols);
      for (let c = 0; c < cols; c++) {
        x[c] = 1;
        x[cols + c] = -1;
        x[2 * cols + c] = c % 2 ? -1 : 1;
        x[3 * cols + c] = 1;
        x[4 * cols + c] = -1;
      }
      const m = t.quantize(w, rows, cols, g);
      for (const k of kernelSets(t)) {
        const out = new Float32Array(n * rows);
        k.matmul(m, x, n, out);
        for (let i = 0; i < n; i++) {
          for (let r = 0; r < rows; r++) {
            let e = 0;
            for (let c = 0; c < cols; c++) {
              e += w[r * cols + c] * x[i * cols + c];
            }
            const got = out[i * rows + r];
            assert.ok(
              Math.abs(got - e) <= 1e-5 * cols,
              `${t.name} ${
                String(g)
              } ${k.backend} out[${i},${r}] = ${got}, expected ${e}`,
            );
          }
        }
      }
    }
  }
});

Deno.test("scaleSearch: same layout, per-slot squared error never above absmax/qmax's, kernels still exact", () => {
  const rng = new Rng(8);
  for (const [t, g, rows, cols] of cases()) {
    if (t.bitsPerWeight >= 32) continue;
    // heavy tails make clipping the largest weight worthwhile
    const w = randn(rng, rows * cols);
    for (let i = 0; i < w.length; i += 7) w[i] *= 4;
    const plain = t.quantize(w, rows, cols, g);
    const searched = t.quantize(w, rows, cols, g, { scaleSearch: true });
    const label = `${t.name} ${granularityToString(g)} [${rows},${cols}]`;
    assert.equal(searched.data.length, plain.data.length, label);
    assert.equal(searched.scales.length, plain.scales.length, label);
    const dp = t.dequantize(plain), ds = t.dequantize(searched);
    const { rowStride, groupStride, groupSize } = scaleStrides(cols, g);
    const ep = new Float64Array(plain.scales.length);
    const es = new Float64Array(plain.scales.length);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        const si = r * rowStride + Math.floor(c / groupSize) * groupStride;
        ep[si] += (w[i] - dp[i]) ** 2;
        es[si] += (w[i] - ds[i]) ** 2;
        // every code is in range and the dequantized value is q·scale
        assert.ok(
          Math.abs(ds[i]) <= (qmax(t) + 1) * searched.scales[si] * (1 + 1e-6),
        );
      }
    }
    for (let si = 0; si < ep.length; si++) {
      assert.ok(
        es[si] <= ep[si] * (1 + 1e-9),
        `${label} slot ${si}: ${es[si]} > ${ep[si]}`,
      );
    }
    const x = randn(rng, cols), out = new Float32Array(rows);
    referenceKernels(t.name).matvec(searched, x, out);
    for (let r = 0; r < rows; r++) {
      let e = 0, mag = 0;
      for (let c = 0; c < cols; c++) {
        e += ds[r * cols + c] * x[c];
        mag += Math.abs(ds[r * cols + c] * x[c]);
      }
      assert.ok(Math.abs(out[r] - e) <= 1e-5 * mag + 1e-30, label);
    }
  }
  // int4 per tensor on a heavy-tailed matrix: the search does find a better scale
  const w = randn(rng, 64 * 64);
  w[0] = 40;
  const p = int4.quantize(w, 64, 64, "tensor");
  const q = int4.quantize(w, 64, 64, "tensor", { scaleSearch: true });
  assert.ok(q.scales[0] < p.scales[0]);
});

Deno.test("int8: packed layout of a hand-computed 2x4 matrix (per row, half away from zero)", () => {
  // row 0: absmax 127 → scale 1; row 1: absmax 254 → scale 2, 1/2 = 0.5 → 1
  const w = new Float32Array([127, -127, 3, 0, 254, 1, -1, 100]);
  const m = int8.quantize(w, 2, 4, "row");
  assert.ok(m.data instanceof Int8Array);
  assert.deepEqual(Array.from(m.data), [127, -127, 3, 0, 127, 1, -1, 50]);
  assert.deepEqual(
    Array.from(new Uint8Array(m.data.buffer, m.data.byteOffset, 8)),
    [0x7f, 0x81, 0x03, 0x00, 0x7f, 0x01, 0xff, 0x32],
  );
  assert.deepEqual(Array.from(m.scales), [1, 2]);
  assert.equal(int8.byteSize(m), 8 + 2 * 4);
  // groups of 2: scale index r*(cols/G)+g
  const g = int8.quantize(w, 2, 4, 2);
  assert.deepEqual(
    Array.from(g.scales),
    [1, 3 / 127, 2, 100 / 127].map(Math.fround),
  );
  assert.deepEqual(Array.from(g.data), [127, -127, 127, 0, 127, 1, -1, 127]);
  // tensor: one scale 254/127 = 2
  const tns = int8.quantize(w, 2, 4, "tensor");
  assert.deepEqual(Array.from(tns.scales), [2]);
  assert.deepEqual(Array.from(tns.data), [64, -64, 2, 0, 127, 1, -1, 50]);
});

Deno.test("int4: packed layout of a hand-computed 2x4 matrix (low nibble first, q+8)", () => {
  // row 0: scale 7/7 = 1 → codes 7 -7 1 0 → nibbles 15 1 9 8
  // row 1: scale 3.5/7 = 0.5 → codes 1 -7 4 -2 → nibbles 9 1 12 6
  const w = new Float32Array([7, -7, 1, 0, 0.5, -3.5, 2, -1]);
  const m = int4.quantize(w, 2, 4, "row");
  assert.ok(m.data instanceof Uint8Array);
  assert.deepEqual(Array.from(m.data), [0x1f, 0x89, 0x19, 0x6c]);
  assert.deepEqual(Array.from(m.scales), [1, 0.5]);
  assert.equal(int4.byteSize(m), 4 + 2 * 4);
  assert.deepEqual(
    Array.from(int4.dequantize(m)),
    [7, -7, 1, 0, 0.5, -3.5, 2, -1],
  );
  // tensor (the original scheme): scale 1 for both rows, 0.5 → 1, -3.5 → -4
  const t = int4.quantize(w, 2, 4, "tensor");
  assert.deepEqual(Array.from(t.data), [0x1f, 0x89, 0x49, 0x7a]);
  const out = new Float32Array(2);
  referenceKernels("int4").matvec(m, new Float32Array([1, 2, 3, 4]), out);
  assert.deepEqual(Array.from(out), [7 - 14 + 3, 0.5 - 7 + 6 - 4]);
});

Deno.test("quantize: bad shapes, granularities and weights are typed one-line errors", () => {
  const w = new Float32Array(8);
  assert.throws(
    () => WEIGHT_TYPES.fp32.quantize(w, 2, 3, "tensor"),
    ShapeError,
  );
  for (const t of [int8, int4]) {
    assert.throws(() => t.quantize(w, 2, 3, "row"), ShapeError);
    assert.throws(() => t.quantize(w, 2, 4, 6), ShapeError);
    assert.throws(() => t.quantize(w, 2, 4, 0), ConfigError);
    assert.throws(() => t.quantize(w, 2, 4, 2.5), ConfigError);
    assert.throws(
      () => t.quantize(new Float32Array([1, NaN, 0, 0]), 1, 4, "row"),
      InputError,
    );
  }
  assert.throws(
    () => int4.quantize(new Float32Array(6), 2, 3, "row"),
    ShapeError,
  );
  assert.throws(
    () => int4.quantize(new Float32Array(12), 2, 6, 3),
    ConfigError,
  );
  // int8 takes odd shapes and odd groups
  assert.equal(int8.quantize(new Float32Array(6), 2, 3, 3).scales.length, 2);
});

Deno.test("layoutSizes: element counts per type and granularity", () => {
  assert.deepEqual(WEIGHT_TYPES.fp32.layoutSizes(3, 4, "row"), {
    dataLength: 12,
    scalesLength: 0,
  });
  assert.deepEqual(int8.layoutSizes(3, 64, 32), {
    dataLength: 192,
    scalesLength: 6,
  });
  assert.deepEqual(int8.layoutSizes(3, 64, "row"), {
    dataLength: 192,
    scalesLength: 3,
  });
  assert.deepEqual(int4.layoutSizes(3, 64, "tensor"), {
    dataLength: 96,
    scalesLength: 1,
  });
  assert.deepEqual(int4.layoutSizes(3, 64, 32), {
    dataLength: 96,
    scalesLength: 6,
  });
});

Deno.test("fromParts: rebuilds quantized matrices from raw bytes, even misaligned", () => {
  const rng = new Rng(4);
  for (const [t, g, rows, cols] of cases()) {
    const m = t.quantize(randn(rng, rows * cols), rows, cols, g);
    const raw = new Uint8Array(
      m.data.buffer,
      m.data.byteOffset,
      m.data.byteLength,
    );
    const sizes = t.layoutSizes(rows, cols, g);
    assert.equal(m.data.length, sizes.dataLength);
    assert.equal(m.scales.length, sizes.scalesLength);
    // stored at an odd offset inside a bigger file
    const file = new Uint8Array(raw.length + 3);
    file.set(raw, 1);
    const back = t.fromParts(
      rows,
      cols,
      g,
      file.subarray(1, 1 + raw.length),
      m.scales.slice(),
    );
    assert.equal(back.type, t.name);
    assert.deepEqual(t.dequantize(back), t.dequantize(m));
    const x = randn(rng, cols),
      a = new Float32Array(rows),
      b = new Float32Array(rows);
    JS_KERNELS[t.name].matvec(m, x, a);
    JS_KERNELS[t.name].matvec(back, x, b);
    assert.deepEqual(a, b);
  }
});

Deno.test("fromParts: wrong lengths are ShapeErrors naming what is wrong", () => {
  const bytes = new Uint8Array(128);
  assert.throws(
    () => int8.fromParts(2, 64, 32, bytes.subarray(1), new Float32Array(4)),
    (e: Error) =>
      e instanceof ShapeError && /data is 127 bytes.*needs 128/.test(e.message),
  );
  assert.throws(
    () => int8.fromParts(2, 64, 32, bytes, new Float32Array(3)),
    (e: Error) =>
      e instanceof ShapeError && /3 scales.*needs 4/.test(e.message),
  );
  assert.throws(
    () => int4.fromParts(2, 64, "row", bytes, new Float32Array(2)),
    (e: Error) =>
      e instanceof ShapeError &&
      /int4.*data is 128 bytes.*needs 64/.test(e.message),
  );
  assert.throws(
    () =>
      WEIGHT_TYPES.fp32.fromParts(2, 16, "tensor", bytes, new Float32Array(1)),
    (e: Error) =>
      e instanceof ShapeError && /1 scales.*needs 0/.test(e.message),
  );
  assert.throws(
    () => int4.fromParts(2, 63, "row", bytes, new Float32Array(2)),
    ShapeError,
  );
  assert.throws(
    () => int8.fromParts(2, 64, 48, bytes, new Float32Array(2)),
    ShapeError,
  );
  const f = WEIGHT_TYPES.fp32.fromParts(
    2,
    16,
    "tensor",
    bytes,
    new Float32Array(0),
  );
  assert.equal(f.data.length, 32);
});

Deno.test("granularity strings round-trip; bad ones are ConfigErrors", () => {
  for (const g of ["tensor", "row", 32, 1, 4096] as Granularity[]) {
    assert.equal(parseGranularity(granularityToString(g)), g);
  }
  assert.equal(granularityToString(32), "32");
  for (const bad of ["", "0", "-32", "3.5", "rows", "1e3", "999999"]) {
    assert.throws(() => parseGranularity(bad), ConfigError, bad);
  }
});

Deno.test("property: random matrices, any fitting granularity: round trip and js = reference on deq activations", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 12 }),
      fc.constantFrom<Granularity>("tensor", "row", 2, 4, 8, 16),
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      fc.constantFrom(0.01, 1, 1000),
      (rows, halfCols, g, seed, std) => {
        const cols = 2 * halfCols * (typeof g === "number" ? g : 1);
        const rng = new Rng(seed);
        const w = randn(rng, rows * cols, std);
        const x = randn(rng, cols);
        for (const t of TYPES) {
          const m = t.quantize(w, rows, cols, g);
          const d = t.dequantize(m);
          const xk = JS_KERNELS[t.name].activation === "int8-groups"
            ? dequantizeActivations(x, activationGroupSize(m))
            : x;
          const out = new Float32Array(rows);
          JS_KERNELS[t.name].matvec(m, x, out);
          for (let r = 0; r < rows; r++) {
            let exact = 0, mag = 0;
            for (let c = 0; c < cols; c++) {
              const i = r * cols + c;
              if (t.bitsPerWeight < 32) {
                const err = Math.abs(w[i] - d[i]);
                if (err > scaleOf(m, r, c) / 2 + 1e-6 * Math.abs(w[i])) {
                  return false;
                }
              }
              exact += d[i] * xk[c];
              mag += Math.abs(d[i] * xk[c]);
            }
            if (Math.abs(out[r] - exact) > 1e-5 * mag + 1e-30) return false;
          }
        }
        return true;
      },
    ),
    { numRuns: 60, seed: 7 },
  );
});
