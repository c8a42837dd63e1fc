/**
 * Models the Deno.bench suites run on: stories260K (when the shared reference
 * files are present), the trained model (when `dist/model.tar.gz` exists),
 * and a seeded random stories15M-shaped model built in memory.
 *
 * @module
 */
import { existsSync } from "node:fs";
import {
  type BenchModel,
  loadStories260K,
  loadTrained,
  randomStories15M,
} from "./library.ts";

/** Where tests and benchmarks find llama2.c reference files. */
export const REFERENCE_DIR = "../shared/reference/models";

/** The benchmark models, small to large, plus how far to push each. */
export async function suiteModels(): Promise<
  { model: BenchModel; positions: number[]; n: number }[]
> {
  const out: { model: BenchModel; positions: number[]; n: number }[] = [];
  if (existsSync("dist/model.tar.gz")) {
    try {
      const t = await loadTrained("dist/model.tar.gz", 0);
      out.push({ model: t.model, positions: [0, 16, 64], n: 50 });
    } catch { /* archive loader missing: skip the trained model */ }
  }
  if (existsSync(`${REFERENCE_DIR}/stories260K.bin`)) {
    out.push({
      model: await loadStories260K(REFERENCE_DIR),
      positions: [0, 16, 64, 256],
      n: 50,
    });
  }
  out.push({ model: randomStories15M(null), positions: [0, 8, 32], n: 5 });
  return out;
}
