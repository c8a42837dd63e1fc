/**
 * int4 weights, two per byte: byte i holds weight 2i in its low nibble and
 * weight 2i+1 in its high nibble, each stored as q+8 (0..15), with
 * `q = clamp(round(w/scale), -8, 7)` and `scale = absmax/7` per tensor, row or
 * group of G (even) along the input dimension. The fast kernels quantize the
 * activations to int8 per group and take integer dot products eight weights
 * (one 32-bit word) at a time on the raw nibbles 0..15, subtracting the
 * `8 × Σq` re-centring term once per group instead of once per weight.
 *
 * @module
 */
import {
  activationGroupSize,
  packActivationPairs,
  PAIR_SHIFT,
  quantizeActivationRows,
  scratchBiases,
  scratchCodes,
  scratchScales,
} from "./activation.ts";
import { LITTLE_ENDIAN, scaleStrides } from "./granularity.ts";
import { ShapeError } from "../errors.ts";
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

function packedOf(m: QMatrix): Uint8Array {
  return m.data as Uint8Array;
}

/** The signed code of weight `(r, c)` of a packed int4 matrix. */
function code(p: Uint8Array, cols: number, r: number, c: number): number {
  const i = r * cols + c;
  const b = p[i >> 1];
  return ((i & 1) === 0 ? b & 15 : b >> 4) - 8;
}

/** Plain int4 matmul: unpacks and dequantizes each weight, fp64 accumulation. */
function matmulInt4Reference(
  m: QMatrix,
  x: Float32Array,
  n: number,
  out: Float32Array,
): void {
  const p = packedOf(m), sc = m.scales;
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
        s += code(p, cols, r, c) * scale * x[i * cols + c];
      }
      out[i * rows + r] = s;
    }
  }
}

/**
 * Fast int4 matmul `out[n, rows] = x[n, cols] · Wᵀ` on the packed nibbles:
 * activations rounded to int8 per group, exact int32 dot products of the raw
 * nibbles (0..15) minus `8 × Σq` per group, one float multiply-add per group.
 */
export function matmulInt4(
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
  const xq = scratchCodes(), xs = scratchScales(), bias = scratchBiases();
  // Weight scale of (r, group g) is sc[r * rowStride + g * groupStride]
  // (computed inline: no per-call objects).
  const gran = m.granularity;
  const rowStride = gran === "tensor" ? 0 : gran === "row" ? 1 : cols / gran;
  const groupStride = typeof gran === "number" ? 1 : 0;
  const data = packedOf(m);
  if (
    LITTLE_ENDIAN && data.byteOffset % 4 === 0 && cols % 8 === 0 &&
    gs % 8 === 0
  ) {
    const w32 = wordView(data);
    const rowWords = cols >> 3;
    if (n >= 2 && gs * 15 * 127 < PAIR_SHIFT / 2) {
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
            for (let c = c0; c < cEnd; c += 8, o++) {
              const v = w32[o];
              sum += (v & 15) * p[c] + ((v >> 4) & 15) * p[c + 1] +
                ((v >> 8) & 15) * p[c + 2] + ((v >> 12) & 15) * p[c + 3] +
                ((v >> 16) & 15) * p[c + 4] + ((v >> 20) & 15) * p[c + 5] +
                ((v >> 24) & 15) * p[c + 6] + (v >>> 28) * p[c + 7];
            }
            const hi = Math.round(sum / PAIR_SHIFT);
            const lo = sum - hi * PAIR_SHIFT;
            const ws = sc[sBase + g * groupStride];
            acc0 += (lo - bias[i0 * ng + g]) * (xs[i0 * ng + g] * ws);
            acc1 += (hi - bias[i1 * ng + g]) * (xs[i1 * ng + g] * ws);
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
          for (let c = c0; c < cEnd; c += 8, o++) {
            const v = w32[o];
            dot = (dot + (v & 15) * xq[c] + ((v >> 4) & 15) * xq[c + 1] +
              ((v >> 8) & 15) * xq[c + 2] + ((v >> 12) & 15) * xq[c + 3] +
              ((v >> 16) & 15) * xq[c + 4] + ((v >> 20) & 15) * xq[c + 5] +
              ((v >> 24) & 15) * xq[c + 6] + (v >>> 28) * xq[c + 7]) | 0;
          }
          acc += (dot - bias[gBase + g]) *
            (xs[gBase + g] * sc[sBase + g * groupStride]);
        }
        out[i * rows + r] = acc;
      }
    }
    return;
  }
  const rowBytes = cols >> 1;
  for (let r = 0; r < rows; r++) {
    const sBase = r * rowStride;
    for (let i = 0; i < n; i++) {
      let acc = 0;
      let o = r * rowBytes;
      const gBase = i * ng;
      for (let g = 0; g < ng; g++) {
        let dot = 0;
        const c0 = i * cols + g * gs, cEnd = c0 + gs;
        for (let c = c0; c < cEnd; c += 2, o++) {
          const b = data[o];
          dot = (dot + (b & 15) * xq[c] + (b >> 4) * xq[c + 1]) | 0;
        }
        acc += (dot - bias[gBase + g]) *
          (xs[gBase + g] * sc[sBase + g * groupStride]);
      }
      out[i * rows + r] = acc;
    }
  }
}

/** Fast int4 matrix-vector product (decode): {@linkcode matmulInt4} with n = 1. */
export function matvecInt4(
  m: QMatrix,
  x: Float32Array,
  out: Float32Array,
): void {
  matmulInt4(m, x, 1, out);
}

function int4LayoutSizes(
  rows: number,
  cols: number,
  granularity: Granularity,
): LayoutSizes {
  const sizes = symmetricLayoutSizes("int4", rows, cols, granularity, 2);
  if (cols % 2 !== 0) {
    throw new ShapeError(
      `int4: cols must be even (two weights per byte), got [${rows}, ${cols}]`,
    );
  }
  return sizes;
}

/**
 * The int4 weight type: `data` is a `Uint8Array` of rows×cols/2 bytes, two
 * weights per byte (low nibble first, stored as q+8); cols must be even.
 *
 * @example Packed bytes of a 1×4 matrix
 * ```ts
 * import { int4 } from "@proj/tinyllm";
 * const m = int4.quantize(new Float32Array([7, -7, 1, 0]), 1, 4, "tensor");
 * // codes 7, -7, 1, 0 → nibbles 15, 1, 9, 8 → bytes 0x1f, 0x89
 * console.log(Array.from(m.data)); // [31, 137]
 * console.log(int4.byteSize(m)); // 2 bytes + 1 scale = 6
 * ```
 */
export const int4: WeightType = {
  name: "int4",
  defaultGranularity: 32,
  bitsPerWeight: 4,
  layout:
    "Uint8Array rows×cols/2, byte i = (q[2i]+8) | (q[2i+1]+8) << 4, q = clamp(round(w/scale), -8, 7), scale = absmax/7 per tensor|row|group",
  quantize(
    w: Float32Array,
    rows: number,
    cols: number,
    granularity: Granularity,
    options?: QuantizeMatrixOptions,
  ): QMatrix {
    int4LayoutSizes(rows, cols, granularity);
    const { codes, scales } = quantizeCodes(
      "int4",
      w,
      rows,
      cols,
      granularity,
      -8,
      7,
      options,
    );
    const data = new Uint8Array(codes.length >> 1);
    for (let i = 0; i < data.length; i++) {
      data[i] = (codes[2 * i] + 8) | ((codes[2 * i + 1] + 8) << 4);
    }
    return { type: "int4", rows, cols, granularity, data, scales };
  },
  dequantize: (m) => dequantizeRows(m, int4.dequantizeRow),
  dequantizeRow(m: QMatrix, row: number, out: Float32Array): void {
    // cols is even (see int4LayoutSizes): the row starts on a byte
    const p = packedOf(m), cols = m.cols, o = (row * cols) >> 1;
    for (let c = 0; c < cols; c += 2) {
      const b = p[o + (c >> 1)];
      out[c] = (b & 15) - 8;
      out[c + 1] = (b >> 4) - 8;
    }
    scaleRow(m, row, out);
  },
  byteSize: storedByteSize,
  layoutSizes: int4LayoutSizes,
  fromParts(
    rows: number,
    cols: number,
    granularity: Granularity,
    data: Uint8Array,
    scales: Float32Array,
  ): QMatrix {
    const data4 = checkedPartBytes(
      "int4",
      int4LayoutSizes,
      1,
      rows,
      cols,
      granularity,
      data,
      scales,
    );
    return { type: "int4", rows, cols, granularity, data: data4, scales };
  },
  reference: {
    backend: "reference",
    matvec: (m, x, out) => matmulInt4Reference(m, x, 1, out),
    matmul: matmulInt4Reference,
  },
  js: {
    backend: "js",
    matvec: matvecInt4,
    matmul: matmulInt4,
    quantizesActivations: true,
  } satisfies LinearKernels,
};
