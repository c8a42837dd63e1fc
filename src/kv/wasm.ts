/**
 * A preallocated fp32 KV cache whose keys and values live in WebAssembly
 * memory, with the decode attention (scores and value mix) in SIMD. Same
 * interface and numbers as `KvCacheFp32` (`caches.ts`) up to summation
 * order; `createKvCache` picks it for models bound to the wasm backend.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { createArena, type WasmArena } from "../wasm/runtime.ts";
import {
  checkLength,
  checkPosition,
  kvCacheBytes,
  kvWidths,
} from "./caches.ts";
import type { KvCache, KvCacheShape } from "./types.ts";

/**
 * Byte address of `x[off..off+len)` in `a`: in place when `x` lives there,
 * else copied to byte `at` of the arena.
 */
function inArena(
  a: WasmArena,
  x: Float32Array,
  off: number,
  len: number,
  at: number,
): number {
  if (a.owns(x)) return x.byteOffset + off * 4;
  a.f32.set(x.subarray(off, off + len), at >> 2);
  return at;
}

/**
 * fp32 KV cache in its own fixed WebAssembly arena (never grows); scores and
 * mix run as SIMD kernels over the stored rows. Query, probabilities and
 * outputs may live anywhere (copied through the arena's scratch when not in
 * it: one head vector or one row of probabilities per call).
 *
 * @example
 * ```ts
 * import { wasmVariant } from "@proj/tinyllm/wasm";
 * import { KvCacheWasm } from "@proj/tinyllm/kv";
 * if (wasmVariant() !== "none") {
 *   const c = new KvCacheWasm({ dim: 8, nHeads: 2, nKvHeads: 1, nLayers: 1, seqLen: 4 });
 *   c.store(0, 0, new Float32Array([1, 0, 0, 0]), new Float32Array([5, 6, 7, 8]));
 *   const s = new Float32Array(1);
 *   c.scores(0, 0, new Float32Array([2, 0, 0, 0]), 0, 0, s);
 *   console.log(s[0], c.byteSize); // 2 128
 * }
 * ```
 */
export class KvCacheWasm implements KvCache {
  /** "fp32" (the storage; the kernels are WebAssembly). */
  readonly kind: string = "fp32";
  /** Positions held. */
  readonly capacity: number;
  /** Bytes of key/value storage. */
  readonly byteSize: number;
  /** The arena holding the keys and values. */
  readonly arena: WasmArena;
  readonly #keys: Float32Array;
  readonly #values: Float32Array;
  readonly #kvDim: number;
  readonly #hs: number;
  readonly #layerStride: number;

  /**
   * Allocates storage for `length` positions of every layer.
   * @param config model shape
   * @param length positions to hold (default `config.seqLen`)
   */
  constructor(config: KvCacheShape, length: number = config.seqLen) {
    checkLength(length, "KV cache length");
    this.capacity = length;
    const widths = kvWidths(config);
    this.#kvDim = widths.kvDim;
    this.#hs = widths.headSize;
    this.#layerStride = length * this.#kvDim;
    const floats = config.nLayers * this.#layerStride;
    // scratch: one query head, the probabilities of `length` positions,
    // one output row, with alignment slack
    this.arena = createArena(
      8 * floats + 256,
      4 * (length + 2 * this.#hs) + 4096,
    );
    this.#keys = this.arena.allocF32(floats);
    this.#values = this.arena.allocF32(floats);
    this.byteSize = kvCacheBytes("fp32", config, length);
  }

  /** Stores k and v of `layer` at `pos`; `pos` must be below the capacity. */
  store(layer: number, pos: number, k: Float32Array, v: Float32Array): void {
    checkPosition(pos, this.capacity);
    const o = layer * this.#layerStride + pos * this.#kvDim;
    this.#keys.set(k.subarray(0, this.#kvDim), o);
    this.#values.set(v.subarray(0, this.#kvDim), o);
  }

  /** Always 0: every earlier position is visible. */
  firstVisible(_pos: number): number {
    return 0;
  }

  /** Dot products of the query head with keys 0..pos. */
  scores(
    layer: number,
    kvHead: number,
    q: Float32Array,
    qOff: number,
    pos: number,
    out: Float32Array,
  ): void {
    const a = this.arena, hs = this.#hs, n = this.#visible(pos);
    const scratch = a.ensureScratch(0);
    const qp = inArena(a, q, qOff, hs, scratch);
    const outIn = a.owns(out);
    const op = outIn ? out.byteOffset : scratch + 4 * hs + 64;
    const keys = this.#keys.byteOffset +
      4 * (layer * this.#layerStride + kvHead * hs);
    a.exports.attnScores(qp, keys, this.#kvDim, n, hs, op);
    if (!outIn) out.set(a.f32.subarray(op >> 2, (op >> 2) + n));
  }

  /** Probability-weighted sum of values 0..pos into `out[outOff..]`. */
  mix(
    layer: number,
    kvHead: number,
    p: Float32Array,
    pos: number,
    out: Float32Array,
    outOff: number,
  ): void {
    const a = this.arena, hs = this.#hs, n = this.#visible(pos);
    const scratch = a.ensureScratch(0);
    const pp = inArena(a, p, 0, n, scratch);
    const outIn = a.owns(out);
    const op = outIn
      ? out.byteOffset + outOff * 4
      : scratch + Math.ceil(n / 16) * 64 + 64;
    const values = this.#values.byteOffset +
      4 * (layer * this.#layerStride + kvHead * hs);
    a.exports.attnMix(pp, values, this.#kvDim, n, hs, op);
    if (!outIn) out.set(a.f32.subarray(op >> 2, (op >> 2) + hs), outOff);
  }

  #visible(pos: number): number {
    if (!(pos >= 0 && pos < this.capacity)) {
      throw new InputError(
        `position ${pos} is outside the KV cache's ${this.capacity} positions`,
      );
    }
    return pos + 1;
  }

  /** Clears the stored keys and values. */
  reset(): void {
    this.#keys.fill(0);
    this.#values.fill(0);
  }
}
