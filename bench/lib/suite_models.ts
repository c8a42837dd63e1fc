/**
 * Models the Deno.bench suites run on: stories260K (the repository's copy in
 * tests/testdata/, a module import), the trained model (when
 * `dist/model.tar.gz` exists and may be read), and a seeded random
 * stories15M-shaped model built in memory. Plain `deno bench` (no permission)
 * runs the first and the last.
 *
 * @module
 */
import {
  type BenchModel,
  loadStories260K,
  loadTrained,
  randomStories15M,
} from "./library.ts";
import { bindKernels } from "../../src/model/bind.ts";
import { backendOf } from "./measure.ts";

const TRAINED = "dist/model.tar.gz";

/** Whether `path` may be read without asking (false when no permission). */
function readable(path: string): boolean {
  if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") {
    console.error(
      `bench: ${TRAINED} skipped (no read permission; \`deno task bench:suites\` grants it)`,
    );
    return false;
  }
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * The benchmark models, small to large, plus how far to push each. Their
 * matrices are bound to the same backend as the report's (`"auto"`: the
 * WebAssembly kernels where the engine has SIMD), and each name ends with
 * the backend, so every suite prints it.
 */
export async function suiteModels(): Promise<
  { model: BenchModel; positions: number[]; n: number }[]
> {
  const bound = await suiteModelsUnbound();
  return bound.map((s) => {
    const weights = bindKernels(s.model.weights, "auto");
    return {
      ...s,
      model: {
        ...s.model,
        weights,
        name: `${s.model.name} [${backendOf(weights)}]`,
      },
    };
  });
}

async function suiteModelsUnbound(): Promise<
  { model: BenchModel; positions: number[]; n: number }[]
> {
  const out: { model: BenchModel; positions: number[]; n: number }[] = [];
  if (readable(TRAINED)) {
    try {
      const t = await loadTrained(TRAINED, 0);
      out.push({ model: t.model, positions: [0, 16, 64], n: 50 });
    } catch (e) {
      console.error(`bench: ${TRAINED} skipped: ${(e as Error).message}`);
    }
  }
  out.push({
    model: await loadStories260K(),
    positions: [0, 16, 64, 256],
    n: 50,
  });
  out.push({ model: randomStories15M(null), positions: [0, 8, 32], n: 5 });
  return out;
}
