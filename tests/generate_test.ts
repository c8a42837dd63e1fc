// Sampling and generation: greedy equals run.c, seeds reproduce, caches agree,
// options and bad input behave.
import assert from "node:assert/strict";
import { parseLlama2cCheckpoint } from "../src/io/llama2c.ts";
import { parseLlama2cTokenizer } from "../src/tokenizer/llama2c.ts";
import { generate, generateText } from "../src/generate/generate.ts";
import { argmax, Sampler } from "../src/generate/sampler.ts";
import { ConfigError, InputError, ShapeError } from "../src/errors.ts";
import { bindKernels } from "../src/model/bind.ts";
import { wasmVariant } from "../src/wasm/runtime.ts";

import { runcGreedy, stories260KBytes, tok512Bytes } from "./reference.ts";

const model = parseLlama2cCheckpoint(stories260KBytes());
const tok = parseLlama2cTokenizer(tok512Bytes());
const ref = runcGreedy("once_upon_a_time");

Deno.test("generate: greedy stream equals run.c's ids and text (fp32, int8 and no cache)", async () => {
  for (const cache of ["fp32", "none"] as const) {
    const events = [];
    for await (
      const e of generate(model, tok, ref.prompt, {
        temperature: 0,
        maxTokens: 60,
        cache,
        echoPrompt: true,
      })
    ) events.push(e);
    const gen = events.filter((e) => !e.prompt);
    assert.deepEqual(gen.map((e) => e.id), ref.generated_token_ids, cache);
    assert.equal(events.map((e) => e.text).join("") + "\n", ref.stdout);
  }
  const r = await generateText(model, tok, ref.prompt, {
    temperature: 0,
    maxTokens: 60,
    cache: "int8",
  });
  const same = r.ids.findIndex((id, i) => id !== ref.generated_token_ids[i]);
  assert.ok(same === -1 || same >= 40, `int8 cache diverges at token ${same}`);
});

Deno.test("generate: same seed, same text; another seed, another text", async () => {
  const opts = { maxTokens: 40, temperature: 1, topP: 0.9, seed: 1234 };
  const a = await generateText(model, tok, "Lily", opts);
  const b = await generateText(model, tok, "Lily", opts);
  const c = await generateText(model, tok, "Lily", { ...opts, seed: 99 });
  assert.equal(a.text, b.text);
  assert.deepEqual(a.ids, b.ids);
  assert.notDeepEqual(a.ids, c.ids);
  assert.equal(
    tok.decode([1, ...tok.encode("Lily").slice(1), ...a.ids]).startsWith(
      "Lily",
    ),
    true,
  );
});

Deno.test("generate: maxTokens, stop at BOS/EOS, ring past seqLen, prompt too long", async () => {
  assert.equal(
    (await generateText(model, tok, "Once", { maxTokens: 0 })).ids.length,
    0,
  );
  assert.equal(
    (await generateText(model, tok, "Once", { maxTokens: 7, seed: 3 })).ids
      .length <= 7,
    true,
  );
  // a model whose context is 12 positions: fp32 stops at seqLen, ring keeps going
  const small = { ...model, config: { ...model.config, seqLen: 12 } };
  const noStop = {
    temperature: 0,
    stopAtBos: false,
    stopAtEos: false,
    maxTokens: 30,
  };
  assert.equal((await generateText(small, tok, "", noStop)).ids.length, 12);
  assert.equal(
    (await generateText(small, tok, "", { ...noStop, cache: "ring:6" })).ids
      .length,
    30,
  );
  const long = "Once upon a time ".repeat(200);
  await assert.rejects(() => generateText(model, tok, long), InputError);
  await assert.rejects(
    () => generateText(model, tok, "a", { temperature: Number.NaN }),
    ConfigError,
  );
  const wrongVocab = { ...model, config: { ...model.config, vocabSize: 500 } };
  await assert.rejects(() => generateText(wrongVocab, tok, "a"), ShapeError);
  // with a huge temperature BOS/EOS eventually come up: sampling stops there
  let stopped = 0;
  for (let seed = 0; seed < 6; seed++) {
    const o = { temperature: 50, seed, maxTokens: 150 };
    const r = await generateText(model, tok, "", o);
    if (r.ids.length < 150) {
      stopped++;
      const all = await generateText(model, tok, "", {
        ...o,
        stopAtBos: false,
        stopAtEos: false,
      });
      assert.deepEqual(all.ids.slice(0, r.ids.length), r.ids);
      assert.ok([1, 2].includes(all.ids[r.ids.length]));
      assert.ok(!r.ids.includes(1) && !r.ids.includes(2));
    }
  }
  assert.ok(stopped > 0);
});

Deno.test("sampler: greedy first max, top-k 1 = greedy, top-p keeps the nucleus", () => {
  assert.equal(argmax(Float32Array.of(1, 3, 3, 2)), 1);
  const logits = Float32Array.of(0.5, 2, 1.9, -1, 2);
  assert.equal(new Sampler(5, { temperature: 0 }).sample(logits), 1);
  const k1 = new Sampler(5, { temperature: 1, topK: 1, seed: 3 });
  for (let i = 0; i < 50; i++) assert.equal(k1.sample(logits), 1);
  // probabilities 0.5, 0.3, 0.15, 0.05: top-p 0.7 keeps {0, 1}; top-k 3 keeps {0,1,2}
  const probs = [0.5, 0.3, 0.15, 0.05];
  const l = Float32Array.from(probs, Math.log);
  const count = (s: Sampler, n: number) => {
    const c = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) c[s.sample(l)]++;
    return c;
  };
  const p = count(new Sampler(4, { topP: 0.7, seed: 1 }), 4000);
  assert.equal(p[2] + p[3], 0);
  assert.ok(Math.abs(p[0] / 4000 - 0.625) < 0.03, `${p}`);
  const k = count(new Sampler(4, { topK: 3, seed: 2 }), 4000);
  assert.equal(k[3], 0);
  assert.ok(Math.abs(k[2] / 4000 - 0.15 / 0.95) < 0.03, `${k}`);
  const plain = count(new Sampler(4, { seed: 4 }), 8000);
  probs.forEach((q, i) =>
    assert.ok(Math.abs(plain[i] / 8000 - q) < 0.02, `${plain}`)
  );
  // temperature sharpens
  const cold = count(new Sampler(4, { temperature: 0.25, seed: 5 }), 2000);
  assert.ok(cold[0] / 2000 > 0.85);
  assert.throws(() => new Sampler(4, { temperature: -1 }), ConfigError);
  assert.throws(() => new Sampler(4, { topP: 0 }), ConfigError);
  assert.throws(() => new Sampler(4, { topK: 1.5 }), ConfigError);
});

Deno.test({
  name: "generate: wasm backend gives run.c's greedy ids",
  // an engine without WebAssembly SIMD has only the TypeScript kernels
  ignore: wasmVariant() === "none",
  fn: async () => {
    const fast = bindKernels(model, "wasm");
    assert.equal(fast.layers[0].wq.kernels.backend, "wasm");
    const r = await generateText(fast, tok, ref.prompt, {
      temperature: 0,
      maxTokens: 60,
    });
    assert.deepEqual(r.ids, ref.generated_token_ids);
    assert.equal(bindKernels(model, "js").classifier.kernels.backend, "js");
  },
});

Deno.test("generate: suppressed tokens are never sampled; bad ids are ConfigErrors", async () => {
  // Greedy's first token after the prompt is ref.generated_token_ids[0];
  // suppressing it must change the first choice and never emit it.
  const banned = ref.generated_token_ids[0] as number;
  const r = await generateText(model, tok, ref.prompt, {
    temperature: 0,
    maxTokens: 20,
    suppressTokens: [banned],
  });
  assert.notEqual(r.ids[0], banned);
  assert.ok(!r.ids.includes(banned));
  const sampled = await generateText(model, tok, ref.prompt, {
    temperature: 1,
    seed: 3,
    maxTokens: 40,
    suppressTokens: [banned, 410],
  });
  assert.ok(!sampled.ids.some((id) => id === banned || id === 410));
  await assert.rejects(
    () => generateText(model, tok, "a", { suppressTokens: [512] }),
    ConfigError,
  );
});
