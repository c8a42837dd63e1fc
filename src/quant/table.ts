/**
 * The weight-type table: how each type stores a matrix. Adding a type is
 * one storage file and one entry here, plus one kernel entry per backend
 * that computes with it (`src/kernels/`; without one, the reference kernel
 * built from `dequantizeRow` runs).
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import { fp32 } from "./fp32.ts";
import {
  bf16,
  f16,
  q4_0,
  q4_1,
  q4_k,
  q5_0,
  q5_1,
  q5_k,
  q6_k,
  q8_0,
} from "./ggml/weight_types.ts";
import { int4 } from "./int4.ts";
import { int8 } from "./int8.ts";
import type { WeightType } from "./types.ts";

/**
 * Every weight type, keyed by name.
 *
 * @example Loop over the table
 * ```ts
 * import { WEIGHT_TYPES } from "@proj/tinyllm";
 * import assert from "node:assert/strict";
 * const bits = Object.values(WEIGHT_TYPES).map((t) => [t.name, t.bitsPerWeight]);
 * assert.deepEqual(bits.slice(0, 3), [["fp32", 32], ["int8", 8], ["int4", 4]]);
 * // then ggml's types
 * assert.deepEqual(bits.slice(3, 6), [["f16", 16], ["bf16", 16], ["q8_0", 8.5]]);
 * ```
 */
export const WEIGHT_TYPES: Readonly<Record<string, WeightType>> = {
  fp32,
  int8,
  int4,
  // ggml's block types, GGUF layout as is (src/quant/ggml/)
  f16,
  bf16,
  q8_0,
  q4_0,
  q4_1,
  q5_0,
  q5_1,
  q4_k,
  q5_k,
  q6_k,
};

/**
 * Looks up a weight type by name, throwing a {@linkcode ConfigError} for an
 * unknown name.
 *
 * @example
 * ```ts
 * import { weightType } from "@proj/tinyllm";
 * import assert from "node:assert/strict";
 * assert.equal(weightType("int4").bitsPerWeight, 4);
 * ```
 */
export function weightType(name: string): WeightType {
  const t = WEIGHT_TYPES[name];
  if (!t) {
    throw new ConfigError(
      `unknown weight type "${name}" (known: ${
        Object.keys(WEIGHT_TYPES).join(", ")
      })`,
    );
  }
  return t;
}

/**
 * Payload bytes of one row of `cols` weights: a whole number of the type's
 * blocks (rows of a {@linkcode QMatrix} are this many bytes apart).
 *
 * @example
 * ```ts
 * import { int4, rowBytes } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(rowBytes(int4, 64), 32);
 * ```
 */
export function rowBytes(type: WeightType, cols: number): number {
  return (cols / type.blockSize) * type.bytesPerBlock;
}

/**
 * The weight type that stores GGUF tensors of ggml type id `ggmlType` as
 * they are (F32 → "fp32", Q4_K → "q4_k", …), or undefined when tinyllm has
 * none (then decode the tensor with another type's `quantize`).
 *
 * @example
 * ```ts
 * import { weightTypeOfGgml } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(weightTypeOfGgml(12)?.name, "q4_k");
 * assert.equal(weightTypeOfGgml(20), undefined);
 * ```
 */
export function weightTypeOfGgml(ggmlType: number): WeightType | undefined {
  return Object.values(WEIGHT_TYPES).find((t) => t.ggmlType === ggmlType);
}
