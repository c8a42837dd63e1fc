/**
 * llama2.c "version 2" checkpoints: the int8 (Q8_0) format that llama2.c's
 * `export.py --version 2` writes and its `runq.c` reads. A 256-byte header
 * (magic `ak42`, version 2, the 7 config ints, a shared-classifier byte, the
 * group size), the RMSNorm gains in fp32, then every matrix as int8 codes
 * followed by one fp32 scale per group of GS consecutive weights.
 *
 * @module
 */
import { ConfigError, FormatError } from "../errors.ts";
import { headSize, kvDim, type ModelConfig } from "../model/config.ts";
import { linearOf } from "../model/build.ts";
import type { LayerWeights, ModelWeights } from "../model/weights.ts";
import { weightType } from "../quant/table.ts";
import type { QMatrix } from "../quant/types.ts";
import { readLlama2cConfig } from "./llama2c.ts";

/** `"ak42"` read as a little-endian uint32: the first four bytes of the file. */
export const LLAMA2C_Q80_MAGIC = 0x616b3432;
/** Bytes of the version-2 header (zero-padded). */
export const LLAMA2C_Q80_HEADER_BYTES = 256;

/** Magnitude above which a stored scale or gain is damage, not a weight. */
const MAX_ABS_VALUE = 1e6;
const SHARED_OFFSET = 36;
const GROUP_OFFSET = 37;

/** Whether `bytes` start with the version-2 magic and version. */
export function isLlama2cQ80(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, 8);
  return dv.getUint32(0, true) === LLAMA2C_Q80_MAGIC &&
    dv.getInt32(4, true) === 2;
}

/**
 * The group size a version-2 file of this shape can use: the largest power
 * of two no larger than `requested` that divides both `dim` and `hiddenDim`.
 * runq.c's product walks each row's inputs in whole groups, so a group that
 * does not divide a matrix's input size would silently drop its tail
 * (llama2.c's exporter only checks `dim`).
 *
 * @example
 * ```ts
 * import { llama2cQ80GroupSize } from "@proj/tinyllm/io";
 * const c = { dim: 64, hiddenDim: 172 };
 * console.log(llama2cQ80GroupSize(c as never, 64)); // 4
 * ```
 */
export function llama2cQ80GroupSize(
  config: Pick<ModelConfig, "dim" | "hiddenDim">,
  requested = 64,
): number {
  if (!Number.isInteger(requested) || requested < 1) {
    throw new ConfigError(
      `llama2.c Q8_0 group size must be a positive integer, got ${requested}`,
    );
  }
  let gs = 1;
  while (gs * 2 <= requested) gs *= 2;
  while (config.dim % gs !== 0 || config.hiddenDim % gs !== 0) gs /= 2;
  return gs;
}

function matrixShapes(c: ModelConfig): [string, number, number, number][] {
  // [name, count, rows, cols] in file order (export.py's version2_export)
  const kv = kvDim(c);
  const shapes: [string, number, number, number][] = [
    ["tok_embeddings", 1, c.vocabSize, c.dim],
    ["wq", c.nLayers, c.dim, c.dim],
    ["wk", c.nLayers, kv, c.dim],
    ["wv", c.nLayers, kv, c.dim],
    ["wo", c.nLayers, c.dim, c.dim],
    ["w1", c.nLayers, c.hiddenDim, c.dim],
    ["w2", c.nLayers, c.dim, c.hiddenDim],
    ["w3", c.nLayers, c.hiddenDim, c.dim],
  ];
  if (!c.sharedClassifier) shapes.push(["output", 1, c.vocabSize, c.dim]);
  return shapes;
}

/**
 * Exact byte size of a version-2 checkpoint of this shape and group size.
 *
 * @example
 * ```ts
 * import { makeConfig } from "@proj/tinyllm";
 * import { llama2cQ80FileSize } from "@proj/tinyllm/io";
 * const c = makeConfig({ dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8,
 *   nKvHeads: 4, vocabSize: 512, seqLen: 512 });
 * console.log(llama2cQ80FileSize(c, 4)); // 521728
 * ```
 */
export function llama2cQ80FileSize(c: ModelConfig, groupSize: number): number {
  let n = LLAMA2C_Q80_HEADER_BYTES + 4 * (2 * c.nLayers * c.dim + c.dim);
  for (const [, count, rows, cols] of matrixShapes(c)) {
    n += count * (rows * cols + 4 * (rows * cols / groupSize));
  }
  return n;
}

// torch.round, which export.py uses: halves go to the even neighbour.
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** export.py's quantize_q80 on one flat float32 tensor. */
function quantizeQ80(
  w: Float32Array,
  gs: number,
): { q: Int8Array; s: Float32Array } {
  const groups = w.length / gs;
  const q = new Int8Array(w.length);
  const s = new Float32Array(groups);
  for (let g = 0; g < groups; g++) {
    let max = 0;
    for (let i = g * gs; i < (g + 1) * gs; i++) {
      max = Math.max(max, Math.abs(w[i]));
    }
    const scale = Math.fround(max / 127);
    s[g] = scale;
    if (scale === 0) continue; // an all-zero group stays zero
    for (let i = g * gs; i < (g + 1) * gs; i++) {
      const v = roundHalfEven(Math.fround(w[i] / scale));
      q[i] = Math.max(-127, Math.min(127, v));
    }
  }
  return { q, s };
}

function toF32(q: QMatrix): Float32Array {
  return q.type === "fp32"
    ? q.data as Float32Array
    : weightType(q.type).dequantize(q);
}

/**
 * Writes weights as a llama2.c version-2 (Q8_0) checkpoint, quantized exactly
 * as llama2.c's `export.py --version 2` does (symmetric int8 in [-127, 127],
 * scale = group absmax / 127, round half to even); quantized inputs are
 * dequantized first. The group size is {@linkcode llama2cQ80GroupSize} of
 * `groupSize`. Only RoPE models with llama2.c's fixed `normEps` 1e-5 and
 * `ropeTheta` 10000 can be expressed.
 *
 * @example
 * ```ts
 * import { makeConfig, randomModelWeights } from "@proj/tinyllm";
 * import { encodeLlama2cQ80, parseLlama2cQ80 } from "@proj/tinyllm/io";
 * const w = randomModelWeights(makeConfig({ dim: 16, hiddenDim: 32, nLayers: 1,
 *   nHeads: 2, nKvHeads: 1, vocabSize: 10, seqLen: 8 }), 1);
 * const back = parseLlama2cQ80(encodeLlama2cQ80(w, 8));
 * console.log(back.layers[0].wq.weight.type, back.layers[0].wq.weight.granularity); // int8 8
 * ```
 */
export function encodeLlama2cQ80(
  weights: ModelWeights,
  groupSize = 64,
): Uint8Array<ArrayBuffer> {
  const c = weights.config;
  if (c.positional !== "rope") {
    throw new ConfigError(
      "llama2.c checkpoints only hold RoPE models, this one has learned positions",
    );
  }
  if (
    c.qkvBias || c.ropeStyle !== "interleaved" || c.ropeDim !== headSize(c)
  ) {
    throw new ConfigError(
      `llama2.c checkpoints hold plain llama models: this one has ${
        c.qkvBias
          ? "q/k/v biases"
          : `${c.ropeStyle} RoPE over ${c.ropeDim} dims`
      }`,
    );
  }
  if (c.normEps !== 1e-5 || c.ropeTheta !== 10000) {
    throw new ConfigError(
      `llama2.c's runq.c fixes normEps 1e-5 and ropeTheta 10000; this model has ${c.normEps} and ${c.ropeTheta}`,
    );
  }
  const gs = llama2cQ80GroupSize(c, groupSize);
  const out = new Uint8Array(llama2cQ80FileSize(c, gs));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, LLAMA2C_Q80_MAGIC, true);
  dv.setInt32(4, 2, true);
  [c.dim, c.hiddenDim, c.nLayers, c.nHeads, c.nKvHeads, c.vocabSize, c.seqLen]
    .forEach((v, i) => dv.setInt32(8 + 4 * i, v, true));
  out[SHARED_OFFSET] = c.sharedClassifier ? 1 : 0;
  dv.setInt32(GROUP_OFFSET, gs, true);
  let off = LLAMA2C_Q80_HEADER_BYTES;
  const putF32 = (a: Float32Array) => {
    for (let i = 0; i < a.length; i++) dv.setFloat32(off + 4 * i, a[i], true);
    off += 4 * a.length;
  };
  for (const l of weights.layers) putF32(l.rmsAtt);
  for (const l of weights.layers) putF32(l.rmsFfn);
  putF32(weights.rmsFinal);
  const putQ = (m: QMatrix) => {
    const { q, s } = quantizeQ80(toF32(m), gs);
    out.set(new Uint8Array(q.buffer), off);
    off += q.length;
    putF32(s);
  };
  putQ(weights.tokenEmbedding);
  const ls = weights.layers;
  for (const name of ["wq", "wk", "wv", "wo", "w1", "w2", "w3"] as const) {
    for (const l of ls) putQ(l[name].weight);
  }
  if (!c.sharedClassifier) putQ(weights.classifier.weight);
  return out;
}

/**
 * Parses a llama2.c version-2 (Q8_0) checkpoint into int8 weights grouped
 * as in the file (the embedding too; a shared classifier is the same
 * matrix). Throws a {@linkcode FormatError} naming the field for a bad magic,
 * version, header, group size or file size, and naming the tensor for a
 * non-finite or absurd scale or gain.
 *
 * @example
 * ```ts
 * import { makeConfig, randomModelWeights } from "@proj/tinyllm";
 * import { encodeLlama2cQ80, parseLlama2cQ80 } from "@proj/tinyllm/io";
 * const w = randomModelWeights(makeConfig({ dim: 16, hiddenDim: 32, nLayers: 1,
 *   nHeads: 2, nKvHeads: 1, vocabSize: 10, seqLen: 8, sharedClassifier: false }), 1);
 * const back = parseLlama2cQ80(encodeLlama2cQ80(w));
 * console.log(back.config.sharedClassifier, back.classifier.weight.type); // false int8
 * ```
 */
export function parseLlama2cQ80(
  bytes: Uint8Array,
  name = "checkpoint",
): ModelWeights {
  if (bytes.length < LLAMA2C_Q80_HEADER_BYTES) {
    throw new FormatError(
      `${name}: file is ${bytes.length} bytes, a llama2.c version 2 header needs ${LLAMA2C_Q80_HEADER_BYTES}`,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== LLAMA2C_Q80_MAGIC) {
    throw new FormatError(
      `${name}: magic is not "ak42" (not a llama2.c version 2 checkpoint)`,
    );
  }
  const version = dv.getInt32(4, true);
  if (version !== 2) {
    throw new FormatError(`${name}: header version = ${version}, expected 2`);
  }
  const base = readLlama2cConfig(bytes.subarray(8), name);
  const sharedByte = bytes[SHARED_OFFSET];
  if (sharedByte > 1) {
    throw new FormatError(
      `${name}: header shared_classifier = ${sharedByte}, expected 0 or 1`,
    );
  }
  const config: ModelConfig = { ...base, sharedClassifier: sharedByte === 1 };
  const gs = dv.getInt32(GROUP_OFFSET, true);
  if (
    gs < 1 || config.dim % gs !== 0 || config.hiddenDim % gs !== 0
  ) {
    throw new FormatError(
      `${name}: header group_size = ${gs} does not divide dim ${config.dim} and hidden_dim ${config.hiddenDim}`,
    );
  }
  const expected = llama2cQ80FileSize(config, gs);
  if (bytes.length !== expected) {
    throw new FormatError(
      `${name}: header (dim ${config.dim}, hidden ${config.hiddenDim}, ${config.nLayers} layers, vocab ${config.vocabSize}, group ${gs}) needs ${expected} bytes, file is ${bytes.length}`,
    );
  }
  let off = LLAMA2C_Q80_HEADER_BYTES;
  const takeF32 = (count: number, what: string): Float32Array => {
    const a = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const v = dv.getFloat32(off + 4 * i, true);
      if (!Number.isFinite(v) || Math.abs(v) > MAX_ABS_VALUE) {
        throw new FormatError(
          `${name}: ${what}[${i}] = ${v} is not a usable weight`,
        );
      }
      a[i] = v;
    }
    off += 4 * count;
    return a;
  };
  const { dim, nLayers: L } = config;
  const rmsAtt = takeF32(L * dim, "rms_att");
  const rmsFfn = takeF32(L * dim, "rms_ffn");
  const rmsFinal = takeF32(dim, "rms_final");
  const int8 = weightType("int8");
  const takeQ = (rows: number, cols: number, what: string): QMatrix => {
    const data = bytes.slice(off, off + rows * cols);
    off += rows * cols;
    const scales = takeF32(rows * cols / gs, `${what} scales`);
    return int8.fromParts(rows, cols, gs, data, scales);
  };
  const matrices = new Map<string, QMatrix[]>();
  for (const [what, count, rows, cols] of matrixShapes(config)) {
    const list: QMatrix[] = [];
    for (let l = 0; l < count; l++) {
      list.push(takeQ(rows, cols, count > 1 ? `layers.${l}.${what}` : what));
    }
    matrices.set(what, list);
  }
  const get = (what: string, l = 0) => matrices.get(what)![l];
  const layers: LayerWeights[] = [];
  for (let l = 0; l < L; l++) {
    layers.push({
      rmsAtt: rmsAtt.subarray(l * dim, (l + 1) * dim),
      wq: linearOf(get("wq", l)),
      wk: linearOf(get("wk", l)),
      wv: linearOf(get("wv", l)),
      bq: null,
      bk: null,
      bv: null,
      wo: linearOf(get("wo", l)),
      rmsFfn: rmsFfn.subarray(l * dim, (l + 1) * dim),
      w1: linearOf(get("w1", l)),
      w2: linearOf(get("w2", l)),
      w3: linearOf(get("w3", l)),
    });
  }
  const tokenEmbedding = get("tok_embeddings");
  return {
    config,
    tokenEmbedding,
    positionEmbedding: null,
    layers,
    rmsFinal,
    classifier: linearOf(
      config.sharedClassifier ? tokenEmbedding : get("output"),
    ),
  };
}
