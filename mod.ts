/**
 * tinyllm: small decoder-only transformer language models on typed arrays.
 *
 * Load llama2.c checkpoints or train a model from scratch, quantize weights to
 * int8/int4, and generate text with or without a KV cache, in Deno, Node and
 * the browser. The core (this module) has no dependencies and takes bytes,
 * never paths.
 *
 * @example Seeded random numbers
 * ```ts
 * import { Rng } from "@proj/tinyllm";
 * const rng = new Rng(1);
 * console.log(rng.int(10) < 10); // true
 * ```
 *
 * @module
 */
export * from "./src/errors.ts";
export * from "./src/random.ts";
export * from "./src/model/config.ts";
export * from "./src/model/shapes.ts";
export type * from "./src/model/weights.ts";
export type * from "./src/quant/types.ts";
export { WEIGHT_TYPES, weightType } from "./src/quant/table.ts";
export { fp32 } from "./src/quant/fp32.ts";
export { int8 } from "./src/quant/int8.ts";
export { int4 } from "./src/quant/int4.ts";
export * from "./src/quant/policy.ts";
export {
  granularityToString,
  parseGranularity,
} from "./src/quant/granularity.ts";
export {
  activationGroupSize,
  dequantizeActivations,
} from "./src/quant/activation.ts";
export type * from "./src/kv/types.ts";
export type * from "./src/tokenizer/types.ts";
export * from "./src/data/brown.ts";
export * from "./src/tokenizer/word.ts";
export * from "./src/tokenizer/bpe.ts";
export * from "./src/tokenizer/json.ts";
export * from "./src/io/safetensors.ts";
export * from "./src/io/gguf.ts";
export * from "./src/io/gguf_quantize.ts";
export * from "./src/quant/ggml/mod.ts";
export * from "./src/io/archive.ts";
export * from "./src/quant/wasm/mod.ts";
export * from "./src/tensor/kernels.ts";
export type { TrainKernels } from "./src/tensor/matmul.ts";
export {
  matmulBackwardF32Wasm,
  matmulF32Wasm,
} from "./src/tensor/wasm/matmul_wasm.ts";
export { KvCacheWasm } from "./src/tensor/wasm/kv_cache_wasm.ts";
export * from "./src/io/llama2c.ts";
export * from "./src/tokenizer/llama2c.ts";
export * from "./src/model/model.ts";
export * from "./src/model/decode.ts";
export * from "./src/kv/caches.ts";
export * from "./src/generate/sampler.ts";
export * from "./src/generate/generate.ts";
export * from "./src/model/sequence.ts";
export {
  jsTrainKernels,
  matmulBackwardF32,
  matmulF32,
} from "./src/tensor/matmul.ts";
export * from "./src/tensor/rmsnorm.ts";
export * from "./src/tensor/rope.ts";
export * from "./src/tensor/attention.ts";
export * from "./src/tensor/swiglu.ts";
export * from "./src/tensor/crossentropy.ts";
export * from "./src/tensor/embedding.ts";
export * from "./src/train/params.ts";
export * from "./src/train/backward.ts";
export * from "./src/train/optim.ts";
export * from "./src/train/data.ts";
export * from "./src/train/trainer.ts";
export * from "./src/train/checkpoint.ts";
export * from "./src/train/kernels.ts";
export * from "./src/eval/perplexity.ts";
