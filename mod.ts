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
export * from "./src/io/archive.ts";
export * from "./src/io/llama2c.ts";
export * from "./src/tokenizer/llama2c.ts";
export * from "./src/model/model.ts";
export * from "./src/model/decode.ts";
export * from "./src/kv/caches.ts";
export * from "./src/generate/sampler.ts";
export * from "./src/generate/generate.ts";
