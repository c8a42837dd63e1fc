// The whole-sequence forward agrees with INFER's single-token decode at every
// position, and with run.c's reference logits for stories260K; also on
// random GQA / learned-position / quantized models.
import assert from "node:assert/strict";
import { parseLlama2cCheckpoint } from "../src/io/llama2c.ts";
import { createActivations, sequenceForward } from "../src/model/sequence.ts";
import { createRunState, forwardToken } from "../src/model/decode.ts";
import { KvCacheFp32 } from "../src/kv/caches.ts";
import { randomModelWeights } from "../src/model/build.ts";
import type { ModelWeights } from "../src/model/weights.ts";
import { quantizeModel } from "../src/model/quantize.ts";
import { makeConfig } from "../src/model/config.ts";

import { runcLogits, stories260KBytes } from "./reference.ts";

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Checks every position of every batch row of the sequence forward against decode. */
function checkAgainstDecode(w: ModelWeights, tokens: number[][], tol: number) {
  const B = tokens.length, T = tokens[0].length, V = w.config.vocabSize;
  const acts = createActivations(w.config, B, T);
  sequenceForward(w, acts, tokens.flat());
  for (let b = 0; b < B; b++) {
    const state = createRunState(w.config);
    const cache = new KvCacheFp32(w.config);
    for (let t = 0; t < T; t++) {
      const ref = forwardToken(w, state, cache, tokens[b][t], t);
      const o = (b * T + t) * V;
      const d = maxAbsDiff(acts.logits.subarray(o, o + V), ref);
      assert.ok(d <= tol, `row ${b} position ${t}: max |Δlogit| ${d} > ${tol}`);
    }
  }
}

Deno.test("sequence forward = decode at every position (stories260K) and = run.c logits", () => {
  const w = parseLlama2cCheckpoint(stories260KBytes());
  const ref = runcLogits();
  const prompt: number[] = ref.prompt_token_ids;
  const longer = [...prompt, 300, 25, 411, 1, 290, 260, 70, 500, 2, 450];
  checkAgainstDecode(w, [longer, longer.slice().reverse()], 1e-5);

  const acts = createActivations(w.config, 1, prompt.length);
  sequenceForward(w, acts, prompt);
  const V = w.config.vocabSize;
  for (const p of ref.positions) {
    const o = p.pos * V;
    const d = maxAbsDiff(acts.logits.subarray(o, o + V), p.logits);
    assert.ok(d <= 1e-4, `position ${p.pos}: max |Δlogit| vs run.c ${d}`);
  }
});

for (
  const [positional, shared, nKvHeads] of [
    ["rope", false, 2],
    ["learned", true, 1],
    ["learned", false, 4],
  ] as const
) {
  Deno.test(`sequence forward = decode: random model, ${positional}, shared ${shared}, ${nKvHeads} kv heads`, () => {
    const w = randomModelWeights(
      makeConfig({
        dim: 16,
        hiddenDim: 24,
        nLayers: 2,
        nHeads: 4,
        nKvHeads,
        vocabSize: 23,
        seqLen: 9,
        positional,
        sharedClassifier: shared,
      }),
      5,
    );
    checkAgainstDecode(w, [[1, 5, 7, 22, 0, 3, 3, 9, 12], [
      4,
      4,
      4,
      1,
      2,
      3,
      21,
      20,
      19,
    ]], 1e-5);
  });
}

for (const type of ["int8", "int4"]) {
  Deno.test(`sequence forward = decode with ${type} weights (embedding quantized too), via the weight-type table`, () => {
    const w = quantizeModel(
      randomModelWeights(
        makeConfig({
          dim: 32,
          hiddenDim: 64,
          nLayers: 2,
          nHeads: 4,
          nKvHeads: 2,
          vocabSize: 29,
          seqLen: 8,
          sharedClassifier: false,
        }),
        9,
      ),
      type,
      undefined,
      { quantizeEmbedding: true },
    );
    assert.equal(w.layers[0].wq.weight.type, type);
    assert.equal(w.tokenEmbedding.type, type);
    checkAgainstDecode(
      w,
      [[3, 1, 4, 1, 5, 9, 2, 6], [2, 7, 1, 8, 2, 8, 1, 8]],
      1e-4,
    );
  });
}
