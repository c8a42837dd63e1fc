/**
 * fp32 weights: the unquantized row of the weight-type table.
 *
 * @module
 */
import type {
  Granularity,
  LinearKernels,
  QMatrix,
  WeightType,
} from "./types.ts";

function asF32(m: QMatrix): Float32Array {
  return m.data as Float32Array;
}

/** Plain fp32 matrix-vector product, one sequential dot product per row (as llama2.c). */
export function matvecFp32(
  m: QMatrix,
  x: Float32Array,
  out: Float32Array,
): void {
  const w = asF32(m);
  const { rows, cols } = m;
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const o = r * cols;
    for (let c = 0; c < cols; c++) s += w[o + c] * x[c];
    out[r] = s;
  }
}

/** Plain fp32 matmul: `out[n, rows] = x[n, cols] · Wᵀ`. */
export function matmulFp32(
  m: QMatrix,
  x: Float32Array,
  n: number,
  out: Float32Array,
): void {
  const w = asF32(m);
  const { rows, cols } = m;
  for (let i = 0; i < n; i++) {
    const xo = i * cols, oo = i * rows;
    for (let r = 0; r < rows; r++) {
      let s = 0;
      const wo = r * cols;
      for (let c = 0; c < cols; c++) s += w[wo + c] * x[xo + c];
      out[oo + r] = s;
    }
  }
}

const fp32Kernels: LinearKernels = {
  backend: "js",
  matvec: matvecFp32,
  matmul: matmulFp32,
};

/** The fp32 weight type: a plain row-major `Float32Array`, no scales. */
export const fp32: WeightType = {
  name: "fp32",
  bitsPerWeight: 32,
  layout: "row-major float32, no scales",
  quantize(
    w: Float32Array,
    rows: number,
    cols: number,
    _granularity: Granularity,
  ): QMatrix {
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
    return asF32(m).slice();
  },
  dequantizeRow(m: QMatrix, row: number, out: Float32Array): void {
    out.set(asF32(m).subarray(row * m.cols, (row + 1) * m.cols));
  },
  byteSize(m: QMatrix): number {
    return m.rows * m.cols * 4;
  },
  reference: { ...fp32Kernels, backend: "reference" },
  js: fp32Kernels,
};
