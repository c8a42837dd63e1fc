/**
 * File formats (`@proj/tinyllm/io`), bytes in and bytes out: safetensors,
 * the tinyllm model archive, llama2.c checkpoints, and the loader that tells
 * them apart.
 * What the main module exports is not repeated here.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors, tensorF32 } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * const f = decodeSafetensors(encodeSafetensors({ g: { shape: [2], data: new Float32Array([1, 2]) } }));
 * assert.deepEqual([...tensorF32(f, "g")], [1, 2]);
 * ```
 *
 * @module
 */
export {
  decodeSafetensors,
  encodeSafetensors,
  qmatrixFromTensors,
  qmatrixTensors,
  quantKey,
  type SafeTensor,
  type SafetensorsDtype,
  type SafetensorsFile,
  type TensorData,
  tensorF32,
  type TensorInput,
} from "./safetensors.ts";
export {
  ARCHIVE_FORMAT_VERSION,
  gunzipBytes,
  gzipBytes,
  readArchiveMembers,
  weightsFromTensors,
  weightsToTensors,
} from "./archive.ts";
export {
  encodeLlama2cCheckpoint,
  LLAMA2C_HEADER_BYTES,
  llama2cFileSize,
  parseLlama2cCheckpoint,
  readLlama2cConfig,
} from "./llama2c.ts";
export { checkWeightValues, MAX_ABS_WEIGHT } from "./load.ts";
export {
  encodeLlama2cQ80,
  isLlama2cQ80,
  LLAMA2C_Q80_HEADER_BYTES,
  LLAMA2C_Q80_MAGIC,
  llama2cQ80FileSize,
  llama2cQ80GroupSize,
  parseLlama2cQ80,
} from "./llama2c_q80.ts";
export {
  GGML_TYPE,
  ggmlByteLength,
  ggmlTypeId,
  type GgmlTypeInfo,
  ggmlTypeInfo,
  type GgmlTypeName,
  type GgufArray,
  ggufArray,
  ggufBool,
  type GgufFile,
  ggufNumber,
  type GgufNumberArray,
  ggufNumberArray,
  ggufString,
  ggufStringArray,
  type GgufTensorInfo,
  type GgufTensorInput,
  type GgufValue,
  type GgufValueTypeName,
  isGguf,
  parseGguf,
  writeGguf,
  type WriteGgufOptions,
} from "./gguf.ts";
export {
  ggufTensorIsQuantizable,
  quantizeGguf,
  type QuantizeGgufOptions,
} from "./gguf_quantize.ts";
export {
  GGUF_ARCHITECTURES,
  GGUF_DEFAULT_CONTEXT,
  type GgufArchitecture,
  ggufModelConfig,
  type GgufModelOptions,
  loadGgufWeights,
} from "./gguf_model.ts";
export {
  exportGguf,
  type ExportGgufOptions,
  GGUF_EXPORT_TYPES,
  type GgufExportType,
  ggufFromModel,
  type GgufFromModelOptions,
  type GgufMetadataEntry,
  ggufTokenizerMetadata,
} from "./gguf_export.ts";
