// KV caches: ring = full cache inside the window, int8 ≈ fp32 at ~1/4 of the
// memory, learned positions stop at seqLen, sizes reported in bytes.
import assert from "node:assert/strict";
import { parseLlama2cCheckpoint } from "../src/io/llama2c.ts";
import { createRunState, forwardToken } from "../src/model/decode.ts";
import {
  kvCacheBytes,
  KvCacheFp32,
  KvCacheInt8,
  KvCacheRing,
} from "../src/kv/caches.ts";
import { createKvCache } from "../src/kv/create.ts";
import { randomModelWeights } from "../src/model/build.ts";
import { ConfigError, InputError } from "../src/errors.ts";
import type { KvCache } from "../src/kv/types.ts";
import type { ModelWeights } from "../src/model/weights.ts";
import { makeConfig } from "../src/model/config.ts";

import { runcGreedy, stories260KBytes } from "./reference.ts";

const weights = parseLlama2cCheckpoint(stories260KBytes());
// "Lily went to the park" + run.c's greedy continuation (reference ids)
const ids: number[] = runcGreedy("lily_park").all_token_ids;

function run(
  w: ModelWeights,
  cache: KvCache,
  tokens: number[],
): Float32Array[] {
  const state = createRunState(w.config);
  return tokens.map((t, p) => forwardToken(w, state, cache, t, p).slice());
}

Deno.test("kv ring: identical logits to the fp32 cache while within the window", () => {
  const full = run(weights, new KvCacheFp32(weights.config), ids.slice(0, 40));
  const ring = run(
    weights,
    new KvCacheRing(weights.config, 40),
    ids.slice(0, 40),
  );
  assert.deepEqual(ring, full);
  // a smaller window agrees until it starts dropping positions, then differs
  const small = run(
    weights,
    new KvCacheRing(weights.config, 16),
    ids.slice(0, 40),
  );
  assert.deepEqual(small.slice(0, 16), full.slice(0, 16));
  assert.notDeepEqual(small[39], full[39]);
});

Deno.test("kv ring: window attention matches a brute-force recomputation", () => {
  // With one layer, the keys/values at a position depend only on that token,
  // so a window-W ring at position p equals attention over the last W tokens.
  const cfg = { ...weights.config, nLayers: 1, seqLen: 64 };
  const w = randomModelWeights(cfg, 11, 0.2);
  const toks = ids.slice(0, 30);
  const ring = run(w, new KvCacheRing(cfg, 8), toks);
  // brute force: fresh full cache, store only the last 8 positions' k/v
  const state = createRunState(cfg);
  for (const p of [7, 8, 20, 29]) {
    const full = new KvCacheFp32(cfg);
    const windowed: KvCache = {
      kind: "test",
      capacity: 64,
      byteSize: 0,
      store: (l, pos, k, v) => full.store(l, pos, k, v),
      firstVisible: (q) => Math.max(0, q - 7),
      scores: (l, h, q, qo, pos, out) => {
        const tmp = new Float32Array(pos + 1);
        full.scores(l, h, q, qo, pos, tmp);
        out.set(tmp.subarray(Math.max(0, pos - 7)));
      },
      mix: (l, h, pr, pos, out, oo) => {
        const first = Math.max(0, pos - 7);
        const padded = new Float32Array(pos + 1);
        padded.set(pr.subarray(0, pos - first + 1), first);
        full.mix(l, h, padded, pos, out, oo);
      },
      reset: () => full.reset(),
    };
    let logits: Float32Array = new Float32Array(0);
    for (let t = 0; t <= p; t++) {
      logits = forwardToken(w, state, windowed, toks[t], t);
    }
    for (let i = 0; i < logits.length; i++) {
      assert.ok(Math.abs(logits[i] - ring[p][i]) < 1e-5, `pos ${p} logit ${i}`);
    }
  }
});

Deno.test("kv ring: generation continues past the window and past seqLen with RoPE", () => {
  const cfg = { ...weights.config, seqLen: 16 };
  const w = randomModelWeights({ ...cfg, nLayers: 2 }, 5);
  const ring = new KvCacheRing(w.config, 8);
  const state = createRunState(w.config);
  for (let p = 0; p < 40; p++) {
    const l = forwardToken(w, state, ring, (p * 7) % 512, p);
    assert.ok(l.every(Number.isFinite));
  }
  assert.equal(ring.byteSize, kvCacheBytes("ring", w.config, 8));
  // the fp32 cache refuses positions past its length
  const full = new KvCacheFp32(w.config);
  assert.throws(() => forwardToken(w, state, full, 1, 16), InputError);
});

Deno.test("kv: learned positions throw a clear InputError past seqLen", () => {
  const w = randomModelWeights({
    ...weights.config,
    nLayers: 1,
    seqLen: 8,
    positional: "learned",
  }, 2);
  const state = createRunState(w.config);
  const ring = new KvCacheRing(w.config, 4);
  for (let p = 0; p < 8; p++) forwardToken(w, state, ring, 3, p);
  assert.throws(
    () => forwardToken(w, state, ring, 3, 8),
    (e: unknown) => e instanceof InputError && /past seqLen 8/.test(e.message),
  );
});

Deno.test("kv int8: logits close to the fp32 cache", () => {
  const toks = ids.slice(0, 64);
  const full = run(weights, new KvCacheFp32(weights.config), toks);
  const q8 = run(weights, new KvCacheInt8(weights.config), toks);
  let maxDiff = 0, maxAbs = 0, agree = 0, sumDiff = 0, count = 0;
  const am = (x: Float32Array) => x.indexOf(Math.max(...x));
  for (let p = 0; p < toks.length; p++) {
    for (let i = 0; i < full[p].length; i++) {
      const d = Math.abs(full[p][i] - q8[p][i]);
      maxDiff = Math.max(maxDiff, d);
      sumDiff += d;
      count++;
      maxAbs = Math.max(maxAbs, Math.abs(full[p][i]));
    }
    if (am(q8[p]) === am(full[p])) agree++;
  }
  assert.ok(agree >= 60, `argmax agrees at ${agree}/64 positions`);
  assert.ok(
    maxDiff < 0.05 * maxAbs,
    `max |diff| ${maxDiff} vs max |logit| ${maxAbs}`,
  );
  assert.ok(sumDiff / count < 0.15, `mean |diff| ${sumDiff / count}`);
  // what matters: the loss on the sequence moves by well under 1%
  const nll = (ls: Float32Array[]) => {
    let s = 0;
    for (let p = 0; p + 1 < toks.length; p++) {
      const l = ls[p], m = Math.max(...l);
      let z = 0;
      for (const v of l) z += Math.exp(v - m);
      s += m + Math.log(z) - l[toks[p + 1]];
    }
    return s / (toks.length - 1);
  };
  const a = nll(full), b = nll(q8);
  assert.ok(Math.abs(b - a) / a < 0.01, `nll fp32 ${a} int8 ${b}`);
  assert.ok(maxDiff > 0); // it really is quantized
});

Deno.test("kv bytes: int8 ≈ 1/4 of fp32; byteSize agrees with kvCacheBytes", () => {
  const shape15M = {
    dim: 288,
    nHeads: 6,
    nKvHeads: 6,
    nLayers: 6,
    seqLen: 256,
  };
  const f = kvCacheBytes("fp32", shape15M, 256),
    q = kvCacheBytes("int8", shape15M, 256);
  assert.equal(f, 2 * 6 * 256 * 288 * 4);
  assert.equal(q, 2 * 6 * 256 * 288 + 2 * 6 * 256 * 6 * 4);
  assert.ok(Math.abs(q / f - 0.25) < 0.03, `ratio ${q / f}`);
  assert.equal(new KvCacheFp32(shape15M).byteSize, f);
  assert.equal(new KvCacheInt8(shape15M).byteSize, q);
  assert.equal(
    createKvCache("ring:32", shape15M).byteSize,
    kvCacheBytes("fp32", shape15M, 32),
  );
  assert.throws(() => createKvCache("ring:x", shape15M), ConfigError);
  assert.throws(() => createKvCache("fp16", shape15M), ConfigError);
  assert.throws(() => new KvCacheRing(shape15M, 0), ConfigError);
});

Deno.test("kv int8: per-head round trip error ≤ scale/2", () => {
  const cfg = { dim: 16, nHeads: 4, nKvHeads: 2, nLayers: 1, seqLen: 2 };
  const c = new KvCacheInt8(cfg);
  const k = Float32Array.from(
    { length: 8 },
    (_, i) => Math.sin(i * 1.7) * (i < 4 ? 1 : 100),
  );
  c.store(0, 0, k, k);
  for (let h = 0; h < 2; h++) {
    const scale = Math.max(...k.subarray(h * 4, h * 4 + 4).map(Math.abs)) / 127;
    for (let i = 0; i < 4; i++) {
      const e = new Float32Array(8);
      e[h * 4 + i] = 1;
      const s = new Float32Array(1);
      c.scores(0, h, e, h * 4, 0, s);
      assert.ok(Math.abs(s[0] - k[h * 4 + i]) <= scale / 2 + 1e-6);
      const out = new Float32Array(4);
      c.mix(0, h, Float32Array.of(1), 0, out, 0);
      assert.ok(Math.abs(out[i] - k[h * 4 + i]) <= scale / 2 + 1e-6);
    }
  }
});

Deno.test("decode = sequence forward (1e-5) for learned positions, GQA and an unshared classifier", async () => {
  const { createActivations, sequenceForward } = await import(
    "../src/model/sequence.ts"
  );
  for (const positional of ["learned", "rope"] as const) {
    const cfg = makeConfig({
      dim: 32,
      hiddenDim: 48,
      nLayers: 2,
      nHeads: 4,
      nKvHeads: 2,
      vocabSize: 40,
      seqLen: 16,
      positional,
      sharedClassifier: false,
    });
    const w = randomModelWeights(cfg, 21, 0.3);
    const toks = Array.from({ length: 16 }, (_, i) => (i * 13 + 5) % 40);
    const acts = createActivations(cfg, 1, 16);
    sequenceForward(w, acts, toks);
    const got = run(w, new KvCacheFp32(cfg), toks);
    for (let p = 0; p < 16; p++) {
      for (let i = 0; i < 40; i++) {
        assert.ok(
          Math.abs(got[p][i] - acts.logits[p * 40 + i]) < 1e-5,
          `${positional} pos ${p} logit ${i}: ${got[p][i]} vs ${
            acts.logits[p * 40 + i]
          }`,
        );
      }
    }
  }
});
