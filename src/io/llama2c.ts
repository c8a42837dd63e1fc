/**
 * llama2.c legacy ("version 0") checkpoints: a 7 × int32 header followed by
 * fp32 tensors, read and written exactly as llama2.c's `run.c` and `export.py`
 * lay them out.
 *
 * @module
 */
import { FormatError } from "../errors.ts";
import { headSize, kvDim, type ModelConfig } from "../model/config.ts";
import { fp32Matrix, linearOf } from "../model/model.ts";
import { weightType } from "../quant/table.ts";
import type { LayerWeights, ModelWeights } from "../model/weights.ts";
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
 * import { readLlama2cConfig } from "@proj/tinyllm";
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
  return {
    dim,
    hiddenDim,
    nLayers,
    nHeads,
    nKvHeads,
    vocabSize: Math.abs(vocab),
    seqLen,
    positional: "rope",
    sharedClassifier: vocab > 0,
    normEps: 1e-5,
    ropeTheta: 10000,
  };
}

/**
 * Exact byte size of a llama2.c checkpoint with this config (header, weights,
 * the legacy unused freq_cis tables, and the classifier if unshared).
 *
 * @example
 * ```ts
 * import { llama2cFileSize } from "@proj/tinyllm";
 * console.log(llama2cFileSize({ dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8,
 *   nKvHeads: 4, vocabSize: 512, seqLen: 512, positional: "rope",
 *   sharedClassifier: true, normEps: 1e-5, ropeTheta: 10000 })); // 1056540
 * ```
 */
export function llama2cFileSize(c: ModelConfig): number {
  return LLAMA2C_HEADER_BYTES + 4 * floatCount(c);
}

function floatCount(c: ModelConfig): number {
  const kv = kvDim(c);
  const perLayer = 2 * c.dim + 2 * c.dim * c.dim + 2 * kv * c.dim +
    3 * c.hiddenDim * c.dim;
  return c.vocabSize * c.dim + c.nLayers * perLayer + c.dim +
    c.seqLen * headSize(c) +
    (c.sharedClassifier ? 0 : c.vocabSize * c.dim);
}

/**
 * Parses a llama2.c legacy checkpoint into fp32 {@linkcode ModelWeights}. The
 * tensors are views into `bytes` when it is 4-byte aligned (else copied once).
 * Throws a {@linkcode FormatError} when the header is absurd or the file size
 * disagrees with it.
 *
 * @example
 * ```ts
 * import { parseLlama2cCheckpoint, encodeLlama2cCheckpoint, randomModelWeights } from "@proj/tinyllm";
 * const w = randomModelWeights({ dim: 16, hiddenDim: 32, nLayers: 1, nHeads: 2,
 *   nKvHeads: 1, vocabSize: 10, seqLen: 8, positional: "rope", sharedClassifier: true,
 *   normEps: 1e-5, ropeTheta: 10000 }, 1);
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
  let off = 0;
  const take = (count: number): Float32Array => {
    const v = floats.subarray(off, off + count);
    off += count;
    return v;
  };
  const { dim, hiddenDim, nLayers, vocabSize } = config;
  const kv = kvDim(config);
  const L = nLayers;
  const emb = take(vocabSize * dim);
  const rmsAtt = take(L * dim);
  const wq = take(L * dim * dim);
  const wk = take(L * kv * dim);
  const wv = take(L * kv * dim);
  const wo = take(L * dim * dim);
  const rmsFfn = take(L * dim);
  const w1 = take(L * hiddenDim * dim);
  const w2 = take(L * dim * hiddenDim);
  const w3 = take(L * hiddenDim * dim);
  const rmsFinal = take(dim);
  take(config.seqLen * headSize(config)); // freq_cis_real + freq_cis_imag: unused, RoPE is computed
  const wcls = config.sharedClassifier ? null : take(vocabSize * dim);
  const slice = (a: Float32Array, l: number, size: number) =>
    a.subarray(l * size, (l + 1) * size);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < L; l++) {
    layers.push({
      rmsAtt: slice(rmsAtt, l, dim),
      wq: linearOf(fp32Matrix(slice(wq, l, dim * dim), dim, dim)),
      wk: linearOf(fp32Matrix(slice(wk, l, kv * dim), kv, dim)),
      wv: linearOf(fp32Matrix(slice(wv, l, kv * dim), kv, dim)),
      wo: linearOf(fp32Matrix(slice(wo, l, dim * dim), dim, dim)),
      rmsFfn: slice(rmsFfn, l, dim),
      w1: linearOf(fp32Matrix(slice(w1, l, hiddenDim * dim), hiddenDim, dim)),
      w2: linearOf(fp32Matrix(slice(w2, l, dim * hiddenDim), dim, hiddenDim)),
      w3: linearOf(fp32Matrix(slice(w3, l, hiddenDim * dim), hiddenDim, dim)),
    });
  }
  const tokenEmbedding = fp32Matrix(emb, vocabSize, dim);
  return {
    config,
    tokenEmbedding,
    positionEmbedding: null,
    layers,
    rmsFinal,
    classifier: linearOf(
      wcls ? fp32Matrix(wcls, vocabSize, dim) : tokenEmbedding,
    ),
  };
}

function toF32(q: QMatrix): Float32Array {
  return q.type === "fp32"
    ? q.data as Float32Array
    : weightType(q.type).dequantize(q);
}

/**
 * Writes weights as a llama2.c legacy checkpoint (quantized matrices are
 * dequantized to fp32; the legacy freq_cis tables are filled as llama2.c's
 * exporter did). Learned positions cannot be expressed in this format.
 *
 * @example
 * ```ts
 * import { encodeLlama2cCheckpoint, randomModelWeights, llama2cFileSize } from "@proj/tinyllm";
 * const cfg = { dim: 16, hiddenDim: 32, nLayers: 1, nHeads: 2, nKvHeads: 2,
 *   vocabSize: 10, seqLen: 8, positional: "rope" as const,
 *   sharedClassifier: false, normEps: 1e-5, ropeTheta: 10000 };
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
  const put = (a: Float32Array) => {
    f.set(a, off);
    off += a.length;
  };
  put(toF32(weights.tokenEmbedding));
  const ls = weights.layers;
  for (const l of ls) put(l.rmsAtt);
  for (const l of ls) put(toF32(l.wq.weight));
  for (const l of ls) put(toF32(l.wk.weight));
  for (const l of ls) put(toF32(l.wv.weight));
  for (const l of ls) put(toF32(l.wo.weight));
  for (const l of ls) put(l.rmsFfn);
  for (const l of ls) put(toF32(l.w1.weight));
  for (const l of ls) put(toF32(l.w2.weight));
  for (const l of ls) put(toF32(l.w3.weight));
  put(weights.rmsFinal);
  // freq_cis_real then freq_cis_imag, [seqLen, headSize/2] each (as export.py).
  const hs = headSize(c), half = hs / 2;
  for (const fn of [Math.cos, Math.sin]) {
    for (let p = 0; p < c.seqLen; p++) {
      for (let i = 0; i < half; i++) {
        f[off++] = fn(p / Math.pow(c.ropeTheta, (2 * i) / hs));
      }
    }
  }
  if (!c.sharedClassifier) put(toF32(weights.classifier.weight));
  return out;
}
