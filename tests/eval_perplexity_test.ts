// Perplexity: exact on a uniform model, per-word scaling, window bookkeeping,
// and the decode + KV cache path agreeing with the sequence path.
import assert from "node:assert/strict";
import { perplexity } from "../src/eval/perplexity.ts";
import {
  paramLayout,
  paramViews,
  weightsFromParams,
} from "../src/train/params.ts";
import { randomModelWeights } from "../src/model/build.ts";
import { makeConfig, type ModelConfig } from "../src/model/config.ts";

const cfg: ModelConfig = makeConfig({
  dim: 16,
  hiddenDim: 24,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: 13,
  seqLen: 6,
  sharedClassifier: false,
});
const stream = Array.from({ length: 40 }, (_, i) => (i * 7 + 3) % 13);

Deno.test("perplexity: a zero model is uniform, so perplexity = vocab size exactly", () => {
  const layout = paramLayout(cfg);
  const w = weightsFromParams(
    cfg,
    paramViews(layout, new Float32Array(layout.size)),
  );
  const r = perplexity(w, stream, { batch: 3 });
  assert.equal(r.tokens, 39);
  assert.ok(Math.abs(r.perToken - 13) < 1e-4, `${r.perToken}`);
  // per word: the same NLL over half as many words = perplexity squared
  const half = perplexity(w, stream, { words: 19.5 });
  assert.ok(Math.abs(half.perWord - 169) < 1e-2, `${half.perWord}`);
});

Deno.test("perplexity: windows cover every token once whatever the batch (partial batch, remainder window)", () => {
  const w = randomModelWeights(cfg, 2);
  const a = perplexity(w, stream, { batch: 1 });
  const b = perplexity(w, stream, { batch: 4 });
  const c = perplexity(w, stream, { batch: 100 });
  assert.ok(Math.abs(a.nll - b.nll) < 1e-4 && Math.abs(a.nll - c.nll) < 1e-4);
  // a shorter window gives less context, so a different (finite) result
  const d = perplexity(w, stream, { seqLen: 2 });
  assert.ok(Number.isFinite(d.nll) && Math.abs(d.nll - a.nll) > 1e-6);
});

Deno.test("perplexity: decode with an fp32 KV cache = sequence forward; ring cache within its window too", () => {
  const w = randomModelWeights(cfg, 3);
  const seq = perplexity(w, stream);
  const dec = perplexity(w, stream, { cache: "fp32" });
  assert.equal(dec.path, "fp32");
  assert.ok(Math.abs(seq.nll - dec.nll) < 1e-4, `${seq.nll} vs ${dec.nll}`);
  const ring = perplexity(w, stream, { cache: "ring:6" });
  assert.ok(Math.abs(seq.nll - ring.nll) < 1e-4);
  const int8 = perplexity(w, stream, { cache: "int8" });
  assert.ok(Math.abs(int8.perToken / seq.perToken - 1) < 0.02);
});
