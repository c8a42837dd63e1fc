/**
 * AdamW with decoupled weight decay, the learning-rate schedule (linear
 * warmup, then cosine decay to a floor) and global-norm gradient clipping,
 * all as plain loops over the flat parameter/gradient/moment buffers.
 *
 * @module
 */
import type { ParamLayout } from "./params.ts";

/** AdamW hyper-parameters. */
export interface AdamWOptions {
  /** β₁ (default 0.9). */
  beta1: number;
  /** β₂ (default 0.95). */
  beta2: number;
  /** ε (default 1e-8). */
  eps: number;
  /** Decoupled weight decay, applied only to tensors whose spec says `decay`. */
  weightDecay: number;
}

/**
 * One AdamW update of every parameter, in place. `step` counts from 1 (bias
 * correction). Weight decay is decoupled (`p -= lr·wd·p`) and skipped for
 * RMSNorm gains and embeddings (their `decay` flag is false).
 *
 * @example
 * ```ts
 * import { makeConfig } from "@proj/tinyllm";
 * import { adamwStep, paramLayout } from "@proj/tinyllm/train";
 * const layout = paramLayout(makeConfig({ dim: 8, hiddenDim: 12, nLayers: 1, nHeads: 2, nKvHeads: 1, vocabSize: 11, seqLen: 5 }));
 * const p = new Float32Array(layout.size), g = new Float32Array(layout.size).fill(1);
 * const m = new Float32Array(layout.size), v = new Float32Array(layout.size);
 * adamwStep(layout, p, g, m, v, 1, 0.01, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 });
 * console.log(p[0].toFixed(4)); // "-0.0100"
 * ```
 */
export function adamwStep(
  layout: ParamLayout,
  params: Float32Array,
  grads: Float32Array,
  m: Float32Array,
  v: Float32Array,
  step: number,
  lr: number,
  opts: AdamWOptions,
): void {
  const { beta1, beta2, eps, weightDecay } = opts;
  const c1 = 1 / (1 - Math.pow(beta1, step));
  const c2 = 1 / (1 - Math.pow(beta2, step));
  for (const spec of layout.specs) {
    const wd = spec.decay ? weightDecay : 0;
    const end = spec.offset + spec.size;
    for (let i = spec.offset; i < end; i++) {
      const g = grads[i];
      const mi = beta1 * m[i] + (1 - beta1) * g;
      const vi = beta2 * v[i] + (1 - beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      params[i] -= lr *
        ((mi * c1) / (Math.sqrt(vi * c2) + eps) + wd * params[i]);
    }
  }
}

/**
 * Scales `grads` in place so their global L2 norm is at most `maxNorm`
 * (no-op when `maxNorm` ≤ 0). Returns the norm before clipping.
 *
 * @example
 * ```ts
 * import { clipGradNorm } from "@proj/tinyllm/train";
 * const g = new Float32Array([3, 4]);
 * console.log(clipGradNorm(g, 1), g); // 5 Float32Array(2) [ 0.6..., 0.8... ]
 * ```
 */
export function clipGradNorm(grads: Float32Array, maxNorm: number): number {
  let ss = 0;
  for (let i = 0; i < grads.length; i++) ss += grads[i] * grads[i];
  const norm = Math.sqrt(ss);
  if (maxNorm > 0 && norm > maxNorm) {
    const s = maxNorm / (norm + 1e-6);
    for (let i = 0; i < grads.length; i++) grads[i] *= s;
  }
  return norm;
}

/** Learning-rate schedule parameters. */
export interface ScheduleOptions {
  /** Peak learning rate. */
  lr: number;
  /** Warmup steps (linear from lr/warmup up to lr). */
  warmup: number;
  /** Total steps (cosine reaches minLr at the last step). */
  steps: number;
  /** Floor of the cosine decay. */
  minLr: number;
}

/**
 * Learning rate at `step` (from 0): `lr·(step+1)/warmup` during warmup, then
 * cosine decay from `lr` to `minLr` over the remaining steps.
 *
 * @example
 * ```ts
 * import { learningRate } from "@proj/tinyllm/train";
 * const s = { lr: 1e-3, warmup: 10, steps: 100, minLr: 1e-4 };
 * console.log(learningRate(0, s), learningRate(9, s)); // 0.0001 0.001
 * ```
 */
export function learningRate(step: number, s: ScheduleOptions): number {
  if (step < s.warmup) return (s.lr * (step + 1)) / s.warmup;
  const span = s.steps - 1 - s.warmup;
  if (span <= 0) return s.lr;
  const progress = Math.min(1, (step - s.warmup) / span);
  return s.minLr + 0.5 * (s.lr - s.minLr) * (1 + Math.cos(Math.PI * progress));
}
