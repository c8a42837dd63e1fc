/**
 * llama.cpp as a speed anchor: the same GGUF file decoded by a llama.cpp
 * build the user made by hand (its `llama-bench`, never part of this
 * repository) and by tinyllm, in one run. The files are a seeded random
 * stories15M-shaped checkpoint written by tinyllm's exporter (speed depends
 * only on shape and type) with llama2.c's 32000-token tokenizer.
 *
 * llama.cpp: `llama-bench -m FILE -p 0 -n STEPS -t T -r REPS -o json`, its
 * `avg_ts` (tokens generated per second after an empty prompt, F16 KV cache,
 * flash attention as it decides). tinyllm: greedy decode from BOS of STEPS
 * tokens through the WebAssembly backend with the fp32 cache, tok/s over the
 * steps after the first (as the rest of `bench:vs-llama2c`).
 *
 * @module
 */
import { exportGguf, type GgufExportType } from "../../src/io/gguf_export.ts";
import { loadModel } from "../../src/io/load.ts";
import { createKvCache } from "../../src/kv/create.ts";
import { bindKernels, modelArena } from "../../src/model/bind.ts";
import { randomModelWeights } from "../../src/model/build.ts";
import { createRunState, forwardToken } from "../../src/model/decode.ts";
import { LLAMA2C_SHAPES } from "../../src/model/shapes.ts";
import type { ModelWeights } from "../../src/model/weights.ts";
import { parseLlama2cTokenizer } from "../../src/tokenizer/llama2c.ts";
import { wasmVariant } from "../../src/wasm/runtime.ts";

/** One type's figures: llama.cpp per thread count, tinyllm, and the ratio. */
export interface LlamaCppRow {
  /** The GGUF type of the matrices. */
  type: GgufExportType;
  /** llama.cpp tok/s by thread count (median over rounds). */
  llamaCpp: Record<string, number>;
  /** tinyllm tok/s (wasm backend, one thread; median over rounds). */
  tinyllm: number;
  /** tinyllm's kernels ("wasm-relaxed", …). */
  kernels: string;
  /** tinyllm / llama.cpp at one thread. */
  ratio1t: number;
  /** Every reading, per round. */
  readings: { llamaCpp: Record<string, number>[]; tinyllm: number[] };
}

/** Runs `llama-bench` on one file and returns its generation tok/s. */
export async function llamaBench(
  dir: string,
  model: string,
  steps: number,
  threads: number,
): Promise<number> {
  const bin = `${dir.replace(/\/$/, "")}/llama-bench`;
  const out = await new Deno.Command(bin, {
    args: [
      "-m",
      model,
      "-p",
      "0",
      "-n",
      String(steps),
      "-t",
      String(threads),
      "-r",
      "3",
      "-o",
      "json",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  try {
    const rows = JSON.parse(text) as { avg_ts: number }[];
    if (!out.success || typeof rows[0]?.avg_ts !== "number") throw new Error();
    return rows[0].avg_ts;
  } catch {
    throw new Error(
      `${bin} failed (exit ${out.code}): ${
        new TextDecoder().decode(out.stderr).slice(-300)
      }`,
    );
  }
}

function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

/** tinyllm's greedy decode speed from BOS, tok/s after the first step. */
export function decodeTokPerSec(weights: ModelWeights, steps: number): number {
  const state = createRunState(weights.config, weights);
  const cache = createKvCache("fp32", weights.config, weights.config.seqLen, {
    wasm: modelArena(weights) !== undefined,
  });
  const n = Math.min(steps, weights.config.seqLen);
  let token = 1, start = 0;
  for (let pos = 0; pos < n; pos++) {
    if (pos === 1) start = performance.now();
    token = argmax(forwardToken(weights, state, cache, token, pos));
  }
  return (n - 1) / ((performance.now() - start) / 1000);
}

/**
 * Writes the stories15M-shaped random GGUF of each type into `tmpDir`,
 * then runs `rounds` interleaved rounds (llama.cpp at each thread count,
 * then tinyllm, per type) and returns medians.
 */
export async function llamaCppAnchor(options: {
  dir: string;
  tmpDir: string;
  tokenizer: string;
  types: readonly GgufExportType[];
  steps: number;
  rounds: number;
  threads: readonly number[];
}): Promise<LlamaCppRow[]> {
  const base = randomModelWeights(LLAMA2C_SHAPES["15M"], 15);
  const tok = parseLlama2cTokenizer(await Deno.readFile(options.tokenizer), {
    vocabSize: base.config.vocabSize,
  });
  const files = new Map<GgufExportType, { path: string; w: ModelWeights }>();
  for (const type of options.types) {
    const bytes = exportGguf(base, tok, { type, name: "stories15M-random" });
    const path = `${options.tmpDir}/stories15M-random-${type}.gguf`;
    await Deno.writeFile(path, bytes);
    const loaded = await loadModel(bytes);
    files.set(type, { path, w: bindKernels(loaded.weights, "wasm") });
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const rows: LlamaCppRow[] = options.types.map((type) => ({
    type,
    llamaCpp: {},
    tinyllm: 0,
    kernels: `wasm-${wasmVariant()}`,
    ratio1t: 0,
    readings: { llamaCpp: [], tinyllm: [] },
  }));
  for (let round = 0; round < options.rounds; round++) {
    for (const row of rows) {
      const f = files.get(row.type)!;
      const reading: Record<string, number> = {};
      for (const t of options.threads) {
        reading[`${t}`] = await llamaBench(
          options.dir,
          f.path,
          options.steps,
          t,
        );
      }
      row.readings.llamaCpp.push(reading);
      row.readings.tinyllm.push(decodeTokPerSec(f.w, options.steps));
      console.error(
        `llama.cpp ${row.type}: ${
          options.threads.map((t) => `${reading[t].toFixed(0)} (${t}t)`).join(
            ", ",
          )
        }; tinyllm ${row.readings.tinyllm.at(-1)!.toFixed(0)} tok/s`,
      );
    }
  }
  for (const row of rows) {
    for (const t of options.threads) {
      row.llamaCpp[`${t}`] = median(
        row.readings.llamaCpp.map((r) => r[`${t}`]),
      );
    }
    row.tinyllm = median(row.readings.tinyllm);
    row.ratio1t = row.tinyllm / (row.llamaCpp["1"] ?? NaN);
  }
  return rows;
}
