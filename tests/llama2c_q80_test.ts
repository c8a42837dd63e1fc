// llama2.c "version 2" (Q8_0) checkpoints: the byte layout by hand,
// export.py's rounding, round trips, damage, and llama2.c's own runq.c
// reading what the writer produces (tests/testdata/runc/runq_stories260K_q80.json).
import assert from "node:assert/strict";
import {
  encodeLlama2cQ80,
  isLlama2cQ80,
  llama2cQ80FileSize,
  llama2cQ80GroupSize,
  parseLlama2cQ80,
} from "../src/io/llama2c_q80.ts";
import { parseLlama2cCheckpoint } from "../src/io/llama2c.ts";
import { parseLlama2cTokenizer } from "../src/tokenizer/llama2c.ts";
import { generate } from "../src/generate/generate.ts";
import { randomModelWeights } from "../src/model/build.ts";
import { weightType } from "../src/quant/table.ts";
import { makeConfig, type ModelConfig } from "../src/model/config.ts";
import type { ModelWeights } from "../src/model/weights.ts";
import { ConfigError, FormatError } from "../src/errors.ts";
import { stories260KBytes, tok512Bytes } from "./reference.ts";
import runq from "./testdata/runc/runq_stories260K_q80.json" with {
  type: "json",
};

const tiny: ModelConfig = makeConfig({
  dim: 8,
  hiddenDim: 12,
  nLayers: 1,
  nHeads: 2,
  nKvHeads: 1,
  vocabSize: 4,
  seqLen: 4,
});

/** A tiny model with hand-picked values in its first embedding group. */
function tinyWeights(shared = true): ModelWeights {
  const w = randomModelWeights({ ...tiny, sharedClassifier: shared }, 4);
  const emb = w.tokenEmbedding.data as Float32Array;
  emb.set([1, -0.5, 0.25, 0], 0);
  // 63.5 and 31.75 steps: ties at .5 go to the even neighbour (torch.round)
  return w;
}

Deno.test("q80: header and layout by hand (export.py's version2_export)", () => {
  const w = tinyWeights();
  const bytes = encodeLlama2cQ80(w, 4);
  const dv = new DataView(bytes.buffer);
  assert.deepEqual([...bytes.subarray(0, 4)], [0x32, 0x34, 0x6b, 0x61]); // "24ka"
  assert.equal(dv.getInt32(4, true), 2);
  assert.deepEqual(
    Array.from({ length: 7 }, (_, i) => dv.getInt32(8 + 4 * i, true)),
    [8, 12, 1, 2, 1, 4, 4],
  );
  assert.equal(bytes[36], 1); // shared classifier
  assert.equal(dv.getInt32(37, true), 4); // group size, unaligned after the byte
  assert.ok(bytes.subarray(41, 256).every((b) => b === 0));
  // fp32 norms: rms_att, rms_ffn, rms_final
  let off = 256;
  for (const gains of [w.layers[0].rmsAtt, w.layers[0].rmsFfn, w.rmsFinal]) {
    for (let i = 0; i < 8; i++, off += 4) {
      assert.equal(dv.getFloat32(off, true), gains[i]);
    }
  }
  // embedding codes: [1, -0.5, 0.25, 0] / (1/127) = 127, -63.5, 31.75, 0
  const codes = new Int8Array(bytes.buffer, off, 4);
  assert.deepEqual([...codes], [127, -64, 32, 0]);
  off += 4 * 8; // 4 tokens × dim 8 codes
  assert.equal(dv.getFloat32(off, true), Math.fround(1 / 127));
  // size: header + norms + (codes + a scale per 4) for emb, wq, wk, wv, wo, w1, w2, w3
  const n = [4 * 8, 8 * 8, 4 * 8, 4 * 8, 8 * 8, 12 * 8, 8 * 12, 12 * 8];
  assert.equal(
    bytes.length,
    256 + 4 * 24 + n.reduce((a, b) => a + b + b, 0),
  );
  assert.equal(bytes.length, llama2cQ80FileSize(tiny, 4));
  assert.ok(isLlama2cQ80(bytes));
  assert.equal(isLlama2cQ80(bytes.subarray(0, 4)), false);
});

Deno.test("q80: group size is the largest power of two dividing dim and hidden_dim", () => {
  assert.equal(llama2cQ80GroupSize({ dim: 288, hiddenDim: 768 }, 64), 32);
  assert.equal(llama2cQ80GroupSize({ dim: 64, hiddenDim: 172 }, 64), 4);
  assert.equal(llama2cQ80GroupSize({ dim: 4096, hiddenDim: 11008 }, 64), 64);
  assert.equal(llama2cQ80GroupSize({ dim: 4096, hiddenDim: 11008 }, 48), 32);
  assert.throws(
    () => llama2cQ80GroupSize({ dim: 8, hiddenDim: 8 }, 0),
    ConfigError,
  );
});

Deno.test("q80: round trip within half a step; writing again gives the same bytes", () => {
  for (const shared of [true, false]) {
    const w = tinyWeights(shared);
    const bytes = encodeLlama2cQ80(w, 64); // lowered to 4
    const back = parseLlama2cQ80(bytes, "t.bin");
    assert.equal(back.config.sharedClassifier, shared);
    assert.deepEqual({ ...back.config }, { ...tiny, sharedClassifier: shared });
    const pairs: [Float32Array, typeof back.tokenEmbedding][] = [
      [w.tokenEmbedding.data as Float32Array, back.tokenEmbedding],
      [w.layers[0].w2.weight.data as Float32Array, back.layers[0].w2.weight],
      [w.classifier.weight.data as Float32Array, back.classifier.weight],
    ];
    for (const [orig, q] of pairs) {
      assert.equal(q.type, "int8");
      assert.equal(q.granularity, 4);
      const deq = weightType("int8").dequantize(q);
      for (let i = 0; i < orig.length; i++) {
        const step = q.scales[Math.floor(i / 4)];
        assert.ok(Math.abs(deq[i] - orig[i]) <= step / 2 + 1e-7);
      }
    }
    assert.equal(
      back.classifier.weight === back.tokenEmbedding,
      shared,
    );
    assert.deepEqual(back.layers[0].rmsAtt, w.layers[0].rmsAtt);
    assert.deepEqual(encodeLlama2cQ80(back, 4), bytes);
  }
});

Deno.test("q80: damaged files are FormatErrors naming the field or tensor", () => {
  const good = encodeLlama2cQ80(tinyWeights(), 4);
  const damaged = (edit: (b: Uint8Array, dv: DataView) => void) => {
    const b = good.slice();
    edit(b, new DataView(b.buffer));
    return b;
  };
  const cases: [Uint8Array, RegExp][] = [
    [good.subarray(0, 100), /header needs 256/],
    [damaged((b) => (b[0] = 0)), /magic/],
    [damaged((_, dv) => dv.setInt32(4, 3, true)), /version = 3/],
    [damaged((_, dv) => dv.setInt32(8, -8, true)), /dim = -8/],
    [damaged((b) => (b[36] = 7)), /shared_classifier = 7/],
    [damaged((_, dv) => dv.setInt32(37, 3, true)), /group_size = 3/],
    [good.subarray(0, good.length - 1), /needs \d+ bytes, file is/],
    [
      damaged((_, dv) => dv.setFloat32(256 + 4, NaN, true)),
      /rms_att\[1\] = NaN/,
    ],
    [
      damaged((_, dv) => dv.setFloat32(256 + 96 + 32, 3e38, true)),
      /tok_embeddings scales\[0\] = 3/,
    ],
  ];
  for (const [bytes, re] of cases) {
    assert.throws(
      () => parseLlama2cQ80(bytes, "t.bin"),
      (e) => e instanceof FormatError && re.test(e.message),
      String(re),
    );
  }
  assert.throws(
    () =>
      encodeLlama2cQ80({
        ...tinyWeights(),
        config: { ...tiny, normEps: 1e-6 },
      }),
    ConfigError,
  );
});

Deno.test("q80: llama2.c's runq.c reads the written stories260K and prints what tinyllm prints", async () => {
  const bytes = encodeLlama2cQ80(parseLlama2cCheckpoint(stories260KBytes()));
  assert.equal(bytes.length, runq.checkpoint_bytes);
  const sha = Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  // the very file runq.c was run on
  assert.equal(sha, runq.checkpoint_sha256);
  const model = parseLlama2cQ80(bytes);
  assert.equal(model.layers[0].w2.weight.granularity, runq.group_size);
  const tok = parseLlama2cTokenizer(tok512Bytes(), { vocabSize: 512 });
  for (const c of runq.cases) {
    const promptIds = tok.encode(c.prompt, { bos: true, eos: false });
    let text = "";
    for await (
      const t of generate(model, tok, c.prompt, {
        temperature: 0,
        maxTokens: c.steps - promptIds.length + 1,
        echoPrompt: true,
      })
    ) text += t.text;
    assert.equal(text + "\n", c.stdout, JSON.stringify(c.prompt));
  }
});
