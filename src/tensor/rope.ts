/**
 * Rotary position embeddings, forward and backward, for the whole-sequence
 * path and (one row at a time) for decode. The first `ropeDim` elements of
 * every head are rotated in pairs; the rest pass through. Pair `i`
 * (i < ropeDim/2) turns by `pos · theta^(−2i/ropeDim)`; which two elements
 * form it is the style:
 *
 * - `"interleaved"`: adjacent elements `(2i, 2i+1)`, as llama2.c and
 *   llama.cpp's normal RoPE (its LLaMA models);
 * - `"neox"`: `(i, i + ropeDim/2)`, as GPT-NeoX and llama.cpp's NEOX RoPE
 *   (Qwen2).
 *
 * @module
 */

/** Which elements of a head form a rotated pair (see the module doc). */
export type RopeStyle = "interleaved" | "neox";

/** What a rotation needs to know about the heads. */
export interface RopeShape {
  /** Width of one head. */
  readonly headSize: number;
  /** Elements of each head that are rotated (even, ≤ headSize). */
  readonly ropeDim: number;
  /** Pairing of the rotated elements. */
  readonly style: RopeStyle;
  /** Base frequency. */
  readonly theta: number;
}

/** Precomputed cos/sin of every (position, pair) angle. */
export interface RopeTable extends RopeShape {
  /** Number of positions (rows). */
  readonly positions: number;
  /** Frequency of each pair, `theta^(−2i/ropeDim)` `[ropeDim/2]`. */
  readonly freq: Float64Array;
  /** `cos[row · ropeDim/2 + i]`. */
  readonly cos: Float64Array | Float32Array;
  /** `sin[row · ropeDim/2 + i]`. */
  readonly sin: Float64Array | Float32Array;
}

/**
 * Sets row `row` of the table to the angles of absolute position `pos`.
 *
 * @example
 * ```ts
 * import { ropeSetPosition, ropeTable } from "@proj/tinyllm/tensor";
 * const t = ropeTable({ headSize: 2, ropeDim: 2, style: "interleaved", theta: 10000 }, 1);
 * ropeSetPosition(t, 0, 1);
 * console.log(t.cos[0].toFixed(4)); // "0.5403": cos of 1 rad
 * ```
 */
export function ropeSetPosition(
  table: RopeTable,
  row: number,
  pos: number,
): void {
  const half = table.ropeDim >> 1, o = row * half;
  const { freq, cos, sin } = table;
  for (let i = 0; i < half; i++) {
    const a = pos * freq[i];
    cos[o + i] = Math.cos(a);
    sin[o + i] = Math.sin(a);
  }
}

/**
 * Builds the table for positions `0 .. positions-1`. Angles are kept in
 * float64, or rounded to float32 with `float32` (the decode path keeps one
 * row and rounds, as llama2.c's `run.c` computes them in float).
 *
 * @example
 * ```ts
 * import { ropeTable } from "@proj/tinyllm/tensor";
 * const t = ropeTable({ headSize: 4, ropeDim: 4, style: "interleaved", theta: 10000 }, 8);
 * console.log(t.cos.length, t.cos[0]); // 16 1
 * ```
 */
export function ropeTable(
  shape: RopeShape,
  positions: number,
  float32 = false,
): RopeTable {
  const { headSize, ropeDim, style, theta } = shape;
  const half = ropeDim >> 1;
  const freq = new Float64Array(half);
  for (let i = 0; i < half; i++) {
    freq[i] = 1 / Math.pow(theta, (2 * i) / ropeDim);
  }
  const size = positions * half;
  const table: RopeTable = {
    headSize,
    ropeDim,
    style,
    theta,
    positions,
    freq,
    cos: float32 ? new Float32Array(size) : new Float64Array(size),
    sin: float32 ? new Float32Array(size) : new Float64Array(size),
  };
  for (let p = 0; p < positions; p++) ropeSetPosition(table, p, p);
  return table;
}

/**
 * Rotates pairs of `n` rows in place by the table's angles, or by their
 * negatives when `sign` is -1 (the backward pass).
 */
function rotate(
  x: Float32Array,
  n: number,
  width: number,
  seqLen: number,
  table: RopeTable,
  sign: 1 | -1,
): void {
  const hs = table.headSize, half = table.ropeDim >> 1;
  // interleaved: pair i is (2i, 2i+1); neox: (i, i + half)
  const step = table.style === "neox" ? 1 : 2;
  const gap = table.style === "neox" ? half : 1;
  const { cos, sin } = table;
  for (let r = 0; r < n; r++) {
    const t = (r % seqLen) * half;
    for (let h = r * width, end = h + width; h < end; h += hs) {
      for (let i = 0, a = h; i < half; i++, a += step) {
        const c = cos[t + i], s = sign * sin[t + i];
        const x0 = x[a], x1 = x[a + gap];
        x[a] = x0 * c - x1 * s;
        x[a + gap] = x0 * s + x1 * c;
      }
    }
  }
}

/**
 * Rotates, in place, `n` rows of width `width` (a whole number of heads);
 * row `r` takes the angles of table row `r mod seqLen` (rows are
 * `[batch, seqLen]`; decode passes one row with seqLen 1).
 *
 * @example
 * ```ts
 * import { ropeForward, ropeTable } from "@proj/tinyllm/tensor";
 * const x = new Float32Array([1, 0, 1, 0, 1, 0, 1, 0]); // 2 positions × width 4
 * const shape = { headSize: 4, ropeDim: 4, style: "interleaved" as const, theta: 10000 };
 * ropeForward(x, 2, 4, 2, ropeTable(shape, 2));
 * console.log(x[0], x[4].toFixed(4)); // 1 "0.5403" (position 1 rotates by 1 rad)
 * ```
 */
export function ropeForward(
  x: Float32Array,
  n: number,
  width: number,
  seqLen: number,
  table: RopeTable,
): void {
  rotate(x, n, width, seqLen, table, 1);
}

/**
 * Backward of {@linkcode ropeForward}, in place on the gradient: a rotation's
 * transpose is the rotation by the opposite angle.
 *
 * @example
 * ```ts
 * import { ropeBackward, ropeForward, ropeTable } from "@proj/tinyllm/tensor";
 * const t = ropeTable({ headSize: 2, ropeDim: 2, style: "neox", theta: 10000 }, 3);
 * const x = new Float32Array([1, 2, 3, 4, 5, 6]);
 * ropeForward(x, 3, 2, 3, t);
 * ropeBackward(x, 3, 2, 3, t); // the inverse rotation
 * console.log(x.map(Math.round)); // [1, 2, 3, 4, 5, 6]
 * ```
 */
export function ropeBackward(
  dx: Float32Array,
  n: number,
  width: number,
  seqLen: number,
  table: RopeTable,
): void {
  rotate(dx, n, width, seqLen, table, -1);
}
