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
 * const cfg = makeConfig({ dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8,
 *   nKvHeads: 4, vocabSize: 512, seqLen: 512 });
 * console.log(cfg.positional, cfg.ropeDim); // "rope" 8
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
 * const cfg = makeConfig({ dim: 16, hiddenDim: 32, nLayers: 1, nHeads: 2,
 *   vocabSize: 10, seqLen: 8, ropeStyle: "neox" });
 * console.log(cfg.nKvHeads, cfg.ropeStyle, cfg.sharedClassifier); // 2 "neox" true
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
 * console.log(headSize({ dim: 64, nHeads: 8 })); // 8
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
 * console.log(kvDim({ dim: 64, nHeads: 8, nKvHeads: 4 })); // 32
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
 * const cfg = makeConfig({ dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8,
 *   vocabSize: 512, seqLen: 512 });
 * try {
 *   validateConfig({ ...cfg, nKvHeads: 3 });
 * } catch (e) {
 *   console.log((e as Error).message); // nKvHeads (3) must divide nHeads (8)
 * }
 * ```
 */
export function validateConfig(cfg: ModelConfig): void {
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
  if (!(cfg.normEps > 0) || !(cfg.ropeTheta > 0)) {
    throw new ConfigError("normEps and ropeTheta must be positive");
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
 * const s = ropeShape(makeConfig({ dim: 64, hiddenDim: 128, nLayers: 1, nHeads: 4,
 *   vocabSize: 10, seqLen: 8, ropeStyle: "neox", ropeDim: 8 }));
 * console.log(s.headSize, s.ropeDim, s.style); // 16 8 "neox"
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
