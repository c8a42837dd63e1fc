/**
 * One decode step at position P with the KV cache (one token against the
 * stored keys and values) versus the same step without a cache (the whole
 * sequence 0..P through the sequence forward, as `generateTokens(…, "none")`
 * does at each step), per model. Same matrix kernels (the model's backend,
 * printed in each group) and the same TypeScript attention on both sides. The
 * no-cache step is each group's baseline.
 *
 * Run: `deno bench bench/decode_bench.ts`
 */
import { createRunState, forwardToken } from "../src/model/decode.ts";
import { noCacheStep } from "./lib/measure.ts";
import { KvCacheFp32 } from "../src/kv/caches.ts";
import { suiteModels } from "./lib/suite_models.ts";

for (const { model, positions, n } of await suiteModels()) {
  const w = model.weights;
  const state = createRunState(w.config);
  const cache = new KvCacheFp32(w.config);
  // Fixed token sequence (greedy continuation is irrelevant to speed).
  const tokens = Array.from(
    { length: w.config.seqLen },
    (_, i) => (i * 7 + 1) % w.config.vocabSize,
  );
  for (const pos of positions.filter((p) => p < w.config.seqLen)) {
    const group = `decode ${model.name} pos ${pos}`;
    const prefix = tokens.slice(0, pos + 1);
    Deno.bench({
      name: `no cache: sequence forward of ${pos + 1} positions`,
      group,
      baseline: true,
      n: Math.max(2, Math.round(n / (pos + 1))),
      warmup: 1,
      fn() {
        noCacheStep(w, prefix);
      },
    });
    Deno.bench({
      name: "with cache: one token",
      group,
      n,
      warmup: 2,
      fn(b) {
        cache.reset();
        for (let t = 0; t < pos; t++) {
          forwardToken(w, state, cache, tokens[t], t);
        }
        b.start();
        forwardToken(w, state, cache, tokens[pos], pos);
        b.end();
      },
    });
  }
}
