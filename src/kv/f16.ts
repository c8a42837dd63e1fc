/**
 * The half-precision KV cache, computing attention as llama.cpp does on the
 * CPU by default (F16 keys and values, flash attention): the query rounded to
 * half, scores from half·half products, and an online softmax whose running
 * value sum is kept in half precision, rounded after every position. Models
 * read from GGUF files use it so that their logits follow llama.cpp's.
 *
 * @module
 */
import { floatToHalf, halfToFloatTable } from "../quant/ggml/half.ts";
import { checkLength, checkPosition, kvWidths } from "./caches.ts";
import type { KvCache, KvCacheShape } from "./types.ts";

const fround = Math.fround;

/** Lanes of ggml's AVX-512 F16 dot: 4 vectors of 16 floats. */
const STEP = 64;

/**
 * The float sum of the 64 lanes in `acc` in the order ggml's AVX-512
 * reduction adds them: the four vectors pairwise (0+2, 1+3, then 0+1), then
 * `_mm512_reduce_add_ps` (lanes i and i+8, i and i+4, then 0+2 and 1+3,
 * then the last two).
 */
function reduceLanes(acc: Float32Array): number {
  for (let l = 0; l < 16; l++) {
    acc[l] = fround(acc[l] + acc[32 + l]);
    acc[16 + l] = fround(acc[16 + l] + acc[48 + l]);
  }
  for (let l = 0; l < 16; l++) acc[l] = fround(acc[l] + acc[16 + l]);
  for (let w = 8; w >= 4; w >>= 1) {
    for (let l = 0; l < w; l++) acc[l] = fround(acc[l] + acc[l + w]);
  }
  const a = fround(acc[0] + acc[2]), b = fround(acc[1] + acc[3]);
  return fround(a + b);
}

/**
 * F16 keys and values, one row of `kvDim` halves per (layer, position).
 * {@linkcode KvCacheF16.attend} is ggml's CPU flash-attention for one query
 * row; `scores`/`mix` give the plain two-pass attention on the same data.
 *
 * @example
 * ```ts
 * import { KvCacheF16 } from "@proj/tinyllm/kv";
 * import assert from "node:assert/strict";
 * const c = new KvCacheF16({ dim: 4, nHeads: 1, nKvHeads: 1, nLayers: 1, seqLen: 2 });
 * c.store(0, 0, new Float32Array([0.1, 0, 0, 0]), new Float32Array([1, 2, 3, 4]));
 * const out = new Float32Array(4);
 * c.attend(0, 0, new Float32Array([1, 0, 0, 0]), 0, 0, out, 0, 0.5);
 * assert.deepEqual(Array.from(out), [1, 2, 3, 4]);
 * ```
 */
export class KvCacheF16 implements KvCache {
  /** "f16". */
  readonly kind: string = "f16";
  /** Positions held. */
  readonly capacity: number;
  /** Bytes of key/value storage (2 per value). */
  readonly byteSize: number;
  readonly #keys: Uint16Array;
  readonly #values: Uint16Array;
  readonly #hs: number;
  readonly #kvDim: number;
  readonly #layerStride: number;
  readonly #half: Float32Array;
  /** The query rounded to half, one head. */
  readonly #q: Float32Array;
  /** The running value sum of one head, as half values. */
  readonly #acc: Float32Array;
  /** Lanes of one query·key dot product. */
  readonly #lanes = new Float32Array(STEP);

  /**
   * Allocates storage for `length` positions of every layer.
   * @param config model shape
   * @param length positions to hold (default `config.seqLen`)
   */
  constructor(config: KvCacheShape, length: number = config.seqLen) {
    checkLength(length, "KV cache length");
    const { headSize, kvDim } = kvWidths(config);
    this.capacity = length;
    this.#hs = headSize;
    this.#kvDim = kvDim;
    this.#layerStride = length * kvDim;
    this.#keys = new Uint16Array(config.nLayers * this.#layerStride);
    this.#values = new Uint16Array(config.nLayers * this.#layerStride);
    this.byteSize = 2 * 2 * config.nLayers * this.#layerStride;
    this.#half = halfToFloatTable();
    this.#q = new Float32Array(headSize);
    this.#acc = new Float32Array(headSize);
  }

  /** Rounds k and v of `layer` at `pos` to half and stores them. */
  store(layer: number, pos: number, k: Float32Array, v: Float32Array): void {
    checkPosition(pos, this.capacity);
    const o = layer * this.#layerStride + pos * this.#kvDim;
    for (let i = 0; i < this.#kvDim; i++) {
      this.#keys[o + i] = floatToHalf(k[i]);
      this.#values[o + i] = floatToHalf(v[i]);
    }
  }

  /** Always 0. */
  firstVisible(_pos: number): number {
    return 0;
  }

  /**
   * ggml_vec_dot_f16 of the rounded query with the key at `o`: 64-element
   * steps in 64 float lanes (fused multiply-adds), reduced as ggml reduces
   * them, the rest added one by one in double precision.
   */
  #dot(hq: Float32Array, o: number): number {
    const keys = this.#keys, half = this.#half, hs = this.#hs;
    const whole = hs - (hs % STEP);
    let sum = 0;
    if (whole > 0) {
      const lanes = this.#lanes;
      lanes.fill(0);
      for (let i = 0; i < whole; i += STEP) {
        for (let l = 0; l < STEP; l++) {
          lanes[l] = fround(lanes[l] + hq[i + l] * half[keys[o + i + l]]);
        }
      }
      sum = reduceLanes(lanes);
    }
    for (let i = whole; i < hs; i++) sum += hq[i] * half[keys[o + i]];
    return fround(sum);
  }

  #roundQuery(q: Float32Array, qOff: number): Float32Array {
    const hq = this.#q, half = this.#half;
    for (let i = 0; i < this.#hs; i++) hq[i] = half[floatToHalf(q[qOff + i])];
    return hq;
  }

  /** `Σ half(q)·k_t` for t = 0..pos. */
  scores(
    layer: number,
    kvHead: number,
    q: Float32Array,
    qOff: number,
    pos: number,
    out: Float32Array,
  ): void {
    const hq = this.#roundQuery(q, qOff);
    const kvd = this.#kvDim;
    let o = layer * this.#layerStride + kvHead * this.#hs;
    for (let t = 0; t <= pos; t++, o += kvd) out[t] = this.#dot(hq, o);
  }

  /** `Σ_t p_t · v_t` into `out[outOff..]` (fp32 sums). */
  mix(
    layer: number,
    kvHead: number,
    p: Float32Array,
    pos: number,
    out: Float32Array,
    outOff: number,
  ): void {
    const values = this.#values, half = this.#half;
    const hs = this.#hs, kvd = this.#kvDim;
    for (let i = 0; i < hs; i++) out[outOff + i] = 0;
    let o = layer * this.#layerStride + kvHead * hs;
    for (let t = 0; t <= pos; t++, o += kvd) {
      const a = p[t];
      for (let i = 0; i < hs; i++) out[outOff + i] += a * half[values[o + i]];
    }
  }

  /**
   * Attention of one query head over positions 0..pos, as ggml's CPU flash
   * attention with F16 keys and values: `out[outOff..]` = softmax(scale ·
   * half(q)·K) · V, where the running sum of values is rounded to half after
   * each position (rescaled when a new maximum appears) and divided by the
   * float sum of weights at the end.
   */
  attend(
    layer: number,
    kvHead: number,
    q: Float32Array,
    qOff: number,
    pos: number,
    out: Float32Array,
    outOff: number,
    scale: number,
  ): void {
    const hq = this.#roundQuery(q, qOff), half = this.#half, acc = this.#acc;
    const values = this.#values;
    const hs = this.#hs, kvd = this.#kvDim;
    const fscale = fround(scale);
    acc.fill(0);
    let sum = 0, max = -Infinity;
    let o = layer * this.#layerStride + kvHead * hs;
    for (let t = 0; t <= pos; t++, o += kvd) {
      const s = fround(this.#dot(hq, o) * fscale);
      let ms = 1, vs = 1;
      if (s > max) {
        ms = fround(Math.exp(fround(max - s)));
        max = s;
        for (let i = 0; i < hs; i++) {
          acc[i] = half[floatToHalf(fround(acc[i] * ms))];
        }
      } else {
        vs = fround(Math.exp(fround(s - max)));
      }
      for (let i = 0; i < hs; i++) {
        acc[i] = half[floatToHalf(fround(acc[i] + half[values[o + i]] * vs))];
      }
      sum = fround(sum * ms + vs); // a fused multiply-add in ggml's build
    }
    const inv = sum === 0 ? 0 : fround(1 / sum);
    for (let i = 0; i < hs; i++) out[outOff + i] = acc[i] * inv;
  }

  /** Clears the stored keys and values. */
  reset(): void {
    this.#keys.fill(0);
    this.#values.fill(0);
  }
}
