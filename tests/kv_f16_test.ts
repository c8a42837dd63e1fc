// The F16 KV cache computes attention bit for bit as llama.cpp's default CPU
// path (F16 cache, flash attention): fed llama.cpp's own rotated queries,
// keys and values of one layer (dumped from its compute graph, see
// tests/testdata/gguf/README.md), its attention output equals llama.cpp's
// exactly at every position, for head size 8 (ggml's scalar loops) and 64
// (its AVX-512 dot product).
import assert from "node:assert/strict";
import { KvCacheF16 } from "../src/kv/f16.ts";
import { createKvCache } from "../src/kv/create.ts";
import { KvCacheFp32 } from "../src/kv/caches.ts";

interface Dump {
  layer: number;
  headSize: number;
  nHeads: number;
  nKvHeads: number;
  q: number[][];
  k: number[][];
  v: number[][];
  out: number[][];
}

// module import: this test needs no permission
import dumps from "./testdata/gguf/fattn_f16.json" with { type: "json" };

const DUMPS = dumps as Record<string, Dump>;

for (const [name, d] of Object.entries(DUMPS)) {
  Deno.test(`f16 cache: flash attention equals llama.cpp's bit for bit (${name}, head size ${d.headSize})`, () => {
    const hs = d.headSize;
    const shape = {
      dim: d.nHeads * hs,
      nHeads: d.nHeads,
      nKvHeads: d.nKvHeads,
      nLayers: 1,
      seqLen: d.q.length,
    };
    const cache = new KvCacheF16(shape);
    const out = new Float32Array(shape.dim);
    const group = d.nHeads / d.nKvHeads;
    for (let pos = 0; pos < d.q.length; pos++) {
      cache.store(
        0,
        pos,
        Float32Array.from(d.k[pos]),
        Float32Array.from(d.v[pos]),
      );
      const q = Float32Array.from(d.q[pos]);
      for (let h = 0; h < d.nHeads; h++) {
        cache.attend(
          0,
          (h / group) | 0,
          q,
          h * hs,
          pos,
          out,
          h * hs,
          1 / Math.sqrt(hs),
        );
      }
      assert.deepEqual(
        Array.from(out),
        d.out[pos].map(Math.fround),
        `position ${pos}`,
      );
    }
  });
}

Deno.test("f16 cache: scores and mix agree with the fp32 cache on half-exact data", () => {
  const shape = { dim: 8, nHeads: 2, nKvHeads: 1, nLayers: 2, seqLen: 3 };
  const a = createKvCache("f16", shape), b = new KvCacheFp32(shape);
  assert.equal(a.kind, "f16");
  assert.equal(a.byteSize, 2 * 2 * 2 * 3 * 4);
  // values with few significant bits are exact in half precision
  const k = (p: number) =>
    Float32Array.from({ length: 4 }, (_, i) => (i - p) / 4);
  const v = (p: number) =>
    Float32Array.from({ length: 4 }, (_, i) => (i + p) / 8);
  for (let p = 0; p < 3; p++) {
    a.store(1, p, k(p), v(p));
    b.store(1, p, k(p), v(p));
  }
  const q = Float32Array.from([0, 0, 0, 0, 0.5, -1, 2, 0.25]);
  const sa = new Float32Array(3), sb = new Float32Array(3);
  a.scores(1, 0, q, 4, 2, sa);
  b.scores(1, 0, q, 4, 2, sb);
  assert.deepEqual(sa, sb);
  const p = Float32Array.from([0.5, 0.25, 0.25]);
  const ma = new Float32Array(8), mb = new Float32Array(8);
  a.mix(1, 0, p, 2, ma, 4);
  b.mix(1, 0, p, 2, mb, 4);
  assert.deepEqual(ma, mb);
  a.reset();
  a.scores(1, 0, q, 4, 2, sa);
  assert.deepEqual(Array.from(sa), [0, 0, 0]);
});

Deno.test("f16 cache: one position attends to itself; positions past the capacity are refused", () => {
  const c = new KvCacheF16({
    dim: 4,
    nHeads: 1,
    nKvHeads: 1,
    nLayers: 1,
    seqLen: 2,
  });
  c.store(
    0,
    0,
    new Float32Array([1, 2, 3, 4]),
    new Float32Array([0.5, -0.25, 8, 1]),
  );
  const out = new Float32Array(4);
  c.attend(0, 0, new Float32Array([1, 1, 1, 1]), 0, 0, out, 0, 0.5);
  assert.deepEqual(Array.from(out), [0.5, -0.25, 8, 1]);
  assert.throws(
    () => c.store(0, 2, new Float32Array(4), new Float32Array(4)),
    /past the KV cache/,
  );
});
