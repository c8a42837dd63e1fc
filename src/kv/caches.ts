/**
 * KV-cache implementations: a fixed-memory sliding-window ring buffer, the
 * preallocated fp32 cache (the default; a ring that never wraps), and int8
 * with one scale per head vector.
 *
 * @module
 */
import { ConfigError, InputError } from "../errors.ts";
import type { KvCache, KvCacheShape } from "./types.ts";

/** Head size and key/value width of a cache shape. */
export function kvWidths(
  shape: KvCacheShape,
): { headSize: number; kvDim: number } {
  const headSize = shape.dim / shape.nHeads;
  return { headSize, kvDim: headSize * shape.nKvHeads };
}

/** Throws a {@linkcode ConfigError} unless `length` is a positive integer. */
export function checkLength(length: number, what: string): void {
  if (!Number.isInteger(length) || length <= 0) {
    throw new ConfigError(`${what} must be a positive integer, got ${length}`);
  }
}

/** Throws an {@linkcode InputError} when `pos` is past a cache's capacity. */
export function checkPosition(pos: number, capacity: number): void {
  if (pos >= capacity) {
    throw new InputError(
      `position ${pos} is past the KV cache's ${capacity} positions`,
    );
  }
}

/** Keys and values of every layer: row (layer, slot) at `layer·layerStride + slot·kvDim`. */
class KvRows<A extends Float32Array | Int8Array> {
  readonly kvDim: number;
  readonly hs: number;
  readonly layerStride: number;
  readonly keys: A;
  readonly values: A;

  constructor(config: KvCacheShape, slots: number, alloc: (n: number) => A) {
    const widths = kvWidths(config);
    this.kvDim = widths.kvDim;
    this.hs = widths.headSize;
    this.layerStride = slots * this.kvDim;
    this.keys = alloc(config.nLayers * this.layerStride);
    this.values = alloc(config.nLayers * this.layerStride);
  }

  /** Offset of row (layer, slot). */
  row(layer: number, slot: number): number {
    return layer * this.layerStride + slot * this.kvDim;
  }

  /** Offset of head `kvHead` in row (layer, 0). */
  head(layer: number, kvHead: number): number {
    return layer * this.layerStride + kvHead * this.hs;
  }

  /** Copies k and v into row (layer, slot); fp32 storage only. */
  set(
    this: F32Rows,
    layer: number,
    slot: number,
    k: Float32Array,
    v: Float32Array,
  ): void {
    const o = this.row(layer, slot);
    this.keys.set(k.subarray(0, this.kvDim), o);
    this.values.set(v.subarray(0, this.kvDim), o);
  }

  reset(): void {
    this.keys.fill(0);
    this.values.fill(0);
  }
}

type F32Rows = KvRows<Float32Array>;
const f32 = (n: number): Float32Array => new Float32Array(n);

/**
 * Bytes of key/value storage (scales included) for `length` positions:
 * `"fp32"` and `"ring"` store 4 bytes per value, `"int8"` 1 byte per value
 * plus one fp32 scale per head vector.
 *
 * @example
 * ```ts
 * import { kvCacheBytes } from "@proj/tinyllm/kv";
 * const cfg = { dim: 288, nHeads: 6, nKvHeads: 6, nLayers: 6, seqLen: 256 };
 * console.log(kvCacheBytes("fp32", cfg, 256)); // 3538944
 * console.log(kvCacheBytes("int8", cfg, 256)); // 958464
 * ```
 */
export function kvCacheBytes(
  kind: "fp32" | "int8" | "ring",
  config: KvCacheShape,
  length: number,
): number {
  const values = 2 * config.nLayers * length * kvWidths(config).kvDim;
  if (kind === "int8") {
    return values + 2 * config.nLayers * length * config.nKvHeads * 4;
  }
  if (kind === "fp32" || kind === "ring") return values * 4;
  throw new ConfigError(`unknown KV cache kind "${kind}"`);
}

/**
 * int8 cache: each head's key and value vector at each position is stored as
 * int8 with its own scale (absmax/127). Scores and the value mix are computed
 * on the int8 data directly; about a quarter of the fp32 cache's memory.
 *
 * @example
 * ```ts
 * import { KvCacheInt8 } from "@proj/tinyllm/kv";
 * const c = new KvCacheInt8({ dim: 8, nHeads: 2, nKvHeads: 1, nLayers: 1, seqLen: 4 });
 * c.store(0, 0, new Float32Array([1, -0.5, 0, 0.25]), new Float32Array([5, 6, 7, 8]));
 * const s = new Float32Array(1);
 * c.scores(0, 0, new Float32Array([2, 0, 0, 0]), 0, 0, s);
 * console.log(Math.abs(s[0] - 2) < 0.02); // true
 * ```
 */
export class KvCacheInt8 implements KvCache {
  /** "int8". */
  readonly kind: string = "int8";
  /** Positions held. */
  readonly capacity: number;
  /** Bytes of key/value storage, scales included. */
  readonly byteSize: number;
  readonly #rows: KvRows<Int8Array>;
  readonly #kScale: Float32Array;
  readonly #vScale: Float32Array;
  readonly #nKv: number;

  /**
   * Allocates storage for `length` positions of every layer.
   * @param config model shape
   * @param length positions to hold (default `config.seqLen`)
   */
  constructor(config: KvCacheShape, length: number = config.seqLen) {
    checkLength(length, "KV cache length");
    this.capacity = length;
    this.#rows = new KvRows(config, length, (n) => new Int8Array(n));
    this.#nKv = config.nKvHeads;
    this.#kScale = new Float32Array(config.nLayers * length * this.#nKv);
    this.#vScale = new Float32Array(config.nLayers * length * this.#nKv);
    this.byteSize = kvCacheBytes("int8", config, length);
  }

  #quantize(
    src: Float32Array,
    dst: Int8Array,
    scales: Float32Array,
    o: number,
    so: number,
  ): void {
    const hs = this.#rows.hs;
    for (let h = 0; h < this.#nKv; h++) {
      let amax = 0;
      for (let i = 0; i < hs; i++) {
        const a = Math.abs(src[h * hs + i]);
        if (a > amax) amax = a;
      }
      const scale = amax / 127;
      const inv = scale > 0 ? 1 / scale : 0;
      for (let i = 0; i < hs; i++) {
        const qv = Math.round(src[h * hs + i] * inv);
        dst[o + h * hs + i] = qv > 127 ? 127 : qv < -127 ? -127 : qv;
      }
      scales[so + h] = scale;
    }
  }

  /** Quantizes and stores k and v of `layer` at `pos`. */
  store(layer: number, pos: number, k: Float32Array, v: Float32Array): void {
    checkPosition(pos, this.capacity);
    const r = this.#rows;
    const o = r.row(layer, pos);
    const so = (layer * this.capacity + pos) * this.#nKv;
    this.#quantize(k, r.keys, this.#kScale, o, so);
    this.#quantize(v, r.values, this.#vScale, o, so);
  }

  /** Always 0. */
  firstVisible(_pos: number): number {
    return 0;
  }

  /** `scale_t · Σ q·k8_t` for t = 0..pos. */
  scores(
    layer: number,
    kvHead: number,
    q: Float32Array,
    qOff: number,
    pos: number,
    out: Float32Array,
  ): void {
    const r = this.#rows, keys = r.keys, hs = r.hs, kvd = r.kvDim;
    const nKv = this.#nKv;
    let o = r.head(layer, kvHead);
    let so = layer * this.capacity * nKv + kvHead;
    for (let t = 0; t <= pos; t++, o += kvd, so += nKv) {
      let s = 0;
      for (let i = 0; i < hs; i++) s += q[qOff + i] * keys[o + i];
      out[t] = s * this.#kScale[so];
    }
  }

  /** `Σ_t (p_t · scale_t) · v8_t` into `out[outOff..]`. */
  mix(
    layer: number,
    kvHead: number,
    p: Float32Array,
    pos: number,
    out: Float32Array,
    outOff: number,
  ): void {
    const r = this.#rows, values = r.values, hs = r.hs, kvd = r.kvDim;
    const nKv = this.#nKv;
    for (let i = 0; i < hs; i++) out[outOff + i] = 0;
    let o = r.head(layer, kvHead);
    let so = layer * this.capacity * nKv + kvHead;
    for (let t = 0; t <= pos; t++, o += kvd, so += nKv) {
      const a = p[t] * this.#vScale[so];
      for (let i = 0; i < hs; i++) out[outOff + i] += a * values[o + i];
    }
  }

  /** Clears the stored keys, values and scales. */
  reset(): void {
    this.#rows.reset();
    this.#kScale.fill(0);
    this.#vScale.fill(0);
  }
}

/**
 * Sliding-window fp32 cache: holds the last `window` positions in fixed
 * memory (position p lives in slot p mod window), so generation can go on past
 * the window (and, with RoPE, past seqLen); attention sees only the window.
 *
 * @example
 * ```ts
 * import { KvCacheRing } from "@proj/tinyllm/kv";
 * const c = new KvCacheRing({ dim: 8, nHeads: 2, nKvHeads: 1, nLayers: 1, seqLen: 4 }, 2);
 * console.log(c.firstVisible(0), c.firstVisible(5)); // 0 4
 * ```
 */
export class KvCacheRing implements KvCache {
  /** "ring". */
  readonly kind: string = "ring";
  /** The window: positions held at once. */
  readonly capacity: number;
  /** Bytes of key/value storage. */
  readonly byteSize: number;
  readonly #rows: F32Rows;
  readonly #acc: Float64Array;

  /**
   * Allocates storage for a window of positions of every layer.
   * @param config model shape
   * @param window positions held at once
   */
  constructor(config: KvCacheShape, window: number) {
    checkLength(window, "ring window");
    this.capacity = window;
    this.#rows = new KvRows(config, window, f32);
    this.#acc = new Float64Array(this.#rows.hs);
    this.byteSize = kvCacheBytes("ring", config, window);
  }

  /** Stores k and v of `layer` at `pos` (overwriting position pos - window). */
  store(layer: number, pos: number, k: Float32Array, v: Float32Array): void {
    this.#rows.set(layer, pos % this.capacity, k, v);
  }

  /** `max(0, pos - window + 1)`. */
  firstVisible(pos: number): number {
    return pos < this.capacity ? 0 : pos - this.capacity + 1;
  }

  /** Dot products with the keys of the window, oldest first. */
  scores(
    layer: number,
    kvHead: number,
    q: Float32Array,
    qOff: number,
    pos: number,
    out: Float32Array,
  ): void {
    const r = this.#rows, hs = r.hs, kvd = r.kvDim, w = this.capacity;
    const first = this.firstVisible(pos);
    const base = r.head(layer, kvHead);
    // the window is at most two contiguous runs of slots: [slot0, w) and [0, ...)
    const slot0 = first % w, n = pos - first + 1;
    const run1 = Math.min(n, w - slot0);
    dotRun(q, qOff, r.keys, base + slot0 * kvd, kvd, run1, hs, out, 0);
    if (run1 < n) {
      dotRun(q, qOff, r.keys, base, kvd, n - run1, hs, out, run1);
    }
  }

  /** Probability-weighted sum of the window's values. */
  mix(
    layer: number,
    kvHead: number,
    p: Float32Array,
    pos: number,
    out: Float32Array,
    outOff: number,
  ): void {
    const r = this.#rows, hs = r.hs, kvd = r.kvDim, w = this.capacity;
    const acc = this.#acc;
    const first = this.firstVisible(pos);
    const base = r.head(layer, kvHead);
    const slot0 = first % w, n = pos - first + 1;
    const run1 = Math.min(n, w - slot0);
    acc.fill(0);
    mixRun(p, 0, r.values, base + slot0 * kvd, kvd, run1, hs, acc);
    if (run1 < n) mixRun(p, run1, r.values, base, kvd, n - run1, hs, acc);
    for (let i = 0; i < hs; i++) out[outOff + i] = acc[i];
  }

  /** Clears the stored keys and values. */
  reset(): void {
    this.#rows.reset();
  }
}

/**
 * Preallocated fp32 cache for positions `0 .. length-1` (default: seqLen):
 * a ring that never wraps (storing past its length is an InputError), so
 * every earlier position stays visible.
 *
 * @example
 * ```ts
 * import { KvCacheFp32 } from "@proj/tinyllm/kv";
 * const c = new KvCacheFp32({ dim: 8, nHeads: 2, nKvHeads: 1, nLayers: 1, seqLen: 4 });
 * c.store(0, 0, new Float32Array([1, 0, 0, 0]), new Float32Array([5, 6, 7, 8]));
 * const s = new Float32Array(1);
 * c.scores(0, 0, new Float32Array([2, 0, 0, 0]), 0, 0, s);
 * console.log(s[0], c.byteSize); // 2 128
 * ```
 */
export class KvCacheFp32 extends KvCacheRing {
  /** "fp32". */
  override readonly kind: string = "fp32";

  /**
   * Allocates storage for `length` positions of every layer.
   * @param config model shape
   * @param length positions to hold (default `config.seqLen`)
   */
  constructor(config: KvCacheShape, length: number = config.seqLen) {
    checkLength(length, "KV cache length");
    super(config, length);
  }

  /** Stores k and v of `layer` at `pos`; `pos` must be below the capacity. */
  override store(
    layer: number,
    pos: number,
    k: Float32Array,
    v: Float32Array,
  ): void {
    checkPosition(pos, this.capacity);
    super.store(layer, pos, k, v);
  }
}

/**
 * `out[outOff + t] = q[qOff..qOff+hs) · keys[o + t·stride ..)` for `count`
 * consecutive positions (unrolled by 4 when the head size allows).
 */
function dotRun(
  q: Float32Array,
  qOff: number,
  keys: Float32Array,
  o: number,
  stride: number,
  count: number,
  hs: number,
  out: Float32Array,
  outOff: number,
): void {
  if ((hs & 3) === 0) {
    for (let t = 0; t < count; t++, o += stride) {
      let s = 0;
      for (let i = 0; i < hs; i += 4) {
        s += q[qOff + i] * keys[o + i] + q[qOff + i + 1] * keys[o + i + 1] +
          q[qOff + i + 2] * keys[o + i + 2] + q[qOff + i + 3] * keys[o + i + 3];
      }
      out[outOff + t] = s;
    }
    return;
  }
  for (let t = 0; t < count; t++, o += stride) {
    let s = 0;
    for (let i = 0; i < hs; i++) s += q[qOff + i] * keys[o + i];
    out[outOff + t] = s;
  }
}

/**
 * `acc[i] += Σ_t p[pOff + t] · values[o + t·stride + i]` for `count`
 * consecutive positions, accumulating in float64 four lanes at a time.
 */
function mixRun(
  p: Float32Array,
  pOff: number,
  values: Float32Array,
  o: number,
  stride: number,
  count: number,
  hs: number,
  acc: Float64Array,
): void {
  let i = 0;
  for (; i + 4 <= hs; i += 4) {
    let a0 = acc[i], a1 = acc[i + 1], a2 = acc[i + 2], a3 = acc[i + 3];
    for (let t = 0, j = o + i; t < count; t++, j += stride) {
      const w = p[pOff + t];
      a0 += w * values[j];
      a1 += w * values[j + 1];
      a2 += w * values[j + 2];
      a3 += w * values[j + 3];
    }
    acc[i] = a0;
    acc[i + 1] = a1;
    acc[i + 2] = a2;
    acc[i + 3] = a3;
  }
  for (; i < hs; i++) {
    let a = acc[i];
    for (let t = 0, j = o + i; t < count; t++, j += stride) {
      a += p[pOff + t] * values[j];
    }
    acc[i] = a;
  }
}
