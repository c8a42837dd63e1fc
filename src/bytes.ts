/**
 * Small byte-level helpers shared across the core: alignment, endianness,
 * magic numbers.
 *
 * @module
 */

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
