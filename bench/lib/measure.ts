/**
 * Timing helpers for the report: warm-up runs, then repetitions, mean ± std.
 *
 * @module
 */
import { generate } from "../../src/generate/generate.ts";
import type { ModelWeights } from "../../src/model/weights.ts";
import type { Tokenizer } from "../../src/tokenizer/types.ts";
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
 * Generates exactly `length` tokens greedily after BOS (stops disabled, so
 * every run does the same work), with the fp32 KV cache or without a cache.
 * Returns the number of tokens generated.
 */
export async function generateTokens(
  weights: ModelWeights,
  tokenizer: Tokenizer,
  length: number,
  cache: "fp32" | "none",
): Promise<number> {
  let n = 0;
  for await (
    const _ of generate(weights, tokenizer, "", {
      maxTokens: length,
      temperature: 0,
      stopAtBos: false,
      stopAtEos: false,
      cache,
    })
  ) n++;
  return n;
}

/** Rounds to `digits` significant decimals for the result files. */
export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
