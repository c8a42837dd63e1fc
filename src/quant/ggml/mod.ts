/**
 * ggml's tensor types computed on their own packed layout: F32, F16, BF16,
 * Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K. Each is a
 * {@linkcode GgmlBlockType} (storage, ggml-exact dequantize and reference
 * quantizer, reference and fast dot products); a matrix is `rows` rows of
 * whole blocks, exactly as GGUF stores it (row r at byte r·rowBytes).
 *
 * A product rounds its input to the type's `vec_dot_type` first (as ggml),
 * then takes one dot product per row.
 *
 * @module
 */
import { ConfigError, ShapeError } from "../../errors.ts";
import { ggmlTypeInfo } from "./types.ts";
import {
  createGgmlActivations,
  quantizeGgmlActivations,
} from "./activations.ts";
import type { GgmlActivations, GgmlBlockType } from "./common.ts";
import { ggmlBF16, ggmlF16, ggmlF32 } from "./float.ts";
import { ggmlQ4_K, ggmlQ5_K, ggmlQ6_K } from "./kquants.ts";
import { ggmlQ4_0, ggmlQ4_1, ggmlQ5_0, ggmlQ5_1, ggmlQ8_0 } from "./legacy.ts";

export type { GgmlActivations, GgmlBlockType } from "./common.ts";
export {
  createGgmlActivations,
  dequantizeGgmlActivations,
  packGgmlActivations,
  quantizeGgmlActivations,
} from "./activations.ts";
export { ggmlBF16, ggmlF16, ggmlF32 } from "./float.ts";
export { ggmlQ4_0, ggmlQ4_1, ggmlQ5_0, ggmlQ5_1, ggmlQ8_0 } from "./legacy.ts";
export { ggmlQ4_K, ggmlQ5_K, ggmlQ6_K } from "./kquants.ts";
export {
  bf16ToFloat,
  floatToBf16,
  floatToHalf,
  halfToFloat,
  roundToHalf,
} from "./half.ts";
export { ggmlHasWasm, ggmlMatmulWasm } from "./wasm.ts";

/**
 * The ggml types tinyllm computes with, by ggml type id.
 *
 * @example
 * ```ts
 * import { GGML_BLOCK_TYPES } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   Object.values(GGML_BLOCK_TYPES).map((t) => t.name).join(" "),
 *   "F32 F16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q4_K Q5_K Q6_K BF16",
 * );
 * ```
 */
export const GGML_BLOCK_TYPES: Readonly<Record<number, GgmlBlockType>> = Object
  .fromEntries(
    [
      ggmlF32,
      ggmlF16,
      ggmlBF16,
      ggmlQ8_0,
      ggmlQ4_0,
      ggmlQ4_1,
      ggmlQ5_0,
      ggmlQ5_1,
      ggmlQ4_K,
      ggmlQ5_K,
      ggmlQ6_K,
    ]
      .map((t) => [t.id, t]),
  );

/**
 * The block type of a ggml type id.
 *
 * @throws {ConfigError} for a type tinyllm does not compute with, naming it
 *
 * @example
 * ```ts
 * import { GGML_TYPE, ggmlBlockType } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(ggmlBlockType(GGML_TYPE.Q6_K).typeSize, 210);
 * ```
 */
export function ggmlBlockType(id: number): GgmlBlockType {
  const t = GGML_BLOCK_TYPES[id];
  if (t === undefined) {
    let name = `id ${id}`;
    try {
      name = ggmlTypeInfo(id).name;
    } catch { /* unknown id: keep the number */ }
    throw new ConfigError(
      `ggml type ${name} is not supported (supported: ${
        Object.values(GGML_BLOCK_TYPES).map((t) => t.name).join(", ")
      })`,
    );
  }
  return t;
}

/**
 * Bytes of one row of `cols` elements.
 *
 * @throws {ShapeError} unless `cols` is a whole number of blocks
 *
 * @example
 * ```ts
 * import { ggmlQ6_K, ggmlRowBytes } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(ggmlRowBytes(ggmlQ6_K, 512), 420);
 * ```
 */
export function ggmlRowBytes(t: GgmlBlockType, cols: number): number {
  if (!Number.isInteger(cols) || cols < 0 || cols % t.blockSize !== 0) {
    throw new ShapeError(
      `${t.name}: rows of ${cols} are not a whole number of ${t.blockSize}-element blocks`,
    );
  }
  return (cols / t.blockSize) * t.typeSize;
}

function checkMatrix(
  t: GgmlBlockType,
  w: Uint8Array,
  rows: number,
  cols: number,
): number {
  const rowBytes = ggmlRowBytes(t, cols);
  if (w.length < rows * rowBytes) {
    throw new ShapeError(
      `${t.name}: a ${rows}×${cols} matrix needs ${
        rows * rowBytes
      } bytes, got ${w.length}`,
    );
  }
  return rowBytes;
}

/**
 * Quantizes a row-major `[rows, cols]` float matrix with the type's
 * reference quantizer (ggml's `quantize_row_*_ref`, as `llama-quantize`
 * without an importance matrix).
 *
 * @throws {ShapeError} when `cols` is not a whole number of blocks or `x` is short
 *
 * @example
 * ```ts
 * import { ggmlQ4_0, ggmlQuantize } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(ggmlQuantize(ggmlQ4_0, new Float32Array(64), 2, 32).length, 36);
 * ```
 */
export function ggmlQuantize(
  t: GgmlBlockType,
  x: Float32Array,
  rows: number,
  cols: number,
): Uint8Array {
  const rowBytes = ggmlRowBytes(t, cols);
  if (x.length < rows * cols) {
    throw new ShapeError(
      `${t.name}: a ${rows}×${cols} matrix needs ${
        rows * cols
      } floats, got ${x.length}`,
    );
  }
  const out = new Uint8Array(rows * rowBytes);
  for (let r = 0; r < rows; r++) {
    t.quantizeRow(x, r * cols, out, r * rowBytes, cols);
  }
  return out;
}

/**
 * Dequantizes a `[rows, cols]` matrix to floats, bit for bit as ggml.
 *
 * @throws {ShapeError} when `cols` is not a whole number of blocks or `w` is short
 *
 * @example
 * ```ts
 * import { ggmlDequantize, ggmlQ8_0, ggmlQuantize } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * const w = ggmlQuantize(ggmlQ8_0, new Float32Array(32).fill(2), 1, 32);
 * // 127 × the fp16 scale 2/127: 2 within fp16 rounding
 * assert.ok(Math.abs(ggmlDequantize(ggmlQ8_0, w, 1, 32)[0] - 2) < 1e-3);
 * ```
 */
export function ggmlDequantize(
  t: GgmlBlockType,
  w: Uint8Array,
  rows: number,
  cols: number,
): Float32Array {
  const rowBytes = checkMatrix(t, w, rows, cols);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    t.dequantizeRow(w, r * rowBytes, out, r * cols, cols);
  }
  return out;
}

/**
 * `out[r] = Σ_c W[r,c]·x[c]` for a `[rows, cols]` matrix in the type's
 * layout, with `x` rounded to the type's activation format first (into
 * `act`, which a run state allocates once with
 * {@linkcode createGgmlActivations}; omitted, one is allocated).
 *
 * @param reference use the plain reference dot instead of the fast one
 * @throws {ShapeError} when the sizes disagree
 *
 * @example
 * ```ts
 * import { ggmlMatvec, ggmlQ8_0, ggmlQuantize } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * const w = ggmlQuantize(ggmlQ8_0, new Float32Array(64).fill(1), 2, 32);
 * const out = new Float32Array(2);
 * ggmlMatvec(ggmlQ8_0, w, 2, 32, new Float32Array(32).fill(0.5), out);
 * // 32 × 1 × 0.5, within the fp16 scales' rounding
 * assert.ok(out.every((v) => Math.abs(v - 16) < 0.01), String(out));
 * ```
 */
export function ggmlMatvec(
  t: GgmlBlockType,
  w: Uint8Array,
  rows: number,
  cols: number,
  x: Float32Array,
  out: Float32Array,
  act?: GgmlActivations,
  reference = false,
): void {
  ggmlMatmul(t, w, rows, cols, x, 1, out, act, reference);
}

/**
 * `out[i, r] = Σ_c W[r,c]·x[i, c]` for `n` input rows (`x` is `[n, cols]`,
 * `out` is `[n, rows]`); each input row is rounded to the activation format
 * once, as in {@linkcode ggmlMatvec}.
 *
 * @param act activations of the type's `vec_dot_type` with `length` = cols
 *   and at least `n` rows (omitted: allocated here)
 * @param reference use the plain reference dot instead of the fast one
 * @throws {ShapeError} when the sizes disagree
 *
 * @example
 * ```ts
 * import { ggmlMatmul, ggmlQ4_K, ggmlQuantize } from "@proj/tinyllm/kernels";
 * import assert from "node:assert/strict";
 * const w = ggmlQuantize(ggmlQ4_K, new Float32Array(256).fill(1), 1, 256);
 * const out = new Float32Array(2);
 * ggmlMatmul(ggmlQ4_K, w, 1, 256, new Float32Array(512).fill(1), 2, out);
 * assert.equal(Math.round(out[0]), 256);
 * assert.equal(Math.round(out[1]), 256);
 * ```
 */
export function ggmlMatmul(
  t: GgmlBlockType,
  w: Uint8Array,
  rows: number,
  cols: number,
  x: Float32Array,
  n: number,
  out: Float32Array,
  act?: GgmlActivations,
  reference = false,
): void {
  const rowBytes = checkMatrix(t, w, rows, cols);
  if (x.length < n * cols || out.length < n * rows) {
    throw new ShapeError(
      `${t.name}: ${n} input rows of ${cols} need x of ${n * cols} and out of ${
        n * rows
      }, got ${x.length} and ${out.length}`,
    );
  }
  const a = act ?? createGgmlActivations(t.vecDotType, cols, n);
  if (a.type !== t.vecDotType || a.length !== cols || a.rows < n) {
    throw new ShapeError(
      `${t.name}: activations must be type ${t.vecDotType} with length ${cols} and ${n} rows`,
    );
  }
  for (let i = 0; i < n; i++) quantizeGgmlActivations(x, i * cols, a, i);
  for (let i = 0; i < n; i++) {
    if (reference) {
      for (let r = 0; r < rows; r++) {
        out[i * rows + r] = t.dotReference(w, r * rowBytes, a, i * cols, cols);
      }
    } else t.dotRows(w, 0, rowBytes, rows, a, i * cols, cols, out, i * rows);
  }
}
