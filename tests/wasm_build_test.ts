// The committed generated module must equal a fresh build of wasm/kernels.ts
// (deterministic: pinned assemblyscript, fixed flags). The one slow wasm test
// (~3-5 s: two asc compilations).
import assert from "node:assert/strict";
import { testNeeding } from "./permissions.ts";

const test = testNeeding(import.meta.url, "read", "env");

test("src/wasm/kernels_wasm.ts equals a fresh build", async () => {
  // imported here: assemblyscript reads the environment as it loads
  const { buildWasmModuleSource, GENERATED_MODULE } = await import(
    "../tools/build_wasm.ts"
  );
  const committed = await Deno.readTextFile(
    new URL(`../${GENERATED_MODULE}`, import.meta.url),
  );
  const fresh = await buildWasmModuleSource();
  assert.ok(
    committed === fresh,
    `${GENERATED_MODULE} is stale: run deno task build:wasm`,
  );
});

Deno.test("both builds validate and export the kernels", async () => {
  const { KERNELS_RELAXED_BASE64, KERNELS_SIMD_BASE64 } = await import(
    "../src/wasm/kernels_wasm.ts"
  );
  for (const b64 of [KERNELS_SIMD_BASE64, KERNELS_RELAXED_BASE64]) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const names = WebAssembly.Module.exports(new WebAssembly.Module(bytes))
      .map((e) => e.name).filter((n) => !n.startsWith("ggml")).sort(); // ggml_wasm_test.ts checks those
    assert.deepEqual(names, [
      "attnMix",
      "attnScores",
      "gemmAccF32",
      "matmulF32",
      "matmulQ4G",
      "matmulQ8G",
      "matvecF32",
      "matvecQ4G",
      "matvecQ8G",
      "memory",
      "quantizeActs",
    ]);
  }
});
