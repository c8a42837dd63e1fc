/**
 * Perplexity of a model over a token stream, per token and per word.
 *
 * The stream is cut into NON-OVERLAPPING windows of `seqLen` inputs: window
 * `i` reads tokens `[i·T, i·T + T)` and predicts tokens `[i·T + 1, i·T + T]`,
 * so every token after the first is predicted exactly once, with the context
 * that its window provides (the context restarts at each window). Callers
 * that want every word predicted prepend a BOS id to the stream.
 *
 * Per-word perplexity is `exp(total NLL / number of words)`, which puts
 * models with different tokenizers on one scale.
 *
 * @module
 */
import type { ModelWeights } from "../model/weights.ts";
import { createActivations, sequenceForward } from "../model/sequence.ts";
import { createRunState, forwardToken } from "../model/decode.ts";
import { createKvCache } from "../kv/create.ts";
import { ConfigError, InputError } from "../errors.ts";

/** Options of {@linkcode perplexity}. */
export interface PerplexityOptions {
  /** Window length (default: the model's seqLen). */
  seqLen?: number;
  /** Windows evaluated together by the sequence forward (default 8). */
  batch?: number;
  /** Number of words the stream encodes (default: predicted tokens). */
  words?: number;
  /**
   * Evaluate token by token through the decode path with this KV cache
   * (`"fp32"`, `"int8"`, `"ring:N"`) instead of the sequence forward.
   */
  cache?: string;
  /** Called with (tokens done, tokens total) after each batch of windows. */
  onProgress?: (done: number, total: number) => void;
}

/** Result of {@linkcode perplexity}. */
export interface PerplexityResult {
  /** Tokens predicted. */
  tokens: number;
  /** Words the per-word figure divides by. */
  words: number;
  /** Total negative log-likelihood (nats). */
  nll: number;
  /** `exp(nll / tokens)`. */
  perToken: number;
  /** `exp(nll / words)`. */
  perWord: number;
  /** Window length used. */
  seqLen: number;
  /** "sequence" or the KV cache spec. */
  path: string;
}

function logSoftmaxAt(
  logits: Float32Array,
  off: number,
  v: number,
  target: number,
): number {
  let max = -Infinity;
  for (let j = 0; j < v; j++) if (logits[off + j] > max) max = logits[off + j];
  let sum = 0;
  for (let j = 0; j < v; j++) sum += Math.exp(logits[off + j] - max);
  return logits[off + target] - max - Math.log(sum);
}

/**
 * Perplexity of `weights` over `stream` (any weight type).
 *
 * @example
 * ```ts
 * import { makeConfig, perplexity, randomModelWeights } from "@proj/tinyllm";
 * const w = randomModelWeights(makeConfig({ dim: 16, hiddenDim: 32, nLayers: 1, nHeads: 2, nKvHeads: 1, vocabSize: 10, seqLen: 8 }), 1);
 * const r = perplexity(w, [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2]);
 * console.log(r.tokens, r.perToken > 1); // 11 true
 * ```
 */
export function perplexity(
  weights: ModelWeights,
  stream: ArrayLike<number>,
  options: PerplexityOptions = {},
): PerplexityResult {
  const cfg = weights.config;
  const T = options.seqLen ?? cfg.seqLen;
  if (!Number.isInteger(T) || T < 1 || T > cfg.seqLen) {
    throw new ConfigError(
      `perplexity: seqLen ${T} must be in 1..${cfg.seqLen}`,
    );
  }
  const total = stream.length - 1;
  if (total < 1) {
    throw new InputError(
      `perplexity: the stream has ${stream.length} tokens, need at least 2`,
    );
  }
  const V = cfg.vocabSize;
  let nll = 0;
  if (options.cache) {
    const state = createRunState(cfg);
    for (let s = 0; s < total; s += T) {
      const len = Math.min(T, total - s);
      const cache = createKvCache(options.cache, cfg, T);
      for (let t = 0; t < len; t++) {
        const logits = forwardToken(weights, state, cache, stream[s + t], t);
        nll -= logSoftmaxAt(logits, 0, V, stream[s + t + 1]);
      }
      options.onProgress?.(s + len, total);
    }
  } else {
    const B = Math.max(1, options.batch ?? 8);
    const full = Math.floor(total / T);
    const acts = createActivations(cfg, B, T);
    const tokens = new Int32Array(B * T), targets = new Int32Array(B * T);
    for (let w = 0; w < full; w += B) {
      const nb = Math.min(B, full - w);
      const a = nb === B ? acts : createActivations(cfg, nb, T);
      for (let b = 0; b < nb; b++) {
        const s = (w + b) * T;
        for (let t = 0; t < T; t++) {
          tokens[b * T + t] = stream[s + t];
          targets[b * T + t] = stream[s + t + 1];
        }
      }
      nll +=
        sequenceForward(weights, a, tokens, targets, { keepLogits: false }) *
        nb * T;
      options.onProgress?.((w + nb) * T, total);
    }
    const rest = total - full * T;
    if (rest > 0) {
      const a = createActivations(cfg, 1, rest);
      const s = full * T;
      const tk = new Int32Array(rest), tg = new Int32Array(rest);
      for (let t = 0; t < rest; t++) {
        tk[t] = stream[s + t];
        tg[t] = stream[s + t + 1];
      }
      nll += sequenceForward(weights, a, tk, tg) * rest;
      options.onProgress?.(total, total);
    }
  }
  const words = options.words ?? total;
  return {
    tokens: total,
    words,
    nll,
    perToken: Math.exp(nll / total),
    perWord: Math.exp(nll / words),
    seqLen: T,
    path: options.cache ?? "sequence",
  };
}
