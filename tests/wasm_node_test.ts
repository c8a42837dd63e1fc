// Feature-detection fallback on a real engine without relaxed SIMD: Node 20
// (relaxed SIMD off by default) must pick the SIMD128 build and agree with
// the TypeScript kernels. Bundles a small entry with `deno bundle`, runs it
// with `node`; skipped where node is absent.
import assert from "node:assert/strict";
import { testNeeding } from "./permissions.ts";

const test = testNeeding(
  import.meta.url,
  "read",
  "write",
  "run:deno",
  "run:node",
);

function hasNode(): boolean {
  try {
    return new Deno.Command("node", { args: ["--version"], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const root = new URL("../", import.meta.url);
const entry = (path: string) => JSON.stringify(new URL(path, root).href);

test({
  name: "under Node the wasm kernels detect their build and match TypeScript",
  ignore: !hasNode(),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tinyllm-wasm-node-" });
    try {
      await Deno.writeTextFile(
        `${dir}/entry.ts`,
        `import { wasmSupport, wasmVariant } from ${
          entry("src/wasm/runtime.ts")
        };
import { JS_KERNELS } from ${entry("src/kernels/js.ts")};
import { WASM_KERNELS } from ${entry("src/kernels/wasm.ts")};
import { int4 } from ${entry("src/quant/int4.ts")};
import { int8 } from ${entry("src/quant/int8.ts")};
import { trainKernels } from ${entry("src/tensor/train_kernels.ts")};
import { matmulF32 } from ${entry("src/tensor/matmul.ts")};
const rows = 40, cols = 96;
const w = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.37));
const x = Float32Array.from({ length: cols }, (_, i) => Math.cos(i * 0.11));
let worst = 0;
for (const t of [int8, int4]) {
  const m = t.quantize(w, rows, cols, 32);
  const a = new Float32Array(rows), b = new Float32Array(rows);
  JS_KERNELS[t.name].matvec(m, x, a);
  WASM_KERNELS[t.name].matvec(m, x, b);
  for (let i = 0; i < rows; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / 50);
}
const o1 = new Float32Array(rows), o2 = new Float32Array(rows);
matmulF32(o1, x, w, 1, cols, rows);
trainKernels("auto").matmul(o2, x, w, 1, cols, rows);
for (let i = 0; i < rows; i++) worst = Math.max(worst, Math.abs(o1[i] - o2[i]) / 50);
console.log(JSON.stringify({ support: wasmSupport(), variant: wasmVariant(),
  train: trainKernels("auto").backend, worst }));
`,
      );
      const bundle = await new Deno.Command(Deno.execPath(), {
        args: [
          "bundle",
          "--platform",
          "node",
          "-o",
          `${dir}/entry.mjs`,
          `${dir}/entry.ts`,
        ],
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.ok(
        bundle.success,
        new TextDecoder().decode(bundle.stderr).slice(-500),
      );
      const run = await new Deno.Command("node", {
        args: [`${dir}/entry.mjs`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(run.success, new TextDecoder().decode(run.stderr).slice(-500));
      const r = JSON.parse(new TextDecoder().decode(run.stdout));
      assert.equal(r.support.simd, true);
      assert.equal(r.variant, r.support.relaxed ? "relaxed" : "simd");
      assert.equal(r.train, "wasm");
      assert.ok(r.worst < 1e-5, `max relative difference ${r.worst}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
