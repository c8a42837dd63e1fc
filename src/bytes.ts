/**
 * Small byte-level helpers shared across the core: alignment, endianness,
 * magic numbers.
 *
 * @module
 */
import { ConfigError } from "./errors.ts";

/** `n` rounded up to a multiple of `a`. */
export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** True on little-endian hosts, where typed-array views see file bytes in order. */
export const LITTLE_ENDIAN: boolean =
  new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** True when `bytes` start with the gzip magic number (a tinyllm archive). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The bytes a typed array covers (a view, no copy). */
export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Returns `bytes` itself when its offset is a multiple of `align`, else an
 * aligned copy (typed views and 32-bit word loads need aligned offsets).
 */
export function alignedBytes(bytes: Uint8Array, align: number): Uint8Array {
  if (bytes.byteOffset % align === 0) return bytes;
  return bytes.slice();
}

/**
 * Most bytes one structure of a model (weights, run state, activations, KV
 * cache, optimizer state) may take: 8 GiB.
 */
export const MAX_ALLOCATION_BYTES: number = 2 ** 33;

function sizeText(bytes: number): string {
  return bytes >= 2 ** 30
    ? `${(bytes / 2 ** 30).toFixed(1)} GiB`
    : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * Runs `make`, which allocates about `bytes` bytes for `what`. A size above
 * {@linkcode MAX_ALLOCATION_BYTES}, or one the engine cannot provide, is a
 * `ConfigError` naming `what` and the size (never a bare RangeError after
 * minutes of work).
 *
 * @example
 * ```ts
 * import { allocating } from "@proj/tinyllm/model";
 * import assert from "node:assert/strict";
 * const a = allocating("a buffer", 16, () => new Float32Array(4));
 * assert.equal(a.length, 4);
 * try {
 *   allocating("a KV cache of 1e12 positions", 8e12, () => new Float32Array(2e12));
 * } catch (e) {
 *   assert.equal((e as Error).name, "ConfigError");
 * }
 * ```
 */
export function allocating<T>(what: string, bytes: number, make: () => T): T {
  if (!(bytes <= MAX_ALLOCATION_BYTES)) {
    throw new ConfigError(
      `${what} would need ${sizeText(bytes)}, more than the ${
        sizeText(MAX_ALLOCATION_BYTES)
      } allowed`,
    );
  }
  try {
    return make();
  } catch (e) {
    if (e instanceof RangeError) {
      throw new ConfigError(
        `${what} needs ${sizeText(bytes)}, which could not be allocated (${
          e.message.split("\n")[0]
        })`,
      );
    }
    throw e;
  }
}
