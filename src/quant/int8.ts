/**
 * int8 weights: one signed byte per weight, `q = clamp(round(w/scale), -127,
 * 127)`, `scale = absmax/127` per tensor, row or group of G along the input
 * dimension.
 *
 * @module
 */
import { symmetricType } from "./symmetric.ts";
import type { QMatrix, WeightType } from "./types.ts";

/**
 * The int8 weight type: `data` is an `Int8Array` of rows×cols codes,
 * row-major; scales as the granularity says.
 *
 * @example Quantize, dequantize, measure
 * ```ts
 * import { int8 } from "@proj/tinyllm/kernels";
 * const w = new Float32Array([0.5, -1, 0.25, 1, 2, 0, -2, 1]);
 * const m = int8.quantize(w, 2, 4, "row");
 * console.log(Array.from(m.data)); // [64, -127, 32, 127, 127, 0, -127, 64]
 * console.log(int8.byteSize(m)); // 8 bytes of codes + 2 scales = 16
 * ```
 */
export const int8: WeightType = symmetricType({
  code: { name: "int8", qmin: -127, qmax: 127, weightsPerByte: 1 },
  defaultGranularity: "row",
  bitsPerWeight: 8,
  safetensorsDtype: "I8",
  layout:
    "Int8Array rows×cols row-major, q = clamp(round(w/scale), -127, 127), scale = absmax/127 per tensor|row|group",
  pack: (codes) => codes,
  view: (bytes) =>
    new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  unpackRow(m: QMatrix, row: number, out: Float32Array): void {
    const q = m.data as Int8Array, cols = m.cols, o = row * cols;
    for (let c = 0; c < cols; c++) out[c] = q[o + c];
  },
});
