/**
 * ggml's plain float types as block types of one element: F32, F16 and
 * BF16. ggml multiplies F16 (BF16) weights by activations rounded to F16
 * (BF16), its `vec_dot_type`, so the products here do the same.
 *
 * @module
 */
import { GGML_TYPE } from "./types.ts";
import { type GgmlActivations, type GgmlBlockType, rowsOf } from "./common.ts";
import {
  bf16ToFloat,
  floatToBf16,
  floatToHalf,
  halfToFloatTable,
} from "./half.ts";

const H = halfToFloatTable();
const f32 = new Float32Array(1);
const u8 = new Uint8Array(f32.buffer);
const u32 = new Uint32Array(f32.buffer);
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function readF32(src: Uint8Array, o: number): number {
  if (HOST_LE) {
    u8[0] = src[o];
    u8[1] = src[o + 1];
    u8[2] = src[o + 2];
    u8[3] = src[o + 3];
  } else {
    u8[3] = src[o];
    u8[2] = src[o + 1];
    u8[1] = src[o + 2];
    u8[0] = src[o + 3];
  }
  return f32[0];
}

function readBf16(src: Uint8Array, o: number): number {
  u32[0] = (src[o] | (src[o + 1] << 8)) << 16;
  return f32[0];
}

/**
 * A Float32Array/Uint16Array over `n` elements of `src` from byte `o` when it
 * is aligned (and the host little-endian), else undefined.
 */
function view<T>(
  ctor: {
    new (b: ArrayBuffer, o: number, n: number): T;
    BYTES_PER_ELEMENT: number;
  },
  src: Uint8Array,
  o: number,
  n: number,
): T | undefined {
  const at = src.byteOffset + o;
  return HOST_LE && at % ctor.BYTES_PER_ELEMENT === 0
    ? new ctor(src.buffer as ArrayBuffer, at, n)
    : undefined;
}

function dotValues(
  read: (src: Uint8Array, o: number) => number,
  size: number,
): GgmlBlockType["dot"] {
  return (w, wo, a, ao, n) => {
    const v = a.values;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += read(w, wo + size * i) * v[ao + i];
    return sum;
  };
}

/** Float rows at element offset `e` of `wf` (a Float32Array over the whole buffer region). */
function rowsF32View(
  wf: Float32Array,
  e: number,
  rowElems: number,
  rows: number,
  v: Float32Array,
  ao: number,
  n: number,
  out: Float32Array,
  oo: number,
): void {
  for (let r = 0; r < rows; r++) {
    const base = e + r * rowElems;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      s0 += wf[base + i] * v[ao + i];
      s1 += wf[base + i + 1] * v[ao + i + 1];
      s2 += wf[base + i + 2] * v[ao + i + 2];
      s3 += wf[base + i + 3] * v[ao + i + 3];
    }
    for (; i < n; i++) s0 += wf[base + i] * v[ao + i];
    out[oo + r] = s0 + s1 + s2 + s3;
  }
}

const rowsF32: GgmlBlockType["dotRows"] = (
  w,
  wo,
  rowBytes,
  rows,
  a,
  ao,
  n,
  out,
  oo,
) => {
  const span = rows > 0 ? (rows - 1) * rowBytes + 4 * n : 0;
  const wf = view(Float32Array, w, wo, span / 4);
  if (wf === undefined || rowBytes % 4 !== 0) {
    rowsOf(dotValues(readF32, 4))(w, wo, rowBytes, rows, a, ao, n, out, oo);
  } else rowsF32View(wf, 0, rowBytes / 4, rows, a.values, ao, n, out, oo);
};

const dotF32: GgmlBlockType["dot"] = (w, wo, a, ao, n) => {
  const out = new Float32Array(1);
  rowsF32(w, wo, 4 * n, 1, a, ao, n, out, 0);
  return out[0];
};

const rowsF16: GgmlBlockType["dotRows"] = (
  w,
  wo,
  rowBytes,
  rows,
  a,
  ao,
  n,
  out,
  oo,
) => {
  const span = rows > 0 ? (rows - 1) * rowBytes + 2 * n : 0;
  const wh = view(Uint16Array, w, wo, span / 2);
  const v = a.values;
  for (let r = 0; r < rows; r++) {
    let s0 = 0, s1 = 0;
    let i = 0;
    if (wh === undefined || rowBytes % 2 !== 0) {
      const o = wo + r * rowBytes;
      for (; i < n; i++) {
        s0 += H[w[o + 2 * i] | (w[o + 2 * i + 1] << 8)] * v[ao + i];
      }
    } else {
      const base = (r * rowBytes) / 2;
      for (; i + 2 <= n; i += 2) {
        s0 += H[wh[base + i]] * v[ao + i];
        s1 += H[wh[base + i + 1]] * v[ao + i + 1];
      }
      for (; i < n; i++) s0 += H[wh[base + i]] * v[ao + i];
    }
    out[oo + r] = s0 + s1;
  }
};

const dotF16: GgmlBlockType["dot"] = (w, wo, a, ao, n) => {
  const out = new Float32Array(1);
  rowsF16(w, wo, 2 * n, 1, a, ao, n, out, 0);
  return out[0];
};

function dotBf16(
  w: Uint8Array,
  wo: number,
  a: GgmlActivations,
  ao: number,
  n: number,
): number {
  const v = a.values;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += readBf16(w, wo + 2 * i) * v[ao + i];
  return sum;
}

/**
 * F32: plain floats; activations F32.
 *
 * @example
 * ```ts
 * import { ggmlF32 } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * const bytes = new Uint8Array(new Float32Array([1.5, -2]).buffer);
 * const out = new Float32Array(2);
 * ggmlF32.dequantizeRow(bytes, 0, out, 0, 2);
 * assert.deepEqual([...out], [1.5, -2]);
 * ```
 */
export const ggmlF32: GgmlBlockType = {
  id: GGML_TYPE.F32,
  name: "F32",
  blockSize: 1,
  typeSize: 4,
  vecDotType: GGML_TYPE.F32,
  dequantizeRow(src, so, out, oo, n) {
    for (let i = 0; i < n; i++) out[oo + i] = readF32(src, so + 4 * i);
  },
  quantizeRow(x, xo, dst, dso, n) {
    for (let i = 0; i < n; i++) {
      f32[0] = x[xo + i];
      for (let k = 0; k < 4; k++) {
        dst[dso + 4 * i + k] = u8[HOST_LE ? k : 3 - k];
      }
    }
  },
  dotReference: dotValues(readF32, 4),
  dot: dotF32,
  dotRows: rowsF32,
};

/**
 * F16: IEEE halves; activations rounded to F16.
 *
 * @example
 * ```ts
 * import { ggmlF16 } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * const bytes = new Uint8Array(2);
 * ggmlF16.quantizeRow(new Float32Array([0.1]), 0, bytes, 0, 1);
 * const out = new Float32Array(1);
 * ggmlF16.dequantizeRow(bytes, 0, out, 0, 1);
 * assert.equal(out[0], 0.0999755859375);
 * ```
 */
export const ggmlF16: GgmlBlockType = {
  id: GGML_TYPE.F16,
  name: "F16",
  blockSize: 1,
  typeSize: 2,
  vecDotType: GGML_TYPE.F16,
  dequantizeRow(src, so, out, oo, n) {
    for (let i = 0; i < n; i++) {
      out[oo + i] = H[src[so + 2 * i] | (src[so + 2 * i + 1] << 8)];
    }
  },
  quantizeRow(x, xo, dst, dso, n) {
    for (let i = 0; i < n; i++) {
      const h = floatToHalf(x[xo + i]);
      dst[dso + 2 * i] = h & 0xff;
      dst[dso + 2 * i + 1] = h >> 8;
    }
  },
  dotReference: dotValues((src, o) => H[src[o] | (src[o + 1] << 8)], 2),
  dot: dotF16,
  dotRows: rowsF16,
};

/**
 * BF16: the top halves of floats; activations rounded to BF16.
 *
 * @example
 * ```ts
 * import { ggmlBF16 } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * const bytes = new Uint8Array(2);
 * ggmlBF16.quantizeRow(new Float32Array([1 / 3]), 0, bytes, 0, 1);
 * const out = new Float32Array(1);
 * ggmlBF16.dequantizeRow(bytes, 0, out, 0, 1);
 * assert.equal(out[0], 0.333984375);
 * ```
 */
export const ggmlBF16: GgmlBlockType = {
  id: GGML_TYPE.BF16,
  name: "BF16",
  blockSize: 1,
  typeSize: 2,
  vecDotType: GGML_TYPE.BF16,
  dequantizeRow(src, so, out, oo, n) {
    for (let i = 0; i < n; i++) out[oo + i] = readBf16(src, so + 2 * i);
  },
  quantizeRow(x, xo, dst, dso, n) {
    for (let i = 0; i < n; i++) {
      const h = floatToBf16(x[xo + i]);
      dst[dso + 2 * i] = h & 0xff;
      dst[dso + 2 * i + 1] = h >> 8;
    }
  },
  dotReference: dotValues(
    (src, o) => bf16ToFloat(src[o] | (src[o + 1] << 8)),
    2,
  ),
  dot: dotBf16,
  dotRows: rowsOf(dotBf16),
};
