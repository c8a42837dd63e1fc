/**
 * 32-bit word views of packed payloads for the word-at-a-time kernels.
 *
 * @module
 */

// A WeakMap so the views die with their matrices and are never built per call.
const wordViews = new WeakMap<ArrayBufferView, Int32Array>();

/**
 * A 32-bit little-endian word view over `data` (which must be 4-byte aligned
 * and a whole number of words), cached per array.
 */
export function wordView(data: Int8Array | Uint8Array): Int32Array {
  let v = wordViews.get(data);
  if (!v) {
    v = new Int32Array(data.buffer, data.byteOffset, data.byteLength >> 2);
    wordViews.set(data, v);
  }
  return v;
}
