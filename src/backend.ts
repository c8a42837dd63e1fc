/**
 * Where the kernels run: the user's choice of backend.
 *
 * @module
 */
import { ConfigError } from "./errors.ts";

/** Kernel backend choice: pure TypeScript, WebAssembly SIMD, or the best available. */
export type Backend = "auto" | "wasm" | "js";

/** The backends {@linkcode checkBackend} accepts, in the order they are listed in errors. */
export const BACKENDS: readonly Backend[] = ["auto", "wasm", "js"];

/**
 * Returns `name` as a {@linkcode Backend}, or throws a
 * {@linkcode ConfigError} naming the accepted values.
 *
 * @example
 * ```ts
 * import { checkBackend } from "@proj/tinyllm";
 * console.log(checkBackend("wasm")); // "wasm"
 * ```
 */
export function checkBackend(name: string): Backend {
  if ((BACKENDS as readonly string[]).includes(name)) return name as Backend;
  throw new ConfigError(
    `backend must be "auto", "wasm" or "js", got "${name}"`,
  );
}
