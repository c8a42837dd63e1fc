/**
 * Linear-kernel benchmarks on stories15M shapes (dim 288, hidden 768, vocab
 * 32000): one group per shape, one bench per weight type (at its default
 * granularity: int8 per row, int4 groups of 32) × backend, fp32 js as the
 * baseline. Run: `deno bench bench/kernels_bench.ts`.
 *
 * @module
 */
import { Rng } from "../src/random.ts";
import {
  DEFAULT_GROUP_SIZE,
  granularityToString,
} from "../src/quant/granularity.ts";
import { WEIGHT_TYPES } from "../src/quant/table.ts";
import type { QMatrix, WeightType } from "../src/quant/types.ts";
import type { LinearKernels } from "../src/kernels/types.ts";
import { JS_KERNELS } from "../src/kernels/js.ts";
import { WASM_KERNELS } from "../src/kernels/wasm.ts";
import { referenceKernels } from "../src/kernels/reference.ts";
import { wasmVariant } from "../src/wasm/runtime.ts";

const rng = new Rng(20261128);

function gaussian(n: number, std: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * std;
  return a;
}

function backendsOf(t: WeightType): LinearKernels[] {
  const ks = [JS_KERNELS[t.name], referenceKernels(t.name)];
  if (wasmVariant() !== "none") ks.push(WASM_KERNELS[t.name]);
  return ks;
}

interface Case {
  group: string;
  rows: number;
  cols: number;
  n: number; // input rows: 1 = matvec (decode)
}

const CASES: Case[] = [
  { group: "matvec 288x288 (wq/wk/wv/wo)", rows: 288, cols: 288, n: 1 },
  { group: "matvec 768x288 (w1/w3)", rows: 768, cols: 288, n: 1 },
  { group: "matvec 288x768 (w2)", rows: 288, cols: 768, n: 1 },
  { group: "matvec 32000x288 (classifier)", rows: 32000, cols: 288, n: 1 },
  { group: "matmul 768x288, n=64", rows: 768, cols: 288, n: 64 },
];

for (const { group, rows, cols, n } of CASES) {
  const w = gaussian(rows * cols, 0.02);
  const x = gaussian(n * cols, 1);
  const out = new Float32Array(n * rows);
  const big = rows * cols * n > 4_000_000;
  for (const t of Object.values(WEIGHT_TYPES)) {
    if (cols % t.blockSize !== 0) continue; // K types: rows of 256
    const g = t.defaultGranularity ?? DEFAULT_GROUP_SIZE;
    const m: QMatrix = t.quantize(w, rows, cols, g);
    const label = t.name === "fp32"
      ? t.name
      : `${t.name}/${granularityToString(g)}`;
    for (const k of backendsOf(t)) {
      const slow = k.backend === "reference" && big;
      Deno.bench({
        name: `${label} ${k.backend}`,
        group,
        baseline: t.name === "fp32" && k.backend === "js",
        // plain reference loops on the big shapes: a few timed runs suffice
        ...(slow ? { n: 5, warmup: 1 } : {}),
        fn: n === 1 ? () => k.matvec(m, x, out) : () => k.matmul(m, x, n, out),
      });
    }
  }
}
