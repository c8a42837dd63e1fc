/**
 * The weight-type interface. Every matrix a Linear layer multiplies by is a
 * {@linkcode QMatrix} of some {@linkcode WeightType}; the model, the KV cache,
 * the benchmarks and the tests only ever call through these interfaces, so
 * nothing outside `src/quant/` branches on the type.
 *
 * @module
 */

/**
 * Scale granularity: one scale for the whole tensor, one per output row, or one
 * per group of G consecutive weights along the input dimension.
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
  /** How scales are shared (meaningless for fp32). */
  readonly granularity: Granularity;
  /**
   * Packed payload in the type's layout: fp32 → `Float32Array` of rows×cols;
   * int8 → `Int8Array`; int4 → `Uint8Array`, two weights per byte.
   */
  readonly data: Float32Array | Int8Array | Uint8Array;
  /** One scale per tensor, row or group, in that order (empty for fp32). */
  readonly scales: Float32Array;
}

/** Kernels that multiply by a {@linkcode QMatrix} without unpacking it. */
export interface LinearKernels {
  /** Which implementation this is. */
  readonly backend: "reference" | "js" | "wasm";
  /** `out[r] = Σ_c W[r,c]·x[c]` for one input vector (decode). */
  matvec(m: QMatrix, x: Float32Array, out: Float32Array): void;
  /**
   * `out[i, r] = Σ_c W[r,c]·x[i, c]` for `n` input rows (a whole sequence);
   * `x` is `[n, cols]`, `out` is `[n, rows]`.
   */
  matmul(m: QMatrix, x: Float32Array, n: number, out: Float32Array): void;
  /**
   * True when these kernels round `x` to int8 per group (the scheme in
   * `src/quant/activation.ts`, as llama2.c's runq.c) and take integer dot
   * products; the result then equals the exact product with the dequantized
   * activations rather than with `x` itself. Absent/false: `x` is used as is.
   */
  readonly quantizesActivations?: boolean;
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
  /** Elements of `scales` (0 for fp32). */
  readonly scalesLength: number;
}

/** One row of the weight-type table (like ggml's type traits). */
export interface WeightType {
  /** Table key, stored in archives: "fp32", "int8", "int4". */
  readonly name: string;
  /** Bits per weight of the payload, scales excluded. */
  readonly bitsPerWeight: number;
  /** One line describing the packed layout. */
  readonly layout: string;
  /**
   * Granularity used when none is given. fp32: "tensor"; int8: "row" (int8
   * is accurate per row, and groups of 32 with fp32 scales cost 9 bits per
   * weight, missing the 3.7× size target); int4: groups of 32 (5 bits per
   * weight; per-row int4 loses too much).
   */
  readonly defaultGranularity?: Granularity;
  /** Packs an fp32 `[rows, cols]` matrix. */
  quantize(
    w: Float32Array,
    rows: number,
    cols: number,
    granularity: Granularity,
    options?: QuantizeMatrixOptions,
  ): QMatrix;
  /** Unpacks to a new fp32 `[rows, cols]` matrix (tests, conversion). */
  dequantize(m: QMatrix): Float32Array;
  /** Unpacks one row into `out` (embedding lookup). */
  dequantizeRow(m: QMatrix, row: number, out: Float32Array): void;
  /** Real bytes of payload plus scales. */
  byteSize(m: QMatrix): number;
  /** Plain, obviously-correct kernels that the fast ones are tested against. */
  readonly reference: LinearKernels;
  /** Fast pure-TypeScript kernels (the portable default). */
  readonly js: LinearKernels;
  /**
   * WebAssembly SIMD kernels, when this build has them (filled in by
   * `src/quant/wasm/`); used only where {@linkcode WeightType.wasmSupported}
   * says the engine can run them.
   */
  wasm?: LinearKernels;
  /** Feature check for {@linkcode WeightType.wasm} (e.g. SIMD128 validates). */
  wasmSupported?: () => boolean;
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
