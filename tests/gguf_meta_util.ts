/**
 * A minimal GGUF metadata reader for the tokenizer tests (the library's own
 * reader lives in src/io/gguf.ts once merged): values as the library maps
 * them (strings, string[] and typed arrays, numbers, bigints, booleans).
 */
export function readGgufMetadata(bytes: Uint8Array): Map<string, unknown> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const td = new TextDecoder("utf-8", { ignoreBOM: true });
  let p = 0;
  const u32 = () => (p += 4, dv.getUint32(p - 4, true));
  const u64 = () => (p += 8, dv.getBigUint64(p - 8, true));
  const str = () => {
    const n = Number(u64());
    p += n;
    return td.decode(bytes.subarray(p - n, p));
  };
  if (u32() !== 0x46554747) throw new Error("not GGUF");
  const version = u32();
  if (version < 2) throw new Error("GGUF v1");
  u64(); // tensors
  const nkv = Number(u64());
  const sizes: Record<number, number> = {
    0: 1,
    1: 1,
    2: 2,
    3: 2,
    4: 4,
    5: 4,
    6: 4,
    7: 1,
    10: 8,
    11: 8,
    12: 8,
  };
  const scalar = (t: number): unknown => {
    switch (t) {
      case 0:
        return dv.getUint8(p++);
      case 1:
        return dv.getInt8(p++);
      case 2:
        return (p += 2, dv.getUint16(p - 2, true));
      case 3:
        return (p += 2, dv.getInt16(p - 2, true));
      case 4:
        return u32();
      case 5:
        return (p += 4, dv.getInt32(p - 4, true));
      case 6:
        return (p += 4, dv.getFloat32(p - 4, true));
      case 7:
        return dv.getUint8(p++) !== 0;
      case 8:
        return str();
      case 10:
        return u64();
      case 11:
        return (p += 8, dv.getBigInt64(p - 8, true));
      case 12:
        return (p += 8, dv.getFloat64(p - 8, true));
    }
    throw new Error(`type ${t}`);
  };
  const value = (t: number): unknown => {
    if (t !== 9) return scalar(t);
    const et = u32();
    const n = Number(u64());
    if (et === 8) return Array.from({ length: n }, () => str());
    if (et === 9) return Array.from({ length: n }, () => value(9));
    const size = sizes[et];
    const copy = bytes.slice(p, p + n * size);
    p += n * size;
    switch (et) {
      case 0:
        return copy;
      case 1:
        return new Int8Array(copy.buffer);
      case 4:
        return new Uint32Array(copy.buffer);
      case 5:
        return new Int32Array(copy.buffer);
      case 6:
        return new Float32Array(copy.buffer);
      case 7:
        return Array.from(copy, (b) => b !== 0);
      default:
        return Array.from({ length: n }, (_, i) => {
          p -= n * size - i * size;
          const v = scalar(et);
          p += n * size - (i + 1) * size;
          return v;
        });
    }
  };
  const meta = new Map<string, unknown>();
  for (let i = 0; i < nkv; i++) {
    const key = str();
    meta.set(key, value(u32()));
  }
  return meta;
}
