/**
 * The model archive: a gzip'd tar (GNU `tar xzf` reads it) of
 *
 * - `config.json` — the {@linkcode ModelConfig} plus `format_version`
 *   (fields added after version 1 — `qkvBias`, `ropeStyle`, `ropeDim` — are
 *   written only when they differ from their defaults, so older models keep
 *   their bytes, and default when absent);
 * - `tokenizer.json` — the tokenizer's JSON form (`kind` + data);
 * - `model.safetensors` — the weights (standard safetensors; quantized
 *   matrices as payload + `<name>.scales`, see `safetensors.ts`);
 * - `training.json` — whatever the trainer recorded (hyper-parameters,
 *   losses, tokens/s; `{}` when unknown);
 * - `optimizer.safetensors` (optional) — AdamW state for `--resume`: flat F32
 *   tensors `m` and `v` in the training parameter layout, metadata `step`.
 *
 * Weight tensor names are the `archive` column of the tensor table
 * (`src/model/tensors.ts`, llama-style): `tok_embeddings` [vocab, dim] ·
 * `pos_embeddings` [seqLen, dim] (learned positions only) ·
 * `layers.{i}.attention_norm` [dim] · `layers.{i}.wq` [dim, dim] ·
 * `layers.{i}.wk` / `wv` [kvDim, dim] · `layers.{i}.bq` [dim] / `bk` / `bv`
 * [kvDim] (Q/K/V biases only) · `layers.{i}.wo` [dim, dim] ·
 * `layers.{i}.ffn_norm` [dim] · `layers.{i}.w1` / `w3` [hidden, dim] ·
 * `layers.{i}.w2` [dim, hidden] · `norm` [dim] · `output` [vocab, dim]
 * (absent when the classifier is the embedding matrix).
 *
 * Members are sorted and stamped with a fixed time, owner 0 and mode 644, so
 * the same model gives the same bytes. Core module: bytes in, bytes out; it
 * runs in browsers (tar via nanotar, gzip via CompressionStream).
 *
 * @module
 */
import { createTar } from "nanotar";
import { bytesOf } from "../bytes.ts";
import { ConfigError, FormatError, ShapeError } from "../errors.ts";
import { assembleWeights, linearOf } from "../model/build.ts";
import {
  headSize,
  makeConfig,
  type ModelConfig,
  validateConfig,
} from "../model/config.ts";
import {
  forEachTensor,
  isMatrix,
  parameterCount,
  tensorValue,
} from "../model/tensors.ts";
import type { ModelWeights } from "../model/weights.ts";
import type { QMatrix } from "../quant/types.ts";
import { tokenizerFromJSON } from "../tokenizer/json.ts";
import type { Tokenizer } from "../tokenizer/types.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  qmatrixFromTensors,
  qmatrixTensors,
  type SafetensorsFile,
  tensorF32,
  type TensorInput,
} from "./safetensors.ts";

/** Archive format version written to `config.json` and the safetensors metadata. */
export const ARCHIVE_FORMAT_VERSION = 1;

/** Fixed member time (2000-01-01T00:00:00Z), for reproducible archives. */
const MTIME_MS = 946_684_800_000;

/** AdamW state saved for `--resume`. */
export interface OptimizerState {
  /** Optimizer steps completed. */
  step: number;
  /** First moments, flat, in the training parameter layout. */
  m: Float32Array;
  /** Second moments, same layout. */
  v: Float32Array;
  /** Extra string metadata to keep with the state. */
  metadata?: Record<string, string>;
}

/** What {@linkcode saveModelArchive} writes. */
export interface ModelArchiveInput {
  /** The model shape (default: `weights.config`). */
  config?: ModelConfig;
  /** The weights (any weight types). */
  weights: ModelWeights;
  /** The tokenizer. */
  tokenizer: Tokenizer;
  /** Anything JSON-serialisable describing the run (written as training.json). */
  training?: unknown;
  /** AdamW state, to resume training. */
  optimizer?: OptimizerState;
}

/** What {@linkcode loadModelArchive} returns. */
export interface ModelArchive {
  /** The model shape. */
  config: ModelConfig;
  /** The weights (TypeScript kernels; see `bindKernels`). */
  weights: ModelWeights;
  /** The tokenizer. */
  tokenizer: Tokenizer;
  /** The parsed `training.json`. */
  training: Record<string, unknown>;
  /** The AdamW state, when the archive has one. */
  optimizer?: OptimizerState;
}

/** Options of {@linkcode loadModelArchive}. */
export interface LoadArchiveOptions {
  /** Archive name for error messages (default "archive"). */
  name?: string;
}

/**
 * gzip-compresses bytes with the built-in CompressionStream.
 *
 * @example
 * ```ts
 * import { gunzipBytes, gzipBytes } from "@proj/tinyllm/io";
 * const z = await gzipBytes(new TextEncoder().encode("hello hello hello"));
 * console.log(new TextDecoder().decode(await gunzipBytes(z))); // "hello hello hello"
 * ```
 */
export async function gzipBytes(
  bytes: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Slices of `bytes`, handed out on demand (so the inflater, which expands
 * each input chunk whole, never runs far ahead of the reader).
 */
function sliced(bytes: Uint8Array): ReadableStream<Uint8Array<ArrayBuffer>> {
  let at = 0;
  return new ReadableStream<Uint8Array<ArrayBuffer>>({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.slice(at, at + INFLATE_SLICE));
      at += INFLATE_SLICE;
    },
  }, { highWaterMark: 0 });
}

/**
 * gunzips bytes with the built-in DecompressionStream, stopping with a
 * {@linkcode FormatError} once the output passes `maxBytes` (default: 256
 * times the input plus 64 MiB), so a small "gzip bomb" never fills memory.
 * @throws {FormatError} when the bytes are not complete gzip data, or inflate too far
 *
 * @example
 * ```ts
 * import { gunzipBytes } from "@proj/tinyllm/io";
 * try { await gunzipBytes(new Uint8Array([1, 2, 3])); } catch (e) { console.log((e as Error).name); } // FormatError
 * ```
 */
export async function gunzipBytes(
  bytes: Uint8Array,
  name = "archive",
  maxBytes: number = MAX_INFLATION * bytes.length + INFLATION_ALLOWANCE,
): Promise<Uint8Array<ArrayBuffer>> {
  const reader = sliced(bytes).pipeThrough(new DecompressionStream("gzip"))
    .getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      total += r.value.length;
      if (total > maxBytes) {
        throw new FormatError(
          `${name}: inflates to more than ${maxBytes} bytes (a gzip bomb?)`,
        );
      }
      chunks.push(r.value);
    }
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError(
      `${name}: not a complete gzip file (${
        (e as Error).message.split("\n")[0]
      })`,
    );
  } finally {
    await reader.cancel().catch(() => {});
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

function sameMatrix(a: QMatrix, b: QMatrix): boolean {
  if (a === b) return true;
  if (
    a.type !== b.type || a.rows !== b.rows || a.cols !== b.cols ||
    a.granularity !== b.granularity
  ) return false;
  const eq = (x: Uint8Array, y: Uint8Array) =>
    x.length === y.length && x.every((v, i) => v === y[i]);
  return eq(bytesOf(a.data), bytesOf(b.data)) &&
    eq(bytesOf(a.scales), bytesOf(b.scales));
}

/** The safetensors tensors and metadata for `weights` (see the module doc for names). */
export function weightsToTensors(
  weights: ModelWeights,
): { tensors: Record<string, TensorInput>; metadata: Record<string, string> } {
  const c = weights.config;
  const tensors: Record<string, TensorInput> = {};
  const metadata: Record<string, string> = {
    format: "tinyllm",
    format_version: String(ARCHIVE_FORMAT_VERSION),
  };
  const mat = (name: string, m: QMatrix) => {
    const t = qmatrixTensors(name, m);
    Object.assign(tensors, t.tensors);
    Object.assign(metadata, t.metadata);
  };
  forEachTensor(c, (t) => {
    const v = tensorValue(weights, t)!;
    if (v instanceof Float32Array) {
      tensors[t.archiveName] = { shape: t.shape, data: v };
    } else mat(t.archiveName, v);
  });
  // A shared classifier is written only if it differs from the embedding
  // (e.g. quantized separately by a policy); a copy of it (say, in a wasm
  // arena) is still the same matrix.
  if (
    c.sharedClassifier &&
    !sameMatrix(weights.classifier.weight, weights.tokenEmbedding)
  ) {
    mat("output", weights.classifier.weight);
  }
  return { tensors, metadata };
}

/**
 * Rebuilds {@linkcode ModelWeights} of `config` from a decoded
 * `model.safetensors`, checking every tensor's presence, dtype and shape, and
 * rejecting tensors the config does not have.
 *
 * @throws {FormatError} on a missing/unexpected tensor or wrong dtype
 * @throws {ShapeError} on a shape that disagrees with the config
 */
export function weightsFromTensors(
  file: SafetensorsFile,
  config: ModelConfig,
  name = "model.safetensors",
): ModelWeights {
  const used = new Set<string>();
  const mat = (n: string, rows: number, cols: number): QMatrix => {
    used.add(n);
    used.add(`${n}.scales`);
    return qmatrixFromTensors(file, n, rows, cols, name);
  };
  let weights = assembleWeights(config, (t) => {
    const n = t.archiveName;
    if (isMatrix(t.spec)) return mat(n, t.shape[0], t.shape[1]);
    used.add(n);
    const v = tensorF32(file, n, name);
    const got = file.tensors.get(n)!.shape;
    if (
      got.length !== t.shape.length || got.some((d, i) => d !== t.shape[i])
    ) {
      throw new ShapeError(
        `${name}: tensor "${n}" is [${got}], expected [${t.shape}]`,
      );
    }
    return v;
  });
  if (config.sharedClassifier && file.tensors.has("output")) {
    const m = mat("output", config.vocabSize, config.dim);
    weights = { ...weights, classifier: linearOf(m) };
  }
  for (const key of file.tensors.keys()) {
    if (!used.has(key)) {
      throw new FormatError(
        `${name}: unexpected tensor "${key}" (not part of a ${config.nLayers}-layer ${config.positional} model${
          config.qkvBias ? " with Q/K/V biases" : ""
        })`,
      );
    }
  }
  return weights;
}

const json = (v: unknown) =>
  new TextEncoder().encode(JSON.stringify(v, null, 2) + "\n");

/**
 * Writes a model archive (`.tar.gz` bytes). The same inputs always give the
 * same bytes.
 *
 * @throws {ShapeError} when the tokenizer is larger than the model's vocabulary
 *
 * @example Save, then load back
 * ```ts
 * import { loadModelArchive, makeConfig, type ModelConfig, randomModelWeights,
 *   saveModelArchive, WordTokenizer } from "@proj/tinyllm";
 * const tokenizer = WordTokenizer.fromWords(["a", "b"], { maxSize: 2 });
 * const config: ModelConfig = makeConfig({ dim: 8, hiddenDim: 16, nLayers: 1, nHeads: 2, vocabSize: tokenizer.vocabSize, seqLen: 8 });
 * const weights = randomModelWeights(config, 1);
 * const bytes = await saveModelArchive({ weights, tokenizer, training: { steps: 0 } });
 * const back = await loadModelArchive(bytes);
 * console.log(back.config.dim, back.training.steps); // 8 0
 * ```
 */
export async function saveModelArchive(
  input: ModelArchiveInput,
): Promise<Uint8Array<ArrayBuffer>> {
  const config = input.config ?? input.weights.config;
  validateConfig(config);
  if (input.tokenizer.vocabSize > config.vocabSize) {
    throw new ShapeError(
      `tokenizer.json: tokenizer has ${input.tokenizer.vocabSize} tokens, the model's vocabulary is ${config.vocabSize}`,
    );
  }
  const { tensors, metadata } = weightsToTensors(input.weights);
  const files: { name: string; data: Uint8Array }[] = [
    { name: "config.json", data: json(configJson(config)) },
    { name: "model.safetensors", data: encodeSafetensors(tensors, metadata) },
    { name: "tokenizer.json", data: json(input.tokenizer.toJSON()) },
    { name: "training.json", data: json(input.training ?? {}) },
  ];
  const opt = input.optimizer;
  if (opt) {
    if (opt.m.length !== opt.v.length) {
      throw new ShapeError(
        `optimizer.safetensors: m has ${opt.m.length} values, v has ${opt.v.length}`,
      );
    }
    files.push({
      name: "optimizer.safetensors",
      data: encodeSafetensors({
        m: { shape: [opt.m.length], data: opt.m },
        v: { shape: [opt.v.length], data: opt.v },
      }, {
        ...opt.metadata,
        format: "tinyllm-adamw",
        format_version: String(ARCHIVE_FORMAT_VERSION),
        step: String(opt.step),
      }),
    });
  }
  files.sort((a, b) => (a.name < b.name ? -1 : 1));
  const tar = createTar(files, {
    attrs: {
      mtime: MTIME_MS,
      uid: 0,
      gid: 0,
      mode: "644",
      user: "",
      group: "",
    },
  });
  return await gzipBytes(tar);
}

/** Largest `config.json` accepted. */
const MAX_CONFIG_BYTES = 1 << 20;
/** Largest `tokenizer.json` / `training.json` / other member accepted. */
const MAX_TEXT_MEMBER_BYTES = 256 << 20;
/** Largest safetensors member when no config.json came before it. */
const MAX_UNSIZED_TENSORS_BYTES = 2 ** 31;
/** Slack for safetensors headers, padding and alignment. */
const TENSORS_SLACK = 16 << 20;
/**
 * Model data compresses little (trained fp32 or int8/int4 weights: 1-1.3×),
 * so no member may inflate to more than this many times the whole file
 * (plus a fixed allowance): it bounds what a crafted config.json could
 * otherwise claim.
 */
const MAX_INFLATION = 256;
const INFLATION_ALLOWANCE = 64 << 20;
/** Compressed bytes handed to the inflater at a time (≤ ~16 MiB out). */
const INFLATE_SLICE = 16 << 10;
/** Zero blocks read after the end-of-archive marker before stopping. */
const TRAILING_BLOCKS = 32;

/**
 * An upper bound on the parameters a config.json describes (every matrix at
 * its largest: kv = dim, an unshared classifier, biases, positions), or null
 * when its fields are not plain positive integers.
 */
function paramBound(configJson: Uint8Array): number | null {
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(new TextDecoder().decode(configJson));
  } catch {
    return null;
  }
  const n = (k: string) => {
    const v = c?.[k];
    return typeof v === "number" && Number.isSafeInteger(v) && v > 0 ? v : null;
  };
  const [dim, hidden, layers, vocab, seq] = [
    "dim",
    "hiddenDim",
    "nLayers",
    "vocabSize",
    "seqLen",
  ].map(n);
  if (!dim || !hidden || !layers || !vocab || !seq) return null;
  const perLayer = 4 * dim * dim + 3 * dim * hidden + 5 * dim;
  return 2 * vocab * dim + seq * dim + layers * perLayer + dim;
}

/** The most bytes member `member` may declare (its tar header's size). */
function memberLimit(member: string, params: number | null): number {
  if (member === "config.json") return MAX_CONFIG_BYTES;
  // a weight needs at most 8 bytes (int8 with one fp32 scale per weight
  // is 5); the optimizer keeps two fp32 moments per parameter
  if (member === "model.safetensors") {
    return params === null
      ? MAX_UNSIZED_TENSORS_BYTES
      : 8 * params + TENSORS_SLACK;
  }
  if (member === "optimizer.safetensors") {
    return params === null
      ? MAX_UNSIZED_TENSORS_BYTES
      : 8 * params + TENSORS_SLACK;
  }
  return MAX_TEXT_MEMBER_BYTES;
}

function tarString(block: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && block[end] !== 0) end++;
  return new TextDecoder().decode(block.subarray(off, end));
}

function tarNumber(block: Uint8Array, off: number, len: number): number {
  const s = tarString(block, off, len).trim();
  if (!/^[0-7]*$/.test(s)) return NaN;
  return s === "" ? 0 : parseInt(s, 8);
}

/**
 * Inflates a gzip'd tar, reading it member by member: each member may be
 * only as large as its header says and as its kind allows (config.json a
 * megabyte; the weights what the config's shape can hold), and reading stops
 * at the end-of-archive marker. So a small file that inflates to gigabytes
 * (a "gzip bomb") is refused after reading a bounded amount, never held.
 * Returns the members by name.
 */
async function readTarGzBounded(
  bytes: Uint8Array,
  name: string,
): Promise<Map<string, Uint8Array>> {
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    reader = sliced(bytes).pipeThrough(new DecompressionStream("gzip"))
      .getReader();
  } catch (e) {
    throw new FormatError(
      `${name}: not a gzip file (${(e as Error).message.split("\n")[0]})`,
    );
  }
  // inflated bytes not yet consumed
  const pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let done = false;
  const fill = async (need: number) => {
    while (pendingBytes < need && !done) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        throw new FormatError(
          `${name}: not a complete gzip file (${
            (e as Error).message.split("\n")[0]
          })`,
        );
      }
      if (r.done) done = true;
      else {
        pending.push(r.value);
        pendingBytes += r.value.length;
      }
    }
  };
  const take = async (n: number): Promise<Uint8Array | null> => {
    await fill(n);
    if (pendingBytes < n) return null;
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const head = pending[0];
      const k = Math.min(head.length, n - o);
      out.set(head.subarray(0, k), o);
      o += k;
      if (k === head.length) pending.shift();
      else pending[0] = head.subarray(k);
    }
    pendingBytes -= n;
    return out;
  };
  const members = new Map<string, Uint8Array>();
  let params: number | null = null;
  let longName: string | null = null;
  let zeroBlocks = 0;
  let sawEnd = false;
  try {
    for (;;) {
      const header = await take(512);
      if (header === null) break;
      if (header.every((b) => b === 0)) {
        sawEnd = true;
        if (++zeroBlocks >= TRAILING_BLOCKS) break;
        continue;
      }
      if (sawEnd) {
        throw new FormatError(`${name}: data after the end of the tar archive`);
      }
      let sum = 0;
      for (let i = 0; i < 512; i++) {
        sum += i >= 148 && i < 156 ? 32 : header[i];
      }
      if (tarNumber(header, 148, 8) !== sum) {
        throw new FormatError(
          `${name}: not a tar archive (bad header checksum after ${members.size} members)`,
        );
      }
      const size = tarNumber(header, 124, 12);
      const type = String.fromCharCode(header[156] || 48);
      // POSIX ustar keeps a name prefix at 345; old GNU headers keep times there
      const posix = tarString(header, 257, 6) === "ustar" && header[262] === 0;
      const prefix = posix ? tarString(header, 345, 155) : "";
      let member = longName ??
        (prefix ? `${prefix}/` : "") + tarString(header, 0, 100);
      longName = null;
      member = member.replace(/^\.\//, "");
      const limit = Math.min(
        type === "0" || type === "7"
          ? memberLimit(member, params)
          : MAX_CONFIG_BYTES, // long names, pax records, directories…
        MAX_INFLATION * bytes.length + INFLATION_ALLOWANCE,
      );
      if (!Number.isFinite(size) || size > limit) {
        throw new FormatError(
          `${name}: member ${member} declares ${size} bytes, more than the ${limit} its kind can hold (not a tinyllm archive)`,
        );
      }
      const data = await take(size);
      if (data === null) {
        throw new FormatError(
          `${name}: member ${member} is truncated (${pendingBytes} of ${size} bytes)`,
        );
      }
      await take((512 - (size % 512)) % 512);
      if (type === "L") longName = tarString(data, 0, data.length);
      else if (type === "0" || type === "7") {
        members.set(member, data);
        if (member === "config.json") params = paramBound(data);
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  if (members.size === 0) {
    throw new FormatError(`${name}: not a tar archive (no members)`);
  }
  return members;
}

/**
 * The members of a gzip'd tar archive by name (regular files only), read with
 * bounded memory: each member may declare only as many bytes as its kind can
 * hold, so an archive that inflates without end is refused early.
 *
 * @example
 * ```ts
 * import { makeConfig, randomModelWeights, saveModelArchive, WordTokenizer } from "@proj/tinyllm";
 * import { readArchiveMembers } from "@proj/tinyllm/io";
 * const tokenizer = WordTokenizer.fromWords(["a", "b"], { maxSize: 2 });
 * const weights = randomModelWeights(makeConfig({ dim: 8, hiddenDim: 16,
 *   nLayers: 1, nHeads: 2, vocabSize: tokenizer.vocabSize, seqLen: 8 }), 1);
 * const members = await readArchiveMembers(await saveModelArchive({ weights, tokenizer }));
 * console.log([...members.keys()].join(" ")); // config.json model.safetensors tokenizer.json training.json
 * ```
 */
export function readArchiveMembers(
  bytes: Uint8Array,
  name = "archive",
): Promise<Map<string, Uint8Array>> {
  return readTarGzBounded(bytes, name);
}

function parseJsonMember(
  members: Map<string, Uint8Array>,
  member: string,
  name: string,
): unknown {
  const data = members.get(member);
  if (!data) throw new FormatError(`${name}: missing member ${member}`);
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data));
  } catch (e) {
    throw new FormatError(
      `${name}: ${member} is not valid JSON (${
        (e as Error).message.split("\n")[0]
      })`,
    );
  }
}

/** Fields every config.json has (format version 1). */
const CONFIG_FIELDS: (keyof ModelConfig)[] = [
  "dim",
  "hiddenDim",
  "nLayers",
  "nHeads",
  "nKvHeads",
  "vocabSize",
  "seqLen",
  "positional",
  "sharedClassifier",
  "normEps",
  "ropeTheta",
];

/** Fields added later, written only when not at their default. */
const LATER_FIELDS: (keyof ModelConfig)[] = ["qkvBias", "ropeStyle", "ropeDim"];

function configJson(config: ModelConfig): Record<string, unknown> {
  const defaults: Partial<ModelConfig> = {
    qkvBias: false,
    ropeStyle: "interleaved",
    ropeDim: headSize(config),
  };
  const out: Record<string, unknown> = {
    format_version: ARCHIVE_FORMAT_VERSION,
  };
  for (const k of CONFIG_FIELDS) out[k] = config[k];
  for (const k of LATER_FIELDS) {
    if (config[k] !== defaults[k]) out[k] = config[k];
  }
  return out;
}

function readConfig(raw: unknown, name: string): ModelConfig {
  const where = `${name}: config.json`;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new FormatError(`${where}: not a JSON object`);
  }
  const r = raw as Record<string, unknown>;
  if (r.format_version !== ARCHIVE_FORMAT_VERSION) {
    throw new FormatError(
      `${where}: unknown format_version ${
        JSON.stringify(r.format_version)
      } (this build reads ${ARCHIVE_FORMAT_VERSION})`,
    );
  }
  const fields = {} as Record<string, unknown>;
  for (const k of CONFIG_FIELDS) {
    if (!(k in r)) throw new FormatError(`${where}: missing field ${k}`);
    fields[k] = r[k];
  }
  for (const k of LATER_FIELDS) if (k in r) fields[k] = r[k];
  try {
    return makeConfig(fields as unknown as ModelConfig);
  } catch (e) {
    if (e instanceof ConfigError) {
      throw new FormatError(`${where}: ${e.message}`);
    }
    throw e;
  }
}

/**
 * Reads and validates a model archive: every member present, known
 * `format_version`, a valid config, tensors matching the config in dtype and
 * shape, finite weights, a tokenizer no larger than the vocabulary.
 *
 * @throws {FormatError} naming the member (and tensor) at fault
 * @throws {ShapeError} when a tensor's shape disagrees with config.json
 *
 * @example
 * ```ts
 * import { FormatError, loadModelArchive } from "@proj/tinyllm";
 * import { gzipBytes } from "@proj/tinyllm/io";
 * try {
 *   await loadModelArchive(await gzipBytes(new Uint8Array(1024)), { name: "m.tar.gz" });
 * } catch (e) {
 *   console.log(e instanceof FormatError, (e as Error).message); // true "m.tar.gz: missing member config.json"
 * }
 * ```
 */
export async function loadModelArchive(
  bytes: Uint8Array,
  options: LoadArchiveOptions = {},
): Promise<ModelArchive> {
  const name = options.name ?? "archive";
  const members = await readArchiveMembers(bytes, name);
  const config = readConfig(
    parseJsonMember(members, "config.json", name),
    name,
  );
  const tokJson = parseJsonMember(members, "tokenizer.json", name);
  const training = parseJsonMember(members, "training.json", name);
  if (
    typeof training !== "object" || training === null ||
    Array.isArray(training)
  ) {
    throw new FormatError(`${name}: training.json is not a JSON object`);
  }
  const modelBytes = members.get("model.safetensors");
  if (!modelBytes) {
    throw new FormatError(`${name}: missing member model.safetensors`);
  }
  const mname = `${name}: model.safetensors`;
  const file = decodeSafetensors(modelBytes, mname);
  const fv = file.metadata.format_version;
  if (fv !== undefined && fv !== String(ARCHIVE_FORMAT_VERSION)) {
    throw new FormatError(
      `${mname}: unknown format_version "${fv}" (this build reads ${ARCHIVE_FORMAT_VERSION})`,
    );
  }
  const weights = weightsFromTensors(file, config, mname);
  let tokenizer: Tokenizer;
  try {
    tokenizer = tokenizerFromJSON(tokJson);
  } catch (e) {
    if (e instanceof FormatError) {
      throw new FormatError(
        `${name}: ${
          e.message.replace(/^tokenizer\.json: /, "tokenizer.json: ")
        }`,
      );
    }
    throw e;
  }
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new ShapeError(
      `${name}: tokenizer.json has ${tokenizer.vocabSize} tokens, config.json vocabSize is ${config.vocabSize}`,
    );
  }
  const result: ModelArchive = {
    config,
    weights,
    tokenizer,
    training: training as Record<string, unknown>,
  };
  const optBytes = members.get("optimizer.safetensors");
  if (optBytes) {
    result.optimizer = readOptimizer(optBytes, config, name);
  }
  return result;
}

function readOptimizer(
  bytes: Uint8Array,
  config: ModelConfig,
  name: string,
): OptimizerState {
  const oname = `${name}: optimizer.safetensors`;
  const file = decodeSafetensors(bytes, oname);
  const m = tensorF32(file, "m", oname).slice();
  const v = tensorF32(file, "v", oname).slice();
  const size = parameterCount(config);
  if (m.length !== size || v.length !== size) {
    throw new ShapeError(
      `${oname}: m has ${m.length} and v ${v.length} values, the model has ${size} parameters`,
    );
  }
  const step = Number(file.metadata.step);
  if (!Number.isInteger(step) || step < 0) {
    throw new FormatError(
      `${oname}: metadata step ${
        JSON.stringify(file.metadata.step)
      } is not a step count`,
    );
  }
  const metadata = { ...file.metadata };
  delete metadata.step;
  delete metadata.format;
  delete metadata.format_version;
  return { step, m, v, metadata };
}
