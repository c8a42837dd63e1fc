// Trainer: same seed → same loss curve bit for bit; resume through the model
// archive = uninterrupted run; it learns a simple sequence; schedule, clipping
// and AdamW against hand-computed values.
import assert from "node:assert/strict";
import { makeConfig, type ModelConfig } from "../src/model/config.ts";
import {
  DEFAULT_HYPER,
  Trainer,
  type TrainHyper,
} from "../src/train/trainer.ts";
import { checkpointInput, resumeState } from "../src/train/checkpoint.ts";
import { loadModelArchive, saveModelArchive } from "../src/io/archive.ts";
import { WordTokenizer } from "../src/tokenizer/word.ts";
import { adamwStep, clipGradNorm, learningRate } from "../src/train/optim.ts";
import { paramLayout } from "../src/train/params.ts";
import { sampleBatch, stepRng } from "../src/train/data.ts";
import { Rng } from "../src/random.ts";

const cfg: ModelConfig = makeConfig({
  dim: 16,
  hiddenDim: 24,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: 12,
  seqLen: 8,
});
const hyper: TrainHyper = {
  ...DEFAULT_HYPER,
  batch: 4,
  seqLen: 8,
  steps: 12,
  lr: 1e-2,
  warmup: 3,
  minLr: 1e-3,
  evalEvery: 4,
  evalBatches: 2,
  seed: 5,
};
const rng = new Rng(3);
const train = Int32Array.from({ length: 400 }, () => 4 + rng.int(8));
const val = Int32Array.from({ length: 100 }, () => 4 + rng.int(8));

Deno.test("trainer: same seed gives the same loss curve bit for bit; another seed does not", async () => {
  const a = await new Trainer(cfg, hyper).run(train, val);
  const b = await new Trainer(cfg, hyper).run(train, val);
  const strip = (c: typeof a.curve) =>
    c.map((p) => [p.step, p.trainLoss, p.valLoss, p.lr, p.gradNorm]);
  assert.deepEqual(strip(a.curve), strip(b.curve));
  const c = await new Trainer(cfg, { ...hyper, seed: 6 }).run(train, val);
  assert.notDeepEqual(strip(a.curve), strip(c.curve));
});

Deno.test("trainer: resume through the archive continues exactly like an uninterrupted run", async () => {
  const full = new Trainer(cfg, hyper);
  await full.run(train, val);
  const half = new Trainer(cfg, hyper);
  await half.run(train, val, undefined, 5); // interrupted after 5 of 12 steps
  const tok = new WordTokenizer([
    "<pad>",
    "<unk>",
    "<bos>",
    "<eos>",
    ..."abcdefgh".split(""),
  ]);
  const bytes = await saveModelArchive(checkpointInput(half, tok, { x: 1 }));
  const loaded = await loadModelArchive(bytes);
  const resumed = new Trainer(cfg, hyper, undefined, resumeState(loaded));
  assert.equal(resumed.step, 5);
  await resumed.run(train, val);
  assert.deepEqual(resumed.params, full.params);
  assert.deepEqual(resumed.m, full.m);
  assert.deepEqual(
    resumed.curve.map((p) => p.trainLoss),
    full.curve.map((p) => p.trainLoss),
  );
});

Deno.test("trainer: learns a deterministic sequence far below uniform loss", async () => {
  const cyc = Int32Array.from({ length: 300 }, (_, i) => 4 + ((i * 5) % 8));
  const r = await new Trainer(cfg, { ...hyper, steps: 60, evalEvery: 0 }).run(
    cyc,
    cyc,
  );
  assert.ok(r.valLoss < 0.2 * Math.log(12), `val loss ${r.valLoss}`);
});

Deno.test("schedule: warmup is linear, cosine ends at the floor", () => {
  const s = { lr: 1, warmup: 4, steps: 14, minLr: 0.1 };
  assert.equal(learningRate(0, s), 0.25);
  assert.equal(learningRate(3, s), 1);
  assert.equal(learningRate(4, s), 1);
  assert.ok(Math.abs(learningRate(8.5, s) - 0.55) < 1e-12); // halfway
  assert.ok(Math.abs(learningRate(13, s) - 0.1) < 1e-12);
});

Deno.test("clipping: global norm scaled to the limit, untouched below it", () => {
  const g = new Float32Array([3, 0, 4]);
  assert.equal(clipGradNorm(g, 10), 5);
  assert.deepEqual([...g], [3, 0, 4]);
  assert.equal(clipGradNorm(g, 1), 5);
  assert.ok(Math.abs(Math.hypot(...g) - 1) < 1e-5);
});

Deno.test("AdamW: first step moves by lr·sign(g); decay only on matrices", () => {
  const layout = paramLayout(cfg);
  const p = new Float32Array(layout.size).fill(1);
  const g = new Float32Array(layout.size).fill(-2);
  const m = new Float32Array(layout.size), v = new Float32Array(layout.size);
  adamwStep(layout, p, g, m, v, 1, 0.1, {
    beta1: 0.9,
    beta2: 0.95,
    eps: 0,
    weightDecay: 0.5,
  });
  for (const s of layout.specs) {
    // Adam's bias-corrected first step is exactly lr·sign(g) = +0.1
    const expected = s.decay ? 1 + 0.1 - 0.1 * 0.5 : 1 + 0.1;
    assert.ok(
      Math.abs(p[s.offset] - expected) < 1e-6,
      `${s.name}: ${p[s.offset]} vs ${expected}`,
    );
  }
});

Deno.test("batches: windows of the data, targets shifted by one, seeded per step", () => {
  const data = Int32Array.from({ length: 50 }, (_, i) => i);
  const x = new Int32Array(12), y = new Int32Array(12);
  sampleBatch(data, 3, 4, stepRng(1, 7), x, y);
  for (let b = 0; b < 3; b++) {
    for (let t = 0; t < 4; t++) {
      assert.equal(y[b * 4 + t], x[b * 4 + t] + 1);
      if (t > 0) assert.equal(x[b * 4 + t], x[b * 4 + t - 1] + 1);
    }
  }
  const x2 = new Int32Array(12), y2 = new Int32Array(12);
  sampleBatch(data, 3, 4, stepRng(1, 7), x2, y2);
  assert.deepEqual(x, x2);
});
