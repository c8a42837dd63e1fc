// The whole model's backward vs central finite differences of the sequence
// forward's mean cross-entropy, on a tiny config, for RoPE and learned
// positions, tied and separate classifiers.
import assert from "node:assert/strict";
import { makeConfig, type ModelConfig } from "../src/model/config.ts";
import { createActivations, sequenceForward } from "../src/model/sequence.ts";
import {
  initParams,
  paramLayout,
  paramViews,
  weightsFromParams,
} from "../src/train/params.ts";
import { createBackwardState, modelBackward } from "../src/train/backward.ts";
import { Rng } from "../src/random.ts";
import { assertGradClose, numericGrad } from "./gradcheck_util.ts";

function tiny(
  positional: "rope" | "learned",
  sharedClassifier: boolean,
): ModelConfig {
  return makeConfig({
    dim: 8,
    hiddenDim: 12,
    nLayers: 2,
    nHeads: 2,
    nKvHeads: 1,
    vocabSize: 11,
    seqLen: 5,
    positional,
    sharedClassifier,
  });
}

for (
  const [positional, shared] of [
    ["rope", true],
    ["learned", false],
  ] as const
) {
  Deno.test(`gradcheck: whole model, ${positional}, shared classifier ${shared}`, () => {
    const cfg = tiny(positional, shared);
    const B = 2, T = 5;
    const layout = paramLayout(cfg);
    // a larger init than training's so every gradient is well above fp32 noise
    const flat = initParams(layout, 3, 0.5);
    const rng = new Rng(11);
    for (const s of layout.specs) {
      if (s.shape.length === 1) {
        for (let i = s.offset; i < s.offset + s.size; i++) {
          flat[i] = 1 + 0.3 * rng.normal();
        }
      }
    }
    const params = paramViews(layout, flat);
    const weights = weightsFromParams(cfg, params);
    const acts = createActivations(cfg, B, T);
    const tokens: number[] = [], targets: number[] = [];
    for (let i = 0; i < B * T; i++) {
      tokens.push(rng.int(11));
      targets.push(rng.int(11));
    }
    const loss = () => sequenceForward(weights, acts, tokens, targets);
    const numeric = numericGrad(flat, loss, 1e-2);
    const grad = new Float32Array(layout.size);
    // the training path: probabilities replace the logits in place
    sequenceForward(weights, acts, tokens, targets, { keepLogits: false });
    assert.ok(acts.logitsAreProbs);
    modelBackward(
      params,
      paramViews(layout, grad),
      acts,
      createBackwardState(cfg, B, T),
      tokens,
      targets,
    );
    for (const s of layout.specs) {
      assertGradClose(
        s.name,
        grad.subarray(s.offset, s.offset + s.size),
        numeric.subarray(s.offset, s.offset + s.size),
        3e-2,
        5e-4,
      );
    }
    assert.ok(grad.some((g) => g !== 0));
  });
}
