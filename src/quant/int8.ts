/**
 * int8 weights: one signed byte per weight, `q = clamp(round(w/scale), -127,
 * 127)`, `scale = absmax/127` per tensor, row or group of G along the input
 * dimension.
 *
 * @module
 */
import {
  checkedPartBytes,
  dequantizeRows,
  quantizeCodes,
  scaleRow,
  storedByteSize,
  type SymmetricCode,
  symmetricLayoutSizes,
} from "./symmetric.ts";
import type {
  Granularity,
  LayoutSizes,
  QMatrix,
  QuantizeMatrixOptions,
  WeightType,
} from "./types.ts";

const CODE: SymmetricCode = {
  name: "int8",
  qmin: -127,
  qmax: 127,
  weightsPerByte: 1,
};

function int8LayoutSizes(
  rows: number,
  cols: number,
  granularity: Granularity,
): LayoutSizes {
  return symmetricLayoutSizes(CODE, rows, cols, granularity);
}

/**
 * The int8 weight type: `data` is an `Int8Array` of rows×cols codes,
 * row-major; scales as the granularity says.
 *
 * @example Quantize, dequantize, measure
 * ```ts
 * import { int8 } from "@proj/tinyllm/kernels";
 * const w = new Float32Array([0.5, -1, 0.25, 1, 2, 0, -2, 1]);
 * const m = int8.quantize(w, 2, 4, "row");
 * console.log(Array.from(m.data)); // [64, -127, 32, 127, 127, 0, -127, 64]
 * console.log(int8.byteSize(m)); // 8 bytes of codes + 2 scales = 16
 * ```
 */
export const int8: WeightType = {
  name: "int8",
  defaultGranularity: "row",
  bitsPerWeight: 8,
  blockSize: 1,
  bytesPerBlock: 1,
  safetensorsDtype: "I8",
  scales: "separate",
  layout:
    "Int8Array rows×cols row-major, q = clamp(round(w/scale), -127, 127), scale = absmax/127 per tensor|row|group",
  quantize(
    w: Float32Array,
    rows: number,
    cols: number,
    granularity: Granularity,
    options?: QuantizeMatrixOptions,
  ): QMatrix {
    const { codes, scales } = quantizeCodes(
      CODE,
      w,
      rows,
      cols,
      granularity,
      options,
    );
    return { type: "int8", rows, cols, granularity, data: codes, scales };
  },
  dequantize: (m) => dequantizeRows(m, int8.dequantizeRow),
  dequantizeRow(m: QMatrix, row: number, out: Float32Array): void {
    const q = m.data as Int8Array, cols = m.cols, o = row * cols;
    for (let c = 0; c < cols; c++) out[c] = q[o + c];
    scaleRow(m, row, out);
  },
  byteSize: storedByteSize,
  layoutSizes: int8LayoutSizes,
  fromParts(
    rows: number,
    cols: number,
    granularity: Granularity,
    data: Uint8Array,
    scales: Float32Array,
  ): QMatrix {
    const bytes = checkedPartBytes(
      "int8",
      int8LayoutSizes,
      1,
      rows,
      cols,
      granularity,
      data,
      scales,
    );
    return {
      type: "int8",
      rows,
      cols,
      granularity,
      data: new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      scales,
    };
  },
};
