/**
 * Model-level backward pass: from the activations saved by
 * `sequenceForward` to the gradient of the mean cross-entropy with respect to
 * every parameter, accumulated into a gradient buffer with the parameter
 * layout.
 *
 * @module
 */
import { kvDim, type ModelConfig } from "../model/config.ts";
import type { Activations } from "../model/sequence.ts";
import { attentionBackward } from "../tensor/attention.ts";
import { biasBackward } from "../tensor/bias.ts";
import {
  crossEntropyBackward,
  crossEntropyBackwardFromProbs,
} from "../tensor/crossentropy.ts";
import { embeddingBackward } from "../tensor/embedding.ts";
import { rmsnormBackward } from "../tensor/rmsnorm.ts";
import { ropeBackward } from "../tensor/rope.ts";
import { swigluBackward } from "../tensor/swiglu.ts";
import { jsTrainKernels, type TrainKernels } from "../tensor/train_kernels.ts";
import type { ParamViews } from "./params.ts";

/**
 * Gradient scratch of the activations, allocated once per (config, B, T).
 * Every backward function accumulates into its gradients, so the scratch of
 * one block is one buffer (`block`) zeroed once per block; `dres` carries
 * the residual stream's gradient from block to block.
 */
export interface BackwardState {
  /** ∂L/∂(residual stream) `[N, dim]`. */
  readonly dres: Float32Array;
  /** All of one block's scratch below, zeroed together. */
  readonly block: Float32Array;
  /** ∂L/∂(normalised input of the MLP) `[N, dim]`. */
  readonly dxbFfn: Float32Array;
  /** ∂L/∂(normalised input of attention) `[N, dim]`. */
  readonly dxbAtt: Float32Array;
  /** `[N, dim]`. */
  readonly dq: Float32Array;
  /** `[N, kvDim]`. */
  readonly dk: Float32Array;
  /** `[N, kvDim]`. */
  readonly dv: Float32Array;
  /** ∂L/∂(attention output before wo) `[N, dim]`. */
  readonly dattOut: Float32Array;
  /** `[N, hidden]`. */
  readonly dh1: Float32Array;
  /** `[N, hidden]`. */
  readonly dh3: Float32Array;
  /** ∂L/∂(silu(h1)·h3) `[N, hidden]`. */
  readonly dgate: Float32Array;
  /** ∂L/∂(final normalised output) `[N, dim]`. */
  readonly dxFinal: Float32Array;
  /** `[T]`. */
  readonly scratch: Float32Array;
}

/**
 * Allocates the backward scratch for `batch` rows of `seqLen` positions.
 *
 * @example
 * ```ts
 * import { makeConfig } from "@proj/tinyllm";
 * import { createBackwardState } from "@proj/tinyllm/train";
 * const s = createBackwardState(makeConfig({ dim: 8, hiddenDim: 12, nLayers: 1,
 *   nHeads: 2, nKvHeads: 1, vocabSize: 11, seqLen: 5 }), 2, 5);
 * console.log(s.dres.length); // 80
 * ```
 */
export function createBackwardState(
  config: ModelConfig,
  batch: number,
  seqLen: number,
): BackwardState {
  const n = batch * seqLen, kv = kvDim(config);
  const { dim, hiddenDim } = config;
  const sizes = {
    dxbFfn: n * dim,
    dxbAtt: n * dim,
    dq: n * dim,
    dk: n * kv,
    dv: n * kv,
    dattOut: n * dim,
    dh1: n * hiddenDim,
    dh3: n * hiddenDim,
    dgate: n * hiddenDim,
  };
  let total = 0;
  for (const size of Object.values(sizes)) total += size;
  const block = new Float32Array(total);
  const views: Record<string, Float32Array> = {};
  let o = 0;
  for (const [name, size] of Object.entries(sizes)) {
    views[name] = block.subarray(o, o + size);
    o += size;
  }
  return {
    dres: new Float32Array(n * dim),
    block,
    dxbFfn: views.dxbFfn,
    dxbAtt: views.dxbAtt,
    dq: views.dq,
    dk: views.dk,
    dv: views.dv,
    dattOut: views.dattOut,
    dh1: views.dh1,
    dh3: views.dh3,
    dgate: views.dgate,
    dxFinal: new Float32Array(n * dim),
    scratch: new Float32Array(seqLen),
  };
}

/**
 * Backpropagates the mean cross-entropy of the last
 * `sequenceForward(weights, acts, tokens, targets)` call (with `params` the
 * views those weights were built from) and ACCUMULATES the gradient into
 * `grads` (zero it first). Overwrites `acts.logits` with their gradient.
 *
 * @example
 * ```ts
 * import { makeConfig } from "@proj/tinyllm";
 * import { createActivations, sequenceForward } from "@proj/tinyllm/model";
 * import { createBackwardState, initParams, modelBackward, paramLayout,
 *   paramViews, weightsFromParams } from "@proj/tinyllm/train";
 * const cfg = makeConfig({ dim: 8, hiddenDim: 12, nLayers: 1, nHeads: 2,
 *   nKvHeads: 1, vocabSize: 11, seqLen: 5 });
 * const layout = paramLayout(cfg);
 * const params = paramViews(layout, initParams(layout, 1));
 * const grad = new Float32Array(layout.size);
 * const acts = createActivations(cfg, 1, 5);
 * const tokens = [1, 2, 3, 4, 5], targets = [2, 3, 4, 5, 6];
 * sequenceForward(weightsFromParams(cfg, params), acts, tokens, targets);
 * modelBackward(params, paramViews(layout, grad), acts,
 *   createBackwardState(cfg, 1, 5), tokens, targets);
 * console.log(grad.some((g) => g !== 0)); // true
 * ```
 */
export function modelBackward(
  params: ParamViews,
  grads: ParamViews,
  acts: Activations,
  state: BackwardState,
  tokens: ArrayLike<number>,
  targets: ArrayLike<number>,
  kernels: TrainKernels = jsTrainKernels,
): void {
  const cfg = acts.config;
  const { n, seqLen: T } = acts;
  const { dim, hiddenDim, vocabSize } = cfg;
  const kv = kvDim(cfg);
  const s = state;

  // loss → logits (in place: the one backward that overwrites) → final norm
  if (acts.logitsAreProbs) {
    crossEntropyBackwardFromProbs(acts.logits, targets, n, vocabSize, 1 / n);
  } else {
    crossEntropyBackward(acts.logits, acts.lse, targets, n, vocabSize, 1 / n);
  }
  const dlogits = acts.logits;
  s.dxFinal.fill(0);
  kernels.matmulBackward(
    s.dxFinal,
    grads.classifier,
    dlogits,
    acts.xFinal,
    params.classifier,
    n,
    dim,
    vocabSize,
  );
  s.dres.fill(0);
  rmsnormBackward(
    s.dres,
    grads.rmsFinal,
    s.dxFinal,
    acts.xOut,
    params.rmsFinal,
    acts.rstdFinal,
    n,
    dim,
  );

  for (let l = cfg.nLayers - 1; l >= 0; l--) {
    const a = acts.layers[l], p = params.layers[l], g = grads.layers[l];
    s.block.fill(0);
    // MLP: next = mid + w2·(silu(w1·xb)·(w3·xb)), xb = rmsnorm(mid)
    kernels.matmulBackward(
      s.dgate,
      g.w2,
      s.dres,
      a.gate,
      p.w2,
      n,
      hiddenDim,
      dim,
    );
    swigluBackward(s.dh1, s.dh3, s.dgate, a.h1, a.h3, n * hiddenDim);
    kernels.matmulBackward(
      s.dxbFfn,
      g.w1,
      s.dh1,
      a.xbFfn,
      p.w1,
      n,
      dim,
      hiddenDim,
    );
    kernels.matmulBackward(
      s.dxbFfn,
      g.w3,
      s.dh3,
      a.xbFfn,
      p.w3,
      n,
      dim,
      hiddenDim,
    );
    // dres already holds the residual path; add the path through the norm
    rmsnormBackward(
      s.dres,
      g.rmsFfn,
      s.dxbFfn,
      a.mid,
      p.rmsFfn,
      a.rstdFfn,
      n,
      dim,
    );

    // attention: mid = x + wo·attn(rope(wq·xb + bq), rope(wk·xb + bk), wv·xb + bv)
    kernels.matmulBackward(
      s.dattOut,
      g.wo,
      s.dres,
      a.attOut,
      p.wo,
      n,
      dim,
      dim,
    );
    attentionBackward(
      s.dq,
      s.dk,
      s.dv,
      s.scratch,
      s.dattOut,
      a.att,
      a.q,
      a.k,
      a.v,
      acts.attention,
    );
    if (acts.rope) {
      ropeBackward(s.dq, n, dim, T, acts.rope);
      ropeBackward(s.dk, n, kv, T, acts.rope);
    }
    if (g.bq) biasBackward(g.bq, s.dq, n, dim);
    if (g.bk) biasBackward(g.bk, s.dk, n, kv);
    if (g.bv) biasBackward(g.bv, s.dv, n, kv);
    kernels.matmulBackward(s.dxbAtt, g.wq, s.dq, a.xbAtt, p.wq, n, dim, dim);
    kernels.matmulBackward(s.dxbAtt, g.wk, s.dk, a.xbAtt, p.wk, n, dim, kv);
    kernels.matmulBackward(s.dxbAtt, g.wv, s.dv, a.xbAtt, p.wv, n, dim, kv);
    rmsnormBackward(
      s.dres,
      g.rmsAtt,
      s.dxbAtt,
      a.x,
      p.rmsAtt,
      a.rstdAtt,
      n,
      dim,
    );
  }

  embeddingBackward(
    grads.tokenEmbedding,
    grads.positionEmbedding,
    s.dres,
    tokens,
    n,
    T,
    dim,
  );
}
