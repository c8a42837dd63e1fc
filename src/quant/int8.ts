/**
 * int8 weights: one signed byte per weight, `q = clamp(round(w/scale), -127,
 * 127)`, `scale = absmax/127` per tensor, row or group of G along the input
 * dimension. The fast kernels quantize the activations to int8 per group once
 * per product and take integer dot products four weights (one 32-bit word) at
 * a time; measured faster in V8 than float accumulation over the bytes.
 *
 * @module
 */
import {
  activationGroupSize,
  packActivationPairs,
  PAIR_SHIFT,
  quantizeActivationRows,
  scratchCodes,
  scratchScales,
} from "./activation.ts";
import { LITTLE_ENDIAN, scaleStrides } from "./granularity.ts";
import {
  checkedPartBytes,
  dequantizeRows,
  quantizeCodes,
  scaleRow,
  storedByteSize,
  symmetricLayoutSizes,
  wordView,
} from "./symmetric.ts";
import type {
  Granularity,
  LayoutSizes,
  LinearKernels,
  QMatrix,
  QuantizeMatrixOptions,
  WeightType,
} from "./types.ts";

function codesOf(m: QMatrix): Int8Array {
  return m.data as Int8Array;
}

/** Plain int8 matmul: dequantizes each weight on the fly, fp64 accumulation. */
function matmulInt8Reference(
  m: QMatrix,
  x: Float32Array,
  n: number,
  out: Float32Array,
): void {
  const q = codesOf(m), sc = m.scales;
  const { rows, cols } = m;
  const { rowStride, groupStride, groupSize } = scaleStrides(
    cols,
    m.granularity,
  );
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < cols; c++) {
        const scale =
          sc[r * rowStride + Math.floor(c / groupSize) * groupStride];
        s += q[r * cols + c] * scale * x[i * cols + c];
      }
      out[i * rows + r] = s;
    }
  }
}

/**
 * Fast int8 matmul `out[n, rows] = x[n, cols] · Wᵀ`: activations rounded to
 * int8 per group (see `activation.ts`), exact int32 dot products per group,
 * one float multiply-add per group for the two scales.
 */
export function matmulInt8(
  m: QMatrix,
  x: Float32Array,
  n: number,
  out: Float32Array,
): void {
  const { rows, cols } = m;
  const sc = m.scales;
  const gs = activationGroupSize(m);
  const ng = cols / gs;
  quantizeActivationRows(x, n, cols, gs);
  const xq = scratchCodes(), xs = scratchScales();
  // Activation groups coincide with weight groups when grouped; otherwise
  // the weight scale is constant along the row (groupStride 0).
  // Weight scale of (r, group g) is sc[r * rowStride + g * groupStride]
  // (computed inline: no per-call objects).
  const gran = m.granularity;
  const rowStride = gran === "tensor" ? 0 : gran === "row" ? 1 : cols / gran;
  const groupStride = typeof gran === "number" ? 1 : 0;
  const data = codesOf(m);
  if (
    LITTLE_ENDIAN && data.byteOffset % 4 === 0 && cols % 4 === 0 &&
    gs % 4 === 0
  ) {
    const w32 = wordView(data);
    const rowWords = cols >> 2;
    if (n >= 2 && gs * 127 * 127 < PAIR_SHIFT / 2) {
      // Two input rows per multiply (see packActivationPairs): each weight
      // word is decoded once for both rows.
      const p = packActivationPairs(n, cols);
      const pairs = (n + 1) >> 1;
      for (let r = 0; r < rows; r++) {
        const sBase = r * rowStride;
        for (let j = 0; j < pairs; j++) {
          const i0 = 2 * j, i1 = i0 + 1;
          let acc0 = 0, acc1 = 0;
          let o = r * rowWords;
          for (let g = 0; g < ng; g++) {
            let sum = 0;
            const c0 = j * cols + g * gs, cEnd = c0 + gs;
            for (let c = c0; c < cEnd; c += 4, o++) {
              const v = w32[o];
              sum += ((v << 24) >> 24) * p[c] + ((v << 16) >> 24) * p[c + 1] +
                ((v << 8) >> 24) * p[c + 2] + (v >> 24) * p[c + 3];
            }
            const hi = Math.round(sum / PAIR_SHIFT);
            const lo = sum - hi * PAIR_SHIFT;
            const ws = sc[sBase + g * groupStride];
            acc0 += lo * (xs[i0 * ng + g] * ws);
            acc1 += hi * (xs[i1 * ng + g] * ws);
          }
          out[i0 * rows + r] = acc0;
          if (i1 < n) out[i1 * rows + r] = acc1;
        }
      }
      return;
    }
    for (let r = 0; r < rows; r++) {
      const sBase = r * rowStride;
      for (let i = 0; i < n; i++) {
        let acc = 0;
        let o = r * rowWords;
        const gBase = i * ng;
        for (let g = 0; g < ng; g++) {
          let dot = 0;
          const c0 = i * cols + g * gs, cEnd = c0 + gs;
          for (let c = c0; c < cEnd; c += 4, o++) {
            const v = w32[o];
            // sign-extend each byte of the little-endian word
            dot = (dot + ((v << 24) >> 24) * xq[c] +
              ((v << 16) >> 24) * xq[c + 1] +
              ((v << 8) >> 24) * xq[c + 2] + (v >> 24) * xq[c + 3]) | 0;
          }
          acc += dot * (xs[gBase + g] * sc[sBase + g * groupStride]);
        }
        out[i * rows + r] = acc;
      }
    }
    return;
  }
  for (let r = 0; r < rows; r++) {
    const sBase = r * rowStride;
    for (let i = 0; i < n; i++) {
      let acc = 0;
      let o = r * cols;
      const gBase = i * ng;
      for (let g = 0; g < ng; g++) {
        let dot = 0;
        const c0 = i * cols + g * gs, cEnd = c0 + gs;
        for (let c = c0; c < cEnd; c++, o++) dot = (dot + data[o] * xq[c]) | 0;
        acc += dot * (xs[gBase + g] * sc[sBase + g * groupStride]);
      }
      out[i * rows + r] = acc;
    }
  }
}

/** Fast int8 matrix-vector product (decode): {@linkcode matmulInt8} with n = 1. */
export function matvecInt8(
  m: QMatrix,
  x: Float32Array,
  out: Float32Array,
): void {
  matmulInt8(m, x, 1, out);
}

function int8LayoutSizes(
  rows: number,
  cols: number,
  granularity: Granularity,
): LayoutSizes {
  return symmetricLayoutSizes("int8", rows, cols, granularity, 1);
}

/**
 * The int8 weight type: `data` is an `Int8Array` of rows×cols codes,
 * row-major; scales as the granularity says.
 *
 * @example Quantize, multiply, measure
 * ```ts
 * import { int8 } from "@proj/tinyllm";
 * const w = new Float32Array([0.5, -1, 0.25, 1, 2, 0, -2, 1]);
 * const m = int8.quantize(w, 2, 4, "row");
 * const out = new Float32Array(2);
 * int8.reference.matvec(m, new Float32Array([1, 1, 1, 1]), out);
 * console.log(Array.from(m.data)); // [64, -127, 32, 127, 127, 0, -127, 64]
 * console.log(int8.byteSize(m)); // 8 bytes of codes + 2 scales = 16
 * ```
 */
export const int8: WeightType = {
  name: "int8",
  defaultGranularity: "row",
  bitsPerWeight: 8,
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
      "int8",
      w,
      rows,
      cols,
      granularity,
      -127,
      127,
      options,
    );
    return { type: "int8", rows, cols, granularity, data: codes, scales };
  },
  dequantize: (m) => dequantizeRows(m, int8.dequantizeRow),
  dequantizeRow(m: QMatrix, row: number, out: Float32Array): void {
    const q = codesOf(m), cols = m.cols, o = row * cols;
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
  reference: {
    backend: "reference",
    matvec: (m, x, out) => matmulInt8Reference(m, x, 1, out),
    matmul: matmulInt8Reference,
  },
  js: {
    backend: "js",
    matvec: matvecInt8,
    matmul: matmulInt8,
    quantizesActivations: true,
  } satisfies LinearKernels,
};
