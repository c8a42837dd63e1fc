/**
 * The reference kernel of any weight type: each row dequantized with the
 * type's `dequantizeRow`, then plain dot products accumulated in fp64. Slow
 * and obviously correct; the fast kernels are tested against it, and it runs
 * for a type that a backend has no kernel for.
 *
 * @module
 */
import { weightType } from "../quant/table.ts";
import type { QMatrix, WeightType } from "../quant/types.ts";
import type { LinearKernels } from "./types.ts";

// One dequantized row, grown on demand (never allocated per call).
let rowScratch = new Float32Array(0);

function referenceMatmul(
  type: WeightType,
  m: QMatrix,
  x: Float32Array,
  n: number,
  out: Float32Array,
): void {
  const { rows, cols } = m;
  if (rowScratch.length < cols) rowScratch = new Float32Array(cols);
  const w = rowScratch;
  for (let r = 0; r < rows; r++) {
    type.dequantizeRow(m, r, w);
    for (let i = 0; i < n; i++) {
      const xo = i * cols;
      let s = 0;
      for (let c = 0; c < cols; c++) s += w[c] * x[xo + c];
      out[i * rows + r] = s;
    }
  }
}

const cache = new Map<string, LinearKernels>();

/**
 * The reference kernels of the weight type `typeName` (cached).
 *
 * @example
 * ```ts
 * import { int4, referenceKernels } from "@proj/tinyllm/kernels";
 * const m = int4.quantize(new Float32Array([1, -1, 2, -2]), 2, 2, "row");
 * const out = new Float32Array(2);
 * referenceKernels("int4").matvec(m, new Float32Array([1, 0]), out);
 * console.log(Array.from(out)); // [1, 2]
 * ```
 */
export function referenceKernels(typeName: string): LinearKernels {
  let k = cache.get(typeName);
  if (!k) {
    const type = weightType(typeName);
    k = {
      backend: "reference",
      activation: "f32",
      matvec: (m, x, out) => referenceMatmul(type, m, x, 1, out),
      matmul: (m, x, n, out) => referenceMatmul(type, m, x, n, out),
    };
    cache.set(typeName, k);
  }
  return k;
}
