/**
 * Model hyper-parameters: the shape of a llama-style decoder.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import type { RopeShape, RopeStyle } from "../tensor/rope.ts";

export type { RopeStyle } from "../tensor/rope.ts";

/** How positions enter the model. */
export type Positional = "rope" | "learned";

/**
 * Shape of a llama-style decoder-only transformer. Build one with
 * {@linkcode makeConfig}, which fills in the defaults.
 *
 * @example
 * ```ts
 * import { makeConfig } from "@proj/tinyllm";
 * import assert from "node:assert/strict";
 * const cfg = makeConfig({ dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8,
 *   nKvHeads: 4, vocabSize: 512, seqLen: 512 });
 * assert.equal(cfg.positional, "rope");
 * assert.equal(cfg.ropeDim, 8);
 * ```
 */
export interface ModelConfig {
  /** Width of the residual stream. */
  dim: number;
  /** Width of the SwiGLU hidden layer. */
  hiddenDim: number;
  /** Number of transformer blocks. */
  nLayers: number;
  /** Number of query heads. */
  nHeads: number;
  /** Number of key/value heads (grouped-query attention); divides nHeads. */
  nKvHeads: number;
  /** Vocabulary size. */
  vocabSize: number;
  /** Maximum context length the model was trained for. */
  seqLen: number;
  /** Rotary position embeddings, or a learned absolute position table. */
  positional: Positional;
  /** Whether the classifier reuses the token embedding matrix. */
  sharedClassifier: boolean;
  /** RMSNorm epsilon (llama2.c: 1e-5). */
  normEps: number;
  /** RoPE base frequency (llama2.c: 10000). */
  ropeTheta: number;
  /** Biases on the query, key and value projections (Qwen2). */
  qkvBias: boolean;
  /** Which elements RoPE pairs: adjacent (llama2.c, LLaMA) or halves (NeoX, Qwen2). */
  ropeStyle: RopeStyle;
  /** Elements of each head that RoPE rotates (even, ≤ head size; the rest pass through). */
  ropeDim: number;
}

/** The fields {@linkcode makeConfig} needs: the model's size. */
export type ConfigShape = Pick<
  ModelConfig,
  "dim" | "hiddenDim" | "nLayers" | "nHeads" | "vocabSize" | "seqLen"
>;

/**
 * A complete, validated config from its size plus any other fields. Defaults:
 * `nKvHeads` = nHeads, RoPE (interleaved, base 10000, over the whole head),
 * a shared classifier, RMSNorm eps 1e-5, no Q/K/V biases — llama2.c's
 * conventions.
 *
 * @throws {ConfigError} naming the first invalid field
 *
 * @example
 * ```ts
 * import { makeConfig } from "@proj/tinyllm";
 * import assert from "node:assert/strict";
 * const cfg = makeConfig({ dim: 16, hiddenDim: 32, nLayers: 1, nHeads: 2,
 *   vocabSize: 10, seqLen: 8, ropeStyle: "neox" });
 * assert.equal(cfg.nKvHeads, 2);
 * assert.equal(cfg.ropeStyle, "neox");
 * assert.equal(cfg.sharedClassifier, true);
 * ```
 */
export function makeConfig(
  fields: ConfigShape & Partial<ModelConfig>,
): ModelConfig {
  const config: ModelConfig = {
    dim: fields.dim,
    hiddenDim: fields.hiddenDim,
    nLayers: fields.nLayers,
    nHeads: fields.nHeads,
    nKvHeads: fields.nKvHeads ?? fields.nHeads,
    vocabSize: fields.vocabSize,
    seqLen: fields.seqLen,
    positional: fields.positional ?? "rope",
    sharedClassifier: fields.sharedClassifier ?? true,
    normEps: fields.normEps ?? 1e-5,
    ropeTheta: fields.ropeTheta ?? 10000,
    qkvBias: fields.qkvBias ?? false,
    ropeStyle: fields.ropeStyle ?? "interleaved",
    ropeDim: fields.ropeDim ?? fields.dim / fields.nHeads,
  };
  validateConfig(config);
  return config;
}

/**
 * Size of one attention head.
 * @example
 * ```ts
 * import { headSize } from "@proj/tinyllm/model";
 * import assert from "node:assert/strict";
 * assert.equal(headSize({ dim: 64, nHeads: 8 }), 8);
 * ```
 */
export function headSize(cfg: Pick<ModelConfig, "dim" | "nHeads">): number {
  return cfg.dim / cfg.nHeads;
}

/**
 * Width of the key/value vectors: nKvHeads × headSize.
 * @example
 * ```ts
 * import { kvDim } from "@proj/tinyllm/model";
 * import assert from "node:assert/strict";
 * assert.equal(kvDim({ dim: 64, nHeads: 8, nKvHeads: 4 }), 32);
 * ```
 */
export function kvDim(
  cfg: Pick<ModelConfig, "dim" | "nHeads" | "nKvHeads">,
): number {
  return (cfg.dim / cfg.nHeads) * cfg.nKvHeads;
}

/**
 * Throws a {@linkcode ConfigError} naming the first invalid field.
 * @example
 * ```ts
 * import { makeConfig, validateConfig } from "@proj/tinyllm";
 * import assert from "node:assert/strict";
 * const cfg = makeConfig({ dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8,
 *   vocabSize: 512, seqLen: 512 });
 * try {
 *   validateConfig({ ...cfg, nKvHeads: 3 });
 * } catch (e) {
 *   assert.equal((e as Error).message, "nKvHeads (3) must divide nHeads (8)");
 * }
 * ```
 */
export function validateConfig(cfg: ModelConfig): void {
  validateFields(cfg);
  const params = parameterCount(cfg);
  if (params > MAX_PARAMETERS) {
    throw new ConfigError(
      `${params} parameters (dim ${cfg.dim}, hidden ${cfg.hiddenDim}, ${cfg.nLayers} layers, vocab ${cfg.vocabSize}) is more than the ${MAX_PARAMETERS} this library holds`,
    );
  }
}

/**
 * The largest value each size field may take: beyond any model this library
 * can hold in memory, and small enough that the sizes derived from them stay
 * exact integers.
 */
export const CONFIG_LIMITS = {
  dim: 1 << 16,
  hiddenDim: 1 << 18,
  nLayers: 1 << 10,
  nHeads: 1 << 10,
  nKvHeads: 1 << 10,
  vocabSize: 1 << 22,
  seqLen: 1 << 20,
} as const;

/** Most parameters a model may have (8 GiB of fp32 weights). */
export const MAX_PARAMETERS = 2 ** 31;

// The parameters of a model of this shape (as the tensor table counts them;
// config.ts sits below it).
function parameterCount(cfg: ModelConfig): number {
  const kv = kvDim(cfg);
  const perLayer = 2 * cfg.dim * cfg.dim + 2 * kv * cfg.dim +
    3 * cfg.hiddenDim * cfg.dim + 2 * cfg.dim +
    (cfg.qkvBias ? cfg.dim + 2 * kv : 0);
  return cfg.vocabSize * cfg.dim * (cfg.sharedClassifier ? 1 : 2) +
    cfg.nLayers * perLayer + cfg.dim +
    (cfg.positional === "learned" ? cfg.seqLen * cfg.dim : 0);
}

function validateFields(cfg: ModelConfig): void {
  const ints: (keyof ModelConfig)[] = [
    "dim",
    "hiddenDim",
    "nLayers",
    "nHeads",
    "nKvHeads",
    "vocabSize",
    "seqLen",
  ];
  for (const k of ints) {
    const v = cfg[k];
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
      throw new ConfigError(`${k} must be a positive integer, got ${v}`);
    }
    if (v > CONFIG_LIMITS[k as keyof typeof CONFIG_LIMITS]) {
      throw new ConfigError(
        `${k} = ${v} is larger than any model this library runs (at most ${
          CONFIG_LIMITS[k as keyof typeof CONFIG_LIMITS]
        })`,
      );
    }
  }
  if (cfg.dim % cfg.nHeads !== 0) {
    throw new ConfigError(
      `nHeads (${cfg.nHeads}) must divide dim (${cfg.dim})`,
    );
  }
  if (cfg.nHeads % cfg.nKvHeads !== 0) {
    throw new ConfigError(
      `nKvHeads (${cfg.nKvHeads}) must divide nHeads (${cfg.nHeads})`,
    );
  }
  if (cfg.positional === "rope" && headSize(cfg) % 2 !== 0) {
    throw new ConfigError(
      `RoPE needs an even head size, got ${headSize(cfg)}`,
    );
  }
  if (cfg.positional !== "rope" && cfg.positional !== "learned") {
    throw new ConfigError(
      `positional must be "rope" or "learned", got ${cfg.positional}`,
    );
  }
  if (!(cfg.normEps > 0 && cfg.normEps <= 0.1)) {
    throw new ConfigError(
      `normEps must be in (0, 0.1] (models use 1e-6 to 1e-5), got ${cfg.normEps}`,
    );
  }
  if (!(cfg.ropeTheta >= 1 && cfg.ropeTheta <= 1e9)) {
    throw new ConfigError(
      `ropeTheta must be in [1, 1e9] (models use 1e4 to 1e6), got ${cfg.ropeTheta}`,
    );
  }
  if (typeof cfg.sharedClassifier !== "boolean") {
    throw new ConfigError(
      `sharedClassifier must be true or false, got ${cfg.sharedClassifier}`,
    );
  }
  if (typeof cfg.qkvBias !== "boolean") {
    throw new ConfigError(`qkvBias must be true or false, got ${cfg.qkvBias}`);
  }
  if (cfg.ropeStyle !== "interleaved" && cfg.ropeStyle !== "neox") {
    throw new ConfigError(
      `ropeStyle must be "interleaved" or "neox", got ${cfg.ropeStyle}`,
    );
  }
  const rd = cfg.ropeDim;
  if (
    cfg.positional === "rope" &&
    (!Number.isInteger(rd) || rd < 2 || rd % 2 !== 0 ||
      rd > cfg.dim / cfg.nHeads)
  ) {
    throw new ConfigError(
      `ropeDim must be an even number in 2..${
        cfg.dim / cfg.nHeads
      } (the head size), got ${rd}`,
    );
  }
}

/**
 * The RoPE shape of a config, as the rotation functions take it.
 *
 * @example
 * ```ts
 * import { makeConfig } from "@proj/tinyllm";
 * import { ropeShape } from "@proj/tinyllm/model";
 * import assert from "node:assert/strict";
 * const s = ropeShape(makeConfig({ dim: 64, hiddenDim: 128, nLayers: 1, nHeads: 4,
 *   vocabSize: 10, seqLen: 8, ropeStyle: "neox", ropeDim: 8 }));
 * assert.equal(s.headSize, 16);
 * assert.equal(s.ropeDim, 8);
 * assert.equal(s.style, "neox");
 * ```
 */
export function ropeShape(config: ModelConfig): RopeShape {
  return {
    headSize: headSize(config),
    ropeDim: config.ropeDim,
    style: config.ropeStyle,
    theta: config.ropeTheta,
  };
}
