/**
 * What the weight types share: choosing scales and rounding to codes (int8,
 * int4), layout sizes, applying scales to a row of codes, byte sizes, and
 * checking and aligning stored parts (all types).
 *
 * @module
 */
import { alignedBytes } from "../bytes.ts";
import { InputError, ShapeError } from "../errors.ts";
import {
  checkGranularity,
  roundHalfAway,
  scaleCount,
  scaleStrides,
} from "./granularity.ts";
import type {
  Granularity,
  LayoutSizes,
  PayloadDtype,
  QMatrix,
  QuantizeMatrixOptions,
  WeightType,
} from "./types.ts";

/** A symmetric integer code: its range and how many codes share a byte. */
export interface SymmetricCode {
  /** The weight type's name (for messages). */
  readonly name: string;
  /** Smallest code. */
  readonly qmin: number;
  /** Largest code; the scale is absmax/qmax. */
  readonly qmax: number;
  /** Codes per byte: groups must not split a byte. */
  readonly weightsPerByte: 1 | 2;
}

/**
 * Rounds `w` ([rows, cols], row-major) to integer codes clamped to
 * [qmin, qmax] with one scale `absmax/qmax` per tensor/row/group (0 when
 * absmax is 0). Returns the codes unpacked, one per Int8 element, and the
 * scales. `options.scaleSearch` picks each scale by
 * {@linkcode searchScales} instead.
 */
export function quantizeCodes(
  code: SymmetricCode,
  w: Float32Array,
  rows: number,
  cols: number,
  granularity: Granularity,
  options?: QuantizeMatrixOptions,
): { codes: Int8Array; scales: Float32Array } {
  const { name: typeName, qmin, qmax } = code;
  symmetricLayoutSizes(code, rows, cols, granularity);
  if (w.length !== rows * cols) {
    throw new ShapeError(
      `${typeName}.quantize: ${w.length} weights for shape [${rows}, ${cols}]`,
    );
  }
  const scales = new Float32Array(scaleCount(rows, cols, granularity));
  const { rowStride, groupStride, groupSize } = scaleStrides(
    cols,
    granularity,
  );
  const absmax = new Float64Array(scales.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = w[r * cols + c];
      if (!Number.isFinite(v)) {
        throw new InputError(
          `${typeName}.quantize: non-finite weight ${v} at [${r}, ${c}]`,
        );
      }
      const si = r * rowStride + Math.floor(c / groupSize) * groupStride;
      const a = Math.abs(v);
      if (a > absmax[si]) absmax[si] = a;
    }
  }
  for (let i = 0; i < scales.length; i++) scales[i] = absmax[i] / qmax;
  if (options?.scaleSearch ?? false) {
    searchScales(
      w,
      rows,
      cols,
      rowStride,
      groupStride,
      groupSize,
      qmin,
      qmax,
      absmax,
      scales,
    );
  }
  const codes = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const scale =
        scales[r * rowStride + Math.floor(c / groupSize) * groupStride];
      if (scale === 0) continue;
      let q = roundHalfAway(w[r * cols + c] / scale);
      // |w| <= absmax, but the float32 scale may round down: clamp.
      if (q > qmax) q = qmax;
      else if (q < qmin) q = qmin;
      codes[r * cols + c] = q;
    }
  }
  return { codes, scales };
}

/** Scale candidates tried by {@linkcode searchScales}: absmax / (qmax·f). */
const SEARCH_FACTORS: readonly number[] = Array.from(
  { length: 31 },
  (_, k) => 0.85 + k * 0.01,
);

/**
 * Replaces each slot's `absmax/qmax` scale by the candidate
 * `absmax/(qmax·f)`, f ∈ [0.85, 1.15], with the least squared rounding error
 * over the slot (clamping included; ties keep absmax/qmax, so the error never
 * grows). Larger f trades clipping the extreme weight for a finer step
 * everywhere else, and lets int4 use its code -8.
 */
function searchScales(
  w: Float32Array,
  rows: number,
  cols: number,
  rowStride: number,
  groupStride: number,
  groupSize: number,
  qmin: number,
  qmax: number,
  absmax: Float64Array,
  scales: Float32Array,
): void {
  // f = 1 first, so that strict improvement is needed to move away from it.
  const factors = [1, ...SEARCH_FACTORS.filter((f) => Math.abs(f - 1) > 1e-9)];
  const sse = (off: number, len: number, s: number): number => {
    if (s === 0) return 0;
    let e = 0;
    for (let i = off; i < off + len; i++) {
      const v = w[i];
      let q = roundHalfAway(v / s);
      if (q > qmax) q = qmax;
      else if (q < qmin) q = qmin;
      const d = v - q * s;
      e += d * d;
    }
    return e;
  };
  if (rowStride === 0) {
    // one scale for the whole tensor: sum each candidate's error over it
    let best = Infinity;
    for (const f of factors) {
      const s = Math.fround(absmax[0] / (qmax * f));
      const e = sse(0, rows * cols, s);
      if (e < best) {
        best = e;
        scales[0] = s;
      }
    }
    return;
  }
  // per row or group: each slot is one contiguous run of weights
  for (let r = 0; r < rows; r++) {
    for (let c0 = 0; c0 < cols; c0 += groupSize) {
      const si = r * rowStride + (c0 / groupSize) * groupStride;
      let best = Infinity;
      for (const f of factors) {
        const s = Math.fround(absmax[si] / (qmax * f));
        const e = sse(r * cols + c0, groupSize, s);
        if (e < best) {
          best = e;
          scales[si] = s;
        }
      }
    }
  }
}

/**
 * Layout sizes of a symmetric integer type: validates the shape and
 * granularity (groups even and cols even when two weights share a byte) and
 * counts the data bytes and scales.
 */
export function symmetricLayoutSizes(
  code: SymmetricCode,
  rows: number,
  cols: number,
  granularity: Granularity,
): LayoutSizes {
  const { name, weightsPerByte } = code;
  checkGranularity(name, rows, cols, granularity, weightsPerByte === 2);
  if (cols % weightsPerByte !== 0) {
    throw new ShapeError(
      `${name}: cols must be even (two weights per byte), got [${rows}, ${cols}]`,
    );
  }
  return {
    dataLength: (rows * cols) / weightsPerByte,
    scalesLength: scaleCount(rows, cols, granularity),
  };
}

/**
 * Multiplies `out[0..cols)`, holding the codes of row `row` of `m` as floats,
 * in place by each weight's scale (the `dequantizeRow` of the integer types).
 */
export function scaleRow(m: QMatrix, row: number, out: Float32Array): void {
  const sc = m.scales, cols = m.cols;
  const { rowStride, groupStride, groupSize } = scaleStrides(
    cols,
    m.granularity,
  );
  let si = row * rowStride;
  for (let c0 = 0; c0 < cols; c0 += groupSize, si += groupStride) {
    const scale = sc[si], end = Math.min(c0 + groupSize, cols);
    for (let c = c0; c < end; c++) out[c] *= scale;
  }
}

/** A type's `dequantize`: every row through its `dequantizeRow`. */
export function dequantizeRows(
  m: QMatrix,
  dequantizeRow: (m: QMatrix, row: number, out: Float32Array) => void,
): Float32Array {
  const out = new Float32Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) {
    dequantizeRow(m, r, out.subarray(r * m.cols, (r + 1) * m.cols));
  }
  return out;
}

/** Bytes held by a stored matrix: its packed data plus its scales. */
export function storedByteSize(m: QMatrix): number {
  return m.data.byteLength + m.scales.byteLength;
}

/**
 * The checks of a type's `fromParts`: validates the shape with
 * `layoutSizes`, then that `data` is `dataLength × bytesPerElement` bytes and
 * `scales` has `scalesLength` entries. Returns `data` 4-byte aligned (see
 * {@linkcode alignedBytes}).
 */
export function checkedPartBytes(
  typeName: string,
  layoutSizes: (
    rows: number,
    cols: number,
    granularity: Granularity,
  ) => LayoutSizes,
  bytesPerElement: number,
  rows: number,
  cols: number,
  granularity: Granularity,
  data: Uint8Array,
  scales: Float32Array,
): Uint8Array {
  const sizes = layoutSizes(rows, cols, granularity);
  const expectedDataBytes = sizes.dataLength * bytesPerElement;
  if (data.byteLength !== expectedDataBytes) {
    throw new ShapeError(
      `${typeName}.fromParts: data is ${data.byteLength} bytes, [${rows}, ${cols}] needs ${expectedDataBytes}`,
    );
  }
  if (scales.length !== sizes.scalesLength) {
    throw new ShapeError(
      `${typeName}.fromParts: ${scales.length} scales, [${rows}, ${cols}] at granularity ${
        String(granularity)
      } needs ${sizes.scalesLength}`,
    );
  }
  return alignedBytes(data, 4);
}

/** What tells one symmetric integer type from another (see {@linkcode symmetricType}). */
export interface SymmetricTypeSpec {
  /** The code range and packing. */
  readonly code: SymmetricCode;
  /** Bits per weight of the payload. */
  readonly bitsPerWeight: number;
  /** Element type of the payload in an archive. */
  readonly safetensorsDtype: PayloadDtype;
  /** One line describing the layout. */
  readonly layout: string;
  /** Granularity when none is given. */
  readonly defaultGranularity: Granularity;
  /** Packs unpacked codes (one per element) into the payload. */
  pack(codes: Int8Array): Int8Array | Uint8Array;
  /** The payload view of stored bytes (4-byte aligned). */
  view(bytes: Uint8Array): Int8Array | Uint8Array;
  /** Writes the codes of row `row` into `out` as numbers. */
  unpackRow(m: QMatrix, row: number, out: Float32Array): void;
}

/**
 * A symmetric integer weight type (`w ≈ q · scale`, scales kept apart, one
 * per tensor, row or group): everything but its packing comes from here.
 */
export function symmetricType(spec: SymmetricTypeSpec): WeightType {
  const { code } = spec;
  const name = code.name;
  const layoutSizes = (rows: number, cols: number, g: Granularity) =>
    symmetricLayoutSizes(code, rows, cols, g);
  const dequantizeRow = (m: QMatrix, row: number, out: Float32Array): void => {
    spec.unpackRow(m, row, out);
    scaleRow(m, row, out);
  };
  return {
    name,
    defaultGranularity: spec.defaultGranularity,
    bitsPerWeight: spec.bitsPerWeight,
    blockSize: code.weightsPerByte,
    bytesPerBlock: 1,
    safetensorsDtype: spec.safetensorsDtype,
    scales: "separate",
    layout: spec.layout,
    quantize(
      w: Float32Array,
      rows: number,
      cols: number,
      granularity: Granularity,
      options?: QuantizeMatrixOptions,
    ): QMatrix {
      const { codes, scales } = quantizeCodes(
        code,
        w,
        rows,
        cols,
        granularity,
        options,
      );
      return {
        type: name,
        rows,
        cols,
        granularity,
        data: spec.pack(codes),
        scales,
      };
    },
    dequantize: (m) => dequantizeRows(m, dequantizeRow),
    dequantizeRow,
    byteSize: storedByteSize,
    layoutSizes,
    fromParts(
      rows: number,
      cols: number,
      granularity: Granularity,
      data: Uint8Array,
      scales: Float32Array,
    ): QMatrix {
      const bytes = checkedPartBytes(
        name,
        layoutSizes,
        1,
        rows,
        cols,
        granularity,
        data,
        scales,
      );
      return {
        type: name,
        rows,
        cols,
        granularity,
        data: spec.view(bytes),
        scales,
      };
    },
  };
}
