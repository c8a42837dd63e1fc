/**
 * One decode step at position P with the KV cache (one token against the
 * stored keys and values) versus the same step without a cache (recompute
 * positions 0..P), per model. The no-cache step is each group's baseline.
 *
 * Run: `deno bench bench/decode_bench.ts`
 */
import { createRunState, forwardToken } from "../src/model/decode.ts";
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
    Deno.bench({
      name: `no cache: recompute ${pos + 1} positions`,
      group,
      baseline: true,
      n: Math.max(2, Math.round(n / (pos + 1))),
      warmup: 1,
      fn() {
        cache.reset();
        for (let t = 0; t <= pos; t++) {
          forwardToken(w, state, cache, tokens[t], t);
        }
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
