/**
 * Shapes of the benchmark result files in `out/` that the report writes and
 * the plots and the site read. One place, so writer and readers agree.
 *
 * @module
 */
import os from "node:os";

/** Where and how a result file was measured. */
export interface RunMeta {
  /** ISO date of the run. */
  date: string;
  /** Deno version. */
  deno: string;
  /** V8 version. */
  v8: string;
  /** OS, e.g. "linux x86_64". */
  os: string;
  /** CPU model name. */
  cpu: string;
  /** Logical cores. */
  cores: number;
  /** Kernel backend used ("js", "wasm", "auto→wasm", ...). */
  backend: string;
  /** Whether this was a `--quick` run (fewer lengths and repetitions). */
  quick: boolean;
  /** The command that produced the file. */
  command: string;
}

/** One row of `out/kvcache.json`: generation of `length` tokens. */
export interface KvRow {
  model: string;
  length: number;
  withCacheMs: number;
  withCacheStdMs: number;
  withoutCacheMs: number;
  withoutCacheStdMs: number;
  speedup: number;
  /** Kernels of the matrices on both sides ("js", "wasm-relaxed", …). */
  backend?: string;
}

/** One row of `out/quant.json`. */
export interface QuantRow {
  model: string;
  config: string;
  sizeBytes: number;
  compression: number;
  perplexity: number | null;
  deltaPerplexity: number | null;
  latencyMs: number;
  latencyStdMs: number;
  tokensPerSecond: number;
  /** What the perplexity was measured on. */
  perplexityOn: string;
  /** Kernels of the matrices ("js", "wasm-relaxed", …). */
  backend?: string;
}

/** One row of `out/kvcache-memory.json`. */
export interface KvMemoryRow {
  model: string;
  cache: string;
  length: number;
  bytes: number;
}

/** One training run, for `out/training.json`. */
export interface TrainingRun {
  /** Model name as used in the other tables. */
  model: string;
  /** Loss curve points (train and, where measured, validation). */
  curve: { step: number; loss: number; split: "train" | "val" }[];
  /** The archive's training.json, verbatim. */
  raw: Record<string, unknown>;
}

/** A result file: run metadata plus rows. */
export type ResultFile<R> = RunMeta & { rows: R[]; notes?: string[] };

/** All result files the site reads. */
export interface Results {
  kvcache: ResultFile<KvRow> | null;
  quant: ResultFile<QuantRow> | null;
  kvMemory: ResultFile<KvMemoryRow> | null;
  training: ResultFile<TrainingRun> | null;
}

/** Reads `dir/{kvcache,quant,kvcache-memory,training}.json`; missing → null. */
export async function readResults(dir: string): Promise<Results> {
  const read = async <T>(name: string): Promise<T | null> => {
    try {
      return JSON.parse(await Deno.readTextFile(`${dir}/${name}`)) as T;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw new Error(`${dir}/${name}: ${(e as Error).message}`);
    }
  };
  return {
    kvcache: await read("kvcache.json"),
    quant: await read("quant.json"),
    kvMemory: await read("kvcache-memory.json"),
    training: await read("training.json"),
  };
}

/**
 * The CPU model as the OS reports it (measured on this machine, never
 * quoted); needs `--allow-sys=cpus`, which the bench tasks grant.
 */
export function cpuModel(): string {
  const granted = Deno.permissions.querySync({ name: "sys", kind: "cpus" });
  if (granted.state !== "granted") return "unknown (no --allow-sys=cpus)";
  return os.cpus()[0]?.model?.trim() || "unknown";
}

/** Collects the run metadata for result files. */
export function runMeta(backend: string, quick: boolean): RunMeta {
  return {
    date: new Date().toISOString(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    os: `${Deno.build.os} ${Deno.build.arch}`,
    cpu: cpuModel(),
    cores: navigator.hardwareConcurrency,
    backend,
    quick,
    command: ["deno task bench", ...Deno.args].join(" "),
  };
}

/** Mean and (sample) standard deviation. */
export function meanStd(xs: number[]): { mean: number; std: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const v = n > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(v) };
}
