/**
 * Fast int4 kernels in TypeScript: the activations are quantized to int8 per
 * group and the inner loops take integer dot products eight weights (one
 * 32-bit word) at a time on the raw nibbles 0..15, subtracting the `8 × Σq`
 * re-centring term once per group instead of once per weight.
 *
 * @module
 */
import { LITTLE_ENDIAN } from "../../bytes.ts";
import type { QMatrix } from "../../quant/types.ts";
import {
  activationGroupSize,
  packActivationPairs,
  PAIR_SHIFT,
  quantizeActivationRows,
  scratchBiases,
  scratchCodes,
  scratchScales,
} from "../activation.ts";
import { wordView } from "./words.ts";

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
  const data = m.data as Uint8Array;
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
