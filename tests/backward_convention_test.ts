// One convention for every backward (as llm.c): it ADDS its gradients to
// what the buffers hold. Each backward is run into zeroed buffers (g) and
// into buffers holding c; the second must hold c + g.
import assert from "node:assert/strict";
import { Rng } from "../src/random.ts";
import {
  attentionBackward,
  attentionForward,
  type AttentionShape,
} from "../src/tensor/attention.ts";
import { biasBackward } from "../src/tensor/bias.ts";
import { embeddingBackward } from "../src/tensor/embedding.ts";
import { matmulBackwardF32 } from "../src/tensor/matmul.ts";
import { matmulBackwardF32Wasm } from "../src/tensor/matmul_wasm.ts";
import { rmsnormBackward, rmsnormForward } from "../src/tensor/rmsnorm.ts";
import { swigluBackward } from "../src/tensor/swiglu.ts";
import { wasmVariant } from "../src/wasm/runtime.ts";
import { randn } from "./gradcheck_util.ts";

const rng = new Rng(3);

/** Runs `backward` into fresh zeroed buffers and into buffers holding c. */
function checkAccumulates(
  name: string,
  sizes: number[],
  backward: (grads: Float32Array[]) => void,
): void {
  const fresh = sizes.map((n) => new Float32Array(n));
  backward(fresh);
  const start = sizes.map((n) => randn(n, rng));
  const acc = start.map((a) => a.slice());
  backward(acc);
  fresh.forEach((g, k) => {
    assert.ok(g.some((v) => v !== 0), `${name}: gradient ${k} is all zero`);
    for (let i = 0; i < g.length; i++) {
      const want = start[k][i] + g[i];
      assert.ok(
        Math.abs(acc[k][i] - want) <= 1e-5 * (1 + Math.abs(want)),
        `${name}: gradient ${k}[${i}] = ${acc[k][i]}, expected ${want}`,
      );
    }
  });
}

Deno.test("backward convention: every layer backward accumulates into its gradients", () => {
  const n = 6, dim = 8, hidden = 12;
  const x = randn(n * dim, rng),
    w = randn(dim, rng),
    dout = randn(n * dim, rng);
  const rstd = new Float32Array(n);
  rmsnormForward(new Float32Array(n * dim), rstd, x, w, n, dim, 1e-5);
  checkAccumulates("rmsnorm", [n * dim, dim], ([dx, dw]) => {
    rmsnormBackward(dx, dw, dout, x, w, rstd, n, dim);
  });

  const h1 = randn(n * hidden, rng), h3 = randn(n * hidden, rng);
  const dgate = randn(n * hidden, rng);
  checkAccumulates("swiglu", [n * hidden, n * hidden], ([d1, d3]) => {
    swigluBackward(d1, d3, dgate, h1, h3, n * hidden);
  });

  checkAccumulates("bias", [dim], ([db]) => biasBackward(db, dout, n, dim));

  const tokens = [0, 3, 3, 1, 4, 0];
  checkAccumulates("embedding", [5 * dim, 3 * dim], ([dt, dp]) => {
    embeddingBackward(dt, dp, dout, tokens, n, 3, dim);
  });

  const rows = 5, wm = randn(rows * dim, rng), dy = randn(n * rows, rng);
  checkAccumulates("matmul", [n * dim, rows * dim], ([dx, dw]) => {
    matmulBackwardF32(dx, dw, dy, x, wm, n, dim, rows);
  });
  if (wasmVariant() !== "none") {
    checkAccumulates("matmul (wasm)", [n * dim, rows * dim], ([dx, dw]) => {
      matmulBackwardF32Wasm(dx, dw, dy, x, wm, n, dim, rows);
    });
  }

  const shape: AttentionShape = {
    batch: 2,
    seqLen: 3,
    nHeads: 2,
    nKvHeads: 1,
    headSize: 4,
  };
  const q = randn(n * dim, rng), k = randn(n * 4, rng), v = randn(n * 4, rng);
  const att = new Float32Array(2 * 2 * 9);
  attentionForward(new Float32Array(n * dim), att, q, k, v, shape);
  checkAccumulates("attention", [n * dim, n * 4, n * 4], ([dq, dk, dv]) => {
    attentionBackward(
      dq,
      dk,
      dv,
      new Float32Array(3),
      dout,
      att,
      q,
      k,
      v,
      shape,
    );
  });
});
