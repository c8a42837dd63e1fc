/**
 * How a weight type stores a matrix: the storage descriptor (like ggml's
 * `type_traits`). Every matrix a Linear layer multiplies by is a
 * {@linkcode QMatrix} of some {@linkcode WeightType}. The kernels that compute
 * with a type live apart, one table per backend (`src/kernels/`), so a new
 * type is its storage file plus one kernel entry per backend it supports.
 *
 * @module
 */

/**
 * Scale granularity: one scale for the whole tensor, one per output row, or one
 * per group of G consecutive weights along the input dimension. Meaningless
 * for types without separate scales (fp32, ggml's block types).
 */
export type Granularity = "tensor" | "row" | number;

/**
 * A weight matrix `[rows, cols]` (row-major, `out = W · x`) stored in one
 * weight type's packed layout.
 */
export interface QMatrix {
  /** Name of the weight type (a key of the weight-type table). */
  readonly type: string;
  /** Output size. */
  readonly rows: number;
  /** Input size. */
  readonly cols: number;
  /** How scales are shared (see {@linkcode Granularity}). */
  readonly granularity: Granularity;
  /**
   * The payload, row-major, each row a whole number of the type's blocks and
   * rows {@linkcode rowBytes} apart: fp32 → `Float32Array` of rows×cols;
   * int8 → `Int8Array`; int4 and block types → `Uint8Array` of raw bytes.
   */
  readonly data: Float32Array | Int8Array | Uint8Array;
  /**
   * One scale per tensor, row or group, in that order, for types whose
   * `scales` are `"separate"`; empty otherwise.
   */
  readonly scales: Float32Array;
}

/** Options of {@linkcode WeightType.quantize}. */
export interface QuantizeMatrixOptions {
  /**
   * Choose each scale to minimise the squared rounding error (trying
   * `absmax/(qmax·f)` for f in [0.85, 1.15]) instead of plain `absmax/qmax`.
   * Same layout; the largest weight may then be clipped, so the elementwise
   * bound |w − deq| ≤ scale/2 no longer holds, only a smaller total error.
   */
  readonly scaleSearch?: boolean;
}

/** Element counts of a packed matrix's two arrays (see {@linkcode WeightType.layoutSizes}). */
export interface LayoutSizes {
  /** Elements of `data` (fp32: floats; int8: bytes; int4: bytes, two weights each). */
  readonly dataLength: number;
  /** Elements of `scales` (0 without separate scales). */
  readonly scalesLength: number;
}

/** Element type of a payload tensor in a safetensors file. */
export type PayloadDtype = "F32" | "I8" | "U8";

/** One row of the weight-type table: how a type stores a matrix. */
export interface WeightType {
  /** Table key, stored in archives: "fp32", "int8", "int4". */
  readonly name: string;
  /** Bits per weight of the payload (scales inside blocks included, separate scales excluded). */
  readonly bitsPerWeight: number;
  /** Weights per block along a row; a row holds a whole number of blocks. */
  readonly blockSize: number;
  /** Payload bytes per block. */
  readonly bytesPerBlock: number;
  /** ggml's type id (`GGML_TYPE_*`, as in GGUF files), where the layout is ggml's. */
  readonly ggmlType?: number;
  /** Element type of the payload tensor in an archive's safetensors file. */
  readonly safetensorsDtype: PayloadDtype;
  /**
   * Where the scales live: `"separate"`, one fp32 scale per tensor, row or
   * group in {@linkcode QMatrix.scales} (stored as `<name>.scales`); or
   * `"none"` (fp32, or inside the blocks).
   */
  readonly scales: "none" | "separate";
  /** One line describing the packed layout. */
  readonly layout: string;
  /**
   * Granularity used when none is given. fp32: "tensor"; int8: "row" (int8
   * is accurate per row, and groups of 32 with fp32 scales cost 9 bits per
   * weight, missing the 3.7× size target); int4: groups of 32 (5 bits per
   * weight; per-row int4 loses too much).
   */
  readonly defaultGranularity?: Granularity;
  /** Packs an fp32 `[rows, cols]` matrix (the reference quantizer). */
  quantize(
    w: Float32Array,
    rows: number,
    cols: number,
    granularity: Granularity,
    options?: QuantizeMatrixOptions,
  ): QMatrix;
  /** Unpacks to a new fp32 `[rows, cols]` matrix (tests, conversion). */
  dequantize(m: QMatrix): Float32Array;
  /** Unpacks one row into `out` (embedding lookup, reference kernels). */
  dequantizeRow(m: QMatrix, row: number, out: Float32Array): void;
  /** Real bytes of payload plus scales. */
  byteSize(m: QMatrix): number;
  /**
   * Element counts of `data` and `scales` for a `[rows, cols]` matrix at this
   * granularity (throws like {@linkcode WeightType.quantize} on a bad one).
   */
  layoutSizes(
    rows: number,
    cols: number,
    granularity: Granularity,
  ): LayoutSizes;
  /**
   * Wraps stored parts as a matrix: `data` holds the payload's raw
   * little-endian bytes (copied only when misaligned for the typed view),
   * `scales` the scales. Throws a ShapeError naming what does not fit.
   */
  fromParts(
    rows: number,
    cols: number,
    granularity: Granularity,
    data: Uint8Array,
    scales: Float32Array,
  ): QMatrix;
}
