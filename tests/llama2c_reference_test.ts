// stories260K against the vectors llama2.c's run.c produced
// (tests/testdata/runc): encodings, logits, greedy ids and stdout.
import assert from "node:assert/strict";
import { parseLlama2cCheckpoint } from "../src/io/llama2c.ts";
import { parseLlama2cTokenizer } from "../src/tokenizer/llama2c.ts";
import { createRunState, forwardToken } from "../src/model/decode.ts";
import { KvCacheFp32 } from "../src/kv/caches.ts";
import { makeConfig } from "../src/model/config.ts";

import {
  runcEncodeCases,
  runcGreedy,
  runcLogits,
  runcLogitsF32,
  stories260KBytes,
  tok512Bytes,
} from "./reference.ts";

const modelBytes = stories260KBytes();
const tokBytes = tok512Bytes();

const weights = parseLlama2cCheckpoint(modelBytes, "stories260K.bin");
const tok = parseLlama2cTokenizer(tokBytes, {
  vocabSize: weights.config.vocabSize,
});

Deno.test("llama2c: header of stories260K", () => {
  assert.deepEqual(
    { ...weights.config },
    makeConfig({
      dim: 64,
      hiddenDim: 172,
      nLayers: 5,
      nHeads: 8,
      nKvHeads: 4,
      vocabSize: 512,
      seqLen: 512,
    }),
  );
  assert.equal(weights.classifier.weight, weights.tokenEmbedding);
});

Deno.test("llama2c: encode vectors equal run.c's exactly", () => {
  const dec = new TextDecoder();
  for (const c of runcEncodeCases()) {
    const ids = tok.encode(c.text, { bos: true, eos: false });
    assert.deepEqual(ids, c.token_ids, JSON.stringify(c.text));
    assert.deepEqual(ids.map((i) => dec.decode(tok.piece(i))), c.pieces);
  }
  assert.deepEqual(tok.encode("a", { bos: false, eos: true }), [261, 2]);
});

Deno.test("llama2c: logits at positions 0..3 match run.c to 1e-4", () => {
  const ref = runcLogits();
  const expected = runcLogitsF32();
  assert.equal(expected.length, 4 * 512);
  const state = createRunState(weights.config);
  const cache = new KvCacheFp32(weights.config);
  for (let p = 0; p < 4; p++) {
    const logits = forwardToken(
      weights,
      state,
      cache,
      ref.prompt_token_ids[p],
      p,
    );
    let maxDiff = 0;
    for (let i = 0; i < 512; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(logits[i] - expected[p * 512 + i]));
      assert.equal(expected[p * 512 + i], ref.positions[p].logits[i]);
    }
    assert.ok(maxDiff < 1e-4, `pos ${p}: max |diff| ${maxDiff}`);
  }
});

for (const name of ["once_upon_a_time", "lily_park", "empty"] as const) {
  Deno.test(`llama2c: greedy ids and stdout for "${name}" equal run.c's`, () => {
    const ref = runcGreedy(name);
    const prompt = tok.encode(ref.prompt);
    assert.deepEqual(prompt, ref.prompt_token_ids);
    const state = createRunState(weights.config);
    const cache = new KvCacheFp32(weights.config);
    // run.c's generate loop, -t 0 -n 64
    const generated: number[] = [];
    const out: number[] = [];
    let token = prompt[0];
    for (let pos = 0; pos < ref.steps;) {
      const logits = forwardToken(weights, state, cache, token, pos);
      let next: number;
      if (pos < prompt.length - 1) next = prompt[pos + 1];
      else {
        next = 0;
        for (let i = 1; i < logits.length; i++) {
          if (logits[i] > logits[next]) next = i;
        }
        generated.push(next);
      }
      pos++;
      if (next === 1) break;
      out.push(...tok.decodePiece(token, next));
      token = next;
    }
    assert.deepEqual(generated, ref.generated_token_ids);
    assert.equal(
      new TextDecoder().decode(new Uint8Array(out)) + "\n",
      ref.stdout,
    );
    assert.equal(tok.decode(ref.all_token_ids) + "\n", ref.stdout);
  });
}

Deno.test("decode (KV cache) and sequence forward give the same logits (1e-5)", async () => {
  const { createActivations, sequenceForward } = await import(
    "../src/model/sequence.ts"
  );
  const ids: number[] = runcGreedy("lily_park").all_token_ids.slice(0, 24);
  const acts = createActivations(weights.config, 1, ids.length);
  sequenceForward(weights, acts, ids);
  const state = createRunState(weights.config);
  const cache = new KvCacheFp32(weights.config);
  const V = weights.config.vocabSize;
  let maxDiff = 0;
  for (let p = 0; p < ids.length; p++) {
    const logits = forwardToken(weights, state, cache, ids[p], p);
    for (let i = 0; i < V; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(logits[i] - acts.logits[p * V + i]));
    }
  }
  assert.ok(maxDiff < 1e-5, `max |diff| ${maxDiff}`);
});
