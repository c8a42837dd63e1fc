/**
 * The fp32 products training needs, behind one interface so the WebAssembly
 * SIMD implementation (`matmul_wasm.ts`) can replace the TypeScript one
 * (`matmul.ts`); chosen once per run with {@linkcode trainKernels}.
 *
 * @module
 */
import type { Backend } from "../backend.ts";
import { resolveBackend } from "../wasm/runtime.ts";
import { matmulBackwardF32, matmulF32 } from "./matmul.ts";
import { matmulBackwardF32Wasm, matmulF32Wasm } from "./matmul_wasm.ts";

/**
 * The two fp32 products of training, with the argument order of
 * {@linkcode matmulF32} and {@linkcode matmulBackwardF32}.
 */
export interface TrainKernels {
  /** Which implementation this is. */
  readonly backend: "js" | "wasm";
  /** `out[n, rows] = x[n, cols] · Wᵀ`. */
  matmul(
    out: Float32Array,
    x: Float32Array,
    w: Float32Array,
    n: number,
    cols: number,
    rows: number,
  ): void;
  /** `dx += dout · W` (unless null) and `dw += doutᵀ · x`. */
  matmulBackward(
    dx: Float32Array | null,
    dw: Float32Array,
    dout: Float32Array,
    x: Float32Array,
    w: Float32Array,
    n: number,
    cols: number,
    rows: number,
  ): void;
}

/**
 * The pure-TypeScript training kernels (portable default and reference).
 *
 * @example
 * ```ts
 * import { jsTrainKernels } from "@proj/tinyllm/tensor";
 * console.log(jsTrainKernels.backend); // "js"
 * ```
 */
export const jsTrainKernels: TrainKernels = {
  backend: "js",
  matmul: matmulF32,
  matmulBackward: matmulBackwardF32,
};

/**
 * The WebAssembly SIMD training kernels.
 *
 * @example
 * ```ts
 * import { wasmTrainKernels } from "@proj/tinyllm/tensor";
 * console.log(wasmTrainKernels.backend); // "wasm"
 * ```
 */
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
 * import { trainKernels } from "@proj/tinyllm/tensor";
 * const k = trainKernels("auto");
 * const out = new Float32Array(1);
 * k.matmul(out, new Float32Array([1, 2]), new Float32Array([3, 4]), 1, 2, 1);
 * console.log(out[0]); // 11
 * console.log(trainKernels("js").backend); // js
 * ```
 */
export function trainKernels(backend: Backend): TrainKernels {
  return resolveBackend(backend) === "wasm" ? wasmTrainKernels : jsTrainKernels;
}
