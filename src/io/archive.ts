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
import { createTar, parseTar } from "nanotar";
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
 * gunzips bytes with the built-in DecompressionStream.
 * @throws {FormatError} when the bytes are not complete gzip data
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
): Promise<Uint8Array<ArrayBuffer>> {
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
      .pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new FormatError(
      `${name}: not a complete gzip file (${
        (e as Error).message.split("\n")[0]
      })`,
    );
  }
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

/**
 * Lists an archive's members (name → bytes) after checking it is a complete
 * gzip'd tar.
 *
 * @throws {FormatError} when the bytes are not a gzip'd tar or a member is truncated
 */
export async function readArchiveMembers(
  bytes: Uint8Array,
  name = "archive",
): Promise<Map<string, Uint8Array>> {
  const tar = await gunzipBytes(bytes, name);
  if (tar.length < 512 || tar.length % 512 !== 0) {
    throw new FormatError(
      `${name}: not a tar archive (${tar.length} bytes after gunzip, expected a multiple of 512)`,
    );
  }
  let items;
  try {
    items = parseTar(tar);
  } catch (e) {
    throw new FormatError(
      `${name}: not a tar archive (${(e as Error).message.split("\n")[0]})`,
    );
  }
  const members = new Map<string, Uint8Array>();
  for (const item of items) {
    if (item.type !== undefined && item.type !== "file") continue;
    const data = item.data ?? new Uint8Array(0);
    if (data.length !== item.size) {
      throw new FormatError(
        `${name}: member ${item.name} is truncated (${data.length} of ${item.size} bytes)`,
      );
    }
    members.set(item.name.replace(/^\.\//, ""), data);
  }
  return members;
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
