/**
 * fp32 weights: the unquantized row of the weight-type table.
 *
 * @module
 */
import { ShapeError } from "../errors.ts";
import { checkedPartBytes } from "./symmetric.ts";
import type { Granularity, LayoutSizes, QMatrix, WeightType } from "./types.ts";

function fp32LayoutSizes(
  rows: number,
  cols: number,
  _granularity: Granularity,
): LayoutSizes {
  if (
    !Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0
  ) {
    throw new ShapeError(`fp32: bad shape [${rows}, ${cols}]`);
  }
  return { dataLength: rows * cols, scalesLength: 0 };
}

/**
 * The fp32 weight type: a plain row-major `Float32Array`, no scales (the
 * granularity argument is ignored).
 *
 * @example
 * ```ts
 * import { fp32 } from "@proj/tinyllm/kernels";
 * const m = fp32.quantize(new Float32Array([1, 2, 3, 4]), 2, 2, "tensor");
 * const row = new Float32Array(2);
 * fp32.dequantizeRow(m, 1, row);
 * console.log(Array.from(row), fp32.byteSize(m)); // [3, 4] 16
 * ```
 */
export const fp32: WeightType = {
  name: "fp32",
  defaultGranularity: "tensor",
  bitsPerWeight: 32,
  blockSize: 1,
  bytesPerBlock: 4,
  ggmlType: 0,
  safetensorsDtype: "F32",
  scales: "none",
  layout: "row-major float32, no scales",
  quantize(
    w: Float32Array,
    rows: number,
    cols: number,
    _granularity: Granularity,
  ): QMatrix {
    fp32LayoutSizes(rows, cols, "tensor");
    if (w.length !== rows * cols) {
      throw new ShapeError(
        `fp32.quantize: ${w.length} weights for shape [${rows}, ${cols}]`,
      );
    }
    return {
      type: "fp32",
      rows,
      cols,
      granularity: "tensor",
      data: w,
      scales: new Float32Array(0),
    };
  },
  dequantize(m: QMatrix): Float32Array {
    return (m.data as Float32Array).slice();
  },
  dequantizeRow(m: QMatrix, row: number, out: Float32Array): void {
    out.set(
      (m.data as Float32Array).subarray(row * m.cols, (row + 1) * m.cols),
    );
  },
  byteSize(m: QMatrix): number {
    return m.rows * m.cols * 4;
  },
  layoutSizes: fp32LayoutSizes,
  fromParts(
    rows: number,
    cols: number,
    granularity: Granularity,
    data: Uint8Array,
    scales: Float32Array,
  ): QMatrix {
    const bytes = checkedPartBytes(
      "fp32",
      fp32LayoutSizes,
      4,
      rows,
      cols,
      granularity,
      data,
      scales,
    );
    return {
      type: "fp32",
      rows,
      cols,
      granularity: "tensor",
      data: new Float32Array(bytes.buffer, bytes.byteOffset, rows * cols),
      scales: new Float32Array(0),
    };
  },
};
