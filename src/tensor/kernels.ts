/**
 * Chooses the training products once: `trainKernels(backend)` returns the
 * WebAssembly SIMD implementation (`src/tensor/wasm/matmul_wasm.ts`) or the
 * TypeScript one (`src/tensor/matmul.ts`), both with the signatures of
 * `matmulF32` / `matmulBackwardF32`.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import type { Backend } from "../model/weights.ts";
import { wasmVariant } from "../quant/wasm/runtime.ts";
import { jsTrainKernels, type TrainKernels } from "./matmul.ts";
import { matmulBackwardF32Wasm, matmulF32Wasm } from "./wasm/matmul_wasm.ts";

/** The WebAssembly SIMD training kernels. */
export const wasmTrainKernels: TrainKernels = {
  backend: "wasm",
  matmul: matmulF32Wasm,
  matmulBackward: matmulBackwardF32Wasm,
};

/**
 * Training kernels for a backend: "js" → TypeScript; "wasm" → WebAssembly
 * SIMD (ConfigError if the engine lacks SIMD128); "auto" → wasm where it
 * runs, else TypeScript.
 *
 * @example
 * ```ts
 * import { trainKernels } from "@proj/tinyllm";
 * const k = trainKernels("auto");
 * const out = new Float32Array(1);
 * k.matmul(out, new Float32Array([1, 2]), new Float32Array([3, 4]), 1, 2, 1);
 * console.log(out[0]); // 11
 * console.log(trainKernels("js").backend); // js
 * ```
 */
export function trainKernels(backend: Backend): TrainKernels {
  if (backend === "js") return jsTrainKernels;
  const available = wasmVariant() !== "none";
  if (backend === "wasm" && !available) {
    throw new ConfigError(
      "backend wasm: this engine has no WebAssembly SIMD128",
    );
  }
  return available ? wasmTrainKernels : jsTrainKernels;
}
