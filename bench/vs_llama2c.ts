/**
 * `deno task bench:vs-llama2c [--run PATH]... [--runq PATH]... [--model M.bin]
 * [--steps 256] [--types fp32,int8,int4] [--backends wasm,js] [--rounds N]
 * [--out out/vs-llama2c.json]`
 *
 * Decode speed of tinyllm against llama2.c on the same stories15M-shaped
 * checkpoint, in one run. Without `--model` a seeded random checkpoint of that
 * shape is generated (speed depends only on shape). Like with like:
 *
 * - `--run PATH`: a `run` binary built from llama2.c's run.c (fp32), run as
 *   `PATH MODEL -z TOKENIZER -t 0 -n STEPS`; tinyllm's fp32 is compared with it.
 * - `--runq PATH`: a `runq` binary built from llama2.c's runq.c (int8, Q8_0
 *   weights and activations in groups), run on the same model converted to
 *   llama2.c's version 2 format (`convert --to llama2c-q80`); tinyllm's int8,
 *   at the same group size, is compared with it.
 *
 * Give each flag once per build (e.g. `gcc -O3` and
 * `gcc -Ofast -march=native -fopenmp`; binaries run with OMP_NUM_THREADS=1).
 * TOKENIZER is `--tokenizer`, default the repository's copy of llama2.c's
 * tokenizer.bin in tests/testdata/. Machine facts (CPU, cores, OS, runtime)
 * are read from this machine and recorded; nothing is quoted from other runs.
 *
 * `--llama-cpp DIR` (a llama.cpp build made by hand outside the repository,
 * DIR holding its `llama-bench`) adds llama.cpp as an anchor: the same
 * stories15M-shaped GGUF files (F32, Q8_0, Q4_0, written by tinyllm's
 * exporter) decoded by both, in the same run (`bench/lib/llama_cpp.ts`);
 * `--llama-cpp-threads 1,2` adds llama.cpp's thread counts (default 1).
 *
 * @module
 */
import { LLAMA2C_SHAPES } from "../src/model/shapes.ts";
import {
  numberFlag,
  parseFlags,
  runCli,
  UsageError,
} from "../src/cli/common.ts";
import { writeFileAtomic } from "../src/files_fs.ts";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  encodeLlama2cCheckpoint,
  parseLlama2cCheckpoint,
} from "../src/io/llama2c.ts";
import { createKvCache } from "../src/kv/create.ts";
import type { ModelConfig } from "../src/model/config.ts";
import { createRunState, forwardToken } from "../src/model/decode.ts";
import { randomModelWeights } from "../src/model/build.ts";
import { bindKernels, modelArena } from "../src/model/bind.ts";
import type { Backend } from "../src/backend.ts";
import type { ModelWeights } from "../src/model/weights.ts";
import { quantizeModel } from "../src/model/quantize.ts";
import { wasmVariant } from "../src/wasm/runtime.ts";
import { llamaCppAnchor, type LlamaCppRow } from "./lib/llama_cpp.ts";
import {
  encodeLlama2cQ80,
  llama2cQ80GroupSize,
} from "../src/io/llama2c_q80.ts";
import { runMeta } from "./lib/results.ts";

const USAGE =
  `usage: deno task bench:vs-llama2c [--run PATH]... [--runq PATH]...
  [--model M.bin] [--tokenizer T.bin] [--steps 256] [--types fp32,int8,int4]
  [--backends wasm,js] [--group 64] [--rounds N] [--out out/vs-llama2c.json]
  [--llama-cpp DIR [--llama-cpp-threads 1,2]]
  --run PATH    llama2.c run.c binary (fp32), compared with tinyllm fp32
  --runq PATH   llama2.c runq.c binary (int8), run on the model converted to
                llama2.c's version 2 format; compared with tinyllm int8 at the
                same group size`;

/** stories15M's shape (llama2.c's random benchmark checkpoints use it). */
export const STORIES15M: ModelConfig = LLAMA2C_SHAPES["15M"];

/** The repository's copy of llama2.c's 32000-token tokenizer.bin. */
export const TOKENIZER_32K: string = fileURLToPath(
  new URL("../tests/testdata/tokenizer.bin", import.meta.url),
);

/** One tinyllm decode measurement. */
export interface DecodeResult {
  type: string;
  backend: string;
  kernels: string;
  steps: number;
  tokPerSec: number;
  msPerToken: number;
  /**
   * Steps per second of this process's CPU time: the same figure with time
   * the OS gave to other processes left out (the machines are shared).
   */
  cpuTokPerSec: number;
}

function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

/**
 * Times `steps` greedy decode steps from BOS (token 1), as run.c does:
 * tok/s over the steps after the first.
 */
export function timeDecode(
  weights: ModelWeights,
  steps: number,
): { tokPerSec: number; cpuTokPerSec: number } {
  const state = createRunState(weights.config, weights);
  // wasm models keep their KV cache in wasm memory too (SIMD attention)
  const cache = createKvCache("fp32", weights.config, weights.config.seqLen, {
    wasm: modelArena(weights) !== undefined,
  });
  let token = 1;
  let start = 0;
  let cpu0 = process.cpuUsage();
  const n = Math.min(steps, weights.config.seqLen);
  for (let pos = 0; pos < n; pos++) {
    if (pos === 1) {
      start = performance.now();
      cpu0 = process.cpuUsage();
    }
    token = argmax(forwardToken(weights, state, cache, token, pos));
  }
  const wall = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    tokPerSec: (n - 1) / wall,
    cpuTokPerSec: (n - 1) / ((cpu.user + cpu.system) / 1e6),
  };
}

/** Runs a llama2.c `run` / `runq` binary and returns its "achieved tok/s". */
export async function runLlama2c(
  binary: string,
  model: string,
  tokenizer: string,
  steps: number,
): Promise<{ tokPerSec: number; stderr: string }> {
  const out = await new Deno.Command(binary, {
    args: [model, "-z", tokenizer, "-t", "0", "-n", String(steps)],
    env: { OMP_NUM_THREADS: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stderr) +
    new TextDecoder().decode(out.stdout);
  const m = /achieved tok\/s:\s*([0-9.]+)/.exec(text);
  if (!out.success || !m) {
    throw new UsageError(
      `${binary} failed or printed no "achieved tok/s" (exit ${out.code})`,
    );
  }
  return { tokPerSec: Number(m[1]), stderr: text.slice(-300) };
}

/** A llama2.c binary under comparison: fp32 `run` or int8 `runq`. */
interface Binary {
  path: string;
  kind: "run" | "runq";
}

async function main(args: string[]): Promise<void> {
  const v = parseFlags(args, {
    run: { type: "string", multiple: true },
    runq: { type: "string", multiple: true },
    model: { type: "string" },
    tokenizer: { type: "string", default: TOKENIZER_32K },
    steps: { type: "string" },
    types: { type: "string", default: "fp32,int8,int4" },
    backends: { type: "string", default: "wasm,js" },
    group: { type: "string" },
    out: { type: "string", default: "out/vs-llama2c.json" },
    rounds: { type: "string" },
    "llama-cpp": { type: "string" },
    "llama-cpp-threads": { type: "string", default: "1" },
    help: { type: "boolean", short: "h" },
  });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  const steps = numberFlag(v, "steps", 256, { integer: true, min: 2 });
  const rounds = numberFlag(v, "rounds", 1, { integer: true, min: 1 });
  const group = numberFlag(v, "group", 64, { integer: true, min: 1 });
  const types = String(v.types).split(",");
  const backends = String(v.backends).split(",") as Backend[];
  for (const b of backends) {
    if (b !== "wasm" && b !== "js" && b !== "auto") {
      throw new UsageError(`--backends: unknown backend "${b}"`);
    }
  }
  for (const t of types) {
    if (!["fp32", "int8", "int4"].includes(t)) {
      throw new UsageError(`--types: unknown type "${t}"`);
    }
  }

  const binaries: Binary[] = [
    ...((v.run ?? []) as string[]).map((path) => ({
      path,
      kind: "run" as const,
    })),
    ...((v.runq ?? []) as string[]).map((path) => ({
      path,
      kind: "runq" as const,
    })),
  ];
  let modelPath = v.model as string | undefined;
  let base: ModelWeights;
  let tmpDir: string | undefined;
  if (modelPath) {
    base = parseLlama2cCheckpoint(await Deno.readFile(modelPath), modelPath);
  } else {
    base = randomModelWeights(STORIES15M, 15);
  }
  // runq.c's group: the largest power of two ≤ --group dividing dim and hidden
  const gs = llama2cQ80GroupSize(base.config, group);
  let q80Path: string | undefined;
  if (binaries.length > 0) {
    tmpDir = await Deno.makeTempDir({ prefix: "tinyllm-vs-llama2c-" });
    if (!modelPath) {
      modelPath = `${tmpDir}/stories15M-random.bin`;
      await Deno.writeFile(modelPath, encodeLlama2cCheckpoint(base));
    }
    if (binaries.some((b) => b.kind === "runq")) {
      q80Path = `${tmpDir}/model-q80.bin`;
      await Deno.writeFile(q80Path, encodeLlama2cQ80(base, gs));
    }
  }

  try {
    const results: DecodeResult[] = [];
    const readings = new Map<string, number[]>(
      binaries.map((b) => [b.path, []]),
    );
    for (let round = 0; round < rounds; round++) {
      for (const b of binaries) {
        const r = await runLlama2c(
          b.path,
          b.kind === "runq" ? q80Path! : modelPath!,
          v.tokenizer as string,
          steps,
        );
        readings.get(b.path)!.push(r.tokPerSec);
        console.error(`${b.kind} (${b.path}): ${r.tokPerSec.toFixed(1)} tok/s`);
      }
      for (const type of types) {
        // int8 in runq.c's groups, int4 in groups of 32
        const typed = type === "fp32"
          ? base
          : quantizeModel(base, type, type === "int8" ? gs : 32);
        for (const backend of backends) {
          const w = bindKernels(typed, backend);
          const { tokPerSec, cpuTokPerSec } = timeDecode(w, steps);
          const kernels = w.layers[0].wq.kernels.backend === "wasm"
            ? `wasm-${wasmVariant()}`
            : w.layers[0].wq.kernels.backend;
          results.push({
            type,
            backend,
            kernels,
            steps,
            tokPerSec,
            msPerToken: 1000 / tokPerSec,
            cpuTokPerSec,
          });
          console.error(
            `tinyllm ${type} ${backend} (${kernels}): ${
              tokPerSec.toFixed(1)
            } tok/s`,
          );
        }
      }
    }
    const median = (a: number[]) =>
      a.length === 0 ? null : [...a].sort((x, y) => x - y)[a.length >> 1];
    const llama2c = binaries.map((b) => ({
      binary: b.path,
      kind: b.kind,
      program: b.kind === "run"
        ? "run.c (fp32)"
        : `runq.c (int8, Q8_0 group ${gs})`,
      tokPerSec: median(readings.get(b.path)!)!,
      readings: readings.get(b.path)!,
    }));
    const summary = types.flatMap((type) =>
      backends.map((backend) => {
        const rs = results.filter((r) =>
          r.type === type && r.backend === backend
        );
        const tps = median(rs.map((r) => r.tokPerSec))!;
        const cpuTps = median(rs.map((r) => r.cpuTokPerSec))!;
        // like with like: fp32 against run, int8 against runq
        const peer = type === "fp32" ? "run" : type === "int8" ? "runq" : null;
        return {
          type,
          backend,
          kernels: rs[0].kernels,
          granularity: type === "fp32" ? null : type === "int8" ? gs : 32,
          tokPerSec: tps,
          msPerToken: 1000 / tps,
          cpuTokPerSec: cpuTps,
          cpuMsPerToken: 1000 / cpuTps,
          ratioVs: Object.fromEntries(
            llama2c.map((b) => [b.binary, tps / b.tokPerSec]),
          ),
          likeForLike: llama2c.filter((b) => b.kind === peer).map((b) => ({
            binary: b.binary,
            ratio: tps / b.tokPerSec,
          })),
        };
      })
    );
    let llamaCpp: LlamaCppRow[] | undefined;
    if (typeof v["llama-cpp"] === "string") {
      const dir = await Deno.makeTempDir({ prefix: "tinyllm-vs-llama-cpp-" });
      try {
        llamaCpp = await llamaCppAnchor({
          dir: v["llama-cpp"],
          tmpDir: dir,
          tokenizer: v.tokenizer as string,
          types: ["f32", "q8_0", "q4_0"],
          steps: Math.min(steps, 128),
          rounds,
          threads: String(v["llama-cpp-threads"]).split(",").map(Number),
        });
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
    const report = {
      shape:
        `dim ${base.config.dim}, hidden ${base.config.hiddenDim}, ${base.config.nLayers} layers, ${base.config.nHeads}/${base.config.nKvHeads} heads, vocab ${base.config.vocabSize}, seq ${base.config.seqLen}`,
      model: v.model
        ? v.model
        : "random stories15M-shaped (seed 15), generated",
      steps,
      rounds,
      q80GroupSize: gs,
      ...runMeta(backends.join(","), false),
      command: ["deno task bench:vs-llama2c", ...args].join(" "),
      wasmVariant: wasmVariant(),
      llama2c,
      tinyllm: summary,
      readings: results,
      ...(llamaCpp && { llamaCpp }),
    };
    await writeFileAtomic(
      String(v.out),
      JSON.stringify(report, null, 2) + "\n",
    );
    console.log(
      `machine: ${report.cpu}, ${report.cores} logical cores, ${report.os}; Deno ${report.deno}`,
    );
    for (const b of llama2c) {
      console.log(
        `${b.kind.padEnd(5)} ${
          b.tokPerSec.toFixed(1).padStart(7)
        } tok/s  ${b.binary}`,
      );
    }
    for (const s of summary) {
      console.log(
        `${s.type.padEnd(5)} ${s.backend.padEnd(5)} ${
          s.tokPerSec.toFixed(1).padStart(7)
        } tok/s  ${s.msPerToken.toFixed(2).padStart(6)} ms/token (cpu ${
          s.cpuMsPerToken.toFixed(2)
        })` +
          s.likeForLike.map((l) =>
            `  ${l.ratio.toFixed(2)}x ${l.binary.split("/").pop()}`
          ).join(""),
      );
    }
    console.log(`wrote ${v.out}`);
    for (const r of llamaCpp ?? []) {
      console.log(
        `llama.cpp ${r.type.padEnd(5)} ${
          Object.entries(r.llamaCpp).map(([t, v]) =>
            `${v.toFixed(1)} tok/s (${t}t)`
          ).join(", ")
        }; tinyllm ${r.kernels} ${r.tinyllm.toFixed(1)} tok/s = ${
          r.ratio1t.toFixed(2)
        }x llama.cpp 1t`,
      );
    }
  } finally {
    if (tmpDir) await Deno.remove(tmpDir, { recursive: true });
  }
}

if (import.meta.main) await runCli("bench:vs-llama2c", () => main(Deno.args));
