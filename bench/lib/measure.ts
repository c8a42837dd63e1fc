/**
 * Timing helpers for the report: warm-up runs, then repetitions, mean ± std.
 *
 * @module
 */
import type { ModelWeights } from "../../src/model/weights.ts";
import { createRunState, forwardToken } from "../../src/model/decode.ts";
import {
  createActivations,
  sequenceForward,
} from "../../src/model/sequence.ts";
import { KvCacheFp32 } from "../../src/kv/caches.ts";
import { wasmVariant } from "../../src/wasm/runtime.ts";
import { meanStd } from "./results.ts";

/** Mean and standard deviation of repeated timings, in milliseconds. */
export interface Timing {
  mean: number;
  std: number;
  runs: number[];
}

/** Runs `fn` `warmup` times untimed, then `reps` times timed. */
export async function time(
  fn: () => Promise<void> | void,
  reps: number,
  warmup: number,
): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const runs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    runs.push(performance.now() - t0);
  }
  const { mean, std } = meanStd(runs);
  return { mean, std, runs };
}

/**
 * What "with" and "without the KV cache" mean, defined once for the report
 * and the Deno.bench suites: generate exactly `length` tokens greedily after
 * BOS (no stop tokens, so every run does the same work) with the same
 * weights, the same matrix kernels (whatever backend the weights are bound
 * to) and the same TypeScript attention on both sides:
 *
 * - `"fp32"`: one decode step per token against the fp32 KV cache
 *   (`KvCacheFp32`: keys and values of earlier positions are kept);
 * - `"none"`: at every step the whole sequence so far goes through the
 *   sequence forward, as the original project's baseline (and
 *   `generate(…, { cache: "none" })`) does.
 *
 * (`generate()` would give a wasm-bound model the SIMD attention cache,
 * which the no-cache path has no counterpart of.) Returns the number of
 * tokens generated; their ids go into `ids` when given.
 */
export function generateTokens(
  weights: ModelWeights,
  length: number,
  cache: "fp32" | "none",
  ids?: number[],
): number {
  const c = weights.config;
  const n = Math.min(length, c.seqLen);
  let token = BOS;
  if (cache === "fp32") {
    const state = createRunState(c, weights);
    const kv = new KvCacheFp32(c);
    for (let pos = 0; pos < n; pos++) {
      token = argmax(forwardToken(weights, state, kv, token, pos));
      ids?.push(token);
    }
    return n;
  }
  const seq = [token];
  for (let pos = 0; pos < n; pos++) {
    token = argmax(noCacheStep(weights, seq));
    seq.push(token);
    ids?.push(token);
  }
  return n;
}

/**
 * One step without a cache: the whole sequence so far through the sequence
 * forward (its activations allocated for that length, as at every step of
 * the baseline); returns the last position's logits.
 */
export function noCacheStep(
  weights: ModelWeights,
  sequence: ArrayLike<number>,
): Float32Array {
  const c = weights.config, T = sequence.length, V = c.vocabSize;
  const acts = createActivations(c, 1, T);
  sequenceForward(weights, acts, sequence);
  return acts.logits.subarray((T - 1) * V, T * V);
}

const BOS = 1;

function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

/** The backend a model's matrices run on: "js", "wasm-relaxed", "wasm-simd". */
export function backendOf(weights: ModelWeights): string {
  const b = weights.layers[0]?.wq.kernels.backend ?? "js";
  return b === "wasm" ? `wasm-${wasmVariant()}` : b;
}

/** Rounds to `digits` significant decimals for the result files. */
export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
