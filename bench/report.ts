/**
 * `deno task bench`: the benchmark report. Trains the `seed` model first if
 * `dist/model.tar.gz` is missing, quantizes it, and measures three models
 * (the trained one, llama2.c's stories260K — from `--llama2c DIR`, else the
 * repository's copy in tests/testdata/ — and a random-weight stories15M-shaped
 * one) for the KV-cache and quantization tables. Writes `out/{kvcache,quant,kvcache-memory,training}.json` (+ CSV),
 * and prints the tables.
 *
 * Usage: `deno task bench [--quick] [--llama2c DIR | --no-llama2c]
 *   [--model dist/model.tar.gz] [--extra dist/brown.tar.gz]... [--out out]
 *   [--reps N] [--no-train] [--no-random] [--backend js|wasm|auto]`
 *
 * @module
 */
import { stringify } from "csv-stringify/sync";
import {
  numberFlag,
  parseFlags,
  runCli,
  UsageError,
} from "../src/cli/common.ts";
import { writeFileAtomic } from "../src/files_fs.ts";
import { createKvCache } from "../src/kv/create.ts";
import { bindKernels } from "../src/model/bind.ts";
import { WEIGHT_TYPES } from "../src/quant/table.ts";
import { kernelsFor } from "../src/kernels/select.ts";
import type { Backend } from "../src/backend.ts";
import {
  type BenchModel,
  loadLlama2cTokenizer32k,
  loadStories260K,
  loadTrained,
  modelBytes,
  perplexity,
  QUANT_CONFIGS,
  quantizeWeights,
  randomStories15M,
  saveQuantizedArchive,
} from "./lib/library.ts";
import { backendOf, generateTokens, round, time } from "./lib/measure.ts";
import {
  type KvMemoryRow,
  type KvRow,
  type QuantRow,
  type ResultFile,
  runMeta,
  type TrainingRun,
} from "./lib/results.ts";
import { trainingCurve } from "./lib/training.ts";

/** How much work one report does. */
export interface ReportSettings {
  quick: boolean;
  /** Repetitions per measurement (after warm-up). */
  reps: number;
  warmup: number;
  /** Generated lengths of the KV-cache table (capped at each model's seqLen). */
  lengths: number[];
  /** Longest a single no-cache run may take (ms) before a length is skipped. */
  maxRunMs: number;
  /** Tokens generated per latency measurement of the quant table. */
  latencyTokens: number;
  /** Tokens of validation text the trained model's perplexity uses. */
  evalTokens: number;
}

/** Settings for a full or a `--quick` run. */
export function settings(quick: boolean, reps?: number): ReportSettings {
  return quick
    ? {
      quick,
      reps: reps ?? 2,
      warmup: 1,
      lengths: [16, 50],
      maxRunMs: 6_000,
      latencyTokens: 32,
      evalTokens: 2048,
    }
    : {
      quick,
      reps: reps ?? 5,
      warmup: 1,
      lengths: [16, 50, 128, 256, 512, 1024],
      maxRunMs: 90_000,
      latencyTokens: 128,
      evalTokens: 16384,
    };
}

const log = (s: string) => console.error(s);
const ms = (x: number) => x < 10 ? x.toFixed(3) : x.toFixed(1);

/** KV-cache rows for one model. */
export async function measureKvCache(
  m: BenchModel,
  s: ReportSettings,
): Promise<KvRow[]> {
  const rows: KvRow[] = [];
  const lengths = [
    ...new Set(
      s.lengths.filter((l) => l < m.weights.config.seqLen).concat(
        !s.quick || m.weights.config.seqLen <= 64
          ? [m.weights.config.seqLen]
          : [],
      ),
    ),
  ].sort((a, b) => a - b);
  // Warm the JIT on both paths before the first timed length.
  const warmLength = Math.min(8, m.weights.config.seqLen);
  generateTokens(m.weights, warmLength, "fp32");
  generateTokens(m.weights, warmLength, "none");
  for (const length of lengths) {
    const gen = (cache: "fp32" | "none") => () => {
      const n = generateTokens(m.weights, length, cache);
      if (n !== length) throw new Error(`generated ${n} of ${length} tokens`);
    };
    const withCache = await time(gen("fp32"), s.reps, s.warmup);
    // Without a cache step t costs ~t decode steps: estimate before running.
    const perStep = withCache.mean / length;
    const estimate = perStep * length * (length + 1) / 2;
    if (estimate > s.maxRunMs) {
      log(
        `  ${m.name} L=${length}: skipped without-cache (estimated ${
          (estimate / 1000).toFixed(0)
        } s per run)`,
      );
      break;
    }
    const reps = estimate * s.reps > s.maxRunMs ? 1 : s.reps;
    const warm = estimate * s.reps > s.maxRunMs ? 0 : s.warmup;
    const without = await time(gen("none"), reps, warm);
    const row: KvRow = {
      model: m.name,
      length,
      withCacheMs: round(withCache.mean),
      withCacheStdMs: round(withCache.std),
      withoutCacheMs: round(without.mean),
      withoutCacheStdMs: round(without.std),
      speedup: round(without.mean / withCache.mean, 2),
      backend: backendOf(m.weights),
    };
    rows.push(row);
    log(
      `  ${m.name} L=${length}: with cache ${ms(withCache.mean)} ± ${
        ms(withCache.std)
      } ms · without ${ms(without.mean)} ± ${
        ms(without.std)
      } ms · speed-up ${row.speedup}x (${row.backend})`,
    );
  }
  return rows;
}

/** Quant rows for one model: size, perplexity, latency per configuration. */
export async function measureQuant(
  m: BenchModel,
  s: ReportSettings,
  backend: Backend,
): Promise<QuantRow[]> {
  const rows: QuantRow[] = [];
  let base: { size: number; ppl: number | null } | null = null;
  const n = Math.min(s.latencyTokens, m.weights.config.seqLen - 1);
  for (const q of QUANT_CONFIGS) {
    const w = quantizeWeights(m.weights, q.type, q.granularity, backend);
    const size = modelBytes(w);
    const ppl = m.evalTokens ? perplexity(w, m.evalTokens) : null;
    base ??= { size, ppl };
    const t = await time(
      () => {
        generateTokens(w, n, "fp32");
      },
      s.reps,
      s.warmup,
    );
    const row: QuantRow = {
      model: m.name,
      config: q.config,
      sizeBytes: size,
      compression: round(base.size / size, 2),
      perplexity: ppl === null ? null : round(ppl, 3),
      deltaPerplexity: ppl === null || base.ppl === null
        ? null
        : round(ppl - base.ppl, 3),
      latencyMs: round(t.mean / n, 4),
      latencyStdMs: round(t.std / n, 4),
      tokensPerSecond: round(1000 * n / t.mean, 1),
      perplexityOn: m.evalText,
      backend: backendOf(w),
    };
    rows.push(row);
    log(
      `  ${m.name} ${q.config}: ${size} bytes (${row.compression}x) · ppl ${
        row.perplexity ?? "—"
      } · ${row.latencyMs} ms/token (${row.tokensPerSecond} tok/s, ${row.backend})`,
    );
  }
  return rows;
}

/** KV-cache memory rows for one model. */
export function measureKvMemory(
  m: BenchModel,
  s: ReportSettings,
): KvMemoryRow[] {
  const c = m.weights.config;
  const window = Math.min(64, c.seqLen);
  const lengths = [
    ...new Set(
      [16, 50, 128, 256, 512, 1024, c.seqLen].filter((l) => l <= c.seqLen),
    ),
  ].sort((a, b) => a - b);
  const rows: KvMemoryRow[] = [];
  for (const length of s.quick ? lengths.slice(0, 4) : lengths) {
    for (const spec of ["fp32", "int8", `ring:${window}`]) {
      rows.push({
        model: m.name,
        cache: spec,
        length,
        bytes: createKvCache(spec, c, length).byteSize,
      });
    }
  }
  return rows;
}

function printTable(title: string, rows: object[]): void {
  console.log(`\n${title}`);
  if (rows.length === 0) {
    console.log("(no rows)");
    return;
  }
  const keys = Object.keys(rows[0]).filter((k) => k !== "perplexityOn");
  const cells = rows.map((r) =>
    keys.map((k) => {
      const v = (r as Record<string, unknown>)[k];
      return v === null ? "—" : String(v);
    })
  );
  const widths = keys.map((k, i) =>
    Math.max(k.length, ...cells.map((c) => c[i].length))
  );
  const line = (c: string[]) =>
    "| " + c.map((x, i) => x.padStart(widths[i])).join(" | ") + " |";
  console.log(line(keys));
  console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
  for (const c of cells) console.log(line(c));
}

/** Writes `out/name.json` (and `.csv` when asked) atomically. */
export async function writeResult<R extends object>(
  out: string,
  name: string,
  file: ResultFile<R>,
  csv: boolean,
): Promise<void> {
  await writeFileAtomic(
    `${out}/${name}.json`,
    JSON.stringify(file, null, 2) + "\n",
  );
  if (csv) {
    await writeFileAtomic(
      `${out}/${name}.csv`,
      stringify(file.rows as Record<string, unknown>[], { header: true }),
    );
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await Deno.stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Whether `a` exists and was written after `b`. */
async function newer(a: string, b: string): Promise<boolean> {
  try {
    const [sa, sb] = [await Deno.stat(a), await Deno.stat(b)];
    return (sa.mtime?.getTime() ?? 0) >= (sb.mtime?.getTime() ?? 0);
  } catch {
    return false;
  }
}

/** Trains the seed model in a subprocess (`deno task train --preset seed`). */
async function trainSeed(): Promise<void> {
  log("dist/model.tar.gz is missing: training the seed model first");
  const p = await new Deno.Command(Deno.execPath(), {
    args: ["task", "train", "--preset", "seed"],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!p.success) throw new Error("deno task train --preset seed failed");
}

const USAGE = `usage: deno task bench [--quick] [--llama2c DIR | --no-llama2c]
  [--model dist/model.tar.gz] [--extra dist/brown.tar.gz]... [--out out]
  [--reps N] [--no-train] [--no-random] [--backend js|wasm|auto]
  The benchmark report: KV cache, quantization and cache memory for the
  trained model (trained first when missing, unless --no-train), stories260K
  (the repository's copy, or --llama2c DIR) and a random stories15M-shaped
  model; writes out/*.json and out/*.csv and prints the tables.`;

/** Runs the whole report. */
export async function report(args: string[]): Promise<void> {
  const f = parseFlags(args, {
    quick: { type: "boolean", default: false },
    llama2c: { type: "string" },
    model: { type: "string", default: "dist/model.tar.gz" },
    out: { type: "string", default: "out" },
    reps: { type: "string" },
    "no-train": { type: "boolean", default: false },
    // more trained archives measured like the main one (e.g. the brown preset)
    extra: { type: "string", multiple: true },
    "no-random": { type: "boolean", default: false },
    "no-llama2c": { type: "boolean", default: false },
    backend: { type: "string", default: "auto" },
  }, USAGE);
  const backend = f.backend as Backend;
  if (!["js", "wasm", "auto"].includes(backend)) {
    throw new UsageError(`--backend must be js, wasm or auto, got ${backend}`);
  }
  const quick = f.quick as boolean;
  const s = settings(
    quick,
    f.reps === undefined
      ? undefined
      : numberFlag(f, "reps", 1, { integer: true, min: 1 }),
  );
  const out = f.out as string;
  const modelPath = f.model as string;
  const started = performance.now();
  log(
    `tinyllm benchmark report (${
      quick ? "quick" : "full"
    }: ${s.reps} reps, ${s.warmup} warm-up)`,
  );

  const models: BenchModel[] = [];
  const training: TrainingRun[] = [];
  if (!(await exists(modelPath)) && !f["no-train"]) await trainSeed();
  if (await exists(modelPath)) {
    try {
      const t = await loadTrained(modelPath, s.evalTokens);
      models.push(t.model);
      if (t.training) {
        training.push({
          model: t.model.name,
          curve: trainingCurve(t.training),
          raw: t.training,
        });
      }
      for (
        const [type, g, suffix] of [["int8", 32, "int8"], [
          "int4",
          32,
          "int4",
        ]] as const
      ) {
        const dst = modelPath.replace(/\.tar\.gz$/, "") + `-${suffix}.tar.gz`;
        if (await newer(dst, modelPath)) continue; // e.g. from deno task quantize
        await saveQuantizedArchive(modelPath, dst, type, g);
        log(`wrote ${dst}`);
      }
    } catch (e) {
      log(`trained model skipped: ${(e as Error).message}`);
    }
  } else log(`trained model skipped: ${modelPath} not found`);
  for (const path of (f.extra ?? []) as string[]) {
    const t = await loadTrained(
      path,
      s.evalTokens,
      `${path.split("/").pop()!.replace(/\.tar\.gz$/, "")} (trained)`,
    );
    models.push(t.model);
    if (t.training) {
      training.push({
        model: t.model.name,
        curve: trainingCurve(t.training),
        raw: t.training,
      });
    }
  }
  // llama2.c's files: --llama2c DIR, else the repository's copies
  const dir = f.llama2c as string | undefined;
  if (!f["no-llama2c"]) models.push(await loadStories260K(dir));
  if (!f["no-random"]) {
    models.push(randomStories15M(await loadLlama2cTokenizer32k(dir)));
  }
  // Record which kernels "auto" resolved to, per weight type.
  const resolved = Object.values(WEIGHT_TYPES).map((t) =>
    `${t.name}: ${kernelsFor(t.name, backend).backend}`
  ).join(", ");
  const meta = runMeta(`${backend} (${resolved})`, quick);

  const kv: KvRow[] = [];
  const quant: QuantRow[] = [];
  const mem: KvMemoryRow[] = [];
  for (const [i, m] of models.entries()) {
    const c = m.weights.config;
    log(
      `[${
        i + 1
      }/${models.length}] ${m.name}: dim ${c.dim}, hidden ${c.hiddenDim}, ${c.nLayers} layers, ${c.nHeads}/${c.nKvHeads} heads, vocab ${c.vocabSize}, seq ${c.seqLen}`,
    );
    const w = bindKernels(m.weights, backend);
    const mb = { ...m, weights: w };
    log(
      ` KV cache (matrices: ${
        backendOf(w)
      }; attention: TypeScript, both sides):`,
    );
    kv.push(...await measureKvCache(mb, s));
    log(" quantization:");
    quant.push(...await measureQuant(m, s, backend));
    mem.push(...measureKvMemory(m, s));
  }

  await writeResult(out, "kvcache", { ...meta, rows: kv }, true);
  await writeResult(out, "quant", {
    ...meta,
    notes: [
      "Every weight matrix is quantized (blocks, classifier, token embedding); RMSNorm gains stay fp32.",
      "sizeBytes: real bytes of all weights (packed payloads + scales + fp32 parts).",
      "latencyMs: mean time per generated token with the fp32 KV cache.",
    ],
    rows: quant,
  }, true);
  await writeResult(out, "kvcache-memory", { ...meta, rows: mem }, true);
  await writeResult(out, "training", { ...meta, rows: training }, false);

  printTable(
    `KV cache: generating N tokens (ms); matrices on ${meta.backend}, TypeScript attention on both sides`,
    kv,
  );
  printTable(
    `Quantization (latency per generated token, with the fp32 cache; ${meta.backend})`,
    quant,
  );
  for (const m of models) {
    console.log(`perplexity of ${m.name}: ${m.evalText}`);
  }
  printTable("KV-cache memory (bytes)", mem);
  console.log(
    `\nwrote ${out}/kvcache.{json,csv}, ${out}/quant.{json,csv}, ${out}/kvcache-memory.{json,csv}, ${out}/training.json in ${
      ((performance.now() - started) / 1000).toFixed(0)
    } s`,
  );
}

if (import.meta.main) {
  await runCli("bench", () => report(Deno.args));
}
