/**
 * ggml's block types as rows of the weight-type table (`src/quant/table.ts`):
 * a {@linkcode QMatrix} of one of them holds the GGUF bytes as they are
 * (`data` a `Uint8Array` of whole blocks per row, `scales` empty), and
 * quantizing uses ggml's reference quantizer, bit for bit as llama-quantize.
 * Names are ggml's in lower case: "f16", "bf16", "q8_0", "q4_0", "q4_1",
 * "q5_0", "q5_1", "q4_k", "q5_k", "q6_k" (ggml's F32 is the table's "fp32").
 *
 * @module
 */
import { ShapeError } from "../../errors.ts";
import type {
  Granularity,
  LayoutSizes,
  QMatrix,
  WeightType,
} from "../types.ts";
import type { GgmlBlockType } from "./common.ts";
import { ggmlBF16, ggmlF16 } from "./float.ts";
import { ggmlQ4_K, ggmlQ5_K, ggmlQ6_K } from "./kquants.ts";
import { ggmlQ4_0, ggmlQ4_1, ggmlQ5_0, ggmlQ5_1, ggmlQ8_0 } from "./legacy.ts";
import { GGML_TYPE } from "./types.ts";

const NO_SCALES = new Float32Array(0);

const LAYOUTS: Readonly<Record<string, string>> = {
  F16: "IEEE half per weight",
  BF16: "bfloat16 per weight",
  Q8_0: "blocks of 32: half d, 32 int8 q; w = d·q",
  Q4_0:
    "blocks of 32: half d, 16 bytes of nibbles (w[j] low, w[j+16] high); w = d·(q−8)",
  Q4_1: "blocks of 32: half d, half m, 16 bytes of nibbles; w = d·q + m",
  Q5_0:
    "blocks of 32: half d, 32 fifth bits, 16 bytes of nibbles; w = d·(q−16)",
  Q5_1:
    "blocks of 32: half d, half m, 32 fifth bits, 16 bytes of nibbles; w = d·q + m",
  Q4_K:
    "super-blocks of 256: half d, half dmin, 8 six-bit scales and mins, 4-bit q; w = d·sc·q − dmin·m",
  Q5_K: "super-blocks of 256: as Q4_K with a fifth bit per weight",
  Q6_K:
    "super-blocks of 256: 6-bit q (4 low + 2 high bits), 16 int8 scales, half d; w = d·sc·(q−32)",
};

/** Bytes per row, throwing a ShapeError unless `cols` is whole blocks. */
function rowBytesOf(t: GgmlBlockType, name: string, cols: number): number {
  if (!Number.isInteger(cols) || cols < 0 || cols % t.blockSize !== 0) {
    throw new ShapeError(
      `${name}: rows of ${cols} weights are not a whole number of ${t.blockSize}-weight blocks`,
    );
  }
  return (cols / t.blockSize) * t.typeSize;
}

function layoutSizesOf(
  t: GgmlBlockType,
  name: string,
  rows: number,
  cols: number,
): LayoutSizes {
  if (!Number.isInteger(rows) || rows < 0) {
    throw new ShapeError(`${name}: bad shape [${rows}, ${cols}]`);
  }
  return { dataLength: rows * rowBytesOf(t, name, cols), scalesLength: 0 };
}

/**
 * The weight-type table row of a ggml block type (see the module doc).
 *
 * @example
 * ```ts
 * import { ggmlQ8_0, ggmlWeightType } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * const q8 = ggmlWeightType(ggmlQ8_0);
 * const m = q8.quantize(new Float32Array(64).fill(0.5), 2, 32, "tensor");
 * assert.equal(m.type, "q8_0");
 * assert.equal(m.data.length, 68);
 * assert.equal(q8.bitsPerWeight, 8.5);
 * ```
 */
export function ggmlWeightType(t: GgmlBlockType): WeightType {
  const name = t.name.toLowerCase();
  return {
    name,
    bitsPerWeight: (t.typeSize * 8) / t.blockSize,
    blockSize: t.blockSize,
    bytesPerBlock: t.typeSize,
    ggmlType: t.id,
    safetensorsDtype: "U8",
    scales: "none",
    layout: `ggml ${t.name}: ${LAYOUTS[t.name]}`,
    quantize(
      w: Float32Array,
      rows: number,
      cols: number,
      _granularity: Granularity,
    ): QMatrix {
      const rowBytes = rowBytesOf(t, name, cols);
      if (!Number.isInteger(rows) || rows < 0 || w.length !== rows * cols) {
        throw new ShapeError(
          `${name}.quantize: ${w.length} weights for shape [${rows}, ${cols}]`,
        );
      }
      const data = new Uint8Array(rows * rowBytes);
      for (let r = 0; r < rows; r++) {
        t.quantizeRow(w, r * cols, data, r * rowBytes, cols);
      }
      return {
        type: name,
        rows,
        cols,
        granularity: "tensor",
        data,
        scales: NO_SCALES,
      };
    },
    dequantize(m: QMatrix): Float32Array {
      const out = new Float32Array(m.rows * m.cols);
      const rowBytes = rowBytesOf(t, name, m.cols);
      const data = m.data as Uint8Array;
      for (let r = 0; r < m.rows; r++) {
        t.dequantizeRow(data, r * rowBytes, out, r * m.cols, m.cols);
      }
      return out;
    },
    dequantizeRow(m: QMatrix, row: number, out: Float32Array): void {
      const rowBytes = (m.cols / t.blockSize) * t.typeSize;
      t.dequantizeRow(m.data as Uint8Array, row * rowBytes, out, 0, m.cols);
    },
    byteSize(m: QMatrix): number {
      return m.rows * rowBytesOf(t, name, m.cols);
    },
    layoutSizes(
      rows: number,
      cols: number,
      _granularity: Granularity,
    ): LayoutSizes {
      return layoutSizesOf(t, name, rows, cols);
    },
    fromParts(
      rows: number,
      cols: number,
      _granularity: Granularity,
      data: Uint8Array,
      scales: Float32Array,
    ): QMatrix {
      const { dataLength } = layoutSizesOf(t, name, rows, cols);
      if (data.length !== dataLength || scales.length !== 0) {
        throw new ShapeError(
          `${name}: a [${rows}, ${cols}] matrix is ${dataLength} bytes and no scales, got ${data.length} bytes and ${scales.length} scales`,
        );
      }
      return {
        type: name,
        rows,
        cols,
        granularity: "tensor",
        data,
        scales: NO_SCALES,
      };
    },
  };
}

/**
 * F16 weights (ggml `F16`).
 *
 * @example
 * ```ts
 * import { f16 } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(f16.name, "f16");
 * assert.equal(f16.bitsPerWeight, 16);
 * ```
 */
export const f16: WeightType = ggmlWeightType(ggmlF16);
/**
 * BF16 weights (ggml `BF16`).
 *
 * @example
 * ```ts
 * import { bf16 } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(bf16.ggmlType, 30);
 * ```
 */
export const bf16: WeightType = ggmlWeightType(ggmlBF16);
/**
 * ggml `Q8_0` weights.
 *
 * @example
 * ```ts
 * import { q8_0 } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(q8_0.blockSize, 32);
 * assert.equal(q8_0.bytesPerBlock, 34);
 * ```
 */
export const q8_0: WeightType = ggmlWeightType(ggmlQ8_0);
/**
 * ggml `Q4_0` weights.
 *
 * @example
 * ```ts
 * import { q4_0 } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(q4_0.bitsPerWeight, 4.5);
 * ```
 */
export const q4_0: WeightType = ggmlWeightType(ggmlQ4_0);
/**
 * ggml `Q4_1` weights.
 *
 * @example
 * ```ts
 * import { q4_1 } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(q4_1.bitsPerWeight, 5);
 * ```
 */
export const q4_1: WeightType = ggmlWeightType(ggmlQ4_1);
/**
 * ggml `Q5_0` weights.
 *
 * @example
 * ```ts
 * import { q5_0 } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(q5_0.bitsPerWeight, 5.5);
 * ```
 */
export const q5_0: WeightType = ggmlWeightType(ggmlQ5_0);
/**
 * ggml `Q5_1` weights.
 *
 * @example
 * ```ts
 * import { q5_1 } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(q5_1.bitsPerWeight, 6);
 * ```
 */
export const q5_1: WeightType = ggmlWeightType(ggmlQ5_1);
/**
 * ggml `Q4_K` weights.
 *
 * @example
 * ```ts
 * import { q4_k } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(q4_k.blockSize, 256);
 * assert.equal(q4_k.bitsPerWeight, 4.5);
 * ```
 */
export const q4_k: WeightType = ggmlWeightType(ggmlQ4_K);
/**
 * ggml `Q5_K` weights.
 *
 * @example
 * ```ts
 * import { q5_k } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(q5_k.bitsPerWeight, 5.5);
 * ```
 */
export const q5_k: WeightType = ggmlWeightType(ggmlQ5_K);
/**
 * ggml `Q6_K` weights.
 *
 * @example
 * ```ts
 * import { q6_k } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(q6_k.bitsPerWeight, 6.5625);
 * ```
 */
export const q6_k: WeightType = ggmlWeightType(ggmlQ6_K);

/**
 * The type llama.cpp falls back to for a matrix whose rows are not a whole
 * number of `type`'s blocks (its `tensor_type_fallback`): Q4_K → Q5_0,
 * Q5_K → Q5_1, Q6_K → Q8_0; the 32-weight types, and anything still not
 * fitting, → F16 (as llama.cpp's files keep such matrices, e.g.
 * stories260K's 172-wide `ffn_down`). Types that fit, and types that are
 * not ggml's, are returned as they are.
 *
 * @example
 * ```ts
 * import { ggmlFallbackType, q4_k } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(ggmlFallbackType(q4_k, 288).name, "q5_0");
 * assert.equal(ggmlFallbackType(q4_k, 172).name, "f16");
 * ```
 */
export function ggmlFallbackType(type: WeightType, cols: number): WeightType {
  // tinyllm's own types (no ggml id) fit their shapes their own way
  if (type.ggmlType === undefined || cols % type.blockSize === 0) return type;
  const next = type.ggmlType === GGML_TYPE.Q4_K
    ? q5_0
    : type.ggmlType === GGML_TYPE.Q5_K
    ? q5_1
    : type.ggmlType === GGML_TYPE.Q6_K
    ? q8_0
    : f16;
  return cols % next.blockSize === 0 ? next : f16;
}
