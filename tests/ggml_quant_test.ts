// ggml block types against llama.cpp: dequantize and quantize bit for bit
// (tests/testdata/gguf/quant/*.gguf), activation rounding byte for byte and
// dot products against ggml's CPU backend (ggml_vectors.gguf), fast kernels
// against the plain reference ones.
import assert from "node:assert/strict";
import { ggufFixture } from "./gguf_fixtures.ts";
import fc from "fast-check";
import { ConfigError, ShapeError } from "../src/errors.ts";
import { GGML_TYPE, type GgmlTypeName, parseGguf } from "../src/io/gguf.ts";
import {
  bf16ToFloat,
  createGgmlActivations,
  floatToBf16,
  floatToHalf,
  GGML_BLOCK_TYPES,
  type GgmlBlockType,
  ggmlBlockType,
  ggmlDequantize,
  ggmlMatmul,
  ggmlMatvec,
  ggmlQuantize,
  ggmlRowBytes,
  halfToFloat,
  packGgmlActivations,
  quantizeGgmlActivations,
} from "../src/quant/ggml/mod.ts";

const f32Of = (b: Uint8Array) => new Float32Array(b.slice().buffer);
// deno-lint-ignore require-await
const fixture = async (file: string) => parseGguf(ggufFixture(file));

/** quant/<file> per type; F32's weights are the source matrix itself. */
const FILES: Record<string, [string, string]> = {
  F32: ["quant/f16.gguf", "source"],
  F16: ["quant/f16.gguf", "quantized"],
  BF16: ["quant/bf16.gguf", "quantized"],
  Q8_0: ["quant/q8_0.gguf", "quantized"],
  Q4_0: ["quant/q4_0.gguf", "quantized"],
  Q4_1: ["quant/q4_1.gguf", "quantized"],
  Q5_0: ["quant/q5_0.gguf", "quantized"],
  Q5_1: ["quant/q5_1.gguf", "quantized"],
  Q4_K: ["quant/q4_k.gguf", "quantized"],
  Q5_K: ["quant/q5_k.gguf", "quantized"],
  Q6_K: ["quant/q6_k.gguf", "quantized"],
};

Deno.test("ggml: every type's table row matches the GGUF type table", () => {
  assert.deepEqual(
    Object.values(GGML_BLOCK_TYPES).map((t) => t.name).sort(),
    Object.keys(FILES).sort(),
  );
  for (const t of Object.values(GGML_BLOCK_TYPES)) {
    assert.equal(t.id, GGML_TYPE[t.name]);
    assert.equal(ggmlRowBytes(t, 4 * t.blockSize), 4 * t.typeSize);
  }
  assert.throws(() => ggmlBlockType(GGML_TYPE.IQ4_NL), {
    name: "ConfigError",
    message: /ggml type IQ4_NL is not supported \(supported: F32, F16, /,
  });
  assert.throws(() => ggmlBlockType(99), ConfigError);
});

for (const [name, [file]] of Object.entries(FILES)) {
  if (name === "F32") continue;
  Deno.test(`ggml ${name}: dequantize equals gguf-py's and quantize equals llama-quantize's, bit for bit`, async () => {
    const f = await fixture(file);
    const q = f.tensor("quantized")!;
    const t = ggmlBlockType(q.type);
    assert.equal(t.name, name);
    const [cols, rows] = q.shape;
    const want = f32Of(f.tensor("dequantized")!.data);
    const got = ggmlDequantize(t, q.data, rows, cols);
    for (let i = 0; i < want.length; i++) {
      if (!Object.is(got[i], want[i])) {
        assert.fail(`element ${i}: ${got[i]} != ${want[i]}`);
      }
    }
    const bytes = ggmlQuantize(t, f32Of(f.tensor("source")!.data), rows, cols);
    const rowBytes = ggmlRowBytes(t, cols);
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] !== q.data[i]) {
        assert.fail(
          `byte ${i} (row ${Math.floor(i / rowBytes)}): ${bytes[i]} != ${
            q.data[i]
          }`,
        );
      }
    }
  });
}

Deno.test("ggml: half conversions round to nearest even (checked against Float16Array when the engine has it)", () => {
  // every half round-trips
  for (let h = 0; h < 0x10000; h++) {
    const v = halfToFloat(h);
    if (Number.isNaN(v)) assert.equal(floatToHalf(v) & 0x7fff, 0x7e00);
    else assert.equal(floatToHalf(v), h, `half ${h.toString(16)}`);
  }
  // ties and the ends of the range, worked by hand
  assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00); // tie → even
  assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02); // tie → even (up)
  assert.equal(floatToHalf(65519), 0x7bff);
  assert.equal(floatToHalf(65520), 0x7c00); // rounds to infinity
  assert.equal(floatToHalf(2 ** -25), 0); // half the smallest subnormal: tie → 0
  assert.equal(floatToHalf(Math.fround(2 ** -25 * 1.000001)), 1);
  assert.equal(floatToHalf(-0), 0x8000);
  if (typeof Float16Array !== "undefined") {
    const one = new Float16Array(1);
    const bits = new Uint16Array(one.buffer);
    fc.assert(
      fc.property(fc.float({ noNaN: true }), (x) => {
        one[0] = x;
        assert.equal(floatToHalf(x), bits[0]);
      }),
      { numRuns: 20000, seed: 7 },
    );
  }
});

Deno.test("ggml: bfloat16 conversions round to nearest even", () => {
  assert.equal(floatToBf16(1), 0x3f80);
  assert.equal(floatToBf16(Math.fround(1 + 2 ** -8)), 0x3f80); // tie → even
  assert.equal(floatToBf16(Math.fround(1 + 3 * 2 ** -8)), 0x3f82); // tie → even (up)
  assert.equal(floatToBf16(NaN) & 0x7fc0, 0x7fc0);
  fc.assert(
    fc.property(
      fc.float({
        min: Math.fround(-3e38),
        max: Math.fround(3e38),
        noNaN: true,
      }),
      (x) => {
        const b = floatToBf16(x);
        const y = bf16ToFloat(b);
        // nearest: no bfloat16 is closer than y
        const up = bf16ToFloat(b + 1), down = bf16ToFloat(b - 1);
        const e = Math.abs(y - x);
        assert.ok(!(Math.abs(up - x) < e) && !(Math.abs(down - x) < e), `${x}`);
      },
    ),
    { numRuns: 5000, seed: 8 },
  );
});

const vectors = await fixture("ggml_vectors.gguf");
const xT = vectors.tensor("x")!;
const [COLS, M] = xT.shape;
const X = f32Of(xT.data);

Deno.test("ggml: activations round as ggml's CPU backend does, byte for byte (ties included)", () => {
  for (
    const vt of ["F32", "F16", "BF16", "Q8_0", "Q8_1", "Q8_K"] as GgmlTypeName[]
  ) {
    const want = vectors.tensor(`act.${vt}`)!.data;
    const a = createGgmlActivations(GGML_TYPE[vt], COLS, M);
    let off = 0;
    for (let i = 0; i < M; i++) {
      quantizeGgmlActivations(X, i * COLS, a, i);
      const got = packGgmlActivations(a, i);
      assert.deepEqual(
        got,
        want.subarray(off, off + got.length),
        `${vt} vector ${i}`,
      );
      off += got.length;
    }
    assert.equal(off, want.length);
  }
});

for (const [name, [file, tensor]] of Object.entries(FILES)) {
  Deno.test(`ggml ${name}: dot products equal ggml's vec_dot to float rounding; fast equals reference`, async () => {
    const t = (await fixture(file)).tensor(tensor)!;
    const bt = ggmlBlockType(t.type);
    const rows = t.shape[1];
    const want = f32Of(vectors.tensor(`dot.${name}`)!.data);
    const fast = new Float32Array(rows * M);
    const ref = new Float32Array(rows * M);
    ggmlMatmul(bt, t.data, rows, COLS, X, M, fast);
    ggmlMatmul(bt, t.data, rows, COLS, X, M, ref, undefined, true);
    // Q4_1/Q5_1: ggml adds min·s with s = d·Σq rounded to half, the
    // reference dequantizes exactly; that rounding is the whole difference
    const refTol = bt.vecDotType === GGML_TYPE.Q8_1 ? 3e-3 : 1e-6;
    for (let i = 0; i < M; i++) {
      let scale = 0;
      for (let r = 0; r < rows; r++) {
        scale = Math.max(scale, Math.abs(want[i * rows + r]));
      }
      for (let r = 0; r < rows; r++) {
        const k = i * rows + r;
        const where = `vector ${i} row ${r}: fast ${fast[k]} ref ${
          ref[k]
        } ggml ${want[k]}`;
        assert.ok(Math.abs(fast[k] - want[k]) <= 1e-6 * scale, where);
        assert.ok(Math.abs(ref[k] - want[k]) <= refTol * scale, where);
      }
    }
  });
}

/** A random matrix of whole blocks, quantized with the type's reference quantizer. */
function randomMatrix(
  t: GgmlBlockType,
  rows: number,
  cols: number,
  seed: number,
): Uint8Array {
  let s = seed >>> 0;
  const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const x = new Float32Array(rows * cols);
  for (let i = 0; i < x.length; i++) {
    x[i] = (rand() - 0.5) * (rand() < 0.05 ? 20 : 2);
  }
  return ggmlQuantize(t, x, rows, cols);
}

Deno.test("ggml: fast dots equal the reference dots on random matrices and inputs (property)", () => {
  const types = Object.values(GGML_BLOCK_TYPES);
  fc.assert(
    fc.property(
      fc.constantFrom(...types),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer(),
      fc.array(fc.float({ min: -8, max: 8, noNaN: true }), {
        minLength: 768,
        maxLength: 768,
      }),
      (t, rows, blocks, seed, xs) => {
        const cols = blocks * Math.max(t.blockSize, 256);
        const w = randomMatrix(t, rows, cols, seed);
        const x = Float32Array.from(xs.slice(0, cols));
        const fast = new Float32Array(rows), ref = new Float32Array(rows);
        const act = createGgmlActivations(t.vecDotType, cols);
        ggmlMatvec(t, w, rows, cols, x, fast, act);
        ggmlMatvec(t, w, rows, cols, x, ref, undefined, true);
        const deq = ggmlDequantize(t, w, rows, cols);
        const rowBytes = ggmlRowBytes(t, cols);
        for (let r = 0; r < rows; r++) {
          // the one-row dot is the same arithmetic as the row loop
          assert.equal(
            Math.fround(t.dot(w, r * rowBytes, act, 0, cols)),
            fast[r],
          );
          let mag = 0;
          for (let c = 0; c < cols; c++) {
            mag += Math.abs(deq[r * cols + c] * x[c]);
          }
          const tol = (t.vecDotType === GGML_TYPE.Q8_1 ? 2e-3 : 1e-6) * mag +
            1e-30;
          assert.ok(
            Math.abs(fast[r] - ref[r]) <= tol,
            `${t.name} row ${r}: ${fast[r]} vs ${ref[r]}`,
          );
        }
      },
    ),
    { numRuns: 150, seed: 9 },
  );
});

Deno.test("ggml: quantize → dequantize stays within each type's error bound on normal data", () => {
  // relative RMS error on unit normal rows, generous bounds per bit width
  const bound: Record<string, number> = {
    F32: 0,
    F16: 1e-3,
    BF16: 4e-3,
    Q8_0: 0.01,
    Q6_K: 0.03,
    Q5_1: 0.05,
    Q5_0: 0.06,
    Q5_K: 0.05,
    Q4_1: 0.1,
    Q4_0: 0.12,
    Q4_K: 0.1,
  };
  let s = 12345;
  const normal = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = (s + 1) / 2 ** 32;
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * s / 2 ** 32);
  };
  const rows = 8, cols = 512;
  const x = Float32Array.from({ length: rows * cols }, normal);
  for (const t of Object.values(GGML_BLOCK_TYPES)) {
    const back = ggmlDequantize(t, ggmlQuantize(t, x, rows, cols), rows, cols);
    let err = 0, ref = 0;
    for (let i = 0; i < x.length; i++) {
      err += (back[i] - x[i]) ** 2;
      ref += x[i] ** 2;
    }
    const rel = Math.sqrt(err / ref);
    assert.ok(rel <= bound[t.name], `${t.name}: relative RMS error ${rel}`);
  }
});

Deno.test("ggml: matmul over n inputs equals n matvecs; shape errors are ShapeErrors", () => {
  for (const t of Object.values(GGML_BLOCK_TYPES)) {
    const cols = 256, rows = 3, n = 2;
    const w = randomMatrix(t, rows, cols, 5);
    const x = Float32Array.from({ length: n * cols }, (_, i) => Math.sin(i));
    const all = new Float32Array(n * rows);
    const act = createGgmlActivations(t.vecDotType, cols, n);
    ggmlMatmul(t, w, rows, cols, x, n, all, act);
    for (let i = 0; i < n; i++) {
      const one = new Float32Array(rows);
      ggmlMatvec(t, w, rows, cols, x.subarray(i * cols), one);
      assert.deepEqual(one, all.subarray(i * rows, (i + 1) * rows), t.name);
    }
    assert.throws(
      () => ggmlMatvec(t, w.subarray(1), rows, cols, x, all),
      ShapeError,
    );
    assert.throws(
      () => ggmlMatvec(t, w, rows, cols, x.subarray(0, cols - 1), all),
      ShapeError,
    );
  }
  assert.throws(() => ggmlRowBytes(GGML_BLOCK_TYPES[GGML_TYPE.Q4_K], 128), {
    name: "ShapeError",
    message: "Q4_K: rows of 128 are not a whole number of 256-element blocks",
  });
  assert.throws(
    () =>
      ggmlMatvec(
        GGML_BLOCK_TYPES[GGML_TYPE.Q8_0],
        new Uint8Array(34),
        1,
        32,
        new Float32Array(32),
        new Float32Array(1),
        createGgmlActivations(GGML_TYPE.Q8_K, 256),
      ),
    ShapeError,
  );
});
