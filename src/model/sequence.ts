/**
 * Whole-sequence forward pass (no KV cache) over a batch `[B, T]` of token
 * ids, saving in a preallocated {@linkcode Activations} struct everything the
 * backward pass needs (llm.c's train_gpt2.c style).
 *
 * Works for any weight type: every matrix product goes through
 * `linear.kernels.matmul`, and embedding rows through the weight-type table.
 *
 * @module
 */
import { ShapeError } from "../errors.ts";
import { weightType } from "../quant/table.ts";
import { attentionForward, type AttentionShape } from "../tensor/attention.ts";
import { biasForward } from "../tensor/bias.ts";
import {
  crossEntropyForward,
  crossEntropyForwardToProbs,
} from "../tensor/crossentropy.ts";
import { embeddingForward } from "../tensor/embedding.ts";
import { rmsnormForward } from "../tensor/rmsnorm.ts";
import { ropeForward, type RopeTable, ropeTable } from "../tensor/rope.ts";
import { swigluForward } from "../tensor/swiglu.ts";
import { headSize, kvDim, type ModelConfig, ropeShape } from "./config.ts";
import type { Linear, ModelWeights } from "./weights.ts";

/** Saved activations of one transformer block (views into {@linkcode Activations}). */
export interface LayerActivations {
  /** Residual stream entering the block `[N, dim]`. */
  readonly x: Float32Array;
  /** Reciprocal RMS of `x` rows `[N]`. */
  readonly rstdAtt: Float32Array;
  /** `rmsnorm(x)` `[N, dim]`. */
  readonly xbAtt: Float32Array;
  /** Queries (plus bias) after RoPE `[N, dim]`. */
  readonly q: Float32Array;
  /** Keys (plus bias) after RoPE `[N, kvDim]`. */
  readonly k: Float32Array;
  /** Values (plus bias) `[N, kvDim]`. */
  readonly v: Float32Array;
  /** Attention probabilities `[B, nHeads, T, T]`. */
  readonly att: Float32Array;
  /** Attention output before `wo` `[N, dim]`. */
  readonly attOut: Float32Array;
  /** Residual stream after attention `[N, dim]`. */
  readonly mid: Float32Array;
  /** Reciprocal RMS of `mid` rows `[N]`. */
  readonly rstdFfn: Float32Array;
  /** `rmsnorm(mid)` `[N, dim]`. */
  readonly xbFfn: Float32Array;
  /** `w1 · xbFfn` `[N, hidden]`. */
  readonly h1: Float32Array;
  /** `w3 · xbFfn` `[N, hidden]`. */
  readonly h3: Float32Array;
  /** `silu(h1) · h3` `[N, hidden]`. */
  readonly gate: Float32Array;
}

/**
 * Everything the sequence forward writes, allocated once per
 * (config, batch, seqLen).
 */
export interface Activations {
  /** The model shape. */
  readonly config: ModelConfig;
  /** Batch rows B. */
  readonly batch: number;
  /** Positions per row T (≤ config.seqLen). */
  readonly seqLen: number;
  /** B·T. */
  readonly n: number;
  /** Per block. */
  readonly layers: readonly LayerActivations[];
  /** Residual stream leaving the last block `[N, dim]`. */
  readonly xOut: Float32Array;
  /** Reciprocal RMS of `xOut` rows `[N]`. */
  readonly rstdFinal: Float32Array;
  /** `rmsnorm(xOut)` `[N, dim]`. */
  readonly xFinal: Float32Array;
  /**
   * Logits `[N, vocab]`; softmax probabilities instead when the last forward
   * ran with `keepLogits: false`; their gradient after backward.
   */
  readonly logits: Float32Array;
  /** Whether `logits` holds probabilities (set by the last forward). */
  logitsAreProbs: boolean;
  /** Per-position loss `[N]` (when targets are given). */
  readonly losses: Float32Array;
  /** Per-position log-sum-exp of the logits `[N]`. */
  readonly lse: Float32Array;
  /** Scratch for a projection before it is added to the residual `[N, dim]`. */
  readonly proj: Float32Array;
  /** RoPE cos/sin table (null with learned positions). */
  readonly rope: RopeTable | null;
  /** Attention shape. */
  readonly attention: AttentionShape;
}

/**
 * Allocates the activations for `batch` rows of `seqLen` positions.
 *
 * @example
 * ```ts
 * import { makeConfig } from "@proj/tinyllm";
 * import { createActivations } from "@proj/tinyllm/model";
 * const acts = createActivations(makeConfig({ dim: 8, hiddenDim: 12, nLayers: 1,
 *   nHeads: 2, nKvHeads: 1, vocabSize: 11, seqLen: 5 }), 2, 5);
 * console.log(acts.logits.length); // 110
 * ```
 */
export function createActivations(
  config: ModelConfig,
  batch: number,
  seqLen: number,
): Activations {
  if (seqLen > config.seqLen || seqLen < 1 || batch < 1) {
    throw new ShapeError(
      `activations: seqLen ${seqLen} must be in 1..${config.seqLen}, batch ${batch} ≥ 1`,
    );
  }
  const { dim, hiddenDim, nLayers, nHeads, vocabSize } = config;
  const kv = kvDim(config);
  const n = batch * seqLen;
  const f = (size: number) => new Float32Array(size);
  const layers: LayerActivations[] = [];
  for (let l = 0; l < nLayers; l++) {
    layers.push({
      x: f(n * dim),
      rstdAtt: f(n),
      xbAtt: f(n * dim),
      q: f(n * dim),
      k: f(n * kv),
      v: f(n * kv),
      att: f(batch * nHeads * seqLen * seqLen),
      attOut: f(n * dim),
      mid: f(n * dim),
      rstdFfn: f(n),
      xbFfn: f(n * dim),
      h1: f(n * hiddenDim),
      h3: f(n * hiddenDim),
      gate: f(n * hiddenDim),
    });
  }
  return {
    config,
    batch,
    seqLen,
    n,
    layers,
    xOut: f(n * dim),
    rstdFinal: f(n),
    xFinal: f(n * dim),
    logits: f(n * vocabSize),
    losses: f(n),
    lse: f(n),
    logitsAreProbs: false,
    proj: f(n * dim),
    rope: config.positional === "rope"
      ? ropeTable(ropeShape(config), seqLen)
      : null,
    attention: {
      batch,
      seqLen,
      nHeads,
      nKvHeads: config.nKvHeads,
      headSize: headSize(config),
    },
  };
}

/** Options of {@linkcode sequenceForward}. */
export interface SequenceForwardOptions {
  /**
   * Keep the logits in `acts.logits` (default true). With false and
   * targets, they are replaced by the softmax probabilities, which saves
   * recomputing every exponential in backward (training).
   */
  keepLogits?: boolean;
}

function project(lin: Linear, x: Float32Array, n: number, out: Float32Array) {
  lin.kernels.matmul(lin.weight, x, n, out);
}

/**
 * Runs the model over `tokens` (`[B, T]` row-major, B·T ids) and fills
 * `acts`, ending with `acts.logits` `[B·T, vocab]`. With `targets` (the
 * next tokens, same shape) it also computes the cross-entropy and returns the
 * mean loss over the B·T positions; otherwise returns NaN.
 *
 * @example
 * ```ts
 * import { makeConfig } from "@proj/tinyllm";
 * import { createActivations, sequenceForward } from "@proj/tinyllm/model";
 * import { initParams, paramLayout, paramViews, weightsFromParams } from "@proj/tinyllm/train";
 * const cfg = makeConfig({ dim: 8, hiddenDim: 12, nLayers: 1, nHeads: 2,
 *   nKvHeads: 1, vocabSize: 11, seqLen: 5 });
 * const layout = paramLayout(cfg);
 * const weights = weightsFromParams(cfg, paramViews(layout, initParams(layout, 1)));
 * const acts = createActivations(cfg, 1, 5);
 * const loss = sequenceForward(weights, acts, [1, 2, 3, 4, 5], [2, 3, 4, 5, 6]);
 * console.log(Math.abs(loss - Math.log(11)) < 0.1); // true: untrained ≈ uniform
 * ```
 */
export function sequenceForward(
  weights: ModelWeights,
  acts: Activations,
  tokens: ArrayLike<number>,
  targets?: ArrayLike<number>,
  options: SequenceForwardOptions = {},
): number {
  const cfg = weights.config;
  const { n, seqLen: T } = acts;
  const { dim, hiddenDim, vocabSize, normEps } = cfg;
  const kv = kvDim(cfg);
  if (tokens.length < n || (targets && targets.length < n)) {
    throw new ShapeError(
      `sequenceForward: need ${n} tokens${
        targets ? " and targets" : ""
      }, got ${tokens.length}`,
    );
  }
  for (let i = 0; i < n; i++) {
    const t = tokens[i];
    if (!(t >= 0 && t < vocabSize && Number.isInteger(t))) {
      throw new ShapeError(
        `sequenceForward: token id ${t} at ${i} is outside 0..${vocabSize - 1}`,
      );
    }
  }
  const first = acts.layers.length > 0 ? acts.layers[0].x : acts.xOut;
  const table = weights.tokenEmbedding, type = weightType(table.type);
  embeddingForward(
    first,
    tokens,
    (row, out) => type.dequantizeRow(table, row, out),
    weights.positionEmbedding,
    n,
    T,
    dim,
  );
  for (let l = 0; l < cfg.nLayers; l++) {
    const w = weights.layers[l], a = acts.layers[l];
    rmsnormForward(a.xbAtt, a.rstdAtt, a.x, w.rmsAtt, n, dim, normEps);
    project(w.wq, a.xbAtt, n, a.q);
    project(w.wk, a.xbAtt, n, a.k);
    project(w.wv, a.xbAtt, n, a.v);
    if (w.bq) biasForward(a.q, w.bq, n, dim);
    if (w.bk) biasForward(a.k, w.bk, n, kv);
    if (w.bv) biasForward(a.v, w.bv, n, kv);
    if (acts.rope) {
      ropeForward(a.q, n, dim, T, acts.rope);
      ropeForward(a.k, n, kv, T, acts.rope);
    }
    attentionForward(a.attOut, a.att, a.q, a.k, a.v, acts.attention);
    project(w.wo, a.attOut, n, acts.proj);
    for (let i = 0; i < n * dim; i++) a.mid[i] = a.x[i] + acts.proj[i];
    rmsnormForward(a.xbFfn, a.rstdFfn, a.mid, w.rmsFfn, n, dim, normEps);
    project(w.w1, a.xbFfn, n, a.h1);
    project(w.w3, a.xbFfn, n, a.h3);
    swigluForward(a.gate, a.h1, a.h3, n * hiddenDim);
    project(w.w2, a.gate, n, acts.proj);
    const next = l + 1 < cfg.nLayers ? acts.layers[l + 1].x : acts.xOut;
    for (let i = 0; i < n * dim; i++) next[i] = a.mid[i] + acts.proj[i];
  }
  rmsnormForward(
    acts.xFinal,
    acts.rstdFinal,
    acts.xOut,
    weights.rmsFinal,
    n,
    dim,
    normEps,
  );
  project(weights.classifier, acts.xFinal, n, acts.logits);
  acts.logitsAreProbs = false;
  if (!targets) return NaN;
  for (let i = 0; i < n; i++) {
    const t = targets[i];
    if (!(t >= 0 && t < vocabSize && Number.isInteger(t))) {
      throw new ShapeError(
        `sequenceForward: target id ${t} at ${i} is outside 0..${
          vocabSize - 1
        }`,
      );
    }
  }
  if (options.keepLogits === false) {
    acts.logitsAreProbs = true;
    return crossEntropyForwardToProbs(
      acts.losses,
      acts.logits,
      targets,
      n,
      vocabSize,
    );
  }
  return crossEntropyForward(
    acts.losses,
    acts.lse,
    acts.logits,
    targets,
    n,
    vocabSize,
  );
}
