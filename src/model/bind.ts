/**
 * Binding kernels to a model: the step after loading that chooses, once,
 * the kernels every Linear layer multiplies with, so the forward pass never
 * branches on the weight type or the backend. Loaders return weights bound
 * to the TypeScript kernels; {@linkcode bindKernels} picks another backend.
 *
 * @module
 */
import { type Backend, checkBackend } from "../backend.ts";
import { kernelsFor } from "../kernels/select.ts";
import {
  placedBytes,
  placeMatrix,
  productScratchBytes,
} from "../kernels/wasm.ts";
import type { QMatrix } from "../quant/types.ts";
import {
  arenaOf,
  createArena,
  resolveBackend,
  type WasmArena,
} from "../wasm/runtime.ts";
import { kvDim, type ModelConfig } from "./config.ts";
import { mapLinears } from "./tensors.ts";
import type { ModelWeights } from "./weights.ts";

/** Decode run states whose matvec buffers fit in a wasm model's arena. */
const RUN_STATES_IN_ARENA = 4;

/**
 * Bytes of the decode buffers that matrix products read or write (x, xb,
 * xb2, hb, hb2, q, k, v, logits), with alignment slack: what a WebAssembly
 * arena reserves per run state.
 *
 * @example
 * ```ts
 * import { makeConfig } from "@proj/tinyllm";
 * import { runStateMatvecBytes } from "@proj/tinyllm/model";
 * console.log(runStateMatvecBytes(makeConfig({ dim: 64, hiddenDim: 172,
 *   nLayers: 5, nHeads: 8, vocabSize: 512, seqLen: 512 })) > 0); // true
 * ```
 */
export function runStateMatvecBytes(config: ModelConfig): number {
  const floats = 3 * config.dim + 2 * config.hiddenDim + config.dim +
    2 * kvDim(config) + config.vocabSize;
  return floats * 4 + 9 * 16;
}

/**
 * `weights` with the kernels of every Linear layer chosen for `backend`.
 * `"js"` uses the TypeScript kernels (weights shared, not copied); `"wasm"`
 * copies every matrix (and the token embedding) once into a new fixed
 * WebAssembly arena and uses the SIMD kernels (a ConfigError where the
 * engine has no SIMD128); `"auto"` is `"wasm"` where available, else `"js"`.
 * A type a backend has no kernels for runs the TypeScript or reference ones.
 * The wasm arena also reserves room for a few decode run states, which
 * `createRunState` places there when given the weights. A shared classifier
 * stays shared.
 *
 * @example
 * ```ts
 * import { bindKernels, makeConfig, randomModelWeights } from "@proj/tinyllm";
 * const w = randomModelWeights(makeConfig({ dim: 16, hiddenDim: 32, nLayers: 1,
 *   nHeads: 2, nKvHeads: 1, vocabSize: 10, seqLen: 8 }), 1);
 * console.log(bindKernels(w, "js").layers[0].wq.kernels.backend); // "js"
 * const fast = bindKernels(w, "auto");
 * console.log(fast.classifier.weight === fast.tokenEmbedding); // true
 * ```
 */
export function bindKernels(
  weights: ModelWeights,
  backend: Backend,
): ModelWeights {
  if (resolveBackend(checkBackend(backend)) === "js") {
    return mapLinears(weights, (l) => ({
      weight: l.weight,
      kernels: kernelsFor(l.weight.type, "js"),
    }));
  }
  // Size the arena: every distinct matrix, the run states, and a scratch
  // area for the widest product.
  const matrices = new Set<QMatrix>([weights.tokenEmbedding]);
  mapLinears(weights, (l) => {
    matrices.add(l.weight);
    return l;
  });
  let bytes = RUN_STATES_IN_ARENA * runStateMatvecBytes(weights.config);
  let maxRows = 0, maxCols = 0;
  for (const m of matrices) {
    bytes += placedBytes(m);
    maxRows = Math.max(maxRows, m.rows);
    maxCols = Math.max(maxCols, m.cols);
  }
  const arena = createArena(bytes, productScratchBytes(maxRows, maxCols));
  const placed = new Map<QMatrix, QMatrix>();
  const place = (m: QMatrix): QMatrix => {
    let p = placed.get(m);
    if (!p) {
      p = placeMatrix(arena, m);
      placed.set(m, p);
    }
    return p;
  };
  const tokenEmbedding = place(weights.tokenEmbedding);
  return {
    ...mapLinears(weights, (l) => ({
      weight: place(l.weight),
      kernels: kernelsFor(l.weight.type, "wasm"),
    })),
    tokenEmbedding,
  };
}

/**
 * The WebAssembly arena holding a model bound with {@linkcode bindKernels}
 * to the wasm backend (run-state buffers may be allocated there), or
 * undefined for a plain model.
 *
 * @example
 * ```ts
 * import { bindKernels, makeConfig, randomModelWeights } from "@proj/tinyllm";
 * import { modelArena } from "@proj/tinyllm/model";
 * const w = randomModelWeights(makeConfig({ dim: 8, hiddenDim: 16, nLayers: 1,
 *   nHeads: 2, vocabSize: 10, seqLen: 4 }), 1);
 * console.log(modelArena(bindKernels(w, "js"))); // undefined
 * ```
 */
export function modelArena(weights: ModelWeights): WasmArena | undefined {
  return arenaOf(weights.tokenEmbedding.data);
}
