/**
 * Model weights: what a checkpoint holds, separate from the config (shape) and
 * from the run state (activations, KV cache). Which tensors exist, their
 * shapes and their names in each file format are listed once, in the tensor
 * table (`tensors.ts`).
 *
 * @module
 */
import type { LinearKernels } from "../kernels/types.ts";
import type { QMatrix } from "../quant/types.ts";
import type { ModelConfig } from "./config.ts";

/** A weight matrix together with the kernels bound to it. */
export interface Linear {
  /** The packed weights, `[out, in]`. */
  readonly weight: QMatrix;
  /** The kernels that multiply by it. */
  readonly kernels: LinearKernels;
}

/** Weights of one transformer block. */
export interface LayerWeights {
  /** RMSNorm gain before attention, `[dim]`. */
  readonly rmsAtt: Float32Array;
  /** Query projection `[dim, dim]`. */
  readonly wq: Linear;
  /** Key projection `[kvDim, dim]`. */
  readonly wk: Linear;
  /** Value projection `[kvDim, dim]`. */
  readonly wv: Linear;
  /** Query bias `[dim]` (with `config.qkvBias`, else null). */
  readonly bq: Float32Array | null;
  /** Key bias `[kvDim]` (with `config.qkvBias`, else null). */
  readonly bk: Float32Array | null;
  /** Value bias `[kvDim]` (with `config.qkvBias`, else null). */
  readonly bv: Float32Array | null;
  /** Attention output projection `[dim, dim]`. */
  readonly wo: Linear;
  /** RMSNorm gain before the MLP, `[dim]`. */
  readonly rmsFfn: Float32Array;
  /** SwiGLU gate projection `[hidden, dim]`. */
  readonly w1: Linear;
  /** SwiGLU down projection `[dim, hidden]`. */
  readonly w2: Linear;
  /** SwiGLU up projection `[hidden, dim]`. */
  readonly w3: Linear;
}

/** All weights of a model. */
export interface ModelWeights {
  /** The model's shape. */
  readonly config: ModelConfig;
  /** Token embedding table `[vocab, dim]` (fp32 unless quantized by policy). */
  readonly tokenEmbedding: QMatrix;
  /** Learned absolute positions `[seqLen, dim]`, or null with RoPE. */
  readonly positionEmbedding: Float32Array | null;
  /** The transformer blocks. */
  readonly layers: readonly LayerWeights[];
  /** Final RMSNorm gain `[dim]`. */
  readonly rmsFinal: Float32Array;
  /**
   * Classifier `[vocab, dim]`; when `config.sharedClassifier`, its weight is
   * the very same object as `tokenEmbedding`.
   */
  readonly classifier: Linear;
}
