/**
 * `deno task bench:vs-llama2c [--run PATH]... [--model M.bin] [--steps 256]
 * [--types fp32,int8,int4] [--backends wasm,js] [--out out/vs-llama2c.json]`
 *
 * Decode speed of tinyllm against llama2.c's `run.c` on the same
 * stories15M-shaped checkpoint, in one run. Without `--model` a seeded random
 * checkpoint of that shape is generated (speed depends only on shape). With
 * `--run PATH` (a `run` binary the user built from llama2.c) it runs
 * `PATH MODEL -z ../shared/reference/models/tokenizer.bin -t 0 -n STEPS`,
 * parses its "achieved tok/s" and records tinyllm/run.c ratios (give `--run`
 * once per build, e.g. `-O3` and `-Ofast -march=native`); without it,
 * tinyllm's figures alone (plus the reference timings quoted from
 * ../shared/reference/README.md, marked as such).
 *
 * tinyllm is timed like run.c: greedy, no prompt, from BOS, `steps` forward
 * passes, tok/s = (steps - 1) / time after the first token; `cpuTokPerSec`
 * divides by this process's CPU time instead (robust on a shared machine).
 * `--rounds N` interleaves N rounds (run.c, then every tinyllm variant) and
 * reports medians.
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

/** stories15M's shape (llama2.c's random benchmark checkpoints use it). */
export const STORIES15M: ModelConfig = LLAMA2C_SHAPES["15M"];

/** run.c figures for the 15M shape from ../shared/reference/README.md. */
export const REFERENCE_RUNC = {
  machine:
    "KVM guest, 2 vCPUs AMD EPYC (Zen 3), gcc 12.2.0, single thread, 256 steps, median of 3",
  runO3TokPerSec: 62.9,
  runfastTokPerSec: 166.4,
};

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

/** Runs a llama2.c `run` binary and returns its "achieved tok/s". */
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

async function main(args: string[]): Promise<void> {
  const v = parseFlags(args, {
    run: { type: "string", multiple: true },
    model: { type: "string" },
    tokenizer: {
      type: "string",
      default: "../shared/reference/models/tokenizer.bin",
    },
    steps: { type: "string" },
    types: { type: "string", default: "fp32,int8,int4" },
    backends: { type: "string", default: "wasm,js" },
    out: { type: "string", default: "out/vs-llama2c.json" },
    rounds: { type: "string" },
    "llama-cpp": { type: "string" },
    "llama-cpp-threads": { type: "string", default: "1" },
  });
  const steps = numberFlag(v, "steps", 256, { integer: true, min: 2 });
  const rounds = numberFlag(v, "rounds", 1, { integer: true, min: 1 });
  const types = String(v.types).split(",");
  const backends = String(v.backends).split(",") as Backend[];
  for (const b of backends) {
    if (b !== "wasm" && b !== "js" && b !== "auto") {
      throw new UsageError(`--backends: unknown backend "${b}"`);
    }
  }

  const binaries = (v.run ?? []) as string[];
  let modelPath = v.model as string | undefined;
  let base: ModelWeights;
  let tmpDir: string | undefined;
  if (modelPath) {
    base = parseLlama2cCheckpoint(await Deno.readFile(modelPath), modelPath);
  } else {
    base = randomModelWeights(STORIES15M, 15);
    if (binaries.length > 0) {
      tmpDir = await Deno.makeTempDir({ prefix: "tinyllm-vs-llama2c-" });
      modelPath = `${tmpDir}/stories15M-random.bin`;
      await Deno.writeFile(modelPath, encodeLlama2cCheckpoint(base));
    }
  }

  try {
    const results: DecodeResult[] = [];
    const runc = new Map<string, number[]>(binaries.map((b) => [b, []]));
    for (let round = 0; round < rounds; round++) {
      for (const binary of binaries) {
        const r = await runLlama2c(
          binary,
          modelPath!,
          v.tokenizer as string,
          steps,
        );
        runc.get(binary)!.push(r.tokPerSec);
        console.error(`run.c (${binary}): ${r.tokPerSec.toFixed(1)} tok/s`);
      }
      for (const type of types) {
        const typed = type === "fp32" ? base : quantizeModel(base, type, 32);
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
    const runcTokPerSec = new Map(
      [...runc].map(([b, readings]) => [b, median(readings)!]),
    );
    const summary = types.flatMap((type) =>
      backends.map((backend) => {
        const rs = results.filter((r) =>
          r.type === type && r.backend === backend
        );
        const tps = median(rs.map((r) => r.tokPerSec))!;
        const cpuTps = median(rs.map((r) => r.cpuTokPerSec))!;
        return {
          type,
          backend,
          kernels: rs[0].kernels,
          tokPerSec: tps,
          msPerToken: 1000 / tps,
          cpuTokPerSec: cpuTps,
          cpuMsPerToken: 1000 / cpuTps,
          ratioVsRun: Object.fromEntries(
            [...runcTokPerSec].map(([b, t]) => [b, tps / t]),
          ),
          ratioVsReferenceRunO3: tps / REFERENCE_RUNC.runO3TokPerSec,
          ratioVsReferenceRunfast: tps / REFERENCE_RUNC.runfastTokPerSec,
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
        "stories15M (dim 288, hidden 768, 6 layers, 6/6 heads, vocab 32000, seq 256)",
      model: v.model ? modelPath : "random (seed 15), generated",
      steps,
      rounds,
      runtime: `Deno ${Deno.version.deno}, V8 ${Deno.version.v8}`,
      wasmVariant: wasmVariant(),
      runc: binaries.map((binary) => ({
        binary,
        tokPerSec: runcTokPerSec.get(binary),
        readings: runc.get(binary),
      })),
      referenceRunc: {
        ...REFERENCE_RUNC,
        note:
          "quoted from ../shared/reference/README.md (another run, same machine type); compare ratios measured in one run when --run is given",
      },
      tinyllm: summary,
      readings: results,
      ...(llamaCpp && { llamaCpp }),
    };
    await writeFileAtomic(
      String(v.out),
      JSON.stringify(report, null, 2) + "\n",
    );
    console.log(`wrote ${v.out}`);
    for (const s of summary) {
      console.log(
        `${s.type.padEnd(5)} ${s.backend.padEnd(5)} ${
          s.tokPerSec.toFixed(1).padStart(7)
        } tok/s  ${s.msPerToken.toFixed(2).padStart(6)} ms/token (cpu ${
          s.cpuMsPerToken.toFixed(2)
        })` +
          (binaries.length > 0
            ? binaries.map((b) =>
              `  ${s.ratioVsRun[b].toFixed(2)}x ${b.split("/").pop()}`
            ).join("")
            : `  ${s.ratioVsReferenceRunO3.toFixed(2)}x ref -O3, ${
              s.ratioVsReferenceRunfast.toFixed(2)
            }x ref runfast`),
      );
    }
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
