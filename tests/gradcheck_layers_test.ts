// Each layer's backward vs central finite differences of its forward.
import assert from "node:assert/strict";
import { Rng } from "../src/random.ts";
import { rmsnormBackward, rmsnormForward } from "../src/tensor/rmsnorm.ts";
import { ropeBackward, ropeForward, ropeTable } from "../src/tensor/rope.ts";
import {
  attentionBackward,
  attentionForward,
  type AttentionShape,
} from "../src/tensor/attention.ts";
import { swigluBackward, swigluForward } from "../src/tensor/swiglu.ts";
import {
  crossEntropyBackward,
  crossEntropyBackwardFromProbs,
  crossEntropyForward,
  crossEntropyForwardToProbs,
  expNonPositive,
} from "../src/tensor/crossentropy.ts";
import {
  embeddingBackward,
  embeddingForward,
} from "../src/tensor/embedding.ts";
import { matmulBackwardF32, matmulF32 } from "../src/tensor/matmul.ts";
import {
  assertGradClose,
  dotLoss,
  numericGrad,
  randn,
} from "./gradcheck_util.ts";

const rng = new Rng(7);

Deno.test("gradcheck: rmsnorm (x and gain)", () => {
  const n = 4, dim = 6;
  const x = randn(n * dim, rng),
    w = randn(dim, rng),
    dout = randn(n * dim, rng);
  const out = new Float32Array(n * dim), rstd = new Float32Array(n);
  const loss = () => {
    rmsnormForward(out, rstd, x, w, n, dim, 1e-5);
    return dotLoss(out, dout);
  };
  loss();
  const dx = new Float32Array(n * dim), dw = new Float32Array(dim);
  rmsnormBackward(dx, dw, dout, x, w, rstd, n, dim);
  assertGradClose("rmsnorm dx", dx, numericGrad(x, loss));
  assertGradClose("rmsnorm dw", dw, numericGrad(w, loss));
});

for (
  const [style, ropeDim] of [
    ["interleaved", 4],
    ["neox", 4],
    ["neox", 2],
    ["interleaved", 2],
  ] as const
) {
  Deno.test(`gradcheck: rope (${style}, ${ropeDim} of 4 dims rotated)`, () => {
    const T = 5, n = 2 * T, width = 8;
    const table = ropeTable(
      { headSize: 4, ropeDim, style, theta: 10000 },
      T,
    );
    const x = randn(n * width, rng), dout = randn(n * width, rng);
    const work = new Float32Array(n * width);
    const loss = () => {
      work.set(x);
      ropeForward(work, n, width, T, table);
      return dotLoss(work, dout);
    };
    const dx = dout.slice();
    ropeBackward(dx, n, width, T, table);
    assertGradClose("rope dx", dx, numericGrad(x, loss));
  });
}

for (const [nHeads, nKvHeads] of [[2, 1], [2, 2]]) {
  Deno.test(`gradcheck: causal attention, ${nHeads} heads / ${nKvHeads} kv`, () => {
    const shape: AttentionShape = {
      batch: 2,
      seqLen: 4,
      nHeads,
      nKvHeads,
      headSize: 3,
    };
    const n = 8, dim = nHeads * 3, kv = nKvHeads * 3;
    const q = randn(n * dim, rng),
      k = randn(n * kv, rng),
      v = randn(n * kv, rng);
    const dout = randn(n * dim, rng);
    const out = new Float32Array(n * dim);
    const att = new Float32Array(2 * nHeads * 16);
    const loss = () => {
      attentionForward(out, att, q, k, v, shape);
      return dotLoss(out, dout);
    };
    loss();
    const dq = new Float32Array(n * dim), dk = new Float32Array(n * kv);
    const dv = new Float32Array(n * kv);
    attentionBackward(
      dq,
      dk,
      dv,
      new Float32Array(4),
      dout,
      att,
      q,
      k,
      v,
      shape,
    );
    assertGradClose("attention dq", dq, numericGrad(q, loss));
    assertGradClose("attention dk", dk, numericGrad(k, loss));
    assertGradClose("attention dv", dv, numericGrad(v, loss));
  });
}

Deno.test("gradcheck: swiglu", () => {
  const n = 12;
  const h1 = randn(n, rng, 2), h3 = randn(n, rng), dout = randn(n, rng);
  const out = new Float32Array(n);
  const loss = () => {
    swigluForward(out, h1, h3, n);
    return dotLoss(out, dout);
  };
  const dh1 = new Float32Array(n), dh3 = new Float32Array(n);
  swigluBackward(dh1, dh3, dout, h1, h3, n);
  assertGradClose("swiglu dh1", dh1, numericGrad(h1, loss));
  assertGradClose("swiglu dh3", dh3, numericGrad(h3, loss));
});

Deno.test("gradcheck: cross-entropy", () => {
  const n = 3, V = 7, targets = [1, 6, 0];
  const logits = randn(n * V, rng, 2);
  const losses = new Float32Array(n), lse = new Float32Array(n);
  const loss = () => crossEntropyForward(losses, lse, logits, targets, n, V);
  const numeric = numericGrad(logits, loss);
  loss();
  const d = logits.slice();
  crossEntropyBackward(d, lse, targets, n, V, 1 / n);
  assertGradClose("cross-entropy dlogits", d, numeric);
});

Deno.test("gradcheck: cross-entropy through in-place probabilities (training path)", () => {
  const n = 3, V = 7, targets = [4, 0, 6];
  const logits = randn(n * V, rng, 2);
  const losses = new Float32Array(n), lse = new Float32Array(n);
  const loss = () => crossEntropyForward(losses, lse, logits, targets, n, V);
  const numeric = numericGrad(logits, loss);
  const probs = logits.slice();
  const mean = crossEntropyForwardToProbs(losses, probs, targets, n, V);
  assert.ok(Math.abs(mean - loss()) < 1e-6);
  crossEntropyBackwardFromProbs(probs, targets, n, V, 1 / n);
  assertGradClose("cross-entropy (probs) dlogits", probs, numeric);
});

Deno.test("gradcheck: embedding (tokens and learned positions)", () => {
  const V = 5, dim = 3, T = 3, n = 6, tokens = [0, 4, 4, 2, 1, 4];
  const table = randn(V * dim, rng), pos = randn(T * dim, rng);
  const dout = randn(n * dim, rng), out = new Float32Array(n * dim);
  const readRow = (r: number, o: Float32Array) =>
    o.set(table.subarray(r * dim, (r + 1) * dim));
  const loss = () => {
    embeddingForward(out, tokens, readRow, pos, n, T, dim);
    return dotLoss(out, dout);
  };
  const dt = new Float32Array(V * dim), dp = new Float32Array(T * dim);
  embeddingBackward(dt, dp, dout, tokens, n, T, dim);
  assertGradClose("embedding dtable", dt, numericGrad(table, loss));
  assertGradClose("embedding dpos", dp, numericGrad(pos, loss));
});

Deno.test("gradcheck: matmul (x and W, unrolled and remainder paths)", () => {
  const n = 6, cols = 5, rows = 7;
  const x = randn(n * cols, rng), w = randn(rows * cols, rng);
  const dout = randn(n * rows, rng), out = new Float32Array(n * rows);
  const loss = () => {
    matmulF32(out, x, w, n, cols, rows);
    return dotLoss(out, dout);
  };
  const dx = new Float32Array(n * cols), dw = new Float32Array(rows * cols);
  matmulBackwardF32(dx, dw, dout, x, w, n, cols, rows);
  assertGradClose("matmul dx", dx, numericGrad(x, loss));
  assertGradClose("matmul dw", dw, numericGrad(w, loss));
});

Deno.test("expNonPositive matches Math.exp to 2e-7 relative on [-87, 0], 0 below", () => {
  for (let x = -87; x <= 0; x += 0.0137) {
    const e = Math.exp(x);
    assert.ok(Math.abs(expNonPositive(x) - e) <= 2e-7 * e, `x=${x}`);
  }
  assert.equal(expNonPositive(0), 1);
  assert.equal(expNonPositive(-1000), 0);
});
