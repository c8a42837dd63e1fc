/**
 * The WebAssembly runtime (`@proj/tinyllm/wasm`): feature detection, the
 * compiled SIMD kernel module, and arenas (one instance of the module with
 * its own memory, which never grows once views are handed out).
 * What the main module exports is not repeated here.
 *
 * @example
 * ```ts
 * import { createArena, wasmVariant } from "@proj/tinyllm/wasm";
 * if (wasmVariant() !== "none") {
 *   const arena = createArena(4096);
 *   console.log(arena.owns(arena.allocF32(4))); // true
 * }
 * ```
 *
 * @module
 */
export {
  arenaOf,
  createArena,
  type KernelExports,
  resolveBackend,
  scratchArena,
  setWasmVariant,
  WasmArena,
  type WasmSupport,
  wasmSupport,
  type WasmVariant,
  wasmVariant,
} from "./runtime.ts";
