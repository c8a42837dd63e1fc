/**
 * Requantizing a GGUF file to one ggml type, as `llama-quantize --pure`
 * does: every 2-D (or higher) tensor whose name ends in `weight` (norms,
 * expert gates and the other small tensors llama.cpp leaves alone excepted)
 * is decoded to floats and re-encoded with the type's reference quantizer;
 * everything else is copied. Tensors are written in llama.cpp's order (by
 * layer, then by name) and `general.quantization_version` and
 * `general.file_type` are (re)set at the end of the metadata, so the result
 * equals llama-quantize's file byte for byte.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import { GGML_BLOCK_TYPES, ggmlBlockType } from "../quant/ggml/mod.ts";
import { GGML_TYPE, ggmlTypeInfo } from "../quant/ggml/types.ts";
import {
  type GgufTensorInput,
  type GgufValue,
  parseGguf,
  writeGguf,
} from "./gguf.ts";

/**
 * llama.cpp's `llama_ftype` of a file whose weights are all of one type
 * (what `general.file_type` records): F32 0, F16 1, Q4_0 2, Q4_1 3, Q8_0 7,
 * Q5_0 8, Q5_1 9, Q4_K 14 (`Q4_K_S`), Q5_K 16 (`Q5_K_S`), Q6_K 18, BF16 32.
 */
const FILE_TYPE: Readonly<Record<number, number>> = {
  [GGML_TYPE.F32]: 0,
  [GGML_TYPE.F16]: 1,
  [GGML_TYPE.Q4_0]: 2,
  [GGML_TYPE.Q4_1]: 3,
  [GGML_TYPE.Q8_0]: 7,
  [GGML_TYPE.Q5_0]: 8,
  [GGML_TYPE.Q5_1]: 9,
  [GGML_TYPE.Q4_K]: 14,
  [GGML_TYPE.Q5_K]: 16,
  [GGML_TYPE.Q6_K]: 18,
  [GGML_TYPE.BF16]: 32,
};

/** Name parts of tensors llama.cpp never quantizes (`tensor_allows_quantization`). */
const KEEP = [
  "_norm.weight",
  "ffn_gate_inp.weight",
  "altup",
  "laurel",
  "per_layer_model_proj",
  "ssm_conv1d",
  "shortconv.conv.weight",
  "time_mix_first.weight",
  "time_mix_w0.weight",
  "time_mix_w1.weight",
  "time_mix_w2.weight",
  "time_mix_v0.weight",
  "time_mix_v1.weight",
  "time_mix_v2.weight",
  "time_mix_a0.weight",
  "time_mix_a1.weight",
  "time_mix_a2.weight",
  "time_mix_g1.weight",
  "time_mix_g2.weight",
  "time_mix_decay_w1.weight",
  "time_mix_decay_w2.weight",
  "time_mix_lerp_fused.weight",
  "attn_rel_b.weight",
  ".position_embd",
  "sam.pos_embd",
  "sam.neck.",
];
const KEEP_EXACT = ["position_embd.weight", "token_types.weight"];

/**
 * Whether llama.cpp would quantize a tensor of this name and shape: at least
 * two dimensions, a name ending in `weight`, and none of the tensors it
 * keeps as they are (norms, expert gates, positional embeddings, …).
 *
 * @example
 * ```ts
 * import { ggufTensorIsQuantizable } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * assert.equal(ggufTensorIsQuantizable("blk.0.attn_q.weight", [64, 64]), true);
 * assert.equal(ggufTensorIsQuantizable("blk.0.attn_norm.weight", [64]), false);
 * ```
 */
export function ggufTensorIsQuantizable(
  name: string,
  shape: readonly number[],
): boolean {
  let dims = shape.length;
  while (dims > 1 && shape[dims - 1] === 1) dims--; // ggml_n_dims ignores trailing 1s
  if (dims < 2 || !name.endsWith("weight")) return false;
  return !KEEP.some((k) => name.includes(k)) && !KEEP_EXACT.includes(name);
}

/**
 * The type llama.cpp falls back to when rows are not a whole number of the
 * target type's blocks (`tensor_type_fallback`): Q4_K → Q5_0, Q5_K → Q5_1,
 * Q6_K → Q8_0, and F16 when even that does not fit.
 */
function fallbackType(target: number, cols: number): number {
  if (cols % ggmlTypeInfo(target).blockSize === 0) return target;
  const next = target === GGML_TYPE.Q4_K
    ? GGML_TYPE.Q5_0
    : target === GGML_TYPE.Q5_K
    ? GGML_TYPE.Q5_1
    : target === GGML_TYPE.Q6_K
    ? GGML_TYPE.Q8_0
    : GGML_TYPE.F16;
  return cols % ggmlTypeInfo(next).blockSize === 0 ? next : GGML_TYPE.F16;
}

/** Options of {@linkcode quantizeGguf}. */
export interface QuantizeGgufOptions {
  /**
   * Per-tensor types that win over the target (llama-quantize's
   * `--tensor-type PATTERN=TYPE`): the first pattern found in a tensor's name
   * decides. Only quantizable tensors are affected.
   */
  tensorTypes?: readonly (readonly [RegExp | string, number])[];
}

/** llama.cpp's tensor order: by `blk.N.` layer (others first), then by name bytes. */
function compareTensors(a: string, b: string): number {
  const layer = (s: string) => {
    const m = /^blk\.(-?\d+)\./.exec(s);
    return m ? Number(m[1]) : -1;
  };
  const la = layer(a), lb = layer(b);
  if (la !== lb) return la - lb;
  const ea = new TextEncoder().encode(a), eb = new TextEncoder().encode(b);
  for (let i = 0; i < Math.min(ea.length, eb.length); i++) {
    if (ea[i] !== eb[i]) return ea[i] - eb[i];
  }
  return ea.length - eb.length;
}

/**
 * Requantizes a GGUF model to one ggml type, as `llama-quantize --pure`
 * (see the module doc). Rows that are not a whole number of the type's
 * blocks fall back as llama.cpp's shape fallback does (Q4_K → Q5_0,
 * Q5_K → Q5_1, Q6_K → Q8_0, else F16), where llama-quantize `--pure` would
 * refuse.
 *
 * @param type target ggml type id: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K or Q6_K
 * @throws {ConfigError} for a target type or a tensor type that cannot be computed with
 * @throws {FormatError} for a malformed input file
 *
 * @example
 * ```ts
 * import { GGML_TYPE, parseGguf, quantizeGguf, writeGguf } from "@proj/tinyllm/io";
 * import assert from "node:assert/strict";
 * const f32 = writeGguf([["general.architecture", "llama"]], [
 *   { name: "blk.0.attn_q.weight", shape: [32, 2], type: GGML_TYPE.F32, data: new Uint8Array(256) },
 * ]);
 * const q = parseGguf(quantizeGguf(f32, GGML_TYPE.Q8_0));
 * assert.equal(q.tensors[0].typeName, "Q8_0");
 * assert.equal(q.metadata.get("general.file_type"), 7);
 * ```
 */
export function quantizeGguf(
  bytes: Uint8Array,
  type: number,
  options: QuantizeGgufOptions = {},
): Uint8Array<ArrayBuffer> {
  const target = ggmlBlockType(type);
  const f = parseGguf(bytes);
  const metadata = new Map<string, GgufValue>(f.metadata);
  const types = new Map(f.types);
  for (
    const [key, value] of [
      ["general.quantization_version", 2],
      ["general.file_type", FILE_TYPE[target.id]],
    ] as const
  ) {
    metadata.delete(key); // set = remove + append, as gguf_set_val_u32
    metadata.set(key, value);
    types.set(key, "uint32");
  }
  const tensors: GgufTensorInput[] = [];
  const sorted = [...f.tensors].sort((a, b) => compareTensors(a.name, b.name));
  for (const t of sorted) {
    let want = t.type;
    if (ggufTensorIsQuantizable(t.name, t.shape)) {
      want = target.id;
      for (const [pattern, forced] of options.tensorTypes ?? []) {
        const hit = typeof pattern === "string"
          ? t.name.includes(pattern)
          : pattern.test(t.name);
        if (hit) {
          want = forced;
          break;
        }
      }
      want = fallbackType(want, t.shape[0]);
    }
    if (want === t.type) {
      tensors.push(t);
      continue;
    }
    const from = GGML_BLOCK_TYPES[t.type];
    if (from === undefined) {
      throw new ConfigError(
        `quantize: tensor "${t.name}" is ${t.typeName}, which tinyllm cannot decode`,
      );
    }
    const to = ggmlBlockType(want);
    const cols = t.shape[0];
    const rows = cols === 0 ? 0 : t.shape.reduce((a, b) => a * b, 1) / cols;
    const inRow = (cols / from.blockSize) * from.typeSize;
    const outRow = (cols / to.blockSize) * to.typeSize;
    const data = new Uint8Array(rows * outRow);
    const row = new Float32Array(cols);
    for (let r = 0; r < rows; r++) {
      from.dequantizeRow(t.data, r * inRow, row, 0, cols);
      to.quantizeRow(row, 0, data, r * outRow, cols);
    }
    tensors.push({ name: t.name, shape: t.shape, type: to.id, data });
  }
  return writeGguf(metadata, tensors, { types }); // version 3, as llama.cpp writes
}
