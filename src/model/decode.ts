/**
 * The decode forward pass: one token at one position against a KV cache, as
 * llama2.c's `forward`. All buffers live in a {@linkcode RunState} created
 * once per model; the per-token path allocates nothing.
 *
 * @module
 */
import { InputError, ShapeError } from "../errors.ts";
import type { KvCache } from "../kv/types.ts";
import { weightType } from "../quant/table.ts";
import { rmsnorm, swiglu } from "../tensor/ops.ts";
import { headSize, kvDim, type ModelConfig } from "./config.ts";
import type { ModelWeights } from "./weights.ts";
import { runStateMatvecBytes } from "./model.ts";
import { modelArena } from "../quant/wasm/mod.ts";

/**
 * Activation buffers of the decode pass, sized for one model config. Create
 * once with {@linkcode createRunState} and reuse for every token.
 */
export interface RunState {
  /** The config the buffers were sized for. */
  readonly config: ModelConfig;
  /** Residual stream `[dim]`. */
  readonly x: Float32Array;
  /** Normalised input of a sub-layer `[dim]`. */
  readonly xb: Float32Array;
  /** Attention output before `wo`, or the MLP output `[dim]`. */
  readonly xb2: Float32Array;
  /** SwiGLU gate `[hiddenDim]`. */
  readonly hb: Float32Array;
  /** SwiGLU up projection `[hiddenDim]`. */
  readonly hb2: Float32Array;
  /** Query `[dim]`. */
  readonly q: Float32Array;
  /** Key `[kvDim]`. */
  readonly k: Float32Array;
  /** Value `[kvDim]`. */
  readonly v: Float32Array;
  /** Attention scores of one head over the visible positions (grows once to the cache's capacity). */
  att: Float32Array;
  /** RoPE cosines of the current position, one per pair in a head `[headSize/2]`. */
  readonly ropeCos: Float32Array;
  /** RoPE sines of the current position `[headSize/2]`. */
  readonly ropeSin: Float32Array;
  /** RoPE frequency of each pair in a head `[headSize/2]`: theta^(-2i/headSize). */
  readonly ropeFreq: Float64Array;
  /** Output logits `[vocabSize]`; {@linkcode forwardToken} returns this buffer. */
  readonly logits: Float32Array;
}

/**
 * Allocates the decode buffers for a model config. Pass the weights too when
 * they were prepared for WebAssembly ({@linkcode withBackend}) so the buffers
 * live in the same memory as the weights.
 *
 * @example
 * ```ts
 * import { createRunState } from "@proj/tinyllm";
 * const s = createRunState({ dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8,
 *   nKvHeads: 4, vocabSize: 512, seqLen: 512, positional: "rope",
 *   sharedClassifier: true, normEps: 1e-5, ropeTheta: 10000 });
 * console.log(s.logits.length); // 512
 * ```
 */
export function createRunState(
  config: ModelConfig,
  weights?: ModelWeights,
): RunState {
  const { dim, hiddenDim, vocabSize, seqLen } = config;
  const kv = kvDim(config);
  // Weights placed in a WebAssembly arena: put the buffers the kernels read
  // and write there too (no copies per product) while the arena has room.
  const arena = weights ? modelArena(weights) : undefined;
  const inArena = arena !== undefined &&
    arena.freeBytes >= runStateMatvecBytes(config);
  const f = (n: number) =>
    inArena ? arena.allocF32(n).fill(0) : new Float32Array(n);
  return {
    config,
    x: f(dim),
    xb: f(dim),
    xb2: f(dim),
    hb: f(hiddenDim),
    hb2: f(hiddenDim),
    q: f(dim),
    k: f(kv),
    v: f(kv),
    att: new Float32Array(seqLen),
    ropeCos: new Float32Array(headSize(config) / 2),
    ropeSin: new Float32Array(headSize(config) / 2),
    ropeFreq: Float64Array.from(
      { length: headSize(config) / 2 },
      (_, i) => 1 / Math.pow(config.ropeTheta, (2 * i) / headSize(config)),
    ),
    logits: f(vocabSize),
  };
}

/**
 * Runs one token at absolute position `pos` through the model, storing its
 * keys and values in `cache`, and returns the next-token logits (the state's
 * `logits` buffer, overwritten by the next call). Every matrix product goes
 * through the Linear layer's own kernels.
 *
 * @example Greedy next token
 * ```ts
 * import { createRunState, forwardToken, KvCacheFp32, randomModelWeights } from "@proj/tinyllm";
 * const w = randomModelWeights({ dim: 16, hiddenDim: 32, nLayers: 2, nHeads: 4,
 *   nKvHeads: 2, vocabSize: 10, seqLen: 8, positional: "rope",
 *   sharedClassifier: true, normEps: 1e-5, ropeTheta: 10000 }, 1);
 * const state = createRunState(w.config);
 * const cache = new KvCacheFp32(w.config);
 * const logits = forwardToken(w, state, cache, 1, 0);
 * console.log(logits.length); // 10
 * ```
 */
export function forwardToken(
  weights: ModelWeights,
  state: RunState,
  cache: KvCache,
  token: number,
  pos: number,
): Float32Array {
  const c = weights.config;
  const { dim, nHeads, nKvHeads, normEps } = c;
  const hs = headSize(c);
  const kv = kvDim(c);
  const group = nHeads / nKvHeads;
  const { x, xb, xb2, hb, hb2, q, k, v } = state;
  if (!(token >= 0 && token < c.vocabSize) || !Number.isInteger(token)) {
    throw new InputError(
      `token id ${token} is outside the vocabulary (0..${c.vocabSize - 1})`,
    );
  }
  if (!(pos >= 0) || !Number.isInteger(pos)) {
    throw new InputError(`position ${pos} must be a non-negative integer`);
  }
  if (state.config.dim !== dim || state.logits.length !== c.vocabSize) {
    throw new ShapeError("run state was created for a different model shape");
  }

  weightType(weights.tokenEmbedding.type).dequantizeRow(
    weights.tokenEmbedding,
    token,
    x,
  );
  const posEmb = weights.positionEmbedding;
  if (posEmb) {
    if (pos >= c.seqLen) {
      throw new InputError(
        `position ${pos} is past seqLen ${c.seqLen}: a model with learned positions cannot go further`,
      );
    }
    const o = pos * dim;
    for (let i = 0; i < dim; i++) x[i] += posEmb[o + i];
  }

  if (cache.capacity > state.att.length) {
    state.att = new Float32Array(cache.capacity);
  }
  const att = state.att;
  const first = cache.firstVisible(pos);
  const n = pos - first + 1;
  const invSqrtHs = 1 / Math.sqrt(hs);
  if (!posEmb) {
    // the rotation angles depend only on the position: once per token
    const { ropeCos, ropeSin, ropeFreq } = state;
    for (let i = 0; i < hs / 2; i++) {
      const a = pos * ropeFreq[i];
      ropeCos[i] = Math.cos(a);
      ropeSin[i] = Math.sin(a);
    }
  }

  for (let l = 0; l < weights.layers.length; l++) {
    const L = weights.layers[l];
    rmsnorm(xb, 0, x, 0, L.rmsAtt, dim, normEps);
    L.wq.kernels.matvec(L.wq.weight, xb, q);
    L.wk.kernels.matvec(L.wk.weight, xb, k);
    L.wv.kernels.matvec(L.wv.weight, xb, v);
    if (!posEmb) {
      rotate(q, dim, hs, state.ropeCos, state.ropeSin);
      rotate(k, kv, hs, state.ropeCos, state.ropeSin);
    }
    cache.store(l, pos, k, v);

    for (let h = 0; h < nHeads; h++) {
      const kvh = (h / group) | 0;
      cache.scores(l, kvh, q, h * hs, pos, att);
      scaledSoftmax(att, n, invSqrtHs);
      cache.mix(l, kvh, att, pos, xb, h * hs);
    }
    L.wo.kernels.matvec(L.wo.weight, xb, xb2);
    for (let i = 0; i < dim; i++) x[i] += xb2[i];

    rmsnorm(xb, 0, x, 0, L.rmsFfn, dim, normEps);
    L.w1.kernels.matvec(L.w1.weight, xb, hb);
    L.w3.kernels.matvec(L.w3.weight, xb, hb2);
    swiglu(hb, hb2, c.hiddenDim);
    L.w2.kernels.matvec(L.w2.weight, hb, xb2);
    for (let i = 0; i < dim; i++) x[i] += xb2[i];
  }

  rmsnorm(x, 0, x, 0, weights.rmsFinal, dim, normEps);
  const cls = weights.classifier;
  cls.kernels.matvec(cls.weight, x, state.logits);
  return state.logits;
}

/**
 * RoPE on adjacent pairs (llama2.c layout) with precomputed angles: pair j of
 * every head is rotated by the angle of pair j.
 */
function rotate(
  x: Float32Array,
  n: number,
  hs: number,
  cos: Float32Array,
  sin: Float32Array,
): void {
  for (let h = 0; h < n; h += hs) {
    for (let j = 0; j < hs; j += 2) {
      const c = cos[j >> 1], s = sin[j >> 1];
      const x0 = x[h + j], x1 = x[h + j + 1];
      x[h + j] = x0 * c - x1 * s;
      x[h + j + 1] = x0 * s + x1 * c;
    }
  }
}

/** In place: `x[t] = softmax(x · scale)[t]` over the first `n` elements (scale > 0). */
function scaledSoftmax(x: Float32Array, n: number, scale: number): void {
  let max = -Infinity;
  for (let t = 0; t < n; t++) if (x[t] > max) max = x[t];
  let sum = 0;
  for (let t = 0; t < n; t++) {
    const e = Math.exp((x[t] - max) * scale);
    x[t] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let t = 0; t < n; t++) x[t] *= inv;
}
