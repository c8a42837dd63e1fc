/**
 * Chooses the training matmul kernels for a backend: the WebAssembly SIMD
 * ones (`src/tensor/kernels.ts`) when available and asked for, else pure
 * TypeScript.
 *
 * @module
 */
import type { Backend } from "../model/weights.ts";
import type { TrainKernels } from "../tensor/matmul.ts";
import { trainKernels } from "../tensor/kernels.ts";

/**
 * Training kernels for `backend` ("js" → TypeScript; "wasm" → WebAssembly
 * SIMD, a ConfigError if unavailable; "auto" → WebAssembly when available).
 *
 * @example
 * ```ts
 * import { selectTrainKernels } from "@proj/tinyllm";
 * const k = await selectTrainKernels("js");
 * console.log(k.backend); // "js"
 * ```
 */
export function selectTrainKernels(backend: Backend): Promise<TrainKernels> {
  return Promise.resolve(trainKernels(backend));
}
