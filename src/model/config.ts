/**
 * Model hyper-parameters: the shape of a llama-style decoder.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";

/** How positions enter the model. */
export type Positional = "rope" | "learned";

/**
 * Shape of a llama-style decoder-only transformer.
 *
 * @example
 * ```ts
 * import { validateConfig, type ModelConfig } from "@proj/tinyllm";
 * const cfg: ModelConfig = {
 *   dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKvHeads: 4,
 *   vocabSize: 512, seqLen: 512, positional: "rope", sharedClassifier: true,
 *   normEps: 1e-5, ropeTheta: 10000,
 * };
 * validateConfig(cfg);
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
}

/**
 * Size of one attention head.
 * @example
 * ```ts
 * import { headSize } from "@proj/tinyllm";
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
 * import { kvDim } from "@proj/tinyllm";
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
 * import { validateConfig } from "@proj/tinyllm";
 * try {
 *   validateConfig({ dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKvHeads: 3,
 *     vocabSize: 512, seqLen: 512, positional: "rope", sharedClassifier: true,
 *     normEps: 1e-5, ropeTheta: 10000 });
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
}
