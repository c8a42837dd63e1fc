/**
 * tinyllm: small decoder-only transformer language models on typed arrays.
 *
 * Load a tinyllm archive or a llama2.c checkpoint, generate text, quantize
 * weights to int8/int4, train a model from scratch and measure its
 * perplexity, in Deno, Node and the browser. This module is the public API;
 * it has no dependencies and takes bytes, never paths (`@proj/tinyllm/fs`
 * reads files in Deno). Internals live behind subpath exports:
 * `./model` (tensor table, forward passes), `./kernels` (weight types and
 * kernel tables), `./wasm` (the WebAssembly runtime), `./tensor` (layer
 * functions), `./kv` (KV caches), `./train` (parameters, backward,
 * optimizer), `./io` (file formats), `./data` (the Brown corpus), `./fs`
 * (files), `./cli` (the command line).
 *
 * @example Load a model and generate
 * ```ts ignore
 * import { bindKernels, generate, loadModel } from "@proj/tinyllm";
 * const bytes = new Uint8Array(await (await fetch("model.tar.gz")).arrayBuffer());
 * const { weights, tokenizer } = await loadModel(bytes);
 * const model = bindKernels(weights, "auto"); // WebAssembly SIMD where available
 * for await (const t of generate(model, tokenizer, "Once upon a time", { maxTokens: 40 })) {
 *   console.log(t.text);
 * }
 * ```
 *
 * @example Train, save, quantize
 * ```ts
 * import { DEFAULT_HYPER, makeConfig, modelByteSize, quantizeModel,
 *   saveModelArchive, Trainer, WordTokenizer } from "@proj/tinyllm";
 * const tokenizer = WordTokenizer.fromWords("a b c a b c".split(" "), { maxSize: 3 });
 * const config = makeConfig({ dim: 16, hiddenDim: 32, nLayers: 1, nHeads: 2,
 *   vocabSize: tokenizer.vocabSize, seqLen: 8 });
 * const data = Int32Array.from({ length: 64 }, (_, i) => 3 + (i % 3));
 * const trainer = new Trainer(config, { ...DEFAULT_HYPER, batch: 2, seqLen: 8, steps: 2 });
 * await trainer.run(data, data);
 * const int8 = quantizeModel(trainer.weights, "int8");
 * console.log(modelByteSize(int8) < modelByteSize(trainer.weights)); // true
 * const bytes = await saveModelArchive({ weights: int8, tokenizer });
 * console.log(bytes.length > 0); // true
 * ```
 *
 * @module
 */
export {
  ConfigError,
  FormatError,
  InputError,
  ShapeError,
  TinyLlmError,
  type TinyLlmErrorCode,
} from "./src/errors.ts";
export { Rng } from "./src/random.ts";
export { type Backend, checkBackend } from "./src/backend.ts";

// models: shape, weights, loading, kernels
export {
  type ConfigShape,
  makeConfig,
  type ModelConfig,
  type Positional,
  type RopeStyle,
  validateConfig,
} from "./src/model/config.ts";
export type {
  LayerWeights,
  Linear,
  ModelWeights,
} from "./src/model/weights.ts";
export { LLAMA2C_SHAPES } from "./src/model/shapes.ts";
export { randomModelWeights } from "./src/model/build.ts";
export { bindKernels } from "./src/model/bind.ts";
export { initWasm } from "./src/wasm/runtime.ts";
export {
  detectModelFormat,
  type LoadedModel,
  loadModel,
  type LoadModelOptions,
  type ModelFormat,
} from "./src/io/load.ts";
export {
  type LoadArchiveOptions,
  loadModelArchive,
  type ModelArchive,
  type ModelArchiveInput,
  type OptimizerState,
  saveModelArchive,
} from "./src/io/archive.ts";

// generation
export {
  generate,
  type GeneratedToken,
  type GenerateOptions,
  type GenerateResult,
  generateText,
} from "./src/generate/generate.ts";
export {
  argmax,
  Sampler,
  type SamplerOptions,
} from "./src/generate/sampler.ts";
export { createKvCache } from "./src/kv/create.ts";
export type { KvCache, KvCacheShape, KvCacheSpec } from "./src/kv/types.ts";

// quantization
export {
  modelByteSize,
  modelFp32ByteSize,
  quantizeModel,
  type QuantizeOptions,
} from "./src/model/quantize.ts";
export { WEIGHT_TYPES, weightType } from "./src/quant/table.ts";
export {
  granularityToString,
  parseGranularity,
} from "./src/quant/granularity.ts";
export type { Granularity, QMatrix, WeightType } from "./src/quant/types.ts";

// training and evaluation
export {
  type CurvePoint,
  DEFAULT_HYPER,
  type StepInfo,
  Trainer,
  type TrainerState,
  type TrainHyper,
  type TrainResult,
} from "./src/train/trainer.ts";
export { checkpointInput, resumeState } from "./src/train/checkpoint.ts";
export {
  perplexity,
  type PerplexityOptions,
  type PerplexityResult,
} from "./src/eval/perplexity.ts";

// tokenizers
export type {
  EncodeOptions,
  Tokenizer,
  TokenizerJson,
} from "./src/tokenizer/types.ts";
export {
  WORD_SPECIALS,
  wordCounts,
  WordTokenizer,
  type WordVocabOptions,
} from "./src/tokenizer/word.ts";
export { BpeTokenizer, type BpeTrainOptions } from "./src/tokenizer/bpe.ts";
export {
  encodeLlama2cTokenizer,
  Llama2cTokenizer,
  parseLlama2cTokenizer,
} from "./src/tokenizer/llama2c.ts";
export { tokenizerFromJSON } from "./src/tokenizer/json.ts";
export {
  type GgufDecodeOptions,
  type GgufEncodeOptions,
  GgufTokenizer,
  type GgufTokenizerData,
  tokenizerFromGguf,
} from "./src/tokenizer/gguf_tokenizer.ts";
