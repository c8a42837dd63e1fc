/**
 * KV caches (`@proj/tinyllm/kv`): the interface attention talks to and its
 * implementations (fp32, f16 as llama.cpp, int8, sliding-window ring, fp32
 * in WebAssembly memory).
 * What the main module exports is not repeated here.
 *
 * @example
 * ```ts
 * import { kvCacheBytes } from "@proj/tinyllm/kv";
 * import assert from "node:assert/strict";
 * const cfg = { dim: 288, nHeads: 6, nKvHeads: 6, nLayers: 6, seqLen: 256 };
 * assert.equal(kvCacheBytes("int8", cfg, 256) / kvCacheBytes("fp32", cfg, 256), 0.2708333333333333);
 * ```
 *
 * @module
 */
export {
  kvCacheBytes,
  KvCacheFp32,
  KvCacheInt8,
  KvCacheRing,
} from "./caches.ts";
export { KvCacheF16 } from "./f16.ts";
export { KvCacheWasm } from "./wasm.ts";
export type { CreateKvCacheOptions } from "./create.ts";
