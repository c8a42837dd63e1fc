// ggml's block types as rows of the weight-type table: storage contracts,
// the kernel entries against an fp64 product with the rounded activations,
// quantizeModel's fallbacks, archives and the quantize CLI.
import assert from "node:assert/strict";
import { ShapeError } from "../src/errors.ts";
import { main as quantizeCli } from "../src/cli/quantize.ts";
import { loadModelArchive, saveModelArchive } from "../src/io/archive.ts";
import { JS_KERNELS } from "../src/kernels/js.ts";
import { kernelsFor } from "../src/kernels/select.ts";
import { WASM_KERNELS } from "../src/kernels/wasm.ts";
import { bindKernels } from "../src/model/bind.ts";
import { randomModelWeights } from "../src/model/build.ts";
import { makeConfig } from "../src/model/config.ts";
import { createRunState, forwardToken } from "../src/model/decode.ts";
import { modelByteSize, quantizeModel } from "../src/model/quantize.ts";
import {
  createGgmlActivations,
  dequantizeGgmlActivations,
  GGML_BLOCK_TYPES,
  ggmlQuantize,
  quantizeGgmlActivations,
} from "../src/quant/ggml/mod.ts";
import { GGML_TYPE } from "../src/quant/ggml/types.ts";
import { ggmlFallbackType } from "../src/quant/ggml/weight_types.ts";
import {
  WEIGHT_TYPES,
  weightType,
  weightTypeOfGgml,
} from "../src/quant/table.ts";
import type { ModelWeights } from "../src/model/weights.ts";
import { KvCacheFp32 } from "../src/kv/caches.ts";
import { Rng } from "../src/random.ts";
import { WordTokenizer } from "../src/tokenizer/word.ts";
import { wasmVariant } from "../src/wasm/runtime.ts";
import { testNeeding } from "./permissions.ts";

const test = testNeeding(import.meta.url, "read", "write");

const GGML_NAMES = [
  "f16",
  "bf16",
  "q8_0",
  "q4_0",
  "q4_1",
  "q5_0",
  "q5_1",
  "q4_k",
  "q5_k",
  "q6_k",
];

function randn(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

Deno.test("ggml table rows: storage contracts (layout, quantize = ggml's reference, rows, parts, errors)", () => {
  const rng = new Rng(1);
  for (const name of GGML_NAMES) {
    const t = weightType(name);
    const block = GGML_BLOCK_TYPES[t.ggmlType!];
    assert.equal(block.name.toLowerCase(), name);
    assert.equal(weightTypeOfGgml(t.ggmlType!), t);
    assert.equal(t.scales, "none");
    assert.equal(t.bitsPerWeight, (block.typeSize * 8) / block.blockSize);
    const rows = 3, cols = 512;
    const w = randn(rng, rows * cols);
    const m = t.quantize(w, rows, cols, "tensor");
    assert.equal(m.type, name);
    assert.ok(m.data instanceof Uint8Array && m.scales.length === 0);
    assert.deepEqual(m.data, ggmlQuantize(block, w, rows, cols));
    assert.deepEqual(t.layoutSizes(rows, cols, "row"), {
      dataLength: m.data.length,
      scalesLength: 0,
    });
    assert.equal(t.byteSize(m), m.data.length);
    const d = t.dequantize(m);
    const row = new Float32Array(cols);
    for (let r = 0; r < rows; r++) {
      t.dequantizeRow(m, r, row);
      assert.deepEqual(row, d.subarray(r * cols, (r + 1) * cols));
    }
    const back = t.fromParts(
      rows,
      cols,
      "tensor",
      m.data as Uint8Array,
      new Float32Array(0),
    );
    assert.deepEqual(t.dequantize(back), d);
    assert.throws(
      () =>
        t.fromParts(
          rows,
          cols,
          "tensor",
          (m.data as Uint8Array).subarray(1),
          new Float32Array(0),
        ),
      ShapeError,
    );
    if (block.blockSize > 1) {
      assert.throws(
        () => t.quantize(new Float32Array(2 * 48), 2, 48, "tensor"),
        {
          name: "ShapeError",
          message: new RegExp(
            `${name}: rows of 48 weights are not a whole number of ${block.blockSize}-weight blocks`,
          ),
        },
      );
    }
  }
  assert.equal(weightTypeOfGgml(GGML_TYPE.F32), WEIGHT_TYPES.fp32);
  assert.equal(weightTypeOfGgml(GGML_TYPE.IQ4_NL), undefined);
});

Deno.test("ggml kernel entries (js, wasm): the fp64 product of the dequantized weights and the rounded activations", () => {
  const rng = new Rng(2);
  for (const name of GGML_NAMES) {
    const t = weightType(name);
    const block = GGML_BLOCK_TYPES[t.ggmlType!];
    const kernels = [
      JS_KERNELS[name],
      ...(wasmVariant() !== "none" ? [WASM_KERNELS[name]] : []),
    ];
    assert.equal(WASM_KERNELS[name].activation, JS_KERNELS[name].activation);
    for (const [rows, cols] of [[5, 256], [9, 512]]) {
      const m = t.quantize(randn(rng, rows * cols, 0.1), rows, cols, "tensor");
      const d = t.dequantize(m);
      for (const n of [1, 3]) {
        const x = randn(rng, n * cols);
        const a = createGgmlActivations(block.vecDotType, cols, n);
        for (const k of kernels) {
          const out = new Float32Array(n * rows).fill(NaN);
          if (n === 1) k.matvec(m, x, out);
          else k.matmul(m, x, n, out);
          for (let i = 0; i < n; i++) {
            quantizeGgmlActivations(x, i * cols, a, i);
            const xa = dequantizeGgmlActivations(a, i);
            for (let r = 0; r < rows; r++) {
              let exact = 0, mag = 0;
              for (let c = 0; c < cols; c++) {
                exact += d[r * cols + c] * xa[c];
                mag += Math.abs(d[r * cols + c] * xa[c]);
              }
              // Q8_1: ggml's min term uses s = half(d·Σq), not d·Σq
              const tol = (k.activation === "q8_1" ? 2e-3 : 1e-5) * mag + 1e-30;
              const got = out[i * rows + r];
              assert.ok(
                Math.abs(got - exact) <= tol,
                `${name} ${k.backend} [${rows},${cols}] n=${n} out[${i},${r}] = ${got}, expected ${exact}`,
              );
            }
          }
        }
      }
    }
  }
});

const CONFIG = makeConfig({
  dim: 64,
  hiddenDim: 172,
  nLayers: 1,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: 32,
  seqLen: 16,
});

Deno.test("quantizeModel with ggml types: rows that do not fit fall back as llama.cpp (172-wide w2 → f16)", () => {
  const w = randomModelWeights(CONFIG, 3);
  const types = (
    q: ModelWeights,
  ) => [
    q.layers[0].wq.weight.type,
    q.layers[0].w1.weight.type,
    q.layers[0].w2.weight.type,
    q.classifier.weight.type,
  ];
  assert.deepEqual(types(quantizeModel(w, "q8_0")), [
    "q8_0",
    "q8_0",
    "f16",
    "q8_0",
  ]);
  assert.deepEqual(types(quantizeModel(w, "q4_k")), [
    "q5_0",
    "q5_0",
    "f16",
    "q5_0",
  ]);
  assert.deepEqual(types(quantizeModel(w, "q6_k")), [
    "q8_0",
    "q8_0",
    "f16",
    "q8_0",
  ]);
  assert.equal(ggmlFallbackType(WEIGHT_TYPES.q4_k, 512), WEIGHT_TYPES.q4_k);
  assert.equal(ggmlFallbackType(WEIGHT_TYPES.int4, 3), WEIGHT_TYPES.int4); // not ggml's
  // the shared embedding is quantized once and serves both
  const q = quantizeModel(w, "q4_0");
  assert.equal(q.tokenEmbedding, q.classifier.weight);
  assert.ok(modelByteSize(q) < modelByteSize(w) / 4);
});

Deno.test("a q8_0/q4_k model decodes through both backends like its dequantized fp32 twin", () => {
  const w = randomModelWeights(CONFIG, 4);
  for (const name of ["q8_0", "q4_k", "f16"]) {
    const q = quantizeModel(w, name);
    // the same weights in fp32: only the activation rounding differs
    const twin = quantizeModel(q, "fp32");
    const run = (m: ModelWeights) => {
      const state = createRunState(m.config);
      const cache = new KvCacheFp32(m.config);
      let logits = new Float32Array(0);
      for (const [pos, tok] of [3, 7, 1, 30].entries()) {
        logits = forwardToken(m, state, cache, tok, pos).slice();
      }
      return logits;
    };
    const ref = run(twin);
    const scale = Math.max(...ref.map(Math.abs));
    for (const backend of ["js", "wasm"] as const) {
      if (backend === "wasm" && wasmVariant() === "none") continue;
      const bound = bindKernels(q, backend);
      assert.equal(
        bound.layers[0].wq.kernels,
        kernelsFor(bound.layers[0].wq.weight.type, backend),
      );
      const got = run(bound);
      for (let i = 0; i < got.length; i++) {
        assert.ok(
          Math.abs(got[i] - ref[i]) <= 0.02 * scale,
          `${name} ${backend} logit ${i}: ${got[i]} vs ${ref[i]}`,
        );
      }
    }
  }
});

test("archives keep ggml-typed matrices byte for byte; the quantize CLI writes them", async () => {
  const w = randomModelWeights(CONFIG, 5);
  const tokenizer = WordTokenizer.fromWords("a b c d".split(" "), {
    maxSize: 8,
  });
  const q = quantizeModel(w, "q4_k");
  const back = await loadModelArchive(
    await saveModelArchive({ weights: q, tokenizer }),
  );
  assert.equal(back.weights.layers[0].wv.weight.type, "q5_0");
  assert.deepEqual(
    back.weights.layers[0].wv.weight.data,
    q.layers[0].wv.weight.data,
  );
  assert.deepEqual(
    back.weights.layers[0].w2.weight.data,
    q.layers[0].w2.weight.data,
  );

  const dir = await Deno.makeTempDir();
  const log = console.log;
  console.log = () => {};
  try {
    const src = `${dir}/m.tar.gz`, out = `${dir}/m-q8_0.tar.gz`;
    await Deno.writeFile(
      src,
      await saveModelArchive({ weights: w, tokenizer }),
    );
    await quantizeCli(["--model", src, "--type", "q8_0", "--out", out]);
    const a = await loadModelArchive(await Deno.readFile(out));
    const expected = quantizeModel(w, "q8_0");
    assert.equal(a.weights.layers[0].w1.weight.type, "q8_0");
    assert.deepEqual(
      a.weights.layers[0].w1.weight.data,
      expected.layers[0].w1.weight.data,
    );
    assert.equal(a.weights.layers[0].w2.weight.type, "f16");
    // a GGUF model in, a GGUF model out, as llama-quantize --pure
    const gguf = new URL("./testdata/gguf/requantize/", import.meta.url);
    const outGguf = `${dir}/tiny-q4_k.gguf`;
    await quantizeCli([
      "--model",
      new URL("tiny-f32.gguf", gguf).pathname,
      "--type",
      "q4_k",
      "--out",
      outGguf,
    ]);
    assert.deepEqual(
      await Deno.readFile(outGguf),
      await Deno.readFile(new URL("tiny-Q4_K_S.gguf", gguf)),
    );
    await assert.rejects(
      () =>
        quantizeCli([
          "--model",
          outGguf,
          "--type",
          "int8",
          "--out",
          `${dir}/x.gguf`,
        ]),
      /--type int8: a GGUF model takes one of ggml's types/,
    );
  } finally {
    console.log = log;
    await Deno.remove(dir, { recursive: true });
  }
});
