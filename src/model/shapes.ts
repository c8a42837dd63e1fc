/**
 * The shapes of llama2.c's TinyStories checkpoints, for random-weight
 * benchmarks and checkpoint generators: speed depends only on shape.
 *
 * @module
 */
import { makeConfig, type ModelConfig } from "./config.ts";

function llama2cShape(
  dim: number,
  hiddenDim: number,
  nLayers: number,
  nHeads: number,
  nKvHeads: number,
  vocabSize: number,
  seqLen: number,
): ModelConfig {
  return makeConfig({
    dim,
    hiddenDim,
    nLayers,
    nHeads,
    nKvHeads,
    vocabSize,
    seqLen,
  });
}

/**
 * llama2.c's stories260K, stories15M and stories42M shapes (RoPE, shared
 * classifier, llama2.c's eps and theta).
 *
 * @example A random-weight stories15M-shaped model
 * ```ts
 * import { LLAMA2C_SHAPES, randomModelWeights } from "@proj/tinyllm";
 * const cfg = LLAMA2C_SHAPES["15M"];
 * console.log(cfg.dim, cfg.nLayers, cfg.vocabSize); // 288 6 32000
 * const small = randomModelWeights(LLAMA2C_SHAPES["260K"], 1);
 * console.log(small.layers.length); // 5
 * ```
 */
export const LLAMA2C_SHAPES: Readonly<
  Record<"260K" | "15M" | "42M", ModelConfig>
> = {
  "260K": llama2cShape(64, 172, 5, 8, 4, 512, 512),
  "15M": llama2cShape(288, 768, 6, 6, 6, 32000, 256),
  "42M": llama2cShape(512, 1376, 8, 8, 8, 32000, 1024),
};
