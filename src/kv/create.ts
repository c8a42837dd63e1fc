/**
 * Creating a KV cache from its spec string.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import { KvCacheFp32, KvCacheInt8, KvCacheRing } from "./caches.ts";
import { KvCacheF16 } from "./f16.ts";
import type { KvCache, KvCacheShape } from "./types.ts";
import { KvCacheWasm } from "./wasm.ts";

/** Options of {@linkcode createKvCache}. */
export interface CreateKvCacheOptions {
  /**
   * Keep an fp32 cache in WebAssembly memory with SIMD attention
   * ({@linkcode KvCacheWasm}; same numbers up to summation order). Default
   * false; generation sets it for models bound to the wasm backend.
   */
  readonly wasm?: boolean;
}

/**
 * Creates a cache from a spec string: `"fp32"`, `"f16"` (llama.cpp's
 * attention), `"int8"` (all hold `length` positions, default seqLen) or
 * `"ring:N"` (window of N positions).
 *
 * @example
 * ```ts
 * import { createKvCache } from "@proj/tinyllm";
 * import assert from "node:assert/strict";
 * const cfg = { dim: 8, nHeads: 2, nKvHeads: 1, nLayers: 1, seqLen: 16 };
 * assert.equal(createKvCache("ring:4", cfg).capacity, 4);
 * ```
 */
export function createKvCache(
  spec: string,
  config: KvCacheShape,
  length: number = config.seqLen,
  options: CreateKvCacheOptions = {},
): KvCache {
  if (spec === "fp32") {
    return options.wasm
      ? new KvCacheWasm(config, length)
      : new KvCacheFp32(config, length);
  }
  if (spec === "int8") return new KvCacheInt8(config, length);
  if (spec === "f16") return new KvCacheF16(config, length);
  const m = /^ring:(\d+)$/.exec(spec);
  if (m) return new KvCacheRing(config, Number(m[1]));
  throw new ConfigError(
    `unknown KV cache "${spec}" (expected fp32, f16, int8 or ring:N)`,
  );
}
