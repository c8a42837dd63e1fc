// The whole model's backward vs central finite differences of the sequence
// forward's mean cross-entropy, on a tiny config, for RoPE and learned
// positions, tied and separate classifiers.
import { makeConfig, type ModelConfig } from "../src/model/config.ts";
import { checkModelGradient } from "./gradcheck_util.ts";

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
    checkModelGradient(tiny(positional, shared));
  });
}
