// GGUF export against llama.cpp's own converter and quantizer: stories260K
// (llama2.c checkpoint + tok512) exported by tinyllm has the tokenizer
// metadata and tensors llama.cpp's convert-llama2c-to-ggml wrote, and its
// Q8_0/Q4_0 exports hold the bytes llama-quantize wrote; every export loads
// back through our own loader with the same logits; BPE and NeoX/bias models
// round-trip; what GGUF cannot hold is one clear error.
import assert from "node:assert/strict";
import {
  BpeTokenizer,
  ConfigError,
  loadModel,
  makeConfig,
  type ModelWeights,
  randomModelWeights,
  type Tokenizer,
  WordTokenizer,
} from "../mod.ts";
import { exportGguf, ggufFromModel, parseGguf } from "../src/io/mod.ts";
import { createRunState, forwardToken } from "../src/model/mod.ts";
import { KvCacheFp32 } from "../src/kv/caches.ts";
import { GgufTokenizer } from "../src/tokenizer/gguf_tokenizer.ts";

import { stories260KBytes, tok512Bytes } from "./reference.ts";
// module imports: these tests need no permission
import f32File from "./testdata/gguf/models/stories260K-f32.gguf" with {
  type: "bytes",
};
import q80File from "./testdata/gguf/models/stories260K-q8_0.gguf" with {
  type: "bytes",
};
import q40File from "./testdata/gguf/models/stories260K-q4_0.gguf" with {
  type: "bytes",
};

const REF_FILES: Record<string, Uint8Array> = {
  "stories260K-f32.gguf": f32File,
  "stories260K-q8_0.gguf": q80File,
  "stories260K-q4_0.gguf": q40File,
};
const read = (p: string) => REF_FILES[p.replace("gguf/models/", "")].slice();

async function stories() {
  return await loadModel(stories260KBytes(), { tokenizer: tok512Bytes() });
}

function logitsOf(w: ModelWeights, ids: number[]): Float32Array[] {
  const state = createRunState(w.config);
  const cache = new KvCacheFp32(w.config);
  return ids.map((t, p) => forwardToken(w, state, cache, t, p).slice());
}

const sameBytes = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

Deno.test("export stories260K: llama.cpp's converter's tokenizer metadata and tensors", async () => {
  const m = await stories();
  const ours = parseGguf(ggufFromModel(m.weights, m.tokenizer));
  const ref = parseGguf(read("gguf/models/stories260K-f32.gguf"));
  for (const key of [...ref.metadata.keys()]) {
    // context_length: the converter's default (128), not the model's 512;
    // name: ours is "tinyllm"; -1 separator/padding ids are not written
    if (
      ["llama.context_length", "general.name"].includes(key) ||
      /(seperator|padding)_token_id/.test(key)
    ) continue;
    assert.deepEqual(ours.metadata.get(key), ref.metadata.get(key), key);
    assert.equal(ours.types.get(key), ref.types.get(key), key);
  }
  assert.equal(ours.metadata.get("llama.context_length"), 512);
  for (const t of ref.tensors) {
    // stories260K shares its classifier: no output.weight of its own
    if (t.name === "output.weight") continue;
    const o = ours.tensor(t.name)!;
    assert.deepEqual([o.typeName, o.shape], [t.typeName, t.shape], t.name);
    assert.ok(sameBytes(o.data, t.data), t.name);
  }
  assert.equal(ours.tensor("output.weight"), undefined);
});

for (const type of ["q8_0", "q4_0"] as const) {
  Deno.test(`export stories260K --type ${type}: the bytes llama-quantize wrote`, async () => {
    const m = await stories();
    const ours = parseGguf(exportGguf(m.weights, m.tokenizer, { type }));
    const ref = parseGguf(read(`gguf/models/stories260K-${type}.gguf`));
    for (const t of ref.tensors) {
      if (t.name === "output.weight") continue;
      const o = ours.tensor(t.name)!;
      assert.equal(o.typeName, t.typeName, t.name); // ffn_down (172 wide): F16 in both
      assert.ok(sameBytes(o.data, t.data), t.name);
    }
  });
}

Deno.test("export stories260K: our loader reads it back with the same tokens and logits", async () => {
  const m = await stories();
  const back = await loadModel(ggufFromModel(m.weights, m.tokenizer));
  assert.ok(back.tokenizer instanceof GgufTokenizer);
  for (
    const text of ["Once upon a time", 'Lily\'s mom said, "Hi!"\n\nThe end.']
  ) {
    assert.deepEqual(
      back.tokenizer.encode(text, { parseSpecial: true }),
      m.tokenizer.encode(text),
      text,
    );
  }
  const ids = [1, 403, 407, 261, 378, 432, 13];
  assert.deepEqual(logitsOf(back.weights, ids), logitsOf(m.weights, ids));
});

function roundTrip(weights: ModelWeights, tokenizer: Tokenizer) {
  return loadModel(ggufFromModel(weights, tokenizer));
}

Deno.test("export BPE: gpt2 tokenizer with merges that encodes as tinyllm's where llama.cpp's bloom split agrees", async () => {
  const corpus =
    "the cat sat on the mat and the dog ate the hat; 12 cats 7 dogs ".repeat(
      40,
    );
  const tok = BpeTokenizer.train(corpus, 300);
  const w = randomModelWeights(
    makeConfig({
      dim: 16,
      hiddenDim: 32,
      nLayers: 2,
      nHeads: 2,
      nKvHeads: 1,
      vocabSize: tok.vocabSize,
      seqLen: 16,
    }),
    3,
  );
  const f = parseGguf(ggufFromModel(w, tok));
  assert.equal(f.metadata.get("tokenizer.ggml.model"), "gpt2");
  assert.equal(f.metadata.get("tokenizer.ggml.pre"), "bloom");
  assert.equal(
    (f.metadata.get("tokenizer.ggml.merges") as string[]).length,
    tok.vocabSize - 258,
  );
  const back = await roundTrip(w, tok);
  const g = back.tokenizer as GgufTokenizer;
  for (
    const text of [
      "the cat sat on the mat",
      "  12 cats\n\n7 dogs ate the hat",
      "ünïcödé 🐈 tab\tend",
    ]
  ) {
    assert.deepEqual(g.encode(text), tok.encode(text), text);
    assert.equal(g.decode(g.encode(text)), text);
  }
  // where a word touches ". , ! ?" llama.cpp splits, tinyllm does not
  assert.equal(g.decode(g.encode("hat; mat.")), "hat; mat.");
  // same logits up to GGUF's float32 RMS epsilon (1e-5 is not a float32)
  const ids = tok.encode("the dog sat");
  const a = logitsOf(w, ids), b = logitsOf(back.weights, ids);
  a.forEach((row, p) =>
    row.forEach((v, i) =>
      assert.ok(Math.abs(v - b[p][i]) < 1e-6, `position ${p}, logit ${i}`)
    )
  );
});

Deno.test("export NeoX RoPE with Q/K/V biases: rows permuted to llama's RoPE, same logits", async () => {
  const tok = BpeTokenizer.train("abc abd abe ".repeat(30), 262);
  const c = makeConfig({
    dim: 32,
    hiddenDim: 48,
    nLayers: 2,
    nHeads: 4,
    nKvHeads: 2,
    vocabSize: 262,
    seqLen: 16,
    ropeStyle: "neox",
    qkvBias: true,
    ropeDim: 6,
  });
  const w = randomModelWeights(c, 9, 0.2);
  // random biases too (randomModelWeights leaves them zero)
  for (const l of w.layers) {
    for (const b of [l.bq!, l.bk!, l.bv!]) {
      b.forEach((_, i) => (b[i] = Math.sin(i * 1.7) * 0.3));
    }
  }
  const back = await roundTrip(w, tok);
  assert.equal(back.config.ropeStyle, "interleaved");
  assert.equal(back.config.qkvBias, true);
  const ids = [256, 97, 98, 99, 32, 97, 98, 100];
  const a = logitsOf(w, ids), b = logitsOf(back.weights, ids);
  for (let p = 0; p < ids.length; p++) {
    for (let i = 0; i < a[p].length; i++) {
      assert.ok(
        Math.abs(a[p][i] - b[p][i]) < 1e-5,
        `position ${p}, logit ${i}`,
      );
    }
  }
});

Deno.test("export: a word-level vocabulary and learned positions are one ConfigError each", () => {
  const words = WordTokenizer.fromWords("a b c a b".split(" "), { maxSize: 3 });
  const w = randomModelWeights(
    makeConfig({
      dim: 8,
      hiddenDim: 16,
      nLayers: 1,
      nHeads: 2,
      vocabSize: words.vocabSize,
      seqLen: 8,
    }),
    1,
  );
  assert.throws(
    () => exportGguf(w, words),
    (e) =>
      e instanceof ConfigError &&
      /GGUF has no word-level tokenizer type/.test(e.message) &&
      !e.message.includes("\n"),
  );
  const tok = BpeTokenizer.train("ab ".repeat(10), 259);
  const learned = randomModelWeights(
    makeConfig({
      dim: 8,
      hiddenDim: 16,
      nLayers: 1,
      nHeads: 2,
      vocabSize: 259,
      seqLen: 8,
      positional: "learned",
    }),
    1,
  );
  assert.throws(
    () => exportGguf(learned, tok),
    (e) => e instanceof ConfigError && /learned position/.test(e.message),
  );
  assert.throws(
    () => exportGguf(learned, tok, { type: "q2_k" as never }),
    ConfigError,
  );
});
