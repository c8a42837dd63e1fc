/**
 * The decode forward pass: one token at one position against a KV cache, as
 * llama2.c's `forward`, with the sequence path's layer functions called on
 * one row. All buffers live in a {@linkcode RunState} created once per
 * model; the per-token path allocates nothing.
 *
 * @module
 */
import { allocating } from "../bytes.ts";
import { InputError, ShapeError } from "../errors.ts";
import type { KvCache } from "../kv/types.ts";
import { weightType } from "../quant/table.ts";
import { softmax } from "../tensor/attention.ts";
import { biasForward } from "../tensor/bias.ts";
import { rmsnormForward } from "../tensor/rmsnorm.ts";
import {
  ropeForward,
  ropeSetPosition,
  type RopeTable,
  ropeTable,
} from "../tensor/rope.ts";
import { swigluForward } from "../tensor/swiglu.ts";
import { modelArena, runStateMatvecBytes } from "./bind.ts";
import { headSize, kvDim, type ModelConfig, ropeShape } from "./config.ts";
import type { ModelWeights } from "./weights.ts";

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
  /** RoPE angles of the current position (one row, float32). */
  readonly rope: RopeTable;
  /** Reciprocal RMS of the last normalised vector `[1]`. */
  readonly rstd: Float32Array;
  /** Output logits `[vocabSize]`; {@linkcode forwardToken} returns this buffer. */
  readonly logits: Float32Array;
}

/**
 * Allocates the decode buffers for a model config. Pass the weights too when
 * they are bound to the wasm backend (`bindKernels`) so the buffers live in
 * the same memory as the weights.
 *
 * @example
 * ```ts
 * import { makeConfig } from "@proj/tinyllm";
 * import { createRunState } from "@proj/tinyllm/model";
 * import assert from "node:assert/strict";
 * const s = createRunState(makeConfig({ dim: 64, hiddenDim: 172, nLayers: 5,
 *   nHeads: 8, nKvHeads: 4, vocabSize: 512, seqLen: 512 }));
 * assert.equal(s.logits.length, 512);
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
  const floats = 4 * dim + 2 * hiddenDim + 2 * kv + seqLen + vocabSize;
  return allocating("a run state", 4 * floats, () => ({
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
    rope: ropeTable(ropeShape(config), 1, true),
    rstd: new Float32Array(1),
    logits: f(vocabSize),
  }));
}

/**
 * Runs one token at absolute position `pos` through the model, storing its
 * keys and values in `cache`, and returns the next-token logits (the state's
 * `logits` buffer, overwritten by the next call). Every matrix product goes
 * through the Linear layer's own kernels.
 *
 * @example Greedy next token
 * ```ts
 * import { makeConfig, randomModelWeights } from "@proj/tinyllm";
 * import { createRunState, forwardToken } from "@proj/tinyllm/model";
 * import { KvCacheFp32 } from "@proj/tinyllm/kv";
 * import assert from "node:assert/strict";
 * const w = randomModelWeights(makeConfig({ dim: 16, hiddenDim: 32, nLayers: 2,
 *   nHeads: 4, nKvHeads: 2, vocabSize: 10, seqLen: 8 }), 1);
 * const state = createRunState(w.config);
 * const cache = new KvCacheFp32(w.config);
 * const logits = forwardToken(w, state, cache, 1, 0);
 * assert.equal(logits.length, 10);
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
  const rope = posEmb ? null : state.rope;
  // the rotation angles depend only on the position: once per token
  if (rope) ropeSetPosition(rope, 0, pos);
  const rstd = state.rstd;

  for (let l = 0; l < weights.layers.length; l++) {
    const L = weights.layers[l];
    rmsnormForward(xb, rstd, x, L.rmsAtt, 1, dim, normEps);
    L.wq.kernels.matvec(L.wq.weight, xb, q);
    L.wk.kernels.matvec(L.wk.weight, xb, k);
    L.wv.kernels.matvec(L.wv.weight, xb, v);
    if (L.bq) biasForward(q, L.bq, 1, dim);
    if (L.bk) biasForward(k, L.bk, 1, kv);
    if (L.bv) biasForward(v, L.bv, 1, kv);
    if (rope) {
      ropeForward(q, 1, dim, 1, rope);
      ropeForward(k, 1, kv, 1, rope);
    }
    cache.store(l, pos, k, v);

    for (let h = 0; h < nHeads; h++) {
      const kvh = (h / group) | 0;
      if (cache.attend) {
        cache.attend(l, kvh, q, h * hs, pos, xb, h * hs, invSqrtHs);
        continue;
      }
      cache.scores(l, kvh, q, h * hs, pos, att);
      softmax(att, 0, n, invSqrtHs);
      cache.mix(l, kvh, att, pos, xb, h * hs);
    }
    L.wo.kernels.matvec(L.wo.weight, xb, xb2);
    for (let i = 0; i < dim; i++) x[i] += xb2[i];

    rmsnormForward(xb, rstd, x, L.rmsFfn, 1, dim, normEps);
    L.w1.kernels.matvec(L.w1.weight, xb, hb);
    L.w3.kernels.matvec(L.w3.weight, xb, hb2);
    swigluForward(hb, hb, hb2, c.hiddenDim);
    L.w2.kernels.matvec(L.w2.weight, hb, xb2);
    for (let i = 0; i < dim; i++) x[i] += xb2[i];
  }

  rmsnormForward(x, rstd, x, weights.rmsFinal, 1, dim, normEps);
  const cls = weights.classifier;
  cls.kernels.matvec(cls.weight, x, state.logits);
  return state.logits;
}
