// Model variants added through the tensor table: Q/K/V biases (Qwen2),
// NeoX-style RoPE and RoPE over part of each head. Checked against finite
// differences (backward), against the decode path (sequence forward), against
// a hand-written rotation (RoPE pairing) and through the file formats.
import assert from "node:assert/strict";
import { ConfigError, FormatError } from "../src/errors.ts";
import { encodeLlama2cCheckpoint } from "../src/io/llama2c.ts";
import {
  loadModelArchive,
  saveModelArchive,
  weightsToTensors,
} from "../src/io/archive.ts";
import { KvCacheFp32 } from "../src/kv/caches.ts";
import { randomModelWeights } from "../src/model/build.ts";
import { makeConfig, type ModelConfig } from "../src/model/config.ts";
import { createRunState, forwardToken } from "../src/model/decode.ts";
import { modelByteSize, quantizeModel } from "../src/model/quantize.ts";
import { createActivations, sequenceForward } from "../src/model/sequence.ts";
import { modelTensors, parameterCount } from "../src/model/tensors.ts";
import type { ModelWeights } from "../src/model/weights.ts";
import { Rng } from "../src/random.ts";
import { ropeForward, ropeTable } from "../src/tensor/rope.ts";
import { WordTokenizer } from "../src/tokenizer/word.ts";
import { initParams, paramLayout } from "../src/train/params.ts";
import { checkModelGradient } from "./gradcheck_util.ts";

const VARIANTS: { name: string; config: ModelConfig }[] = [
  {
    name: "Q/K/V biases",
    config: makeConfig({
      dim: 8,
      hiddenDim: 12,
      nLayers: 2,
      nHeads: 2,
      nKvHeads: 1,
      vocabSize: 11,
      seqLen: 5,
      qkvBias: true,
    }),
  },
  {
    name: "Q/K/V biases, NeoX RoPE, unshared classifier",
    config: makeConfig({
      dim: 8,
      hiddenDim: 12,
      nLayers: 1,
      nHeads: 2,
      vocabSize: 11,
      seqLen: 5,
      qkvBias: true,
      ropeStyle: "neox",
      sharedClassifier: false,
    }),
  },
  {
    name: "NeoX RoPE over half of each head",
    config: makeConfig({
      dim: 16,
      hiddenDim: 12,
      nLayers: 1,
      nHeads: 2,
      vocabSize: 11,
      seqLen: 5,
      ropeStyle: "neox",
      ropeDim: 4,
    }),
  },
  {
    name: "interleaved RoPE over half of each head, biases",
    config: makeConfig({
      dim: 16,
      hiddenDim: 12,
      nLayers: 1,
      nHeads: 2,
      vocabSize: 11,
      seqLen: 5,
      ropeDim: 4,
      qkvBias: true,
    }),
  },
];

/** Random weights with non-zero biases (training starts them at 0). */
function weightsWithBiases(config: ModelConfig, seed: number): ModelWeights {
  const w = randomModelWeights(config, seed, 0.3);
  const rng = new Rng(seed + 1);
  for (const l of w.layers) {
    for (const b of [l.bq, l.bk, l.bv]) {
      if (b) { for (let i = 0; i < b.length; i++) b[i] = rng.normal() * 0.5; }
    }
  }
  return w;
}

for (const { name, config } of VARIANTS) {
  Deno.test(`variants: gradcheck of the whole model, ${name}`, () => {
    const grad = checkModelGradient(config);
    if (config.qkvBias) {
      const bq = paramLayout(config).specs.find((s) =>
        s.name === "layers.0.bq"
      )!;
      assert.ok(grad.subarray(bq.offset, bq.offset + bq.size).some((g) => g));
    }
  });

  Deno.test(`variants: sequence forward = decode (1e-5), ${name}`, () => {
    const w = weightsWithBiases(config, 5);
    const tokens = [[1, 5, 7, 10, 0], [4, 4, 3, 2, 9]];
    const T = 5, V = config.vocabSize;
    const acts = createActivations(config, 2, T);
    sequenceForward(w, acts, tokens.flat());
    for (let b = 0; b < 2; b++) {
      const state = createRunState(config);
      const cache = new KvCacheFp32(config);
      for (let t = 0; t < T; t++) {
        const ref = forwardToken(w, state, cache, tokens[b][t], t);
        for (let i = 0; i < V; i++) {
          const d = Math.abs(acts.logits[(b * T + t) * V + i] - ref[i]);
          assert.ok(d <= 1e-5, `row ${b} pos ${t} logit ${i}: Δ ${d}`);
        }
      }
    }
  });
}

Deno.test("variants: biases change the output (they are used in both paths)", () => {
  const config = VARIANTS[0].config;
  const w = weightsWithBiases(config, 2);
  const zero: ModelWeights = {
    ...w,
    layers: w.layers.map((l) => ({
      ...l,
      bq: new Float32Array(l.bq!.length),
      bk: new Float32Array(l.bk!.length),
      bv: new Float32Array(l.bv!.length),
    })),
  };
  const logits = (m: ModelWeights) =>
    forwardToken(m, createRunState(config), new KvCacheFp32(config), 3, 0)
      .slice();
  const a = logits(w), b = logits(zero);
  assert.ok(a.some((v, i) => Math.abs(v - b[i]) > 1e-4));
});

Deno.test("rope: NeoX pairs (i, i + ropeDim/2), interleaved (2i, 2i+1), the rest passes through", () => {
  const hs = 8, pos = 3, theta = 100;
  const x = Float32Array.from({ length: hs }, (_, i) => i + 1);
  for (const style of ["neox", "interleaved"] as const) {
    for (const ropeDim of [8, 4]) {
      const t = ropeTable({ headSize: hs, ropeDim, style, theta }, pos + 1);
      const got = x.slice();
      // row 0 of a [1, seqLen] batch sits at position 0: use the last row
      const rows = new Float32Array((pos + 1) * hs);
      rows.set(got, pos * hs);
      ropeForward(rows, pos + 1, hs, pos + 1, t);
      const out = rows.subarray(pos * hs);
      const want = Array.from(x);
      const half = ropeDim / 2;
      for (let i = 0; i < half; i++) {
        const a = pos * Math.pow(theta, (-2 * i) / ropeDim);
        const [p, q] = style === "neox" ? [i, i + half] : [2 * i, 2 * i + 1];
        want[p] = x[p] * Math.cos(a) - x[q] * Math.sin(a);
        want[q] = x[p] * Math.sin(a) + x[q] * Math.cos(a);
      }
      for (let i = 0; i < hs; i++) {
        assert.ok(
          Math.abs(out[i] - want[i]) < 1e-5,
          `${style} ropeDim ${ropeDim} [${i}]: ${out[i]} vs ${want[i]}`,
        );
      }
      for (let i = ropeDim; i < hs; i++) assert.equal(out[i], x[i]);
    }
  }
});

Deno.test("config: makeConfig defaults are llama2.c's; bad variant fields are ConfigErrors", () => {
  const c = makeConfig({
    dim: 64,
    hiddenDim: 172,
    nLayers: 5,
    nHeads: 8,
    vocabSize: 512,
    seqLen: 512,
  });
  assert.deepEqual(
    [c.nKvHeads, c.positional, c.sharedClassifier, c.normEps, c.ropeTheta],
    [8, "rope", true, 1e-5, 10000],
  );
  assert.deepEqual([c.qkvBias, c.ropeStyle, c.ropeDim], [
    false,
    "interleaved",
    8,
  ]);
  for (
    const bad of [
      { ropeDim: 3 },
      { ropeDim: 10 },
      { ropeDim: 0 },
      { ropeStyle: "gptj" as "neox" },
      { qkvBias: 1 as unknown as boolean },
      { nKvHeads: 3 },
    ]
  ) {
    assert.throws(() => makeConfig({ ...c, ...bad }), ConfigError);
  }
});

Deno.test("tensor table: names, shapes and counts for a Qwen2-style config", () => {
  const c = makeConfig({
    dim: 16,
    hiddenDim: 24,
    nLayers: 2,
    nHeads: 4,
    nKvHeads: 2,
    vocabSize: 30,
    seqLen: 8,
    qkvBias: true,
    sharedClassifier: false,
  });
  const ts = modelTensors(c);
  const byName = new Map(ts.map((t) => [t.name, t]));
  assert.deepEqual(byName.get("layers.1.bk")!.shape, [8]);
  assert.equal(byName.get("layers.1.bk")!.ggufName, "blk.1.attn_k.bias");
  assert.equal(byName.get("layers.0.w1")!.ggufName, "blk.0.ffn_gate.weight");
  assert.equal(byName.get("layers.0.w2")!.ggufName, "blk.0.ffn_down.weight");
  assert.equal(byName.get("layers.0.w3")!.ggufName, "blk.0.ffn_up.weight");
  assert.equal(byName.get("classifier")!.ggufName, "output.weight");
  assert.equal(byName.get("tokenEmbedding")!.archiveName, "tok_embeddings");
  assert.equal(new Set(ts.map((t) => t.archiveName)).size, ts.length);
  assert.equal(new Set(ts.map((t) => t.ggufName)).size, ts.length);
  // the parameter count is the sum of the shapes, written out by hand
  const kv = 8,
    perLayer = 16 + 16 * 16 + 2 * kv * 16 + 16 + 2 * kv +
      16 * 16 + 16 + 3 * 24 * 16;
  const n = 30 * 16 + 2 * perLayer + 16 + 30 * 16;
  assert.equal(parameterCount(c), n);
  assert.equal(paramLayout(c).size, n);
  // training starts biases at 0 (not 1 like the norm gains)
  const layout = paramLayout(c), flat = initParams(layout, 1);
  for (const s of layout.specs) {
    const v = flat.subarray(s.offset, s.offset + s.size);
    if (s.spec.role === "bias") assert.ok(v.every((x) => x === 0), s.name);
    if (s.spec.role === "norm") assert.ok(v.every((x) => x === 1), s.name);
  }
});

Deno.test("variants: archives keep biases and RoPE settings; llama2.c refuses them; sizes count biases", async () => {
  const c = makeConfig({
    dim: 16,
    hiddenDim: 24,
    nLayers: 2,
    nHeads: 4,
    nKvHeads: 2,
    vocabSize: 10,
    seqLen: 8,
    qkvBias: true,
    ropeStyle: "neox",
    ropeDim: 2,
  });
  const w = weightsWithBiases(c, 3);
  const tokenizer = WordTokenizer.fromWords(["a"], { maxSize: 10 });
  const { tensors } = weightsToTensors(w);
  assert.deepEqual(tensors["layers.1.bv"].shape, [8]);
  const back = await loadModelArchive(
    await saveModelArchive({ weights: w, tokenizer }),
  );
  assert.deepEqual(back.config, c);
  assert.deepEqual(back.weights.layers[1].bq, w.layers[1].bq);
  assert.deepEqual(back.weights.layers[0].bv, w.layers[0].bv);
  const q = quantizeModel(w, "int8");
  assert.equal(q.layers[0].bq, w.layers[0].bq); // vectors stay fp32
  const plain = randomModelWeights(makeConfig({ ...c, qkvBias: false }), 3);
  assert.equal(modelByteSize(w) - modelByteSize(plain), 2 * 4 * (16 + 8 + 8));
  assert.throws(() => encodeLlama2cCheckpoint(w), FormatError);
  assert.throws(
    () =>
      encodeLlama2cCheckpoint(
        randomModelWeights(makeConfig({ ...c, qkvBias: false }), 1),
      ),
    FormatError,
  );
});
