/**
 * int4 weights, two per byte: byte i holds weight 2i in its low nibble and
 * weight 2i+1 in its high nibble, each stored as q+8 (0..15), with
 * `q = clamp(round(w/scale), -8, 7)` and `scale = absmax/7` per tensor, row or
 * group of G (even) along the input dimension.
 *
 * @module
 */
import { symmetricType } from "./symmetric.ts";
import type { QMatrix, WeightType } from "./types.ts";

/**
 * The int4 weight type: `data` is a `Uint8Array` of rows×cols/2 bytes, two
 * weights per byte (low nibble first, stored as q+8); cols must be even.
 *
 * @example Packed bytes of a 1×4 matrix
 * ```ts
 * import { int4 } from "@proj/tinyllm/kernels";
 * const m = int4.quantize(new Float32Array([7, -7, 1, 0]), 1, 4, "tensor");
 * // codes 7, -7, 1, 0 → nibbles 15, 1, 9, 8 → bytes 0x1f, 0x89
 * console.log(Array.from(m.data)); // [31, 137]
 * console.log(int4.byteSize(m)); // 2 bytes + 1 scale = 6
 * ```
 */
export const int4: WeightType = symmetricType({
  code: { name: "int4", qmin: -8, qmax: 7, weightsPerByte: 2 },
  defaultGranularity: 32,
  bitsPerWeight: 4,
  safetensorsDtype: "U8",
  layout:
    "Uint8Array rows×cols/2, byte i = (q[2i]+8) | (q[2i+1]+8) << 4, q = clamp(round(w/scale), -8, 7), scale = absmax/7 per tensor|row|group",
  pack(codes: Int8Array): Uint8Array {
    const data = new Uint8Array(codes.length >> 1);
    for (let i = 0; i < data.length; i++) {
      data[i] = (codes[2 * i] + 8) | ((codes[2 * i + 1] + 8) << 4);
    }
    return data;
  },
  view: (bytes) => bytes,
  unpackRow(m: QMatrix, row: number, out: Float32Array): void {
    // cols is even (see the layout sizes): the row starts on a byte
    const p = m.data as Uint8Array, cols = m.cols, o = (row * cols) >> 1;
    for (let c = 0; c < cols; c += 2) {
      const b = p[o + (c >> 1)];
      out[c] = (b & 15) - 8;
      out[c + 1] = (b >> 4) - 8;
    }
  },
});
