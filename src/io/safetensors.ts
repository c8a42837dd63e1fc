/**
 * The safetensors format (https://github.com/huggingface/safetensors): an
 * 8-byte little-endian header length N, N bytes of JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {…}}`
 * padded with spaces to a multiple of 8, then the raw little-endian tensor
 * bytes, contiguous and without holes. Dependency-free; bytes in, bytes out.
 *
 * A matrix of any weight type is stored as its payload, `name` `[rows,
 * rowBytes / element size]` in the type's `safetensorsDtype` (fp32 → F32
 * `[rows, cols]`, int8 → I8 `[rows, cols]`, int4 → U8 `[rows, cols/2]`),
 * plus `name.scales` F32 for types with separate scales; the metadata
 * records, per non-fp32 matrix, `quant.<name>` = `"<type>:<granularity>"`
 * (e.g. `"int4:32"`, `"int8:row"`; just `"<type>"` without separate scales).
 *
 * @module
 */
import { LITTLE_ENDIAN } from "../bytes.ts";
import { FormatError, ShapeError } from "../errors.ts";
import { granularityToString, parseGranularity } from "../quant/granularity.ts";
import { rowBytes, weightType } from "../quant/table.ts";
import type { Granularity, QMatrix, WeightType } from "../quant/types.ts";

/** Tensor element types this module reads and writes. */
export type SafetensorsDtype = "F64" | "F32" | "I32" | "I8" | "U8";

const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  I32: 4,
  I8: 1,
  U8: 1,
};

/** Typed arrays accepted as tensor data (their dtype follows from the type). */
export type TensorData =
  | Float64Array
  | Float32Array
  | Int32Array
  | Int8Array
  | Uint8Array;

/** A tensor to write. */
export interface TensorInput {
  /** `[d0, d1, …]`; the product must equal the data length. */
  readonly shape: readonly number[];
  /** Elements, row-major; the dtype follows from the array type (Uint8Array → U8). */
  readonly data: TensorData;
}

/** A tensor read back: dtype, shape and its raw little-endian bytes. */
export interface SafeTensor {
  /** Element type. */
  readonly dtype: SafetensorsDtype;
  /** Shape. */
  readonly shape: readonly number[];
  /** The raw bytes (a view into the file). */
  readonly bytes: Uint8Array;
}

/** A decoded safetensors file. */
export interface SafetensorsFile {
  /** Tensors by name, in file order. */
  readonly tensors: Map<string, SafeTensor>;
  /** The `__metadata__` string map (empty when absent). */
  readonly metadata: Record<string, string>;
}

/** Sets an own property, even one named `__proto__`. */
function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, {
    value: v,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function dtypeOf(data: TensorData): SafetensorsDtype {
  if (data instanceof Float64Array) return "F64";
  if (data instanceof Float32Array) return "F32";
  if (data instanceof Int32Array) return "I32";
  if (data instanceof Int8Array) return "I8";
  return "U8";
}

function leBytes(data: TensorData): Uint8Array {
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN || data.BYTES_PER_ELEMENT === 1) return raw;
  const out = new Uint8Array(raw.length);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    const o = i * data.BYTES_PER_ELEMENT;
    if (data instanceof Float64Array) dv.setFloat64(o, data[i], true);
    else if (data instanceof Float32Array) dv.setFloat32(o, data[i], true);
    else dv.setInt32(o, data[i] as number, true);
  }
  return out;
}

/**
 * Encodes tensors (written in order of decreasing element size, then name, so
 * every tensor is aligned to its element size) and string metadata.
 *
 * @throws {ShapeError} when a shape does not match its data length
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors, tensorF32 } from "@proj/tinyllm/io";
 * const bytes = encodeSafetensors({ w: { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } }, { note: "hi" });
 * const f = decodeSafetensors(bytes);
 * console.log(tensorF32(f, "w"), f.metadata.note); // Float32Array(4) [1, 2, 3, 4] "hi"
 * ```
 */
export function encodeSafetensors(
  tensors: Record<string, TensorInput>,
  metadata: Record<string, string> = {},
): Uint8Array<ArrayBuffer> {
  const names = Object.keys(tensors).sort((a, b) => {
    const d = tensors[b].data.BYTES_PER_ELEMENT -
      tensors[a].data.BYTES_PER_ELEMENT;
    return d !== 0 ? d : a < b ? -1 : a > b ? 1 : 0;
  });
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    const meta: Record<string, string> = {};
    for (const k of Object.keys(metadata).sort()) {
      setOwn(meta, k, String(metadata[k]));
    }
    setOwn(header, "__metadata__", meta);
  }
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const name of names) {
    if (name === "__metadata__") {
      throw new FormatError(`safetensors: "__metadata__" is not a tensor name`);
    }
    const t = tensors[name];
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (
      !t.shape.every((d) => Number.isInteger(d) && d >= 0) ||
      n !== t.data.length
    ) {
      throw new ShapeError(
        `safetensors: tensor "${name}" shape [${t.shape}] holds ${n} elements, data has ${t.data.length}`,
      );
    }
    const bytes = leBytes(t.data);
    setOwn(header, name, {
      dtype: dtypeOf(t.data),
      shape: [...t.shape],
      data_offsets: [offset, offset + bytes.length],
    });
    parts.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  const jsonBytes0 = new TextEncoder().encode(json);
  json += " ".repeat((8 - (jsonBytes0.length % 8)) % 8);
  const jsonBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + jsonBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
  out.set(jsonBytes, 8);
  let o = 8 + jsonBytes.length;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Decodes and validates a safetensors file: header length within the file,
 * valid JSON, known dtypes, shapes matching byte lengths, offsets in range,
 * contiguous and non-overlapping, and finite F32/F64 values. Tensor bytes are
 * views into `bytes` (no copy).
 *
 * @param bytes the file
 * @param name the file/member name used in error messages
 * @throws {FormatError} naming the file and the tensor at fault
 *
 * @example
 * ```ts
 * import { FormatError } from "@proj/tinyllm";
 * import { decodeSafetensors } from "@proj/tinyllm/io";
 * try {
 *   decodeSafetensors(new Uint8Array(5), "model.safetensors");
 * } catch (e) {
 *   console.log(e instanceof FormatError, (e as Error).message);
 *   // true "model.safetensors: truncated: 5 bytes, the header length alone needs 8"
 * }
 * ```
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  name = "safetensors",
): SafetensorsFile {
  if (bytes.length < 8) {
    throw new FormatError(
      `${name}: truncated: ${bytes.length} bytes, the header length alone needs 8`,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) {
    throw new FormatError(
      `${name}: header length ${n} runs past the end of the ${bytes.length}-byte file`,
    );
  }
  const headerLen = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(
        bytes.subarray(8, 8 + headerLen),
      ),
    );
  } catch (e) {
    throw new FormatError(
      `${name}: header is not valid JSON (${
        (e as Error).message.split("\n")[0]
      })`,
    );
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new FormatError(`${name}: header is not a JSON object`);
  }
  const data = bytes.subarray(8 + headerLen);
  const metadata: Record<string, string> = {};
  const entries: { name: string; begin: number; end: number }[] = [];
  const tensors = new Map<string, SafeTensor>();
  for (const [key, value] of Object.entries(header)) {
    if (key === "__metadata__") {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new FormatError(`${name}: __metadata__ is not an object`);
      }
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== "string") {
          throw new FormatError(
            `${name}: __metadata__.${k} is not a string`,
          );
        }
        setOwn(metadata, k, v);
      }
      continue;
    }
    const t = value as {
      dtype?: unknown;
      shape?: unknown;
      data_offsets?: unknown;
    };
    const where = `${name}: tensor "${key}"`;
    if (typeof t !== "object" || t === null) {
      throw new FormatError(`${where}: entry is not an object`);
    }
    const dtype = t.dtype as SafetensorsDtype;
    if (typeof dtype !== "string" || !(dtype in DTYPE_BYTES)) {
      throw new FormatError(
        `${where}: unsupported dtype ${JSON.stringify(t.dtype)}`,
      );
    }
    const shape = t.shape;
    if (
      !Array.isArray(shape) ||
      !shape.every((d) => Number.isSafeInteger(d) && d >= 0)
    ) {
      throw new FormatError(`${where}: bad shape ${JSON.stringify(shape)}`);
    }
    const off = t.data_offsets;
    if (
      !Array.isArray(off) || off.length !== 2 ||
      !off.every((d) => Number.isSafeInteger(d) && d >= 0) ||
      off[0] > off[1]
    ) {
      throw new FormatError(
        `${where}: bad data_offsets ${JSON.stringify(off)}`,
      );
    }
    const [begin, end] = off as number[];
    if (end > data.length) {
      throw new FormatError(
        `${where}: data_offsets [${begin}, ${end}] run past the ${data.length} data bytes (truncated file?)`,
      );
    }
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (count * DTYPE_BYTES[dtype] !== end - begin) {
      throw new FormatError(
        `${where}: ${dtype} [${shape}] needs ${
          count * DTYPE_BYTES[dtype]
        } bytes, data_offsets give ${end - begin}`,
      );
    }
    entries.push({ name: key, begin, end });
    tensors.set(key, { dtype, shape, bytes: data.subarray(begin, end) });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of entries) {
    if (e.begin < at) {
      throw new FormatError(
        `${name}: tensor "${e.name}" overlaps the previous tensor (offset ${e.begin} < ${at})`,
      );
    }
    if (e.begin > at) {
      throw new FormatError(
        `${name}: hole of ${e.begin - at} bytes before tensor "${e.name}"`,
      );
    }
    at = e.end;
  }
  if (at !== data.length) {
    throw new FormatError(
      `${name}: ${
        data.length - at
      } bytes after the last tensor are not indexed`,
    );
  }
  for (const [key, t] of tensors) {
    if (t.dtype !== "F32" && t.dtype !== "F64") continue;
    const bad = firstNonFinite(t);
    if (bad >= 0) {
      throw new FormatError(
        `${name}: tensor "${key}" has a non-finite value at element ${bad}`,
      );
    }
  }
  // Keep file order for iteration.
  const ordered = new Map<string, SafeTensor>();
  for (const e of entries) ordered.set(e.name, tensors.get(e.name)!);
  return { tensors: ordered, metadata };
}

function firstNonFinite(t: SafeTensor): number {
  const dv = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.length);
  if (t.dtype === "F32") {
    // Exponent bits all ones ⇔ Inf or NaN.
    for (let i = 0, o = 0; o < t.bytes.length; i++, o += 4) {
      if ((dv.getUint32(o, true) & 0x7f800000) === 0x7f800000) return i;
    }
  } else {
    for (let i = 0, o = 0; o < t.bytes.length; i++, o += 8) {
      if (!Number.isFinite(dv.getFloat64(o, true))) return i;
    }
  }
  return -1;
}

function getTensor(
  file: SafetensorsFile,
  name: string,
  dtype: SafetensorsDtype,
  fileName: string,
): SafeTensor {
  const t = file.tensors.get(name);
  if (!t) throw new FormatError(`${fileName}: missing tensor "${name}"`);
  if (t.dtype !== dtype) {
    throw new FormatError(
      `${fileName}: tensor "${name}" is ${t.dtype}, expected ${dtype}`,
    );
  }
  return t;
}

/**
 * A F32 tensor's values (a view when aligned, else a copy).
 *
 * @throws {FormatError} when missing or not F32
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors, tensorF32 } from "@proj/tinyllm/io";
 * const f = decodeSafetensors(encodeSafetensors({ g: { shape: [3], data: new Float32Array([1, 1, 1]) } }));
 * console.log(tensorF32(f, "g").length); // 3
 * ```
 */
export function tensorF32(
  file: SafetensorsFile,
  name: string,
  fileName = "safetensors",
): Float32Array {
  const b = getTensor(file, name, "F32", fileName).bytes;
  if (!LITTLE_ENDIAN) {
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return Float32Array.from(
      { length: b.length / 4 },
      (_, i) => dv.getFloat32(i * 4, true),
    );
  }
  if (b.byteOffset % 4 === 0) {
    return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
  }
  return new Float32Array(b.slice().buffer);
}

/** Metadata key recording a quantized tensor's type and granularity. */
export function quantKey(name: string): string {
  return `quant.${name}`;
}

/**
 * The tensors (and metadata entries) that store a {@linkcode QMatrix}: its
 * payload `name` in the type's dtype, `[rows, rowBytes / element size]`;
 * `name.scales` for types with separate scales; `quant.<name>` metadata for
 * every type but fp32.
 *
 * @example
 * ```ts
 * import type { QMatrix } from "@proj/tinyllm";
 * import { qmatrixTensors } from "@proj/tinyllm/io";
 * const m: QMatrix = { type: "int4", rows: 2, cols: 32, granularity: 32,
 *   data: new Uint8Array(32).fill(0x88), scales: new Float32Array(2) };
 * const { tensors, metadata } = qmatrixTensors("wq", m);
 * console.log(Object.keys(tensors), metadata); // ["wq", "wq.scales"] { "quant.wq": "int4:32" }
 * ```
 */
export function qmatrixTensors(
  name: string,
  m: QMatrix,
): {
  tensors: Record<string, TensorInput>;
  metadata: Record<string, string>;
} {
  const type = weightType(m.type);
  if (dtypeOf(m.data) !== type.safetensorsDtype) {
    throw new ShapeError(
      `safetensors: tensor "${name}": a ${m.type} payload is ${type.safetensorsDtype}, got ${
        dtypeOf(m.data)
      }`,
    );
  }
  const tensors: Record<string, TensorInput> = {
    [name]: { shape: payloadShape(type, m.rows, m.cols), data: m.data },
  };
  const metadata: Record<string, string> = {};
  if (type.scales === "separate") {
    tensors[`${name}.scales`] = { shape: [m.scales.length], data: m.scales };
    metadata[quantKey(name)] = `${m.type}:${
      granularityToString(m.granularity)
    }`;
  } else if (m.type !== "fp32") {
    metadata[quantKey(name)] = m.type;
  }
  return { tensors, metadata };
}

/** Shape of a `[rows, cols]` matrix's payload tensor in `type`'s dtype. */
function payloadShape(type: WeightType, rows: number, cols: number): number[] {
  return [rows, rowBytes(type, cols) / DTYPE_BYTES[type.safetensorsDtype]];
}

/**
 * Rebuilds the {@linkcode QMatrix} `name` of shape `[rows, cols]` from a
 * decoded file (the inverse of {@linkcode qmatrixTensors}), checking the
 * stored dtype, shape and sizes against the weight type's layout.
 *
 * @throws {FormatError} when a tensor is missing or has the wrong dtype
 * @throws {ShapeError} when sizes disagree with `[rows, cols]`
 *
 * @example
 * ```ts
 * import type { QMatrix } from "@proj/tinyllm";
 * import { decodeSafetensors, encodeSafetensors, qmatrixFromTensors,
 *   qmatrixTensors } from "@proj/tinyllm/io";
 * const m: QMatrix = { type: "int8", rows: 2, cols: 2, granularity: "row",
 *   data: new Int8Array([32, -64, 95, 127]), scales: new Float32Array([0.03, 0.03]) };
 * const { tensors, metadata } = qmatrixTensors("w", m);
 * const back = qmatrixFromTensors(decodeSafetensors(encodeSafetensors(tensors, metadata)), "w", 2, 2);
 * console.log(back.type, back.granularity, back.data); // "int8" "row" Int8Array(4) [32, -64, 95, 127]
 * ```
 */
export function qmatrixFromTensors(
  file: SafetensorsFile,
  name: string,
  rows: number,
  cols: number,
  fileName = "safetensors",
): QMatrix {
  const quant = file.metadata[quantKey(name)] ?? "fp32";
  const colon = quant.indexOf(":");
  const typeName = colon < 0 ? quant : quant.slice(0, colon);
  let type: WeightType, granularity: Granularity;
  try {
    type = weightType(typeName);
    granularity = parseGranularity(
      colon < 0 ? "tensor" : quant.slice(colon + 1),
    );
  } catch (e) {
    throw new FormatError(
      `${fileName}: tensor "${name}": bad ${quantKey(name)} "${quant}" (${
        (e as Error).message
      })`,
    );
  }
  const payload = getTensor(file, name, type.safetensorsDtype, fileName);
  let sizes;
  try {
    sizes = type.layoutSizes(rows, cols, granularity);
  } catch (e) {
    throw new ShapeError(
      `${fileName}: tensor "${name}" [${rows}, ${cols}] with ${quant}: ${
        (e as Error).message
      }`,
    );
  }
  const shape = payloadShape(type, rows, cols);
  const got = payload.shape;
  if (got.length !== 2 || got[0] !== shape[0] || got[1] !== shape[1]) {
    throw new ShapeError(
      `${fileName}: tensor "${name}" is [${got}], expected [${
        shape.join(", ")
      }]`,
    );
  }
  const scales = type.scales === "separate"
    ? tensorF32(file, `${name}.scales`, fileName)
    : new Float32Array(0);
  if (scales.length !== sizes.scalesLength) {
    throw new ShapeError(
      `${fileName}: tensor "${name}" (${quant}, [${rows}, ${cols}]) needs ${sizes.scalesLength} scales, got ${scales.length}`,
    );
  }
  return type.fromParts(rows, cols, granularity, payload.bytes, scales);
}
