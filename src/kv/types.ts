/**
 * The KV-cache interface the attention code talks to. Implementations decide
 * how keys and values are stored (fp32, int8, ring buffer); attention only asks
 * for scores against the stored keys and a probability-weighted sum of values,
 * so quantized caches never materialise an fp32 copy.
 *
 * @module
 */

/** Storage for attention keys and values, per layer and position. */
export interface KvCache {
  /** Implementation name: "fp32", "int8", "ring". */
  readonly kind: string;
  /** Positions held at once (the window for a ring buffer). */
  readonly capacity: number;
  /** Bytes of key/value storage (scales included). */
  readonly byteSize: number;
  /**
   * Stores the key and value vectors (`kvDim` floats each, keys already
   * rotated) of one layer at absolute position `pos`.
   */
  store(layer: number, pos: number, k: Float32Array, v: Float32Array): void;
  /** First absolute position attention may read when the query is at `pos`. */
  firstVisible(pos: number): number;
  /**
   * `out[t - first] = Σ_i q[qOff + i] · k_t[kvHead·headSize + i]` for
   * t = firstVisible(pos) … pos (unscaled dot products).
   */
  scores(
    layer: number,
    kvHead: number,
    q: Float32Array,
    qOff: number,
    pos: number,
    out: Float32Array,
  ): void;
  /**
   * `out[outOff + i] = Σ_t p[t - first] · v_t[kvHead·headSize + i]` for
   * t = firstVisible(pos) … pos.
   */
  mix(
    layer: number,
    kvHead: number,
    p: Float32Array,
    pos: number,
    out: Float32Array,
    outOff: number,
  ): void;
  /**
   * Optional: the whole attention of one query head, `out[outOff + i] =
   * Σ_t softmax(scale · scores)_t · v_t[…]`, for caches whose arithmetic is
   * not the two passes above (the F16 cache's online softmax, as llama.cpp).
   * The decode pass calls it instead of `scores` and `mix` when present.
   */
  attend?(
    layer: number,
    kvHead: number,
    q: Float32Array,
    qOff: number,
    pos: number,
    out: Float32Array,
    outOff: number,
    scale: number,
  ): void;
  /** Forgets everything stored (a new sequence). */
  reset(): void;
}

/**
 * A cache kind: `"fp32"`, `"f16"` (llama.cpp's attention), `"int8"` or
 * `"ring:N"` (a sliding window of N positions).
 */
export type KvCacheSpec = "fp32" | "f16" | "int8" | `ring:${number}`;

/** The parts of a model's config a KV cache needs (a `ModelConfig` has them). */
export interface KvCacheShape {
  /** Width of the residual stream. */
  readonly dim: number;
  /** Query heads. */
  readonly nHeads: number;
  /** Key/value heads. */
  readonly nKvHeads: number;
  /** Transformer blocks (one set of keys and values each). */
  readonly nLayers: number;
  /** Positions a default-length cache holds. */
  readonly seqLen: number;
}
