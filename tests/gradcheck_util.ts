// Shared helpers for the gradient-check tests (finite differences in fp32).
import assert from "node:assert/strict";
import type { Rng } from "../src/random.ts";

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
