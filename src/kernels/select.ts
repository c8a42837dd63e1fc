/**
 * Choosing a weight type's kernels for a backend: the backend's table entry,
 * else the TypeScript one, else the reference kernel.
 *
 * @module
 */
import type { Backend } from "../backend.ts";
import { wasmVariant } from "../wasm/runtime.ts";
import { JS_KERNELS } from "./js.ts";
import { referenceKernels } from "./reference.ts";
import type { KernelTable, LinearKernels } from "./types.ts";
import { WASM_KERNELS } from "./wasm.ts";

/**
 * The kernel table of each concrete backend.
 *
 * @example
 * ```ts
 * import { KERNEL_TABLES } from "@proj/tinyllm/kernels";
 * console.log(Object.keys(KERNEL_TABLES)); // ["js", "wasm"]
 * ```
 */
export const KERNEL_TABLES: Readonly<Record<"js" | "wasm", KernelTable>> = {
  js: JS_KERNELS,
  wasm: WASM_KERNELS,
};

/**
 * The kernels that multiply by matrices of weight type `typeName` on
 * `backend`: `"js"` → the TypeScript table; `"auto"` and `"wasm"` → the
 * WebAssembly table where the engine has SIMD128 and the table has the type.
 * A type missing from the chosen table falls back to the TypeScript entry,
 * then to {@linkcode referenceKernels}, so a model always runs; the
 * kernels' `backend` field says which it got. `tables` replaces the kernel
 * tables (tests).
 *
 * @example
 * ```ts
 * import { kernelsFor } from "@proj/tinyllm/kernels";
 * console.log(kernelsFor("int8", "js").backend); // "js"
 * ```
 */
export function kernelsFor(
  typeName: string,
  backend: Backend,
  tables: Readonly<Record<"js" | "wasm", KernelTable>> = KERNEL_TABLES,
): LinearKernels {
  const wasm = backend !== "js" && wasmVariant() !== "none"
    ? tables.wasm[typeName]
    : undefined;
  return wasm ?? tables.js[typeName] ?? referenceKernels(typeName);
}
