/**
 * Next-token sampling: greedy, temperature, top-k and nucleus (top-p), all
 * drawing from a seeded {@linkcode Rng}.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import { Rng } from "../random.ts";

/** Sampling options. */
export interface SamplerOptions {
  /** 0 = greedy (argmax, first maximum wins); otherwise logits are divided by it. Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 or ≥ vocab = off). Default 0. */
  topK?: number;
  /** Nucleus sampling: keep the smallest set of tokens whose probability exceeds p (1 = off). Default 1. */
  topP?: number;
  /** Seed of the random numbers. Default 0. */
  seed?: number;
}

/**
 * Index of the largest of the first `n` values; the first one wins a tie
 * (greedy decoding, as llama2.c).
 *
 * @example
 * ```ts
 * import { argmax } from "@proj/tinyllm";
 * import assert from "node:assert/strict";
 * assert.equal(argmax(new Float32Array([1, 5, 5, 2])), 1);
 * ```
 */
export function argmax(x: Float32Array, n: number = x.length): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (x[i] > x[best]) best = i;
  return best;
}

/**
 * Picks next tokens from logits. Buffers are allocated once per vocabulary
 * size; sampling allocates nothing.
 *
 * @example
 * ```ts
 * import { Sampler } from "@proj/tinyllm";
 * import assert from "node:assert/strict";
 * const greedy = new Sampler(3, { temperature: 0 });
 * assert.equal(greedy.sample(new Float32Array([0.1, 2, 2])), 1);
 * const a = new Sampler(3, { temperature: 1, seed: 5 });
 * const b = new Sampler(3, { temperature: 1, seed: 5 });
 * const l = new Float32Array([1, 2, 3]);
 * assert.equal(a.sample(l.slice()) === b.sample(l.slice()), true);
 * ```
 */
export class Sampler {
  /** Vocabulary size. */
  readonly vocabSize: number;
  /** Temperature (0 = greedy). */
  readonly temperature: number;
  /** Top-k cut (0 = off). */
  readonly topK: number;
  /** Top-p cut (1 = off). */
  readonly topP: number;
  readonly #rng: Rng;
  readonly #probs: Float32Array;
  readonly #order: Uint32Array;

  /**
   * Creates a sampler; invalid options are ConfigErrors.
   * @param vocabSize number of logits per step
   * @param options temperature, topK, topP, seed
   */
  constructor(vocabSize: number, options: SamplerOptions = {}) {
    const { temperature = 1, topK = 0, topP = 1, seed = 0 } = options;
    if (!Number.isFinite(temperature) || temperature < 0) {
      throw new ConfigError(
        `temperature must be a finite number ≥ 0, got ${temperature}`,
      );
    }
    if (!Number.isInteger(topK) || topK < 0) {
      throw new ConfigError(`topK must be an integer ≥ 0, got ${topK}`);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new ConfigError(`topP must be in (0, 1], got ${topP}`);
    }
    if (!Number.isFinite(seed)) {
      throw new ConfigError(`seed must be a finite number, got ${seed}`);
    }
    this.vocabSize = vocabSize;
    this.temperature = temperature;
    this.topK = topK >= vocabSize ? 0 : topK;
    this.topP = topP;
    this.#rng = new Rng(seed);
    this.#probs = new Float32Array(vocabSize);
    this.#order = new Uint32Array(vocabSize);
  }

  /** Chooses the next token from `logits` (left unchanged). */
  sample(logits: Float32Array): number {
    const n = this.vocabSize;
    if (this.temperature === 0) return argmax(logits, n);
    const p = this.#probs;
    // softmax(logits / temperature)
    let max = -Infinity;
    for (let i = 0; i < n; i++) if (logits[i] > max) max = logits[i];
    let sum = 0;
    const invT = 1 / this.temperature;
    for (let i = 0; i < n; i++) {
      const e = Math.exp((logits[i] - max) * invT);
      p[i] = e;
      sum += e;
    }
    for (let i = 0; i < n; i++) p[i] /= sum;
    const coin = this.#rng.next();
    if (this.topK === 0 && this.topP >= 1) return sampleMult(p, n, coin);
    return this.#sampleTruncated(coin);
  }

  /**
   * Top-k then top-p, as llama2.c's `sample_topp`: candidates sorted by
   * probability (ties by id), cut after k and after the cumulative
   * probability first exceeds p, then sampled in proportion.
   */
  #sampleTruncated(coin: number): number {
    const n = this.vocabSize, p = this.#probs, order = this.#order;
    // Like run.c, drop tokens that cannot make the nucleus before sorting.
    const cutoff = this.topP < 1 && n > 1 ? (1 - this.topP) / (n - 1) : 0;
    let m = 0;
    for (let i = 0; i < n; i++) if (p[i] >= cutoff) order[m++] = i;
    if (m === 0) return argmax(p, n);
    const cand = order.subarray(0, m);
    cand.sort((a, b) => p[b] - p[a] || a - b);
    let last = this.topK > 0 ? Math.min(this.topK, m) - 1 : m - 1;
    let cum = 0;
    if (this.topP < 1) {
      for (let i = 0; i <= last; i++) {
        cum += p[cand[i]];
        if (cum > this.topP) {
          last = i;
          break;
        }
      }
    }
    cum = 0;
    for (let i = 0; i <= last; i++) cum += p[cand[i]];
    const r = coin * cum;
    let acc = 0;
    for (let i = 0; i <= last; i++) {
      acc += p[cand[i]];
      if (r < acc) return cand[i];
    }
    return cand[last];
  }
}

/** Samples an index from probabilities summing to 1 (llama2.c's `sample_mult`). */
function sampleMult(p: Float32Array, n: number, coin: number): number {
  let cdf = 0;
  for (let i = 0; i < n; i++) {
    cdf += p[i];
    if (coin < cdf) return i;
  }
  return n - 1;
}
