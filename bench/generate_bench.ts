/**
 * Generating 50 tokens (greedy, after BOS) with the fp32 KV cache versus
 * without a cache (the whole sequence recomputed at every step), per model;
 * the no-cache run is each group's baseline. The same measurement as the
 * original project's `Benchmark: length=50`.
 *
 * Run: `deno bench bench/generate_bench.ts`
 */
import { generateTokens } from "./lib/measure.ts";
import { suiteModels } from "./lib/suite_models.ts";

const LENGTH = 50;

for (const { model, n } of await suiteModels()) {
  const big = model.weights.config.dim >= 256;
  // Capped by the model's context; the stories15M-shaped model generates 16
  // tokens, since one no-cache run of 50 takes over a minute there.
  const length = Math.min(big ? 16 : LENGTH, model.weights.config.seqLen);
  const group = `generate ${length} tokens, ${model.name}`;
  Deno.bench({
    name: "without cache",
    group,
    baseline: true,
    n: big ? 1 : 5,
    warmup: big ? 0 : 1,
    fn() {
      generateTokens(model.weights, length, "none");
    },
  });
  Deno.bench({
    name: "with KV cache",
    group,
    n: big ? 3 : n,
    warmup: 1,
    fn() {
      generateTokens(model.weights, length, "fp32");
    },
  });
}
