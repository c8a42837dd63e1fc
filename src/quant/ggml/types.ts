/**
 * ggml's tensor type table: type ids as stored in GGUF tensor infos, and each
 * type's storage (elements and bytes per block, from ggml-common.h). Kept
 * below the file formats so that both the GGUF reader (`src/io/gguf.ts`) and
 * the block types (`src/quant/ggml/`) use it.
 *
 * @module
 */
import { ConfigError, FormatError, ShapeError } from "../../errors.ts";

/**
 * ggml tensor type ids, as stored in GGUF tensor infos (ggml's `enum
 * ggml_type`; the ids of removed types are left out).
 *
 * @example
 * ```ts
 * import { GGML_TYPE, ggmlTypeInfo } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * assert.equal(GGML_TYPE.Q8_0, 8);
 * assert.equal(ggmlTypeInfo(GGML_TYPE.Q8_0).typeSize, 34);
 * ```
 */
export const GGML_TYPE = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  IQ2_XXS: 16,
  IQ2_XS: 17,
  IQ3_XXS: 18,
  IQ1_S: 19,
  IQ4_NL: 20,
  IQ3_S: 21,
  IQ2_S: 22,
  IQ4_XS: 23,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  IQ1_M: 29,
  BF16: 30,
  TQ1_0: 34,
  TQ2_0: 35,
  MXFP4: 39,
  NVFP4: 40,
  Q1_0: 41,
  Q2_0: 42,
} as const;

/** Name of a ggml tensor type (a key of {@linkcode GGML_TYPE}). */
export type GgmlTypeName = keyof typeof GGML_TYPE;

/** Storage of one ggml tensor type: elements per block and bytes per block. */
export interface GgmlTypeInfo {
  /** Type id (a value of {@linkcode GGML_TYPE}). */
  readonly id: number;
  /** Upper-case name: "F32", "Q8_0", "Q4_K", … */
  readonly name: GgmlTypeName;
  /** Elements per block (1 for plain types). A row's length must be a multiple. */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
}

// [name, elements per block, bytes per block] (ggml-common.h block structs)
const TYPE_TABLE: [GgmlTypeName, number, number][] = [
  ["F32", 1, 4],
  ["F16", 1, 2],
  ["Q4_0", 32, 18],
  ["Q4_1", 32, 20],
  ["Q5_0", 32, 22],
  ["Q5_1", 32, 24],
  ["Q8_0", 32, 34],
  ["Q8_1", 32, 36],
  ["Q2_K", 256, 84],
  ["Q3_K", 256, 110],
  ["Q4_K", 256, 144],
  ["Q5_K", 256, 176],
  ["Q6_K", 256, 210],
  ["Q8_K", 256, 292],
  ["IQ2_XXS", 256, 66],
  ["IQ2_XS", 256, 74],
  ["IQ3_XXS", 256, 98],
  ["IQ1_S", 256, 50],
  ["IQ4_NL", 32, 18],
  ["IQ3_S", 256, 110],
  ["IQ2_S", 256, 82],
  ["IQ4_XS", 256, 136],
  ["I8", 1, 1],
  ["I16", 1, 2],
  ["I32", 1, 4],
  ["I64", 1, 8],
  ["F64", 1, 8],
  ["IQ1_M", 256, 56],
  ["BF16", 1, 2],
  ["TQ1_0", 256, 54],
  ["TQ2_0", 256, 66],
  ["MXFP4", 32, 17],
  ["NVFP4", 64, 36],
  ["Q1_0", 128, 18],
  ["Q2_0", 64, 18],
];

/** The type table by id (the GGUF reader names tensor types with it). */
export const GGML_TYPE_INFO_BY_ID: ReadonlyMap<number, GgmlTypeInfo> = new Map<
  number,
  GgmlTypeInfo
>(
  TYPE_TABLE.map(([name, blockSize, typeSize]) => [
    GGML_TYPE[name],
    { id: GGML_TYPE[name], name, blockSize, typeSize },
  ]),
);

/**
 * Block size and bytes per block of a ggml type id.
 *
 * @throws {FormatError} for an id that is not a (current) ggml type
 *
 * @example
 * ```ts
 * import { GGML_TYPE, ggmlTypeInfo } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * const q4k = ggmlTypeInfo(GGML_TYPE.Q4_K);
 * assert.equal(q4k.name, "Q4_K");
 * assert.equal(q4k.blockSize, 256);
 * assert.equal(q4k.typeSize, 144);
 * ```
 */
export function ggmlTypeInfo(id: number): GgmlTypeInfo {
  const info = GGML_TYPE_INFO_BY_ID.get(id);
  if (info === undefined) {
    throw new FormatError(`gguf: unknown ggml type id ${id}`);
  }
  return info;
}

/**
 * The ggml type id of a type name, case-insensitive ("q8_0", "Q4_K", "f16").
 *
 * @throws {ConfigError} for a name that is not a ggml type
 *
 * @example
 * ```ts
 * import { ggmlTypeId } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * assert.equal(ggmlTypeId("q4_k"), 12);
 * ```
 */
export function ggmlTypeId(name: string): number {
  const upper = name.toUpperCase();
  for (const info of GGML_TYPE_INFO_BY_ID.values()) {
    if (info.name === upper) return info.id;
  }
  throw new ConfigError(`unknown ggml type "${name}"`);
}

/**
 * Bytes a tensor of this ggml type and shape (ggml order, row length first)
 * occupies, or a message saying why the shape does not fit the type (the
 * GGUF reader turns it into a FormatError naming the tensor).
 *
 * @example
 * ```ts
 * import { tensorByteLength } from "./types.ts";
 * import assert from "node:assert/strict";
 * assert.equal(tensorByteLength(0, [3, 2]), 24);
 * ```
 */
export function tensorByteLength(
  type: number,
  shape: readonly number[],
): number | string {
  const info = GGML_TYPE_INFO_BY_ID.get(type);
  if (info === undefined) return `has unknown ggml type id ${type}`;
  if (shape.length > 4) return `has ${shape.length} dimensions, at most 4`;
  let elements = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) return `has dimension ${d}`;
    elements *= d;
    if (!Number.isSafeInteger(elements)) return `has too many elements`;
  }
  const ne0 = shape.length > 0 ? shape[0] : 1;
  if (ne0 % info.blockSize !== 0) {
    return `is ${info.name} with rows of ${ne0}, not a multiple of its block size ${info.blockSize}`;
  }
  const bytes = (elements / info.blockSize) * info.typeSize;
  if (!Number.isSafeInteger(bytes)) return `is too large`;
  return bytes;
}

/**
 * Bytes that a tensor of this ggml type and shape occupies (shape in ggml
 * order: row length `ne0` first).
 *
 * @throws {ShapeError} when the row length is not a whole number of blocks, or
 *   the shape or type is invalid
 *
 * @example
 * ```ts
 * import { GGML_TYPE, ggmlByteLength } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * assert.equal(ggmlByteLength(GGML_TYPE.Q8_0, [64, 3]), 204); // 2 blocks of 34 bytes per row
 * ```
 */
export function ggmlByteLength(type: number, shape: readonly number[]): number {
  const n = tensorByteLength(type, shape);
  if (typeof n === "string") {
    throw new ShapeError(`ggml tensor of shape [${shape}] ${n}`);
  }
  return n;
}
