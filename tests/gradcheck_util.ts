// Shared helpers for the gradient-check tests (finite differences in fp32).
import assert from "node:assert/strict";
import type { ModelConfig } from "../src/model/config.ts";
import { createActivations, sequenceForward } from "../src/model/sequence.ts";
import { Rng } from "../src/random.ts";
import { createBackwardState, modelBackward } from "../src/train/backward.ts";
import {
  initParams,
  paramLayout,
  paramViews,
  weightsFromParams,
} from "../src/train/params.ts";

/** Fills a new array with N(0, std²) samples. */
export function randn(n: number, rng: Rng, std = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * std;
  return a;
}

/**
 * Central finite differences of `loss()` with respect to every element of
 * `x` (the real perturbation after float32 rounding is used as the step).
 */
export function numericGrad(
  x: Float32Array,
  loss: () => number,
  eps = 1e-2,
): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const orig = x[i];
    x[i] = orig + eps;
    const up = x[i];
    const lp = loss();
    x[i] = orig - eps;
    const down = x[i];
    const lm = loss();
    x[i] = orig;
    g[i] = (lp - lm) / (up - down);
  }
  return g;
}

/**
 * Asserts analytic ≈ numeric: relative error of the whole tensor
 * ‖a − n‖ / max(‖a‖, ‖n‖, floor) below `tol`, and no element off by more
 * than `tol·max|n| + atol`.
 */
export function assertGradClose(
  name: string,
  analytic: ArrayLike<number>,
  numeric: ArrayLike<number>,
  tol = 2e-2,
  atol = 2e-4,
): void {
  let diff = 0, na = 0, nn = 0, maxN = 0;
  for (let i = 0; i < numeric.length; i++) {
    diff += (analytic[i] - numeric[i]) ** 2;
    na += analytic[i] ** 2;
    nn += numeric[i] ** 2;
    maxN = Math.max(maxN, Math.abs(numeric[i]));
  }
  const rel = Math.sqrt(diff) / Math.max(Math.sqrt(na), Math.sqrt(nn), 1e-6);
  assert.ok(
    nn > 0 || na === 0,
    `${name}: numeric gradient is all zero but analytic is not`,
  );
  assert.ok(rel < tol, `${name}: relative gradient error ${rel} ≥ ${tol}`);
  for (let i = 0; i < numeric.length; i++) {
    const e = Math.abs(analytic[i] - numeric[i]);
    assert.ok(
      e <= tol * maxN + atol,
      `${name}[${i}]: analytic ${analytic[i]} vs numeric ${numeric[i]}`,
    );
  }
}

/** Σ out[i]·weights[i] in float64: a scalar loss with a known ∂L/∂out. */
export function dotLoss(out: Float32Array, weights: Float32Array): number {
  let s = 0;
  for (let i = 0; i < out.length; i++) s += out[i] * weights[i];
  return s;
}

/**
 * Checks `modelBackward` against central finite differences of the mean
 * cross-entropy of `sequenceForward`, for every parameter of `cfg` (B = 2
 * rows of T = cfg.seqLen tokens, a larger init than training's and every
 * vector moved away from its init so each gradient is well above fp32
 * noise). Returns the gradient.
 */
export function checkModelGradient(cfg: ModelConfig): Float32Array {
  const B = 2, T = cfg.seqLen, V = cfg.vocabSize;
  const layout = paramLayout(cfg);
  const flat = initParams(layout, 3, 0.5);
  const rng = new Rng(11);
  for (const s of layout.specs) {
    if (s.shape.length === 1) {
      const centre = s.spec.init === "ones" ? 1 : 0;
      for (let i = s.offset; i < s.offset + s.size; i++) {
        flat[i] = centre + 0.3 * rng.normal();
      }
    }
  }
  const params = paramViews(layout, flat);
  const weights = weightsFromParams(cfg, params);
  const acts = createActivations(cfg, B, T);
  const tokens: number[] = [], targets: number[] = [];
  for (let i = 0; i < B * T; i++) {
    tokens.push(rng.int(V));
    targets.push(rng.int(V));
  }
  const loss = () => sequenceForward(weights, acts, tokens, targets);
  const numeric = numericGrad(flat, loss, 1e-2);
  const grad = new Float32Array(layout.size);
  // the training path: probabilities replace the logits in place
  sequenceForward(weights, acts, tokens, targets, { keepLogits: false });
  assert.ok(acts.logitsAreProbs);
  modelBackward(
    params,
    paramViews(layout, grad),
    acts,
    createBackwardState(cfg, B, T),
    tokens,
    targets,
  );
  for (const s of layout.specs) {
    assertGradClose(
      s.name,
      grad.subarray(s.offset, s.offset + s.size),
      numeric.subarray(s.offset, s.offset + s.size),
      3e-2,
      5e-4,
    );
  }
  assert.ok(grad.some((g) => g !== 0));
  return grad;
}
