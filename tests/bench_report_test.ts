/**
 * The benchmark report's measurement and output code on a tiny seeded model:
 * row shapes and invariants (not speed), CSV/JSON round trip, curve
 * extraction from a training record.
 */
import assert from "node:assert/strict";
import {
  measureKvCache,
  measureKvMemory,
  measureQuant,
  type ReportSettings,
  writeResult,
} from "../bench/report.ts";
import { type BenchModel, silentTokenizer } from "../bench/lib/library.ts";
import { backendOf, generateTokens } from "../bench/lib/measure.ts";
import { readResults, runMeta } from "../bench/lib/results.ts";
import { trainingCurve } from "../bench/lib/training.ts";
import { plotAll } from "../bench/plot.ts";
import { randomModelWeights } from "../src/model/build.ts";
import { kvCacheBytes } from "../src/kv/caches.ts";
import { modelByteSize } from "../src/model/quantize.ts";
import { makeConfig } from "../src/model/config.ts";
import { testNeeding } from "./permissions.ts";

const test = testNeeding(import.meta.url, "read", "write");

const S: ReportSettings = {
  quick: true,
  reps: 2,
  warmup: 0,
  lengths: [4, 8, 100],
  maxRunMs: 60_000,
  latencyTokens: 6,
  evalTokens: 0,
};

function tiny(): BenchModel {
  const weights = randomModelWeights(
    makeConfig({
      dim: 32,
      hiddenDim: 64,
      nLayers: 2,
      nHeads: 4,
      nKvHeads: 2,
      vocabSize: 40,
      seqLen: 16,
    }),
    3,
  );
  const evalTokens = Array.from({ length: 40 }, (_, i) => (i * 13 + 1) % 40);
  return {
    name: "tiny",
    weights,
    tokenizer: silentTokenizer(40),
    evalTokens,
    evalText: "a fixed id sequence",
  };
}

Deno.test("KV-cache rows: lengths below seqLen plus seqLen itself, speed-up = ratio of means", async () => {
  const rows = await measureKvCache(tiny(), S);
  assert.deepEqual(rows.map((r) => r.length), [4, 8, 16]);
  for (const r of rows) {
    assert.equal(r.model, "tiny");
    assert.ok(r.withCacheMs > 0 && r.withoutCacheMs > 0);
    assert.ok(r.withCacheStdMs >= 0 && r.withoutCacheStdMs >= 0);
    // the times are rounded to 1 µs and the speed-up to 0.01, so the ratio
    // of the rounded times may differ from it by the rounding's share
    const ratio = r.withoutCacheMs / r.withCacheMs;
    const slack = 0.005 +
      ratio * (0.0005 / r.withCacheMs + 0.0005 / r.withoutCacheMs);
    assert.ok(
      Math.abs(r.speedup - ratio) <= slack,
      `${r.speedup} vs ${ratio} (± ${slack})`,
    );
  }
});

Deno.test("quant rows: fp32 first at compression 1, sizes are the real bytes, perplexity deltas", async () => {
  const m = tiny();
  const rows = await measureQuant(m, S, "js");
  assert.deepEqual(rows.map((r) => r.config), [
    "fp32",
    "int8 row",
    "int8 G32",
    "int4 G32",
    "int8 tensor",
    "int4 tensor",
  ]);
  assert.equal(rows[0].sizeBytes, modelByteSize(m.weights));
  assert.equal(rows[0].compression, 1);
  assert.equal(rows[0].deltaPerplexity, 0);
  for (const r of rows) {
    assert.ok(r.perplexity! > 1 && r.perplexity! < 1000, `${r.perplexity}`);
    assert.ok(
      Math.abs(r.deltaPerplexity! - (r.perplexity! - rows[0].perplexity!)) <
        0.002,
    );
    assert.ok(
      Math.abs(r.compression - rows[0].sizeBytes / r.sizeBytes) < 0.006,
    );
    assert.ok(
      Math.abs(r.tokensPerSecond - 1000 / r.latencyMs) / r.tokensPerSecond <
        0.01,
    );
  }
  // Packed weights are smaller: int4 G32 < int8 row < int8 G32 < fp32.
  const size = (c: string) => rows.find((r) => r.config === c)!.sizeBytes;
  assert.ok(size("int4 G32") < size("int8 row"));
  assert.ok(size("int8 row") < size("int8 G32"));
  assert.ok(size("int8 G32") < size("fp32"));
});

Deno.test("cache-memory rows match the cache formulas", () => {
  const m = tiny();
  const rows = measureKvMemory(m, S);
  const fp = rows.find((r) => r.cache === "fp32" && r.length === 16)!;
  assert.equal(fp.bytes, kvCacheBytes("fp32", m.weights.config, 16));
  const i8 = rows.find((r) => r.cache === "int8" && r.length === 16)!;
  assert.equal(i8.bytes, kvCacheBytes("int8", m.weights.config, 16));
  assert.ok(rows.every((r) => r.length <= 16));
});

test("result files round-trip through JSON and CSV, and plot", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const m = tiny();
    const meta = runMeta("js", true);
    const kv = await measureKvCache(m, S);
    await writeResult(dir, "kvcache", { ...meta, rows: kv }, true);
    await writeResult(dir, "quant", {
      ...meta,
      rows: await measureQuant(m, { ...S, reps: 1 }, "js"),
    }, true);
    const back = await readResults(dir);
    assert.deepEqual(back.kvcache!.rows, kv);
    assert.equal(back.kvcache!.cores, navigator.hardwareConcurrency);
    for (const k of ["date", "deno", "v8", "os", "cpu", "backend"] as const) {
      assert.ok(String(back.kvcache![k]).length > 0, k);
    }
    const csv = (await Deno.readTextFile(`${dir}/kvcache.csv`)).trim().split(
      "\n",
    );
    assert.equal(
      csv[0],
      "model,length,withCacheMs,withCacheStdMs,withoutCacheMs,withoutCacheStdMs,speedup,backend",
    );
    assert.equal(csv.length, kv.length + 1);
    assert.equal(csv[1].split(",")[2], String(kv[0].withCacheMs));
    const svgs = plotAll(back);
    assert.ok(svgs["kvcache-tiny.svg"].startsWith("<svg"));
    assert.ok(
      svgs["quant-size.svg"].includes('xmlns="http://www.w3.org/2000/svg"'),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with and without the cache: the same model, kernels and tokens on both sides; the backend is recorded", async () => {
  const { bindKernels } = await import("../src/model/bind.ts");
  const { wasmVariant } = await import("../src/wasm/runtime.ts");
  for (const backend of ["js", "auto"] as const) {
    const w = bindKernels(tiny().weights, backend);
    const a: number[] = [], b: number[] = [];
    assert.equal(generateTokens(w, 12, "fp32", a), 12);
    assert.equal(generateTokens(w, 12, "none", b), 12);
    assert.deepEqual(a, b, backend);
    const expected = backend === "js" || wasmVariant() === "none"
      ? "js"
      : `wasm-${wasmVariant()}`;
    assert.equal(backendOf(w), expected);
    const rows = await measureKvCache({ ...tiny(), weights: w }, {
      ...S,
      lengths: [4],
    });
    assert.ok(rows.every((r) => r.backend === expected));
  }
});

Deno.test("training curves come out of a training record", () => {
  const curve = trainingCurve({
    preset: "seed",
    curve: [
      { step: 1, trainLoss: 6.6, valLoss: null },
      { step: 50, trainLoss: 4.0, valLoss: 4.3 },
      { step: 100, trainLoss: 3.8, valLoss: 4.2 },
    ],
  });
  assert.deepEqual(curve, [
    { step: 1, loss: 6.6, split: "train" },
    { step: 50, loss: 4.0, split: "train" },
    { step: 50, loss: 4.3, split: "val" },
    { step: 100, loss: 3.8, split: "train" },
    { step: 100, loss: 4.2, split: "val" },
  ]);
});
