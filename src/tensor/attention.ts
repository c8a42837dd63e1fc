/**
 * Causal multi-head attention with grouped-query heads over whole sequences,
 * forward and backward side by side.
 *
 * Layout: rows are `[batch, seqLen]`; `q`/`out` are `[n, nHeads·headSize]`,
 * `k`/`v` are `[n, nKvHeads·headSize]`; query head `h` reads key/value head
 * `h / (nHeads / nKvHeads)`. The softmax probabilities are saved in `att`,
 * `[batch, nHeads, seqLen, seqLen]` (only the causal part `t2 ≤ t` is used).
 *
 * @module
 */

/** Shape of an attention call. */
export interface AttentionShape {
  /** Batch rows. */
  batch: number;
  /** Positions per batch row. */
  seqLen: number;
  /** Query heads. */
  nHeads: number;
  /** Key/value heads (divides nHeads). */
  nKvHeads: number;
  /** Width of one head. */
  headSize: number;
}

function dot(
  a: Float32Array,
  ao: number,
  b: Float32Array,
  bo: number,
  n: number,
): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[ao + i] * b[bo + i];
  return s;
}

/** `y[yo..] += alpha · x[xo..]` over n elements. */
function axpy(
  y: Float32Array,
  yo: number,
  alpha: number,
  x: Float32Array,
  xo: number,
  n: number,
): void {
  for (let i = 0; i < n; i++) y[yo + i] += alpha * x[xo + i];
}

/**
 * In place: `x[off+i] = softmax(x · scale)[i]` over `n` elements (scale > 0),
 * with float32 stores of the exponentials and an fp64 sum. The sequence
 * path passes scores already divided by √headSize and scale 1; decode passes
 * raw scores and 1/√headSize.
 *
 * @example
 * ```ts
 * import { softmax } from "@proj/tinyllm/tensor";
 * const x = new Float32Array([0, Math.log(3)]);
 * softmax(x, 0, 2, 1);
 * console.log(x); // [0.25, 0.75]
 * ```
 */
export function softmax(
  x: Float32Array,
  off: number,
  n: number,
  scale: number,
): void {
  let max = -Infinity;
  for (let i = off; i < off + n; i++) if (x[i] > max) max = x[i];
  let sum = 0;
  for (let i = off; i < off + n; i++) {
    const e = Math.exp((x[i] - max) * scale);
    x[i] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let i = off; i < off + n; i++) x[i] *= inv;
}

/**
 * Forward: `out = softmax(q·kᵀ/√hs, causal) · v` per head; saves `att`.
 *
 * @example
 * ```ts
 * import { attentionForward } from "@proj/tinyllm/tensor";
 * const shape = { batch: 1, seqLen: 2, nHeads: 1, nKvHeads: 1, headSize: 2 };
 * const q = new Float32Array(4), k = new Float32Array(4);
 * const v = new Float32Array([1, 2, 3, 4]);
 * const out = new Float32Array(4), att = new Float32Array(4);
 * attentionForward(out, att, q, k, v, shape);
 * console.log(out); // [1, 2, 2, 3]: position 1 averages v0 and v1
 * ```
 */
export function attentionForward(
  out: Float32Array,
  att: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  shape: AttentionShape,
): void {
  const { batch, seqLen: T, nHeads, nKvHeads, headSize: hs } = shape;
  const dim = nHeads * hs, kvDim = nKvHeads * hs, group = nHeads / nKvHeads;
  const sqrtHs = Math.sqrt(hs);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < nHeads; h++) {
      const kvBase = b * T * kvDim + ((h / group) | 0) * hs;
      for (let t = 0; t < T; t++) {
        const qo = (b * T + t) * dim + h * hs;
        const ao = ((b * nHeads + h) * T + t) * T;
        for (let t2 = 0; t2 <= t; t2++) {
          // divide (not multiply) as llama2.c does
          att[ao + t2] = dot(q, qo, k, kvBase + t2 * kvDim, hs) / sqrtHs;
        }
        softmax(att, ao, t + 1, 1);
        out.fill(0, qo, qo + hs);
        for (let t2 = 0; t2 <= t; t2++) {
          axpy(out, qo, att[ao + t2], v, kvBase + t2 * kvDim, hs);
        }
      }
    }
  }
}

/**
 * Backward of {@linkcode attentionForward}: accumulates into `dq`, `dk`,
 * `dv` (zero them first) given `dout`; `scratch` holds ≥ seqLen floats.
 *
 * @example
 * ```ts
 * import { attentionBackward, attentionForward } from "@proj/tinyllm/tensor";
 * const shape = { batch: 1, seqLen: 2, nHeads: 1, nKvHeads: 1, headSize: 2 };
 * const q = new Float32Array(4), k = new Float32Array(4), v = new Float32Array(4);
 * const out = new Float32Array(4), att = new Float32Array(4);
 * attentionForward(out, att, q, k, v, shape);
 * const dq = new Float32Array(4), dk = new Float32Array(4), dv = new Float32Array(4);
 * attentionBackward(dq, dk, dv, new Float32Array(2), new Float32Array([1, 0, 1, 0]),
 *   att, q, k, v, shape);
 * console.log(dv); // [1.5, 0, 0.5, 0]
 * ```
 */
export function attentionBackward(
  dq: Float32Array,
  dk: Float32Array,
  dv: Float32Array,
  scratch: Float32Array,
  dout: Float32Array,
  att: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  shape: AttentionShape,
): void {
  const { batch, seqLen: T, nHeads, nKvHeads, headSize: hs } = shape;
  const dim = nHeads * hs, kvDim = nKvHeads * hs, group = nHeads / nKvHeads;
  const scale = 1 / Math.sqrt(hs);
  const datt = scratch;
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < nHeads; h++) {
      const kvBase = b * T * kvDim + ((h / group) | 0) * hs;
      for (let t = 0; t < T; t++) {
        const qo = (b * T + t) * dim + h * hs;
        const ao = ((b * nHeads + h) * T + t) * T;
        // d(probabilities) and dv
        let dotPd = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          const vo = kvBase + t2 * kvDim;
          const p = att[ao + t2];
          const s = dot(dout, qo, v, vo, hs);
          axpy(dv, vo, p, dout, qo, hs);
          datt[t2] = s;
          dotPd += p * s;
        }
        // through the softmax, then the scaled dot products
        for (let t2 = 0; t2 <= t; t2++) {
          const ds = att[ao + t2] * (datt[t2] - dotPd) * scale;
          const ko = kvBase + t2 * kvDim;
          axpy(dq, qo, ds, k, ko, hs);
          axpy(dk, ko, ds, q, qo, hs);
        }
      }
    }
  }
}
