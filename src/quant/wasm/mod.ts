/**
 * WebAssembly SIMD backend for the weight-type table: kernels, feature
 * detection, and placing a model's weights in wasm memory once.
 *
 * Typical use (what `backend: "wasm"` does):
 *
 * ```ts ignore
 * const fast = prepareWeightsForWasm(weights);   // weights copied in once
 * const arena = modelArena(fast)!;               // run-state buffers may live there too
 * const x = arena.allocF32(fast.config.dim);
 * ```
 *
 * The memory rule: a model's arena reserves its whole size at creation and
 * never grows, so the typed arrays in the returned weights (and any
 * {@linkcode WasmArena.allocF32} buffer) stay valid; see `runtime.ts`.
 *
 * @module
 */
import { ConfigError } from "../../errors.ts";
import type { Linear, ModelWeights } from "../../model/weights.ts";
import type { LinearKernels, QMatrix, WeightType } from "../types.ts";
import { fp32Wasm, int4Wasm, int8Wasm } from "./kernels.ts";
import {
  arenaOf,
  createArena,
  type WasmArena,
  wasmVariant,
} from "./runtime.ts";

export {
  arenaOf,
  createArena,
  initWasm,
  type KernelExports,
  setWasmVariant,
  WasmArena,
  type WasmSupport,
  wasmSupport,
  type WasmVariant,
  wasmVariant,
} from "./runtime.ts";
export { fp32Wasm, int4Wasm, int8Wasm } from "./kernels.ts";

const KERNELS: Readonly<Record<string, LinearKernels>> = {
  fp32: fp32Wasm,
  int8: int8Wasm,
  int4: int4Wasm,
};

/**
 * The WebAssembly kernels for a weight type, or undefined when the type has
 * none or the engine lacks SIMD128 (then use the type's `js` kernels).
 *
 * @example
 * ```ts
 * import { wasmKernelsFor, wasmVariant } from "@proj/tinyllm";
 * const k = wasmKernelsFor("int8");
 * console.log(wasmVariant() === "none" ? k === undefined : k?.backend === "wasm"); // true
 * ```
 */
export function wasmKernelsFor(typeName: string): LinearKernels | undefined {
  if (wasmVariant() === "none") return undefined;
  return KERNELS[typeName];
}

/**
 * Fills the `wasm` column of weight-type table rows (fp32, int8, int4) with
 * these kernels and their feature check; called once by `table.ts`.
 *
 * @example
 * ```ts
 * import { attachWasmKernels, type WeightType } from "@proj/tinyllm";
 * const row = { name: "int8" } as WeightType;
 * attachWasmKernels({ int8: row });
 * console.log(row.wasm?.backend); // wasm
 * ```
 */
export function attachWasmKernels(
  types: Readonly<Record<string, WeightType>>,
): void {
  for (const [name, t] of Object.entries(types)) {
    const k = KERNELS[name];
    if (!k) continue;
    t.wasm = k;
    t.wasmSupported = () => wasmVariant() !== "none";
  }
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** Bytes {@linkcode placeMatrix} takes in an arena for `m` (with alignment). */
export function placedBytes(m: QMatrix): number {
  return alignUp(m.data.byteLength, 64) + alignUp(m.scales.byteLength, 64) +
    128;
}

/**
 * Copies a matrix into `arena` and returns the same matrix whose `data` and
 * `scales` are views into the arena's memory (so kernels use it in place).
 *
 * @example
 * ```ts
 * import { createArena, fp32, placeMatrix, wasmVariant } from "@proj/tinyllm";
 * if (wasmVariant() !== "none") {
 *   const m = fp32.quantize(new Float32Array([1, 2, 3, 4]), 2, 2, "tensor");
 *   const arena = createArena(1024);
 *   const placed = placeMatrix(arena, m);
 *   console.log(arena.owns(placed.data), Array.from(placed.data)); // true [ 1, 2, 3, 4 ]
 * }
 * ```
 */
export function placeMatrix(arena: WasmArena, m: QMatrix): QMatrix {
  return { ...m, data: arena.copyIn(m.data), scales: arena.copyIn(m.scales) };
}

/** Options of {@linkcode prepareWeightsForWasm}. */
export interface PrepareOptions {
  /**
   * Extra bytes reserved in the model's arena for run-state buffers the
   * caller will {@linkcode WasmArena.allocF32} (default 0). The arena never
   * grows, so reserve what you need here.
   */
  readonly extraBytes?: number;
}

/**
 * Returns `weights` with every Linear's matrix (and the token embedding)
 * copied once into a new fixed WebAssembly arena and its kernels switched
 * to the wasm ones; norm gains stay where they are. A shared classifier
 * stays shared. Throws a ConfigError when the engine lacks SIMD128 (check
 * {@linkcode wasmVariant} first for an "auto" choice).
 *
 * @example
 * ```ts
 * import { fp32, modelArena, prepareWeightsForWasm, wasmVariant, type ModelWeights } from "@proj/tinyllm";
 * const lin = (r: number, c: number) => ({
 *   weight: fp32.quantize(new Float32Array(r * c).fill(0.5), r, c, "tensor"),
 *   kernels: fp32.js,
 * });
 * const dim = 8, hidden = 16, vocab = 10;
 * const emb = fp32.quantize(new Float32Array(vocab * dim), vocab, dim, "tensor");
 * const weights: ModelWeights = {
 *   config: { dim, hiddenDim: hidden, nLayers: 1, nHeads: 2, nKvHeads: 2, vocabSize: vocab,
 *     seqLen: 16, positional: "rope", sharedClassifier: true, normEps: 1e-5, ropeTheta: 10000 },
 *   tokenEmbedding: emb,
 *   positionEmbedding: null,
 *   layers: [{ rmsAtt: new Float32Array(dim), rmsFfn: new Float32Array(dim),
 *     wq: lin(dim, dim), wk: lin(dim, dim), wv: lin(dim, dim), wo: lin(dim, dim),
 *     w1: lin(hidden, dim), w2: lin(dim, hidden), w3: lin(hidden, dim) }],
 *   rmsFinal: new Float32Array(dim),
 *   classifier: { weight: emb, kernels: fp32.js },
 * };
 * if (wasmVariant() !== "none") {
 *   const fast = prepareWeightsForWasm(weights, { extraBytes: 4 * dim });
 *   const x = modelArena(fast)!.allocF32(dim).fill(1);
 *   const out = new Float32Array(dim);
 *   fast.layers[0].wq.kernels.matvec(fast.layers[0].wq.weight, x, out);
 *   console.log(fast.layers[0].wq.kernels.backend, out[0]); // wasm 4
 *   console.log(fast.classifier.weight === fast.tokenEmbedding); // true
 * }
 * ```
 */
export function prepareWeightsForWasm(
  weights: ModelWeights,
  opts: PrepareOptions = {},
): ModelWeights {
  if (wasmVariant() === "none") {
    throw new ConfigError(
      "backend wasm: this engine has no WebAssembly SIMD128",
    );
  }
  const matrices = new Set<QMatrix>([weights.tokenEmbedding]);
  for (const l of weights.layers) {
    for (const lin of [l.wq, l.wk, l.wv, l.wo, l.w1, l.w2, l.w3]) {
      matrices.add(lin.weight);
    }
  }
  matrices.add(weights.classifier.weight);
  let bytes = opts.extraBytes ?? 0;
  let maxRows = 0, maxCols = 0;
  for (const m of matrices) {
    bytes += placedBytes(m);
    maxRows = Math.max(maxRows, m.rows);
    maxCols = Math.max(maxCols, m.cols);
  }
  // scratch: decode of the widest product with x/out copied in, codes, and
  // room for sequence chunks (1 MiB at least)
  const scratch = Math.max(1 << 20, (maxRows + 4 * maxCols) * 4 + 4096);
  const arena = createArena(bytes, scratch);
  const placed = new Map<QMatrix, QMatrix>();
  const place = (m: QMatrix): QMatrix => {
    let p = placed.get(m);
    if (!p) {
      p = placeMatrix(arena, m);
      placed.set(m, p);
    }
    return p;
  };
  const linear = (lin: Linear): Linear => {
    const kernels = wasmKernelsFor(lin.weight.type);
    return { weight: place(lin.weight), kernels: kernels ?? lin.kernels };
  };
  return {
    ...weights,
    tokenEmbedding: place(weights.tokenEmbedding),
    layers: weights.layers.map((l) => ({
      ...l,
      wq: linear(l.wq),
      wk: linear(l.wk),
      wv: linear(l.wv),
      wo: linear(l.wo),
      w1: linear(l.w1),
      w2: linear(l.w2),
      w3: linear(l.w3),
    })),
    classifier: linear(weights.classifier),
  };
}

/**
 * The arena holding a model prepared by {@linkcode prepareWeightsForWasm}
 * (allocate run-state buffers there), or undefined for a plain model.
 *
 * @example
 * ```ts
 * import { fp32, modelArena, type ModelWeights } from "@proj/tinyllm";
 * const emb = fp32.quantize(new Float32Array(4), 2, 2, "tensor");
 * console.log(modelArena({ tokenEmbedding: emb } as ModelWeights)); // undefined
 * ```
 */
export function modelArena(weights: ModelWeights): WasmArena | undefined {
  return arenaOf(weights.tokenEmbedding.data);
}
