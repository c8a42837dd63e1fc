/**
 * What every ggml block type module provides, the activation formats that
 * its dot kernels take (ggml's `vec_dot_type`), and the float arithmetic
 * helpers that make the reference quantizers bit-identical to ggml's C.
 *
 * ggml quantizes the input vector of a matrix product to the weight type's
 * `vec_dot_type` once, then takes integer dot products block by block:
 * F16 → F16, BF16 → BF16, Q4_0/Q5_0/Q8_0 → Q8_0, Q4_1/Q5_1 → Q8_1, the K
 * types → Q8_K (blocks of 256). The activations here are kept unpacked
 * (quants in one Int8Array, scales as floats) since only the kernels read
 * them.
 *
 * @module
 */
import { ShapeError } from "../../errors.ts";
import type { GgmlTypeName } from "./types.ts";

/**
 * Activations rounded to a `vec_dot_type`, for `rows` vectors of `length`
 * elements each (row r's elements start at `r * length`). Only the arrays of
 * the activation type are non-empty.
 */
export interface GgmlActivations {
  /** The ggml type id of the format (F32, F16, BF16, Q8_0, Q8_1 or Q8_K). */
  readonly type: number;
  /** Elements per vector (a multiple of the format's block size). */
  readonly length: number;
  /** How many vectors the buffer holds. */
  readonly rows: number;
  /** F32/F16/BF16: the values after rounding to the type (as floats). */
  readonly values: Float32Array;
  /** Q8_*: the 8-bit quants, one per element. */
  readonly qs: Int8Array;
  /** Q8_*: one scale per block (Q8_0/Q8_1: the half-rounded scale). */
  readonly d: Float32Array;
  /** Q8_1: per block, `d · Σ qs` rounded to half (ggml's `s`). */
  readonly s: Float32Array;
  /** Q8_K: Σ qs over each group of 16 (ggml's `bsums`). */
  readonly bsums: Int32Array;
  /** Q8_0/Q8_1: Σ qs per block (the Q4_0/Q5_0 offset correction). */
  readonly sums: Int32Array;
}

/**
 * One ggml block type: its storage and its reference and fast kernels, as
 * pure functions over raw block bytes (the GGUF tensor layout).
 */
export interface GgmlBlockType {
  /** ggml type id. */
  readonly id: number;
  /** Upper-case name ("Q4_K"). */
  readonly name: GgmlTypeName;
  /** Elements per block. */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
  /** ggml type id of the activation format the dot kernels take. */
  readonly vecDotType: number;
  /**
   * Decodes `n` elements (whole blocks) from `src` at byte `srcOffset` into
   * `out` at `outOffset`, bit for bit as ggml's `dequantize_row_*`.
   */
  dequantizeRow(
    src: Uint8Array,
    srcOffset: number,
    out: Float32Array,
    outOffset: number,
    n: number,
  ): void;
  /**
   * Encodes `n` elements (whole blocks) of `x` from `xOffset` into `dst` at
   * byte `dstOffset`, bit for bit as ggml's reference quantizer
   * (`quantize_row_*_ref`, what `llama-quantize` uses without an imatrix).
   */
  quantizeRow(
    x: Float32Array,
    xOffset: number,
    dst: Uint8Array,
    dstOffset: number,
    n: number,
  ): void;
  /**
   * Plain dot product of `n` weights at byte `wOffset` with activation
   * elements `aOffset…`: both dequantized, summed in float64. The fast
   * kernels are tested against it.
   */
  dotReference(
    w: Uint8Array,
    wOffset: number,
    a: GgmlActivations,
    aOffset: number,
    n: number,
  ): number;
  /**
   * The same dot product as ggml computes it: an int32 sum of quant products
   * per block, then scaled by `d_w · d_a` (plus the min terms).
   */
  dot(
    w: Uint8Array,
    wOffset: number,
    a: GgmlActivations,
    aOffset: number,
    n: number,
  ): number;
  /**
   * {@linkcode GgmlBlockType.dot} for `rows` consecutive rows `rowBytes`
   * apart from byte `wOffset`, into `out[outOffset + r]` (what the matrix
   * products call: views of the weights are made once per call, not per row).
   */
  dotRows(
    w: Uint8Array,
    wOffset: number,
    rowBytes: number,
    rows: number,
    a: GgmlActivations,
    aOffset: number,
    n: number,
    out: Float32Array,
    outOffset: number,
  ): void;
}

// ---------------------------------------------------------------------------
// float32 arithmetic as C does it (every operation rounded to float)

/** Rounds to float32 (each C float operation's result). */
export const fr: (x: number) => number = Math.fround;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * ggml's `nearest_int`: adds 1.5·2^23 in float so the FPU rounds to the
 * nearest integer (ties to even), then reads the low mantissa bits.
 */
export function nearestInt(fval: number): number {
  f32[0] = fval + 12582912;
  return (u32[0] & 0x007fffff) - 0x00400000;
}

/**
 * C's float → int32 conversion as x86 does it (`cvttss2si`): truncation, and
 * the "integer indefinite" 0x80000000 for NaN or out-of-range values.
 */
export function truncInt(v: number): number {
  return v > -2147483649 && v < 2147483648 ? Math.trunc(v) : -2147483648;
}

/** C's `(int8_t)` of a float: truncate to int32, keep the low byte, signed. */
export function toInt8(v: number): number {
  return (truncInt(v) << 24) >> 24;
}

/** C's `(uint8_t)` of a float. */
export function toUint8(v: number): number {
  return truncInt(v) & 0xff;
}

/** Rounds to the nearest integer, ties to even (SSE's `roundps` mode 0). */
export function roundEven(v: number): number {
  const f = Math.floor(v);
  const diff = v - f;
  if (diff < 0.5) return f;
  if (diff > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** C's `roundf`: to nearest, ties away from zero. */
export function roundf(v: number): number {
  return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
}

/** {@linkcode GgmlBlockType.dotRows} as a loop over a row dot. */
export function rowsOf(dot: GgmlBlockType["dot"]): GgmlBlockType["dotRows"] {
  return (w, wOffset, rowBytes, rows, a, aOffset, n, out, outOffset) => {
    for (let r = 0; r < rows; r++) {
      out[outOffset + r] = dot(w, wOffset + r * rowBytes, a, aOffset, n);
    }
  };
}

/** Throws unless `n` is a whole number of blocks. */
export function checkBlocks(name: string, n: number, blockSize: number): void {
  if (!Number.isInteger(n) || n < 0 || n % blockSize !== 0) {
    throw new ShapeError(
      `${name}: ${n} elements is not a whole number of ${blockSize}-element blocks`,
    );
  }
}
