/**
 * Kernel speed of the ggml block types on a stories15M-shaped set of
 * matrices (dim 288, hidden 768, 6 layers, vocab 32000: the matvecs of one
 * decoded token), next to the project's own int8/int4 wasm kernels on the
 * same shapes, in one process, interleaved rounds, medians.
 *
 * `deno task bench:ggml [--rounds N] [--js]`
 *
 * Prints per engine/type: ms per token of matvecs (median and best round),
 * the equivalent tok/s ceiling (matvecs only: no attention, norms or
 * sampling), and GB/s of weight bytes read.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { GGML_TYPE } from "../src/io/gguf.ts";
import {
  type GgmlBlockType,
  ggmlBlockType,
  ggmlMatmul,
  ggmlMatmulWasm,
  ggmlQuantize,
} from "../src/quant/ggml/mod.ts";
import { weightType } from "../src/quant/table.ts";
import type { QMatrix } from "../src/quant/types.ts";
import { wasmVariant } from "../src/wasm/runtime.ts";
import { kernelsFor } from "../src/kernels/select.ts";

const USAGE = "usage: bench:ggml [--rounds N] [--js]";
const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "7" },
    js: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const ROUNDS = Number(values.rounds);
if (!(Number.isInteger(ROUNDS) && ROUNDS >= 1)) {
  console.error(`--rounds must be a positive integer (${USAGE})`);
  Deno.exit(2);
}
const dim = 288, hidden = 768, layers = 6, vocab = 32000;
// [rows, cols] of each matvec of one token
const shapes: [number, number][] = [];
for (let l = 0; l < layers; l++) {
  shapes.push([dim, dim], [dim, dim], [dim, dim], [dim, dim], [hidden, dim], [
    hidden,
    dim,
  ], [dim, hidden]);
}
shapes.push([vocab, dim]);

let seed = 7;
const rnd = () =>
  (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5;
const floats = shapes.map(([r, c]) =>
  Float32Array.from({ length: r * c }, rnd)
);
const xs = shapes.map(([, c]) => Float32Array.from({ length: c }, rnd));
const outs = shapes.map(([r]) => new Float32Array(r));

interface Engine {
  name: string;
  bytes: number;
  run(): void;
}
const engines: Engine[] = [];

function ggmlEngine(t: GgmlBlockType, wasm: boolean): Engine {
  // K types need rows of 256: pad the 288-wide inputs' shapes by skipping them
  const ws = shapes.map(([r, c], i) => ggmlQuantize(t, floats[i], r, c));
  return {
    name: `${wasm ? "wasm" : "js"} ggml ${t.name}`,
    bytes: ws.reduce((a, w) => a + w.length, 0),
    run() {
      for (let i = 0; i < shapes.length; i++) {
        const [r, c] = shapes[i];
        if (wasm) ggmlMatmulWasm(t, ws[i], r, c, xs[i], 1, outs[i]);
        else ggmlMatmul(t, ws[i], r, c, xs[i], 1, outs[i]);
      }
    },
  };
}

function ownEngine(name: "int8" | "int4", wasm = true): Engine {
  const t = weightType(name);
  const ms: QMatrix[] = shapes.map(([r, c], i) =>
    t.quantize(floats[i], r, c, t.defaultGranularity ?? "row")
  );
  const k = kernelsFor(name, wasm ? "wasm" : "js");
  return {
    name: `${wasm ? "wasm" : "js"} own ${name}`,
    bytes: ms.reduce((a, m) => a + t.byteSize(m), 0),
    run() {
      for (let i = 0; i < shapes.length; i++) k.matvec(ms[i], xs[i], outs[i]);
    },
  };
}

const types = [
  GGML_TYPE.Q8_0,
  GGML_TYPE.Q4_0,
  GGML_TYPE.Q4_1,
  GGML_TYPE.Q5_0,
  GGML_TYPE.F16,
  GGML_TYPE.F32,
];
console.log(
  `wasm variant: ${wasmVariant()}; K types (Q4_K, Q5_K, Q6_K) need rows of 256: measured on dim 256 / hidden 768 below`,
);
for (const id of types) engines.push(ggmlEngine(ggmlBlockType(id), true));
engines.push(ownEngine("int8"), ownEngine("int4"));
if (values.js) {
  for (const id of [GGML_TYPE.Q8_0, GGML_TYPE.Q4_0]) {
    engines.push(ggmlEngine(ggmlBlockType(id), false));
  }
  engines.push(ownEngine("int8", false), ownEngine("int4", false));
}

// K types: same structure with dim 256
const kShapes: [number, number][] = [];
for (let l = 0; l < layers; l++) {
  kShapes.push([256, 256], [256, 256], [256, 256], [256, 256], [hidden, 256], [
    hidden,
    256,
  ], [256, hidden]);
}
kShapes.push([vocab, 256]);
const kFloats = kShapes.map(([r, c]) =>
  Float32Array.from({ length: r * c }, rnd)
);
const kXs = kShapes.map(([, c]) => Float32Array.from({ length: c }, rnd));
for (
  const id of [
    GGML_TYPE.Q4_K,
    GGML_TYPE.Q5_K,
    GGML_TYPE.Q6_K,
    GGML_TYPE.Q8_0,
    GGML_TYPE.Q4_0,
  ]
) {
  const t = ggmlBlockType(id);
  const ws = kShapes.map(([r, c], i) => ggmlQuantize(t, kFloats[i], r, c));
  engines.push({
    name: `wasm ggml ${t.name} (dim 256)`,
    bytes: ws.reduce((a, w) => a + w.length, 0),
    run() {
      for (let i = 0; i < kShapes.length; i++) {
        const [r, c] = kShapes[i];
        ggmlMatmulWasm(
          t,
          ws[i],
          r,
          c,
          kXs[i],
          1,
          outs[i].length >= r ? outs[i] : new Float32Array(r),
        );
      }
    },
  });
}

const times = engines.map(() => [] as number[]);
for (const e of engines) for (let i = 0; i < 3; i++) e.run(); // warm up (and place weights)
for (let round = 0; round < ROUNDS; round++) {
  engines.forEach((e, j) => {
    const reps = 10;
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) e.run();
    times[j].push((performance.now() - t0) / reps);
  });
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(
  "engine                          median ms/token (tok/s ceiling, GB/s)   best round (the machine is shared: best is the less disturbed)",
);
for (const [j, e] of engines.entries()) {
  const ms = median(times[j]), best = Math.min(...times[j]);
  const fmt = (t: number) =>
    `${t.toFixed(3).padStart(7)} ms (${(1000 / t).toFixed(0).padStart(5)}, ${
      (e.bytes / t / 1e6).toFixed(1).padStart(5)
    } GB/s)`;
  console.log(
    `${e.name.padEnd(30)} ${fmt(ms)}   ${fmt(best)}   ${
      (e.bytes / 1e6).toFixed(1)
    } MB`,
  );
}
