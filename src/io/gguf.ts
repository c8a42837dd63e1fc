/**
 * GGUF, the file format of llama.cpp and ggml (versions 2 and 3), read from
 * and written to bytes. Little-endian layout:
 *
 * ```text
 * "GGUF" u32 version  u64 n_tensors  u64 n_kv
 * n_kv × (string key, u32 value type, value)         string = u64 length + UTF-8
 * n_tensors × (string name, u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset)
 * zero padding to `general.alignment` (default 32)
 * tensor data: each tensor at its offset (relative to here), padded to the alignment
 * ```
 *
 * Metadata values keep their GGUF type: the reader records each key's type in
 * {@linkcode GgufFile.types} and the writer takes the same map, so
 * `writeGguf(f.metadata, f.tensors, { types: f.types })` reproduces a file
 * that llama.cpp wrote byte for byte. Tensor data is never copied: each
 * {@linkcode GgufTensorInfo.data} is a view into the input.
 *
 * Every count, length and offset is checked against the bytes that remain
 * before anything is allocated, so a malformed or hostile file costs at most
 * memory proportional to its size and fails with a {@linkcode FormatError}
 * naming the key or tensor.
 *
 * @module
 */
import { ConfigError, FormatError, ShapeError } from "../errors.ts";
import {
  GGML_TYPE_INFO_BY_ID,
  ggmlTypeInfo,
  tensorByteLength,
} from "../quant/ggml/types.ts";

// ggml tensor types: the table lives with the block types (a lower layer)
export {
  GGML_TYPE,
  ggmlByteLength,
  ggmlTypeId,
  type GgmlTypeInfo,
  ggmlTypeInfo,
  type GgmlTypeName,
} from "../quant/ggml/types.ts";

// ---------------------------------------------------------------------------
// metadata value types

/** GGUF metadata value type names (gguf-py's `GGUFValueType`, lower case). */
export type GgufValueTypeName =
  | "uint8"
  | "int8"
  | "uint16"
  | "int16"
  | "uint32"
  | "int32"
  | "float32"
  | "bool"
  | "string"
  | "array"
  | "uint64"
  | "int64"
  | "float64";

/** Value type ids in GGUF order (index = id). */
const VALUE_TYPES: readonly GgufValueTypeName[] = [
  "uint8",
  "int8",
  "uint16",
  "int16",
  "uint32",
  "int32",
  "float32",
  "bool",
  "string",
  "array",
  "uint64",
  "int64",
  "float64",
];
const VALUE_TYPE_ID = new Map(VALUE_TYPES.map((t, i) => [t, i]));

/** Bytes per element of the fixed-size value types. */
const FIXED_SIZE: Partial<Record<GgufValueTypeName, number>> = {
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  bool: 1,
  uint64: 8,
  int64: 8,
  float64: 8,
};

/**
 * A metadata value. Scalars: 8- to 32-bit integers and floats → `number`,
 * 64-bit integers → `bigint`, `boolean`, `string`. Arrays: numeric arrays →
 * the typed array of their element type (`Uint32Array` for uint32, …), bool
 * arrays → `boolean[]`, string arrays → `string[]`, arrays of arrays →
 * `GgufValue[]`.
 */
export type GgufValue =
  | number
  | bigint
  | boolean
  | string
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigUint64Array
  | BigInt64Array
  | boolean[]
  | string[]
  | GgufValue[];

/** One tensor of a GGUF file. */
export interface GgufTensorInfo {
  /** Tensor name ("token_embd.weight", "blk.0.attn_q.weight", …). */
  name: string;
  /** Dimensions in ggml order: `ne0` (the row length, contiguous) first. */
  shape: number[];
  /** ggml type id (a value of {@linkcode GGML_TYPE}). */
  type: number;
  /** The type's name ("F32", "F16", "Q8_0", …). */
  typeName: string;
  /** Absolute byte offset of the data in the file. */
  offset: number;
  /** Bytes of data. */
  byteLength: number;
  /** The data: a view into the parsed bytes, not a copy. */
  data: Uint8Array;
}

/** A parsed GGUF file. */
export interface GgufFile {
  /** Format version (2 or 3). */
  version: number;
  /** Data alignment in bytes (`general.alignment`, default 32). */
  alignment: number;
  /** Metadata in file order. */
  metadata: Map<string, GgufValue>;
  /**
   * Each key's stored value type; for an array, its element type ("array" for
   * an array of arrays). Pass it back to {@linkcode writeGguf} to keep them.
   */
  types: Map<string, GgufValueTypeName>;
  /** Tensors in file order. */
  tensors: GgufTensorInfo[];
  /** The tensor with this name, if any. */
  tensor(name: string): GgufTensorInfo | undefined;
  /** Absolute byte offset where the tensor data section starts. */
  dataOffset: number;
}

/** A tensor to write: raw data in its ggml type's layout. */
export interface GgufTensorInput {
  /** Tensor name (under 64 bytes of UTF-8, ggml's limit). */
  name: string;
  /** Dimensions in ggml order (row length first), 0 to 4 of them. */
  shape: readonly number[];
  /** ggml type id (a value of {@linkcode GGML_TYPE}). */
  type: number;
  /** Exactly {@linkcode ggmlByteLength}(type, shape) bytes. */
  data: Uint8Array;
}

/** Options of {@linkcode writeGguf}. */
export interface WriteGgufOptions {
  /**
   * Data alignment (a power of two; default: the metadata's
   * `general.alignment`, else 32). A value other than 32 that the metadata
   * does not already hold is written as `general.alignment` (uint32).
   */
  alignment?: number;
  /**
   * Value type per key, for keys whose JS value does not say it (a `number`
   * could be any of the 8- to 32-bit types or a float; an array's entry names
   * its element type). Keys not listed are inferred: integers → uint32
   * (int32 when negative, 64-bit beyond 32 bits), other numbers → float32,
   * bigint → uint64/int64, typed arrays → their element type, empty arrays →
   * string arrays.
   */
  types?: Map<string, GgufValueTypeName>;
  /** Format version to write, 2 or 3 (default 3; the layouts are the same). */
  version?: 2 | 3;
}

// ---------------------------------------------------------------------------
// reading

const MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
const DEFAULT_ALIGNMENT = 32;
const MAX_NESTING = 8; // arrays of arrays; llama.cpp itself reads none
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
// ignoreBOM keeps a leading U+FEFF: vocabularies hold it as a token
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/**
 * True when the bytes start with the GGUF magic "GGUF".
 *
 * @example
 * ```ts
 * import { isGguf } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * assert.equal(isGguf(new TextEncoder().encode("GGUF\x03\0\0\0")), true);
 * ```
 */
export function isGguf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x47 && bytes[1] === 0x47 &&
    bytes[2] === 0x55 && bytes[3] === 0x46;
}

/**
 * Where a read is, for error messages: a base ("key \"x\"") and, inside an
 * array, the element index (-1 for none). Kept apart so that the hot loops
 * over token strings build no message unless one is thrown.
 */
function label(what: string, index: number, part?: string): string {
  const at = index >= 0 ? `${what}[${index}]` : what;
  return part === undefined ? at : `${at}: ${part}`;
}

/** Sequential little-endian reader that checks every read against the end. */
class Reader {
  pos = 0;
  readonly dv: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  remaining(): number {
    return this.bytes.length - this.pos;
  }
  need(n: number, what: string, index = -1, part?: string): void {
    if (n > this.bytes.length - this.pos) {
      throw new FormatError(
        `gguf: ${
          label(what, index, part)
        }: needs ${n} bytes at offset ${this.pos}, the file has ${this.remaining()} left`,
      );
    }
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(what: string): bigint {
    this.need(8, what);
    const v = this.dv.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }
  /**
   * A u64 count or length that must not exceed `limit` (what the rest of the
   * file can hold). Read as two u32 halves: no bigint on the hot path.
   */
  size(limit: number, what: string, index = -1, part?: string): number {
    this.need(8, what, index, part);
    const lo = this.dv.getUint32(this.pos, true);
    const hi = this.dv.getUint32(this.pos + 4, true);
    if (hi >= 0x200000 || hi * 0x100000000 + lo > limit) {
      const v = (BigInt(hi) << 32n) | BigInt(lo);
      throw new FormatError(
        `gguf: ${label(what, index, part)} is ${v}, more than the ${
          Math.max(limit, 0)
        } the rest of the file can hold`,
      );
    }
    this.pos += 8;
    return hi * 0x100000000 + lo;
  }
  string(what: string, index = -1): string {
    const n = this.size(this.remaining() - 8, what, index, "string length");
    const s = decodeUtf8(this.bytes, this.pos, n);
    this.pos += n;
    return s;
  }
}

/**
 * UTF-8 to string. Metadata holds up to hundreds of thousands of short strings
 * (token texts, merges), for which TextDecoder's per-call cost dominates, so
 * short well-formed strings are decoded here; anything else (long strings,
 * malformed sequences, which TextDecoder replaces by U+FFFD) goes to
 * TextDecoder, so the result is always TextDecoder's.
 */
function decodeUtf8(bytes: Uint8Array, start: number, n: number): string {
  if (n > 64) return utf8.decode(bytes.subarray(start, start + n));
  const end = start + n;
  let s = "";
  let i = start;
  while (i < end) {
    const b = bytes[i];
    if (b < 0x80) {
      s += String.fromCharCode(b);
      i++;
      continue;
    }
    let cp: number;
    let len: number;
    let lo = 0x80, hi = 0xbf; // allowed range of the second byte
    if (b >= 0xc2 && b <= 0xdf) {
      len = 2;
      cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      len = 3;
      cp = b & 0x0f;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f; // no surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      len = 4;
      cp = b & 0x07;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f; // nothing past U+10FFFF
    } else {
      return utf8.decode(bytes.subarray(start, end));
    }
    if (i + len > end) return utf8.decode(bytes.subarray(start, end));
    const b1 = bytes[i + 1];
    if (b1 < lo || b1 > hi) return utf8.decode(bytes.subarray(start, end));
    cp = (cp << 6) | (b1 & 0x3f);
    for (let j = 2; j < len; j++) {
      const c = bytes[i + j];
      if (c < 0x80 || c > 0xbf) return utf8.decode(bytes.subarray(start, end));
      cp = (cp << 6) | (c & 0x3f);
    }
    s += String.fromCodePoint(cp);
    i += len;
  }
  return s;
}

type TypedArrayCtor =
  | Uint8ArrayConstructor
  | Int8ArrayConstructor
  | Uint16ArrayConstructor
  | Int16ArrayConstructor
  | Uint32ArrayConstructor
  | Int32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigUint64ArrayConstructor
  | BigInt64ArrayConstructor;

const ARRAY_CTOR: Partial<Record<GgufValueTypeName, TypedArrayCtor>> = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
  uint64: BigUint64Array,
  int64: BigInt64Array,
};

function readScalar(
  r: Reader,
  t: GgufValueTypeName,
  what: string,
  index = -1,
): GgufValue {
  if (t === "string") return r.string(what, index);
  const size = FIXED_SIZE[t]!;
  r.need(size, what, index);
  const p = r.pos;
  r.pos += size;
  const dv = r.dv;
  switch (t) {
    case "uint8":
      return dv.getUint8(p);
    case "int8":
      return dv.getInt8(p);
    case "uint16":
      return dv.getUint16(p, true);
    case "int16":
      return dv.getInt16(p, true);
    case "uint32":
      return dv.getUint32(p, true);
    case "int32":
      return dv.getInt32(p, true);
    case "float32":
      return dv.getFloat32(p, true);
    case "float64":
      return dv.getFloat64(p, true);
    case "uint64":
      return dv.getBigUint64(p, true);
    case "int64":
      return dv.getBigInt64(p, true);
    default: {
      const b = dv.getUint8(p);
      if (b > 1) {
        throw new FormatError(`gguf: ${label(what, index)}: bool byte is ${b}`);
      }
      return b === 1;
    }
  }
}

function valueType(r: Reader, what: string): GgufValueTypeName {
  const id = r.u32(`${what}: value type`);
  const t = VALUE_TYPES[id];
  if (t === undefined) {
    throw new FormatError(`gguf: ${what}: unknown value type ${id}`);
  }
  return t;
}

/** Reads an array's element type, count and elements (the ARRAY tag is read). */
function readArray(
  r: Reader,
  what: string,
  depth: number,
): { elem: GgufValueTypeName; value: GgufValue } {
  if (depth > MAX_NESTING) {
    throw new FormatError(
      `gguf: ${what}: arrays nested more than ${MAX_NESTING} deep`,
    );
  }
  const elem = valueType(r, `${what}: array element`);
  // the smallest encoding of one element bounds the count before allocating
  const minSize = elem === "string"
    ? 8
    : elem === "array"
    ? 12
    : FIXED_SIZE[elem]!;
  const n = r.size(
    Math.floor((r.remaining() - 8) / minSize),
    what,
    -1,
    "array length",
  );
  if (elem === "string") {
    const out: string[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = r.string(what, i);
    return { elem, value: out };
  }
  if (elem === "bool") {
    const out: boolean[] = new Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = readScalar(r, "bool", what, i) as boolean;
    }
    return { elem, value: out };
  }
  if (elem === "array") {
    const out: GgufValue[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const sub = `${what}[${i}]`;
      const tag = valueType(r, sub);
      if (tag !== "array") {
        throw new FormatError(
          `gguf: ${sub}: is ${tag}, the array holds arrays`,
        );
      }
      out[i] = readArray(r, sub, depth + 1).value;
    }
    return { elem, value: out };
  }
  const ctor = ARRAY_CTOR[elem]!;
  const size = FIXED_SIZE[elem]!;
  r.need(n * size, what);
  const start = r.bytes.byteOffset + r.pos;
  let value: GgufValue;
  if (HOST_LE && start % size === 0) {
    value = new ctor(r.bytes.buffer as ArrayBuffer, start, n); // a view, no copy
    r.pos += n * size;
  } else if (HOST_LE) {
    value = new ctor(r.bytes.slice(r.pos, r.pos + n * size).buffer, 0, n);
    r.pos += n * size;
  } else {
    const out = new ctor(n) as unknown as GgufValue[];
    for (let i = 0; i < n; i++) out[i] = readScalar(r, elem, what, i);
    value = out as unknown as GgufValue;
  }
  return { elem, value };
}

/**
 * Parses a GGUF file (versions 2 and 3, little-endian). Tensor data stays in
 * `bytes` (each tensor's `data` is a view); so do aligned numeric metadata
 * arrays.
 *
 * @throws {FormatError} naming the key or tensor, for anything malformed:
 *   wrong magic or version, truncation, counts or lengths beyond the file,
 *   unknown value or tensor types, rows not a whole number of blocks, tensor
 *   data outside the file, duplicate keys or tensor names
 *
 * @example
 * ```ts
 * import { GGML_TYPE, parseGguf, writeGguf } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * const bytes = writeGguf([["general.architecture", "llama"]], [
 *   { name: "w", shape: [2, 1], type: GGML_TYPE.F32, data: new Uint8Array(8) },
 * ]);
 * const f = parseGguf(bytes);
 * assert.equal(f.metadata.get("general.architecture"), "llama");
 * assert.deepEqual(f.tensor("w")?.shape, [2, 1]);
 * ```
 */
export function parseGguf(bytes: Uint8Array): GgufFile {
  const r = new Reader(bytes);
  if (!isGguf(bytes)) {
    throw new FormatError('gguf: not a GGUF file (no "GGUF" magic)');
  }
  r.pos = 4;
  const version = r.u32("header: version");
  if (version !== 2 && version !== 3) {
    if ((version & 0xffff) === 0 && version !== 0) {
      throw new FormatError(
        `gguf: version field reads ${version}: a big-endian GGUF file, only little-endian is supported`,
      );
    }
    throw new FormatError(
      `gguf: version ${version} is not supported (only 2 and 3)`,
    );
  }
  // smallest key/value: 8-byte key length + 4-byte type + 1-byte value;
  // smallest tensor info: 8-byte name length + 4 n_dims + 4 type + 8 offset
  const nTensors = r.size(
    Math.floor((r.remaining() - 16) / 24),
    "header: tensor count",
  );
  const nKv = r.size(
    Math.floor((r.remaining() - 8) / 13),
    "header: metadata count",
  );

  const metadata = new Map<string, GgufValue>();
  const types = new Map<string, GgufValueTypeName>();
  for (let i = 0; i < nKv; i++) {
    const key = r.string(`metadata entry ${i}: key`);
    const what = `key "${key}"`;
    if (metadata.has(key)) throw new FormatError(`gguf: ${what} appears twice`);
    const t = valueType(r, what);
    if (t === "array") {
      const { elem, value } = readArray(r, what, 1);
      metadata.set(key, value);
      types.set(key, elem);
    } else {
      metadata.set(key, readScalar(r, t, what));
      types.set(key, t);
    }
  }

  let alignment = DEFAULT_ALIGNMENT;
  if (metadata.has("general.alignment")) {
    const a = metadata.get("general.alignment");
    if (types.get("general.alignment") !== "uint32") {
      throw new FormatError(
        `gguf: key "general.alignment" is ${
          types.get("general.alignment")
        }, expected uint32`,
      );
    }
    alignment = a as number;
    if (alignment === 0 || (alignment & (alignment - 1)) !== 0) {
      throw new FormatError(
        `gguf: key "general.alignment" is ${alignment}, not a power of 2`,
      );
    }
  }

  const pending: {
    name: string;
    shape: number[];
    type: number;
    rel: bigint;
  }[] = [];
  const names = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const name = r.string(`tensor info ${i}: name`);
    const what = `tensor "${name}"`;
    if (names.has(name)) throw new FormatError(`gguf: ${what} appears twice`);
    names.add(name);
    const nDims = r.u32(`${what}: dimension count`);
    if (nDims > 4) {
      throw new FormatError(`gguf: ${what} has ${nDims} dimensions, at most 4`);
    }
    const shape: number[] = [];
    for (let d = 0; d < nDims; d++) {
      const ne = r.u64(`${what}: dimension ${d}`);
      if (ne > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new FormatError(`gguf: ${what} has dimension ${d} of ${ne}`);
      }
      shape.push(Number(ne));
    }
    const type = r.u32(`${what}: type`);
    const rel = r.u64(`${what}: offset`);
    pending.push({ name, shape, type, rel });
  }

  // the data section starts at the next multiple of the alignment (llama.cpp
  // pads only when there are tensors)
  const dataOffset = nTensors > 0
    ? Math.ceil(r.pos / alignment) * alignment
    : r.pos;
  if (dataOffset > bytes.length) {
    throw new FormatError(
      `gguf: data section starts at ${dataOffset}, past the end of the ${bytes.length}-byte file`,
    );
  }
  const tensors: GgufTensorInfo[] = [];
  const byName = new Map<string, GgufTensorInfo>();
  for (const { name, shape, type, rel } of pending) {
    const what = `tensor "${name}"`;
    const byteLength = tensorByteLength(type, shape);
    if (typeof byteLength === "string") {
      throw new FormatError(`gguf: ${what} [${shape}] ${byteLength}`);
    }
    const room = bytes.length - dataOffset;
    if (rel > BigInt(room) || Number(rel) + byteLength > room) {
      throw new FormatError(
        `gguf: ${what}: ${byteLength} bytes at data offset ${rel} run past the end of the file (${room} data bytes)`,
      );
    }
    const relative = Number(rel);
    if (relative % alignment !== 0) {
      throw new FormatError(
        `gguf: ${what}: data offset ${relative} is not a multiple of the alignment ${alignment}`,
      );
    }
    const offset = dataOffset + relative;
    const info: GgufTensorInfo = {
      name,
      shape,
      type,
      typeName: GGML_TYPE_INFO_BY_ID.get(type)!.name,
      offset,
      byteLength,
      data: bytes.subarray(offset, offset + byteLength),
    };
    tensors.push(info);
    byName.set(name, info);
  }
  return {
    version,
    alignment,
    metadata,
    types,
    tensors,
    tensor: (name: string) => byName.get(name),
    dataOffset,
  };
}

// ---------------------------------------------------------------------------
// writing

const INT_RANGE: Partial<Record<GgufValueTypeName, [number, number]>> = {
  uint8: [0, 0xff],
  int8: [-0x80, 0x7f],
  uint16: [0, 0xffff],
  int16: [-0x8000, 0x7fff],
  uint32: [0, 0xffffffff],
  int32: [-0x80000000, 0x7fffffff],
};

function isArrayValue(
  v: GgufValue,
): v is Exclude<GgufValue, number | bigint | boolean | string> {
  return Array.isArray(v) || ArrayBuffer.isView(v);
}

/** The value type of a JS scalar when the caller did not say. */
function inferScalar(v: number | bigint | boolean | string): GgufValueTypeName {
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "bigint") return v < 0n ? "int64" : "uint64";
  if (!Number.isInteger(v)) return "float32";
  if (v >= 0 && v <= 0xffffffff) return "uint32";
  if (v < 0 && v >= -0x80000000) return "int32";
  if (Number.isSafeInteger(v)) return v < 0 ? "int64" : "uint64";
  return "float64";
}

/** The element type of an array value when the caller did not say. */
function inferElement(v: GgufValue, what: string): GgufValueTypeName {
  if (v instanceof Uint8Array) return "uint8";
  if (v instanceof Int8Array) return "int8";
  if (v instanceof Uint16Array) return "uint16";
  if (v instanceof Int16Array) return "int16";
  if (v instanceof Uint32Array) return "uint32";
  if (v instanceof Int32Array) return "int32";
  if (v instanceof Float32Array) return "float32";
  if (v instanceof Float64Array) return "float64";
  if (v instanceof BigUint64Array) return "uint64";
  if (v instanceof BigInt64Array) return "int64";
  const items = v as GgufValue[];
  if (!Array.isArray(items)) {
    throw new ConfigError(`gguf: ${what}: unsupported array type`);
  }
  if (items.length === 0) return "string";
  if (items.every((x) => typeof x === "string")) return "string";
  if (items.every((x) => typeof x === "boolean")) return "bool";
  if (items.every((x) => isArrayValue(x))) return "array";
  if (items.every((x) => typeof x === "bigint")) {
    return items.some((x) => (x as bigint) < 0n) ? "int64" : "uint64";
  }
  if (items.every((x) => typeof x === "number")) {
    const nums = items as number[];
    if (!nums.every((x) => Number.isSafeInteger(x))) return "float32";
    let min = 0, max = 0;
    for (const x of nums) {
      if (x < min) min = x;
      if (x > max) max = x;
    }
    if (min >= 0) return max <= 0xffffffff ? "uint32" : "uint64";
    return min >= -0x80000000 && max <= 0x7fffffff ? "int32" : "int64";
  }
  throw new ConfigError(
    `gguf: ${what}: array mixes value kinds (numbers, strings, …)`,
  );
}

/** Growable little-endian byte sink for the header. */
class Writer {
  buf = new Uint8Array(1024);
  dv = new DataView(this.buf.buffer);
  pos = 0;
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }
  u32(v: number): void {
    this.reserve(4);
    this.dv.setUint32(this.pos, v, true);
    this.pos += 4;
  }
  u64(v: number | bigint): void {
    this.reserve(8);
    this.dv.setBigUint64(this.pos, BigInt(v), true);
    this.pos += 8;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  string(s: string): void {
    const b = utf8Encoder.encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
}

function writeScalar(
  w: Writer,
  t: GgufValueTypeName,
  v: GgufValue,
  what: string,
): void {
  const bad = (): never => {
    throw new ConfigError(
      `gguf: ${what}: ${
        typeof v === "string" ? JSON.stringify(v) : String(v)
      } is not a valid ${t}`,
    );
  };
  if (t === "string") {
    if (typeof v !== "string") bad();
    w.string(v as string);
    return;
  }
  if (t === "bool") {
    if (typeof v !== "boolean") bad();
    w.reserve(1);
    w.buf[w.pos++] = v ? 1 : 0;
    return;
  }
  const size = FIXED_SIZE[t]!;
  w.reserve(size);
  const p = w.pos;
  if (t === "uint64" || t === "int64") {
    if (typeof v !== "bigint" && !Number.isSafeInteger(v)) bad();
    const b = BigInt(v as number | bigint);
    if (
      t === "uint64"
        ? b < 0n || b >= 1n << 64n
        : b < -(1n << 63n) || b >= 1n << 63n
    ) bad();
    if (t === "uint64") w.dv.setBigUint64(p, b, true);
    else w.dv.setBigInt64(p, b, true);
  } else if (t === "float32" || t === "float64") {
    if (typeof v !== "number") bad();
    if (t === "float32") w.dv.setFloat32(p, v as number, true);
    else w.dv.setFloat64(p, v as number, true);
  } else {
    const n = typeof v === "bigint" ? Number(v) : v;
    const [lo, hi] = INT_RANGE[t]!;
    if (typeof n !== "number" || !Number.isInteger(n) || n < lo || n > hi) {
      bad();
    }
    if (t === "uint8") w.dv.setUint8(p, n as number);
    else if (t === "int8") w.dv.setInt8(p, n as number);
    else if (t === "uint16") w.dv.setUint16(p, n as number, true);
    else if (t === "int16") w.dv.setInt16(p, n as number, true);
    else if (t === "uint32") w.dv.setUint32(p, n as number, true);
    else w.dv.setInt32(p, n as number, true);
  }
  w.pos += size;
}

function writeArray(
  w: Writer,
  elem: GgufValueTypeName,
  v: GgufValue,
  what: string,
  depth: number,
): void {
  if (!isArrayValue(v)) {
    throw new ConfigError(`gguf: ${what}: expected an array of ${elem}`);
  }
  if (depth > MAX_NESTING) {
    throw new ConfigError(
      `gguf: ${what}: arrays nested more than ${MAX_NESTING} deep`,
    );
  }
  w.u32(VALUE_TYPE_ID.get(elem)!);
  w.u64(v.length);
  const ctor = ARRAY_CTOR[elem];
  if (HOST_LE && ctor !== undefined && v instanceof ctor) {
    // the typed array already holds the bytes to write
    w.bytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    return;
  }
  for (let i = 0; i < v.length; i++) {
    const x = (v as ArrayLike<GgufValue>)[i];
    if (elem === "array") {
      const sub = `${what}[${i}]`;
      w.u32(VALUE_TYPE_ID.get("array")!);
      writeArray(w, inferElement(x, sub), x, sub, depth + 1);
    } else {
      writeScalar(w, elem, x, `${what}[${i}]`);
    }
  }
}

/**
 * Writes a GGUF file (version 3 unless asked): the metadata in the given
 * order, then the tensor infos and data, each tensor padded to the alignment
 * as llama.cpp writes them. The result holds the whole file.
 *
 * @throws {ConfigError} for a metadata value that does not fit its type, an
 *   unknown value type, a bad alignment, or duplicate keys or tensor names
 * @throws {ShapeError} when a tensor's data length does not match its shape
 *   and type, or its rows are not whole blocks
 *
 * @example Write and read back, keeping value types
 * ```ts
 * import { GGML_TYPE, parseGguf, writeGguf } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * const bytes = writeGguf(
 *   [["llama.context_length", 128], ["llama.rope.freq_base", 10000], ["tokenizer.ggml.scores", new Float32Array([0, -1])]],
 *   [{ name: "token_embd.weight", shape: [32, 2], type: GGML_TYPE.Q8_0, data: new Uint8Array(68) }],
 *   { types: new Map([["llama.rope.freq_base", "float32"]]) },
 * );
 * const f = parseGguf(bytes);
 * assert.equal(f.types.get("llama.context_length"), "uint32");
 * assert.equal(f.types.get("llama.rope.freq_base"), "float32");
 * ```
 */
export function writeGguf(
  metadata: Map<string, GgufValue> | [string, GgufValue][],
  tensors: readonly GgufTensorInput[],
  options: WriteGgufOptions = {},
): Uint8Array<ArrayBuffer> {
  const entries: [string, GgufValue][] = metadata instanceof Map
    ? [...metadata]
    : [...metadata];
  const types = options.types ?? new Map<string, GgufValueTypeName>();
  const version = options.version ?? 3;
  if (version !== 2 && version !== 3) {
    throw new ConfigError(
      `gguf: version ${version} cannot be written (2 or 3)`,
    );
  }
  const keys = new Set<string>();
  for (const [k] of entries) {
    if (keys.has(k)) throw new ConfigError(`gguf: key "${k}" given twice`);
    keys.add(k);
  }

  let alignment = options.alignment;
  const stored = entries.find(([k]) => k === "general.alignment");
  if (stored !== undefined) {
    const v = stored[1];
    const t = types.get("general.alignment") ?? "uint32";
    if (t !== "uint32" || typeof v !== "number") {
      throw new ConfigError(`gguf: key "general.alignment" must be a uint32`);
    }
    if (alignment !== undefined && alignment !== v) {
      throw new ConfigError(
        `gguf: alignment option ${alignment} disagrees with general.alignment ${v}`,
      );
    }
    alignment = v;
  } else if (alignment !== undefined && alignment !== DEFAULT_ALIGNMENT) {
    entries.push(["general.alignment", alignment]);
  }
  alignment ??= DEFAULT_ALIGNMENT;
  if (
    !Number.isInteger(alignment) || alignment <= 0 || alignment > 0x80000000 ||
    (alignment & (alignment - 1)) !== 0
  ) {
    throw new ConfigError(`gguf: alignment ${alignment} is not a power of 2`);
  }

  const w = new Writer();
  w.u32(MAGIC);
  w.u32(version);
  w.u64(tensors.length);
  w.u64(entries.length);
  for (const [key, value] of entries) {
    const what = `key "${key}"`;
    const given = key === "general.alignment" ? "uint32" : types.get(key);
    if (given !== undefined && !VALUE_TYPE_ID.has(given)) {
      throw new ConfigError(`gguf: ${what}: unknown value type "${given}"`);
    }
    w.string(key);
    if (isArrayValue(value)) {
      w.u32(VALUE_TYPE_ID.get("array")!);
      writeArray(w, given ?? inferElement(value, what), value, what, 1);
    } else {
      if (given === "array") {
        throw new ConfigError(
          `gguf: ${what}: typed "array" but holds a scalar`,
        );
      }
      const t = given ?? inferScalar(value);
      w.u32(VALUE_TYPE_ID.get(t)!);
      writeScalar(w, t, value, what);
    }
  }

  const names = new Set<string>();
  const pad = (n: number) => Math.ceil(n / alignment) * alignment;
  let dataSize = 0;
  const relOffsets: number[] = [];
  for (const t of tensors) {
    const what = `tensor "${t.name}"`;
    if (names.has(t.name)) throw new ConfigError(`gguf: ${what} given twice`);
    names.add(t.name);
    if (utf8Encoder.encode(t.name).length >= 64) {
      throw new ConfigError(
        `gguf: ${what}: name is 64 bytes or longer (ggml's limit)`,
      );
    }
    const n = tensorByteLength(t.type, t.shape);
    if (typeof n === "string") {
      throw new ShapeError(`gguf: ${what} [${t.shape}] ${n}`);
    }
    if (t.data.length !== n) {
      throw new ShapeError(
        `gguf: ${what} [${t.shape}] ${
          ggmlTypeInfo(t.type).name
        } needs ${n} bytes, data has ${t.data.length}`,
      );
    }
    w.string(t.name);
    w.u32(t.shape.length);
    for (const d of t.shape) w.u64(d);
    w.u32(t.type);
    w.u64(dataSize);
    relOffsets.push(dataSize);
    dataSize += pad(n);
  }

  // a file without tensors ends after its header, as gguf-py writes it (and
  // as parseGguf reads it); llama.cpp's own writer would pad it
  const dataOffset = tensors.length > 0 ? pad(w.pos) : w.pos;
  const out = new Uint8Array(dataOffset + dataSize);
  out.set(w.buf.subarray(0, w.pos));
  for (let i = 0; i < tensors.length; i++) {
    out.set(tensors[i].data, dataOffset + relOffsets[i]);
  }
  return out;
}

// ---------------------------------------------------------------------------
// typed getters

function lookup(file: GgufFile, key: string): GgufValue | undefined {
  return file.metadata.get(key);
}

function typeMismatch(
  file: GgufFile,
  key: string,
  expected: string,
): FormatError {
  const v = file.metadata.get(key)!;
  const t = file.types?.get(key);
  const stored = isArrayValue(v)
    ? `an array of ${t ?? "values"}`
    : (t ?? typeof v);
  return new FormatError(
    `gguf: key "${key}" is ${stored}, expected ${expected}`,
  );
}

function missing(key: string): FormatError {
  return new FormatError(`gguf: key "${key}" is missing`);
}

/**
 * A string metadata value.
 *
 * @param fallback returned when the key is absent (otherwise absence throws)
 * @throws {FormatError} naming the key when it is absent (and no fallback) or not a string
 *
 * @example
 * ```ts
 * import { ggufString, parseGguf, writeGguf } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * const f = parseGguf(writeGguf([["general.architecture", "qwen2"]], []));
 * assert.equal(ggufString(f, "general.architecture"), "qwen2");
 * assert.equal(ggufString(f, "general.name", ""), "");
 * ```
 */
export function ggufString(
  file: GgufFile,
  key: string,
  fallback?: string,
): string {
  const v = lookup(file, key);
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw missing(key);
  }
  if (typeof v !== "string") throw typeMismatch(file, key, "a string");
  return v;
}

/**
 * A numeric metadata value of any scalar type as a `number`; 64-bit integers
 * are converted when they are exactly representable.
 *
 * @param fallback returned when the key is absent (otherwise absence throws)
 * @throws {FormatError} naming the key when it is absent (and no fallback),
 *   not a number, or a 64-bit integer beyond 2^53
 *
 * @example
 * ```ts
 * import { ggufNumber, parseGguf, writeGguf } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * const f = parseGguf(writeGguf([["llama.block_count", 2], ["general.size", 7n]], []));
 * assert.equal(ggufNumber(f, "llama.block_count"), 2);
 * assert.equal(ggufNumber(f, "general.size"), 7);
 * assert.equal(ggufNumber(f, "x", 1), 1);
 * ```
 */
export function ggufNumber(
  file: GgufFile,
  key: string,
  fallback?: number,
): number {
  const v = lookup(file, key);
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw missing(key);
  }
  if (typeof v === "number") return v;
  if (typeof v === "bigint") {
    if (
      v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)
    ) {
      throw new FormatError(
        `gguf: key "${key}" is ${v}, too large for a number`,
      );
    }
    return Number(v);
  }
  throw typeMismatch(file, key, "a number");
}

/**
 * A boolean metadata value.
 *
 * @param fallback returned when the key is absent (otherwise absence throws)
 * @throws {FormatError} naming the key when it is absent (and no fallback) or not a bool
 *
 * @example
 * ```ts
 * import { ggufBool, parseGguf, writeGguf } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * const f = parseGguf(writeGguf([["tokenizer.ggml.add_bos_token", true]], []));
 * assert.equal(ggufBool(f, "tokenizer.ggml.add_bos_token"), true);
 * assert.equal(ggufBool(f, "tokenizer.ggml.add_eos_token", false), false);
 * ```
 */
export function ggufBool(
  file: GgufFile,
  key: string,
  fallback?: boolean,
): boolean {
  const v = lookup(file, key);
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw missing(key);
  }
  if (typeof v !== "boolean") throw typeMismatch(file, key, "a bool");
  return v;
}

/** A metadata array value: a typed array, `boolean[]`, `string[]` or an array of arrays. */
export type GgufArray = Exclude<GgufValue, number | bigint | boolean | string>;

/**
 * An array metadata value of any element type.
 *
 * @throws {FormatError} naming the key when it is absent or not an array
 *
 * @example
 * ```ts
 * import { ggufArray, parseGguf, writeGguf } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * const f = parseGguf(writeGguf([["tokenizer.ggml.token_type", new Int32Array([1, 3])]], []));
 * assert.deepEqual([...ggufArray(f, "tokenizer.ggml.token_type")], [1, 3]);
 * ```
 */
export function ggufArray(file: GgufFile, key: string): GgufArray {
  const v = lookup(file, key);
  if (v === undefined) throw missing(key);
  if (!isArrayValue(v)) throw typeMismatch(file, key, "an array");
  return v;
}

/**
 * A string-array metadata value (token texts, merges).
 *
 * @throws {FormatError} naming the key when it is absent or not an array of strings
 *
 * @example
 * ```ts
 * import { ggufStringArray, parseGguf, writeGguf } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * const f = parseGguf(writeGguf([["tokenizer.ggml.tokens", ["<s>", "a"]]], []));
 * assert.deepEqual(ggufStringArray(f, "tokenizer.ggml.tokens"), ["<s>", "a"]);
 * ```
 */
export function ggufStringArray(file: GgufFile, key: string): string[] {
  const v = ggufArray(file, key);
  const t = file.types?.get(key);
  if (
    !Array.isArray(v) ||
    (t !== undefined ? t !== "string" : !v.every((x) => typeof x === "string"))
  ) {
    throw typeMismatch(file, key, "an array of strings");
  }
  return v as string[];
}

/** Numeric typed arrays as {@linkcode ggufNumberArray} returns them. */
export type GgufNumberArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

/**
 * A numeric-array metadata value (token scores, token types) as a typed array
 * of numbers; 64-bit integer arrays come back as a `Float64Array` when every
 * element is exactly representable.
 *
 * @throws {FormatError} naming the key when it is absent, not a numeric array,
 *   or holds 64-bit integers beyond 2^53
 *
 * @example
 * ```ts
 * import { ggufNumberArray, parseGguf, writeGguf } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * const f = parseGguf(writeGguf([["tokenizer.ggml.scores", new Float32Array([0, -1.5])]], []));
 * assert.deepEqual([...ggufNumberArray(f, "tokenizer.ggml.scores")], [0, -1.5]);
 * ```
 */
export function ggufNumberArray(file: GgufFile, key: string): GgufNumberArray {
  const v = ggufArray(file, key);
  if (v instanceof BigUint64Array || v instanceof BigInt64Array) {
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (
        x > BigInt(Number.MAX_SAFE_INTEGER) ||
        x < BigInt(Number.MIN_SAFE_INTEGER)
      ) {
        throw new FormatError(
          `gguf: key "${key}"[${i}] is ${x}, too large for a number`,
        );
      }
      out[i] = Number(x);
    }
    return out;
  }
  if (Array.isArray(v)) throw typeMismatch(file, key, "a numeric array");
  return v as GgufNumberArray;
}
