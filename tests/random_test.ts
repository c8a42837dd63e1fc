import assert from "node:assert/strict";
import { Rng } from "../src/random.ts";

Deno.test("Rng: same seed gives the same sequence, different seeds differ", () => {
  const a = new Rng(7), b = new Rng(7), c = new Rng(8);
  const sa = Array.from({ length: 50 }, () => a.nextU32());
  const sb = Array.from({ length: 50 }, () => b.nextU32());
  const sc = Array.from({ length: 50 }, () => c.nextU32());
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
});

Deno.test("Rng: uniform mean and normal moments are plausible", () => {
  const r = new Rng(123);
  let s = 0, s2 = 0, u = 0;
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const z = r.normal();
    s += z;
    s2 += z * z;
    u += r.next();
  }
  assert.ok(Math.abs(s / n) < 0.02, `normal mean ${s / n}`);
  assert.ok(Math.abs(s2 / n - 1) < 0.03, `normal variance ${s2 / n}`);
  assert.ok(Math.abs(u / n - 0.5) < 0.01, `uniform mean ${u / n}`);
});
