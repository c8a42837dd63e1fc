/**
 * Builders that turn packed matrices into {@linkcode Linear} layers by picking
 * the kernels of their weight type once, at load time, so the forward pass
 * never branches on the weight type.
 *
 * @module
 */
import { weightType } from "../quant/table.ts";
import type { QMatrix } from "../quant/types.ts";
import { Rng } from "../random.ts";
import { ConfigError } from "../errors.ts";
import { kvDim, type ModelConfig, validateConfig } from "./config.ts";
import { prepareWeightsForWasm, wasmVariant } from "../quant/wasm/mod.ts";
import type { Backend, LayerWeights, Linear, ModelWeights } from "./weights.ts";

/**
 * Wraps a packed matrix with the pure-TypeScript kernels of its weight type.
 *
 * @example
 * ```ts
 * import { fp32Matrix, linearOf } from "@proj/tinyllm";
 * const lin = linearOf(fp32Matrix(new Float32Array([1, 2, 3, 4]), 2, 2));
 * const out = new Float32Array(2);
 * lin.kernels.matvec(lin.weight, new Float32Array([1, 1]), out);
 * console.log(out); // Float32Array [3, 7]
 * ```
 */
export function linearOf(weight: QMatrix): Linear {
  return { weight, kernels: weightType(weight.type).js };
}

/**
 * An fp32 {@linkcode QMatrix} `[rows, cols]` over `data` (no copy).
 *
 * @example
 * ```ts
 * import { fp32Matrix } from "@proj/tinyllm";
 * const m = fp32Matrix(new Float32Array(6), 2, 3);
 * console.log(m.rows, m.cols, m.type); // 2 3 "fp32"
 * ```
 */
export function fp32Matrix(
  data: Float32Array,
  rows: number,
  cols: number,
): QMatrix {
  return weightType("fp32").quantize(data, rows, cols, "tensor");
}

/**
 * Chooses the kernels of every Linear layer for `backend`. `"js"` uses the
 * pure-TypeScript kernels (weights shared, not copied); `"wasm"` copies the
 * matrices once into a WebAssembly arena and uses the SIMD kernels (a
 * ConfigError where the engine has no SIMD128); `"auto"` is `"wasm"` where
 * available, else `"js"`. The arena also reserves room for a few decode run
 * states, which {@linkcode createRunState} places there when given the
 * weights.
 *
 * @example
 * ```ts
 * import { randomModelWeights, withBackend } from "@proj/tinyllm";
 * const w = randomModelWeights({ dim: 16, hiddenDim: 32, nLayers: 1, nHeads: 2,
 *   nKvHeads: 1, vocabSize: 10, seqLen: 8, positional: "rope",
 *   sharedClassifier: true, normEps: 1e-5, ropeTheta: 10000 }, 1);
 * console.log(withBackend(w, "js").layers[0].wq.kernels.backend); // "js"
 * ```
 */
export function withBackend(
  weights: ModelWeights,
  backend: Backend,
): ModelWeights {
  if (backend !== "js" && backend !== "wasm" && backend !== "auto") {
    throw new ConfigError(
      `backend must be "auto", "wasm" or "js", got "${backend}"`,
    );
  }
  if (backend === "wasm" || (backend === "auto" && wasmVariant() !== "none")) {
    return prepareWeightsForWasm(weights, {
      extraBytes: RUN_STATES_IN_ARENA * runStateMatvecBytes(weights.config),
    });
  }
  const pick = (l: Linear): Linear => ({
    weight: l.weight,
    kernels: weightType(l.weight.type).js,
  });
  return {
    ...weights,
    layers: weights.layers.map((l) => ({
      ...l,
      wq: pick(l.wq),
      wk: pick(l.wk),
      wv: pick(l.wv),
      wo: pick(l.wo),
      w1: pick(l.w1),
      w2: pick(l.w2),
      w3: pick(l.w3),
    })),
    classifier: pick(weights.classifier),
  };
}

/** Decode run states whose matvec buffers fit in a wasm model's arena. */
const RUN_STATES_IN_ARENA = 4;

/**
 * Bytes of the decode buffers that matrix products read or write (x, xb,
 * xb2, hb, hb2, q, k, v, logits), with alignment slack: what a WebAssembly
 * arena reserves per run state.
 *
 * @example
 * ```ts
 * import { runStateMatvecBytes } from "@proj/tinyllm";
 * console.log(runStateMatvecBytes({ dim: 64, hiddenDim: 172, nLayers: 5,
 *   nHeads: 8, nKvHeads: 4, vocabSize: 512, seqLen: 512, positional: "rope",
 *   sharedClassifier: true, normEps: 1e-5, ropeTheta: 10000 }) > 0); // true
 * ```
 */
export function runStateMatvecBytes(config: ModelConfig): number {
  const floats = 3 * config.dim + 2 * config.hiddenDim + config.dim +
    2 * kvDim(config) + config.vocabSize;
  return floats * 4 + 9 * 16;
}

/**
 * Seeded random weights of the given shape: every matrix N(0, std²), RMSNorm
 * gains 1 (as llama2.c's random benchmark checkpoints). Speed depends only on
 * shape, so these stand in for real checkpoints in benchmarks and tests.
 *
 * @example
 * ```ts
 * import { randomModelWeights } from "@proj/tinyllm";
 * const w = randomModelWeights({ dim: 16, hiddenDim: 32, nLayers: 2, nHeads: 2,
 *   nKvHeads: 1, vocabSize: 10, seqLen: 8, positional: "learned",
 *   sharedClassifier: true, normEps: 1e-5, ropeTheta: 10000 }, 3);
 * console.log(w.layers.length, w.positionEmbedding?.length); // 2 128
 * ```
 */
export function randomModelWeights(
  config: ModelConfig,
  seed: number,
  std = 0.02,
): ModelWeights {
  validateConfig(config);
  const rng = new Rng(seed);
  const { dim, hiddenDim, vocabSize } = config;
  const kv = kvDim(config);
  const randn = (n: number): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = rng.normal() * std;
    return a;
  };
  const mat = (rows: number, cols: number): Linear =>
    linearOf(fp32Matrix(randn(rows * cols), rows, cols));
  const ones = () => new Float32Array(dim).fill(1);
  const tokenEmbedding = fp32Matrix(randn(vocabSize * dim), vocabSize, dim);
  const positionEmbedding = config.positional === "learned"
    ? randn(config.seqLen * dim)
    : null;
  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.nLayers; l++) {
    layers.push({
      rmsAtt: ones(),
      wq: mat(dim, dim),
      wk: mat(kv, dim),
      wv: mat(kv, dim),
      wo: mat(dim, dim),
      rmsFfn: ones(),
      w1: mat(hiddenDim, dim),
      w2: mat(dim, hiddenDim),
      w3: mat(hiddenDim, dim),
    });
  }
  return {
    config,
    tokenEmbedding,
    positionEmbedding,
    layers,
    rmsFinal: ones(),
    classifier: config.sharedClassifier
      ? linearOf(tokenEmbedding)
      : mat(vocabSize, dim),
  };
}
