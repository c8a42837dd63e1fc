/**
 * llama2.c legacy ("version 0") checkpoints: a 7 × int32 header followed by
 * fp32 tensors, read and written exactly as llama2.c's `run.c` and `export.py`
 * lay them out.
 *
 * @module
 */
import { FormatError } from "../errors.ts";
import { assembleWeights, fp32Matrix } from "../model/build.ts";
import { headSize, makeConfig, type ModelConfig } from "../model/config.ts";
import {
  isMatrix,
  type ModelTensor,
  modelTensors,
  TENSORS,
  type TensorSpec,
  tensorValue,
} from "../model/tensors.ts";
import type { ModelWeights } from "../model/weights.ts";
import { weightType } from "../quant/table.ts";
import type { QMatrix } from "../quant/types.ts";

/** Bytes of the llama2.c header: dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len. */
export const LLAMA2C_HEADER_BYTES = 28;

/** Largest value accepted for any header field; anything larger is not a llama2.c file. */
const MAX_FIELD = 1 << 24;

const FIELDS = [
  "dim",
  "hidden_dim",
  "n_layers",
  "n_heads",
  "n_kv_heads",
  "vocab_size",
  "seq_len",
] as const;

/**
 * Reads and validates the header of a llama2.c checkpoint, returning the
 * model config. Throws a {@linkcode FormatError} for a file too short for a
 * header or with impossible values; does not look at the file length.
 *
 * @example
 * ```ts
 * import { readLlama2cConfig } from "@proj/tinyllm/io";
 * const h = new Int32Array([64, 172, 5, 8, 4, 512, 512]);
 * console.log(readLlama2cConfig(new Uint8Array(h.buffer)).nKvHeads); // 4
 * ```
 */
export function readLlama2cConfig(
  bytes: Uint8Array,
  name = "checkpoint",
): ModelConfig {
  if (bytes.length < LLAMA2C_HEADER_BYTES) {
    throw new FormatError(
      `${name}: file is ${bytes.length} bytes, a llama2.c header needs ${LLAMA2C_HEADER_BYTES}`,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, LLAMA2C_HEADER_BYTES);
  const h = FIELDS.map((_, i) => dv.getInt32(i * 4, true));
  for (let i = 0; i < FIELDS.length; i++) {
    const v = i === 5 ? Math.abs(h[i]) : h[i];
    if (v <= 0 || v > MAX_FIELD) {
      throw new FormatError(
        `${name}: header field ${FIELDS[i]} = ${
          h[i]
        } is out of range (not a llama2.c checkpoint?)`,
      );
    }
  }
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocab, seqLen] = h;
  if (dim % nHeads !== 0 || nHeads % nKvHeads !== 0 || (dim / nHeads) % 2) {
    throw new FormatError(
      `${name}: header dim ${dim}, n_heads ${nHeads}, n_kv_heads ${nKvHeads} are inconsistent (need n_heads | dim, n_kv_heads | n_heads, even head size)`,
    );
  }
  return makeConfig({
    dim,
    hiddenDim,
    nLayers,
    nHeads,
    nKvHeads,
    vocabSize: Math.abs(vocab),
    seqLen,
    sharedClassifier: vocab > 0,
  });
}

/** The tensor kinds a llama2.c checkpoint holds, in file order. */
const LLAMA2C_KINDS: readonly TensorSpec[] = TENSORS
  .filter((t) => t.llama2c !== null)
  .sort((a, b) => a.llama2c! - b.llama2c!);

/**
 * The tensors of `config` grouped by kind in llama2.c's file order (every
 * block's tensor of a kind together); the unused legacy freq_cis tables sit
 * right before the classifier's place.
 */
function llama2cLayout(
  config: ModelConfig,
): { kind: TensorSpec; tensors: ModelTensor[] }[] {
  const all = modelTensors(config);
  return LLAMA2C_KINDS.map((kind) => ({
    kind,
    tensors: all.filter((t) => t.spec === kind),
  }));
}

/** Floats of the legacy freq_cis_real and freq_cis_imag tables. */
function freqCisFloats(c: ModelConfig): number {
  return c.seqLen * headSize(c);
}

/**
 * Exact byte size of a llama2.c checkpoint with this config (header, weights,
 * the legacy unused freq_cis tables, and the classifier if unshared).
 *
 * @example
 * ```ts
 * import { makeConfig } from "@proj/tinyllm";
 * import { llama2cFileSize } from "@proj/tinyllm/io";
 * console.log(llama2cFileSize(makeConfig({ dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKvHeads: 4, vocabSize: 512, seqLen: 512 }))); // 1056540
 * ```
 */
export function llama2cFileSize(c: ModelConfig): number {
  return LLAMA2C_HEADER_BYTES + 4 * floatCount(c);
}

function floatCount(c: ModelConfig): number {
  let n = freqCisFloats(c);
  for (const { tensors } of llama2cLayout(c)) {
    for (const t of tensors) n += t.size;
  }
  return n;
}

/**
 * Parses a llama2.c legacy checkpoint into fp32 {@linkcode ModelWeights}. The
 * tensors are views into `bytes` when it is 4-byte aligned (else copied once).
 * Throws a {@linkcode FormatError} when the header is absurd or the file size
 * disagrees with it.
 *
 * @example
 * ```ts
 * import { makeConfig, randomModelWeights } from "@proj/tinyllm";
 * import { encodeLlama2cCheckpoint, parseLlama2cCheckpoint } from "@proj/tinyllm/io";
 * const w = randomModelWeights(makeConfig({ dim: 16, hiddenDim: 32, nLayers: 1, nHeads: 2, nKvHeads: 1, vocabSize: 10, seqLen: 8 }), 1);
 * const back = parseLlama2cCheckpoint(encodeLlama2cCheckpoint(w));
 * console.log(back.config.nKvHeads); // 1
 * ```
 */
export function parseLlama2cCheckpoint(
  bytes: Uint8Array,
  name = "checkpoint",
): ModelWeights {
  const config = readLlama2cConfig(bytes, name);
  const expected = llama2cFileSize(config);
  if (bytes.length !== expected) {
    throw new FormatError(
      `${name}: header (dim ${config.dim}, hidden ${config.hiddenDim}, ${config.nLayers} layers, vocab ${config.vocabSize}, seq_len ${config.seqLen}) needs ${expected} bytes, file is ${bytes.length}`,
    );
  }
  const n = (bytes.length - LLAMA2C_HEADER_BYTES) / 4;
  const floats = (bytes.byteOffset + LLAMA2C_HEADER_BYTES) % 4 === 0
    ? new Float32Array(
      bytes.buffer,
      bytes.byteOffset + LLAMA2C_HEADER_BYTES,
      n,
    )
    : new Float32Array(bytes.slice(LLAMA2C_HEADER_BYTES).buffer);
  const values = new Map<string, Float32Array>();
  let off = 0;
  for (const { kind, tensors } of llama2cLayout(config)) {
    // freq_cis_real + freq_cis_imag: unused, RoPE is computed
    if (kind.field === "classifier") off += freqCisFloats(config);
    for (const t of tensors) {
      values.set(t.name, floats.subarray(off, off + t.size));
      off += t.size;
    }
  }
  return assembleWeights(config, (t) => {
    const v = values.get(t.name)!;
    return isMatrix(t.spec) ? fp32Matrix(v, t.shape[0], t.shape[1]) : v;
  });
}

function toF32(v: Float32Array | QMatrix): Float32Array {
  if (v instanceof Float32Array) return v;
  return v.type === "fp32"
    ? v.data as Float32Array
    : weightType(v.type).dequantize(v);
}

/**
 * Writes weights as a llama2.c legacy checkpoint (quantized matrices are
 * dequantized to fp32; the legacy freq_cis tables are filled as llama2.c's
 * exporter did). Learned positions cannot be expressed in this format.
 *
 * @example
 * ```ts
 * import { makeConfig, randomModelWeights } from "@proj/tinyllm";
 * import { encodeLlama2cCheckpoint, llama2cFileSize } from "@proj/tinyllm/io";
 * const cfg = makeConfig({ dim: 16, hiddenDim: 32, nLayers: 1, nHeads: 2, vocabSize: 10, seqLen: 8, sharedClassifier: false });
 * const bytes = encodeLlama2cCheckpoint(randomModelWeights(cfg, 7));
 * console.log(bytes.length === llama2cFileSize(cfg)); // true
 * ```
 */
export function encodeLlama2cCheckpoint(
  weights: ModelWeights,
): Uint8Array<ArrayBuffer> {
  const c = weights.config;
  if (c.positional !== "rope") {
    throw new FormatError(
      "llama2.c checkpoints only hold RoPE models, this one has learned positions",
    );
  }
  const held = modelTensors(c).find((t) => t.spec.llama2c === null);
  if (held || c.ropeStyle !== "interleaved" || c.ropeDim !== headSize(c)) {
    throw new FormatError(
      `llama2.c checkpoints hold plain llama models: this one has ${
        held ? held.name : `${c.ropeStyle} RoPE over ${c.ropeDim} dims`
      }`,
    );
  }
  const out = new Uint8Array(llama2cFileSize(c));
  const dv = new DataView(out.buffer);
  const head = [
    c.dim,
    c.hiddenDim,
    c.nLayers,
    c.nHeads,
    c.nKvHeads,
    c.sharedClassifier ? c.vocabSize : -c.vocabSize,
    c.seqLen,
  ];
  head.forEach((v, i) => dv.setInt32(i * 4, v, true));
  const f = new Float32Array(out.buffer, LLAMA2C_HEADER_BYTES);
  let off = 0;
  for (const { kind, tensors } of llama2cLayout(c)) {
    if (kind.field === "classifier") {
      // freq_cis_real then freq_cis_imag, [seqLen, headSize/2] each (as export.py).
      const hs = headSize(c), half = hs / 2;
      for (const fn of [Math.cos, Math.sin]) {
        for (let p = 0; p < c.seqLen; p++) {
          for (let i = 0; i < half; i++) {
            f[off++] = fn(p / Math.pow(c.ropeTheta, (2 * i) / hs));
          }
        }
      }
    }
    for (const t of tensors) {
      f.set(toF32(tensorValue(weights, t)!), off);
      off += t.size;
    }
  }
  return out;
}
