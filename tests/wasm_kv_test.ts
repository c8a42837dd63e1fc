// The WebAssembly KV cache against the TypeScript fp32 cache: same scores and
// mixes on random data (odd head sizes), and the same logits through whole
// decode passes of a random model.
import assert from "node:assert/strict";
import { InputError } from "../src/errors.ts";
import { KvCacheFp32 } from "../src/kv/caches.ts";
import { makeConfig, type ModelConfig } from "../src/model/config.ts";
import { createRunState, forwardToken } from "../src/model/decode.ts";
import { randomModelWeights } from "../src/model/build.ts";
import { bindKernels } from "../src/model/bind.ts";
import { wasmSupport } from "../src/wasm/runtime.ts";
import { Rng } from "../src/random.ts";
import { KvCacheWasm } from "../src/kv/wasm.ts";

const ignore = !wasmSupport().simd;

function randomVector(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

Deno.test({
  name: "KvCacheWasm scores and mix equal KvCacheFp32's",
  ignore,
  fn() {
    const rng = new Rng(21);
    // head sizes 5 (scalar tail), 12 (4-chunks), 36 (16-chunks + 4-chunk)
    for (
      const [dim, nHeads, nKvHeads] of [[10, 2, 1], [24, 2, 2], [144, 4, 2]]
    ) {
      const cfg = { dim, nHeads, nKvHeads, nLayers: 2, seqLen: 9 };
      const a = new KvCacheFp32(cfg), b = new KvCacheWasm(cfg);
      assert.equal(a.byteSize, b.byteSize);
      const kv = (dim / nHeads) * nKvHeads, hs = dim / nHeads;
      for (let pos = 0; pos < 9; pos++) {
        for (let l = 0; l < 2; l++) {
          const k = randomVector(rng, kv), v = randomVector(rng, kv);
          a.store(l, pos, k, v);
          b.store(l, pos, k, v);
        }
        const q = randomVector(rng, dim);
        const p = randomVector(rng, pos + 1);
        for (let l = 0; l < 2; l++) {
          for (let h = 0; h < nKvHeads; h++) {
            const sa = new Float32Array(pos + 1),
              sb = new Float32Array(pos + 1);
            a.scores(l, h, q, h * hs, pos, sa);
            b.scores(l, h, q, h * hs, pos, sb);
            const ma = new Float32Array(dim), mb = new Float32Array(dim);
            a.mix(l, h, p, pos, ma, h * hs);
            b.mix(l, h, p, pos, mb, h * hs);
            for (let t = 0; t <= pos; t++) {
              assert.ok(
                Math.abs(sa[t] - sb[t]) <= 1e-5 * (hs + 1),
                `score ${t}`,
              );
            }
            for (let i = 0; i < dim; i++) {
              assert.ok(
                Math.abs(ma[i] - mb[i]) <= 1e-5 * (pos + 2),
                `mix ${i}`,
              );
            }
          }
        }
      }
      assert.throws(
        () => b.store(0, 9, new Float32Array(kv), new Float32Array(kv)),
        InputError,
      );
      assert.throws(
        () => b.scores(0, 0, new Float32Array(dim), 0, 9, new Float32Array(10)),
        InputError,
      );
    }
  },
});

Deno.test({
  name: "decode with KvCacheWasm gives the logits of KvCacheFp32",
  ignore,
  fn() {
    const cfg: ModelConfig = makeConfig({
      dim: 48,
      hiddenDim: 96,
      nLayers: 2,
      nHeads: 4,
      nKvHeads: 2,
      vocabSize: 40,
      seqLen: 12,
    });
    const w = bindKernels(randomModelWeights(cfg, 3, 0.1), "wasm");
    const sa = createRunState(cfg, w), sb = createRunState(cfg, w);
    const ca = new KvCacheFp32(cfg), cb = new KvCacheWasm(cfg);
    for (let pos = 0; pos < 12; pos++) {
      const token = (pos * 7) % 40;
      const la = forwardToken(w, sa, ca, token, pos).slice();
      const lb = forwardToken(w, sb, cb, token, pos);
      for (let i = 0; i < 40; i++) {
        assert.ok(
          Math.abs(la[i] - lb[i]) <= 1e-4 * (1 + Math.abs(la[i])),
          `pos ${pos} logit ${i}: ${la[i]} vs ${lb[i]}`,
        );
      }
    }
  },
});
