/**
 * Scale granularity helpers shared by the quantized weight types: validation,
 * scale counts and indexing, and the string form stored in archives.
 *
 * @module
 */
import { ConfigError, ShapeError } from "../errors.ts";
import type { Granularity } from "./types.ts";

/** Default group size along the input dimension (llama2.c's runq.c uses 64, ggml 32). */
export const DEFAULT_GROUP_SIZE = 32;

/** Largest group size accepted: keeps every per-group integer dot product below 2^31. */
export const MAX_GROUP_SIZE = 65536;

/**
 * Throws unless `granularity` is "tensor", "row" or a positive integer group
 * size dividing `cols` (and even when `evenGroups`, for int4's two-per-byte
 * packing).
 */
export function checkGranularity(
  what: string,
  rows: number,
  cols: number,
  granularity: Granularity,
  evenGroups = false,
): void {
  if (
    !Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 ||
    cols < 0
  ) {
    throw new ShapeError(`${what}: bad shape [${rows}, ${cols}]`);
  }
  if (granularity === "tensor" || granularity === "row") return;
  if (
    typeof granularity !== "number" || !Number.isInteger(granularity) ||
    granularity <= 0 || granularity > MAX_GROUP_SIZE
  ) {
    throw new ConfigError(
      `${what}: granularity must be "tensor", "row" or a group size in 1..${MAX_GROUP_SIZE}, got ${
        String(granularity)
      }`,
    );
  }
  if (evenGroups && granularity % 2 !== 0) {
    throw new ConfigError(
      `${what}: group size must be even (two weights per byte), got ${granularity}`,
    );
  }
  if (cols % granularity !== 0) {
    throw new ShapeError(
      `${what}: group size ${granularity} does not divide cols ${cols}`,
    );
  }
}

/** Number of scales for a `[rows, cols]` matrix at this granularity. */
export function scaleCount(
  rows: number,
  cols: number,
  granularity: Granularity,
): number {
  if (granularity === "tensor") return 1;
  if (granularity === "row") return rows;
  return rows * (cols / granularity);
}

/**
 * Strides such that the scale of weight `(r, c)` is
 * `scales[r * rowStride + floor(c / groupSize) * groupStride]`, with
 * `groupSize` = G for grouped matrices (else `cols`, one "group" per row).
 */
export function scaleStrides(
  cols: number,
  granularity: Granularity,
): { rowStride: number; groupStride: number; groupSize: number } {
  if (granularity === "tensor") {
    return { rowStride: 0, groupStride: 0, groupSize: Math.max(cols, 1) };
  }
  if (granularity === "row") {
    return { rowStride: 1, groupStride: 0, groupSize: Math.max(cols, 1) };
  }
  return {
    rowStride: cols / granularity,
    groupStride: 1,
    groupSize: granularity,
  };
}

/**
 * The string form of a granularity, as stored in archive metadata and given
 * on the command line: "tensor", "row" or the group size ("32").
 *
 * @example
 * ```ts
 * import { granularityToString } from "@proj/tinyllm";
 * console.log(granularityToString(32)); // "32"
 * console.log(granularityToString("row")); // "row"
 * ```
 */
export function granularityToString(granularity: Granularity): string {
  return typeof granularity === "number" ? String(granularity) : granularity;
}

/**
 * Parses "tensor", "row" or a positive integer group size ("32"); throws a
 * {@linkcode ConfigError} naming the bad value otherwise.
 *
 * @example
 * ```ts
 * import { parseGranularity } from "@proj/tinyllm";
 * console.log(parseGranularity("32")); // 32
 * console.log(parseGranularity("tensor")); // "tensor"
 * ```
 */
export function parseGranularity(text: string): Granularity {
  const t = text.trim();
  if (t === "tensor" || t === "row") return t;
  if (/^[0-9]+$/.test(t)) {
    const g = Number(t);
    if (g > 0 && g <= MAX_GROUP_SIZE) return g;
  }
  throw new ConfigError(
    `granularity must be "tensor", "row" or a group size in 1..${MAX_GROUP_SIZE}, got "${text}"`,
  );
}

/** Rounds half away from zero, like C's `roundf` (used by llama2.c's runq.c). */
export function roundHalfAway(v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v);
}
