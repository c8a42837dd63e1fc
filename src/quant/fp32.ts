/**
 * fp32 weights: the unquantized row of the weight-type table.
 *
 * @module
 */
import { ShapeError } from "../errors.ts";
import { checkedPartBytes } from "./symmetric.ts";
import type {
  Granularity,
  LayoutSizes,
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

/**
 * Fast fp32 matmul `out[n, rows] = x[n, cols] · Wᵀ`: four independent
 * accumulators per dot product (about 3× the plain loop in V8, which
 * otherwise serialises on one add chain).
 */
export function matmulFp32Fast(
  m: QMatrix,
  x: Float32Array,
  n: number,
  out: Float32Array,
): void {
  const w = asF32(m);
  const { rows, cols } = m;
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const wo = r * cols;
    for (let i = 0; i < n; i++) {
      const xo = i * cols;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let o = wo, c = xo;
      for (const end = xo + c4; c < end; c += 4, o += 4) {
        s0 += w[o] * x[c];
        s1 += w[o + 1] * x[c + 1];
        s2 += w[o + 2] * x[c + 2];
        s3 += w[o + 3] * x[c + 3];
      }
      for (const end = xo + cols; c < end; c++, o++) s0 += w[o] * x[c];
      out[i * rows + r] = (s0 + s1) + (s2 + s3);
    }
  }
}

/** Fast fp32 matrix-vector product (decode): {@linkcode matmulFp32Fast} with n = 1. */
export function matvecFp32Fast(
  m: QMatrix,
  x: Float32Array,
  out: Float32Array,
): void {
  matmulFp32Fast(m, x, 1, out);
}

const fp32Kernels: LinearKernels = {
  backend: "js",
  matvec: matvecFp32Fast,
  matmul: matmulFp32Fast,
};

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
 * import { fp32 } from "@proj/tinyllm";
 * const m = fp32.quantize(new Float32Array([1, 2, 3, 4]), 2, 2, "tensor");
 * const out = new Float32Array(2);
 * fp32.js.matvec(m, new Float32Array([1, 1]), out);
 * console.log(Array.from(out)); // [3, 7]
 * ```
 */
export const fp32: WeightType = {
  name: "fp32",
  defaultGranularity: "tensor",
  bitsPerWeight: 32,
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
    return asF32(m).slice();
  },
  dequantizeRow(m: QMatrix, row: number, out: Float32Array): void {
    out.set(asF32(m).subarray(row * m.cols, (row + 1) * m.cols));
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
  reference: {
    backend: "reference",
    matvec: matvecFp32,
    matmul: matmulFp32,
  },
  js: fp32Kernels,
};
