/**
 * KV caches (`@proj/tinyllm/kv`): the interface attention talks to and its
 * implementations (fp32, int8, sliding-window ring, fp32 in WebAssembly
 * memory).
 * What the main module exports is not repeated here.
 *
 * @example
 * ```ts
 * import { kvCacheBytes } from "@proj/tinyllm/kv";
 * const cfg = { dim: 288, nHeads: 6, nKvHeads: 6, nLayers: 6, seqLen: 256 };
 * console.log(kvCacheBytes("int8", cfg, 256) / kvCacheBytes("fp32", cfg, 256)); // 0.2708333333333333
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
export { KvCacheWasm } from "./wasm.ts";
export type { CreateKvCacheOptions } from "./create.ts";
