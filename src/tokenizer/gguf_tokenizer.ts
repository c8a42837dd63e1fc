/**
 * Tokenizers stored in GGUF metadata (`tokenizer.ggml.*`), encoding and
 * decoding exactly as llama.cpp's `llama_tokenize` / `llama_token_to_piece`
 * / `llama_detokenize` do: SentencePiece-style BPE with scores ("llama"),
 * byte-level BPE with ranked merges and the pre-tokenizer that
 * `tokenizer.ggml.pre` names ("gpt2"), and gemma4's BPE over raw UTF-8.
 *
 * Special, control and user-defined tokens are split out of the text before
 * BPE (control ones only when `parseSpecial`), token types come from
 * `tokenizer.ggml.token_type`, and BOS/EOS/EOT/EOG ids and the
 * add-BOS/EOS/space-prefix flags follow llama.cpp's defaults and overrides.
 *
 * @module
 */
import { ConfigError, FormatError, InputError } from "../errors.ts";
import { BpeMerger } from "./gguf_bpe.ts";
import { spmTokenize, type SpmVocab } from "./gguf_spm.ts";
import {
  PreTokenizer,
  type PreTokenizerSpec,
  preTokenizerSpec,
} from "./pretokenize.ts";
import type { EncodeOptions, Tokenizer, TokenizerJson } from "./types.ts";
import {
  binaryToBytes,
  bytesToBinary,
  byteToUnicode,
  cptsFromUtf8,
  cptToBinary,
  toBinary,
  unicodeToByte,
} from "./unicode.ts";

/**
 * llama.cpp's token types (`tokenizer.ggml.token_type` values).
 *
 * @example
 * ```ts
 * import { GGUF_TOKEN_TYPE } from "@proj/tinyllm/tokenizer";
 * console.log(GGUF_TOKEN_TYPE.CONTROL); // 3
 * ```
 */
export const GGUF_TOKEN_TYPE = {
  UNDEFINED: 0,
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;

/**
 * llama.cpp's token attribute bits (`llama_token_attr`), as in
 * {@linkcode GgufTokenizer.attrs}.
 *
 * @example
 * ```ts
 * import { GGUF_TOKEN_ATTR } from "@proj/tinyllm/tokenizer";
 * console.log(GGUF_TOKEN_ATTR.CONTROL); // 8
 * ```
 */
export const GGUF_TOKEN_ATTR = {
  UNDEFINED: 0,
  UNKNOWN: 1 << 0,
  UNUSED: 1 << 1,
  NORMAL: 1 << 2,
  CONTROL: 1 << 3,
  USER_DEFINED: 1 << 4,
  BYTE: 1 << 5,
  NORMALIZED: 1 << 6,
  LSTRIP: 1 << 7,
  RSTRIP: 1 << 8,
  SINGLE_WORD: 1 << 9,
} as const;
const A = GGUF_TOKEN_ATTR;

/**
 * A GGUF tokenizer as plain data: the `tokenizer.ggml.*` values (and the two
 * `general.*` names llama.cpp consults). Ids absent mean "not in the file".
 */
export interface GgufTokenizerData {
  /** `tokenizer.ggml.model`: "llama" (SPM), "gpt2" (BPE) or "gemma4". */
  model: string;
  /** `tokenizer.ggml.pre` (BPE only). */
  pre?: string;
  /** `tokenizer.ggml.tokens`. */
  tokens: readonly string[];
  /** `tokenizer.ggml.scores`. */
  scores?: ArrayLike<number>;
  /** `tokenizer.ggml.token_type` ({@linkcode GGUF_TOKEN_TYPE}). */
  tokenTypes?: ArrayLike<number>;
  /** `tokenizer.ggml.merges` ("left right" per line, rank order). */
  merges?: readonly string[];
  /** `tokenizer.ggml.bos_token_id`. */
  bosId?: number;
  /** `tokenizer.ggml.eos_token_id`. */
  eosId?: number;
  /** `tokenizer.ggml.eot_token_id`. */
  eotId?: number;
  /** `tokenizer.ggml.eom_token_id`. */
  eomId?: number;
  /** `tokenizer.ggml.unknown_token_id`. */
  unkId?: number;
  /** `tokenizer.ggml.seperator_token_id` (sic). */
  sepId?: number;
  /** `tokenizer.ggml.padding_token_id`. */
  padId?: number;
  /** `tokenizer.ggml.mask_token_id`. */
  maskId?: number;
  /** `tokenizer.ggml.fim_pre_token_id` (or the older `prefix_token_id`). */
  fimPreId?: number;
  /** `tokenizer.ggml.fim_suf_token_id` (or `suffix_token_id`). */
  fimSufId?: number;
  /** `tokenizer.ggml.fim_mid_token_id` (or `middle_token_id`). */
  fimMidId?: number;
  /** `tokenizer.ggml.fim_pad_token_id`. */
  fimPadId?: number;
  /** `tokenizer.ggml.fim_rep_token_id`. */
  fimRepId?: number;
  /** `tokenizer.ggml.fim_sep_token_id`. */
  fimSepId?: number;
  /** `tokenizer.ggml.add_bos_token`. */
  addBos?: boolean;
  /** `tokenizer.ggml.add_eos_token`. */
  addEos?: boolean;
  /** `tokenizer.ggml.add_sep_token`. */
  addSep?: boolean;
  /** `tokenizer.ggml.add_space_prefix`. */
  addSpacePrefix?: boolean;
  /** `general.name` (llama.cpp sets phi-3 strip flags by it). */
  modelName?: string;
  /** `general.architecture`. */
  architecture?: string;
}

/** Options of {@linkcode GgufTokenizer.encode}. */
export interface GgufEncodeOptions extends EncodeOptions {
  /**
   * llama.cpp's `add_special`: BOS/EOS as the file asks (default true).
   * Explicit `bos`/`eos` override it.
   */
  addSpecial?: boolean;
  /** llama.cpp's `parse_special`: control tokens in the text (default false). */
  parseSpecial?: boolean;
}

/** Options of {@linkcode GgufTokenizer.decode}. */
export interface GgufDecodeOptions {
  /** Drop a leading BOS / trailing EOS the file adds (default true). */
  removeSpecial?: boolean;
  /** Render control tokens' text (default false). */
  unparseSpecial?: boolean;
  /**
   * Apply `clean_up_tokenization_spaces` (default: as the vocabulary says,
   * like llama.cpp; false gives the exact inverse of encoding).
   */
  cleanSpaces?: boolean;
}

const ESCAPED_SPACE = "\xe2\x96\x81"; // U+2581 as a binary string
const enc = new TextEncoder();
const dec = new TextDecoder();

const ID_FIELDS = [
  "bosId",
  "eosId",
  "eotId",
  "eomId",
  "unkId",
  "sepId",
  "padId",
  "maskId",
  "fimPreId",
  "fimSufId",
  "fimMidId",
  "fimPadId",
  "fimRepId",
  "fimSepId",
] as const;
type IdField = typeof ID_FIELDS[number];

const EOT_TEXTS = [
  "<|eot_id|>",
  "<|im_end|>",
  "<|end|>",
  "<end_of_turn>",
  "<|endoftext|>",
  "<|end_of_text|>",
  "<EOT>",
  "_<EOT>",
  "[EOT]",
  "<｜end▁of▁sentence｜>",
  "<end_of_utterance>",
];
const AUTO_DETECT: [IdField, string[]][] = [
  ["eotId", EOT_TEXTS],
  ["eomId", ["<|eom_id|>"]],
  ["fimPreId", [
    "<|fim_prefix|>",
    "<fim-prefix>",
    "<fim_prefix>",
    "<｜fim▁begin｜>",
    "<PRE>",
    "▁<PRE>",
    "<|code_prefix|>",
    "<|prefix|>",
  ]],
  ["fimSufId", [
    "<|fim_suffix|>",
    "<fim-suffix>",
    "<fim_suffix>",
    "<｜fim▁hole｜>",
    "<SUF>",
    "▁<SUF>",
    "<|code_suffix|>",
    "<|suffix|>",
  ]],
  ["fimMidId", [
    "<|fim_middle|>",
    "<fim-middle>",
    "<fim_middle>",
    "<｜fim▁end｜>",
    "<MID>",
    "▁<MID>",
    "<|code_middle|>",
    "<|middle|>",
  ]],
  ["fimPadId", ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"]],
  ["fimRepId", [
    "<|fim_repo|>",
    "<|repo_name|>",
    "<fim-repo>",
    "<REPO>",
    "<reponame>",
  ]],
  ["fimSepId", ["<|file_sep|>"]],
];
const EOG_TEXTS = new Set([
  "<|eot_id|>",
  "<|im_end|>",
  "<|end|>",
  "<|return|>",
  "<|call|>",
  "<|flush|>",
  "<|calls|>",
  "<end_of_turn>",
  "<|endoftext|>",
  "</s>",
  "<|eom_id|>",
  "<EOT>",
  "_<EOT>",
  "[EOT]",
  "[EOS]",
  "<|end_of_text|>",
  "<end_of_utterance>",
  "<eos>",
  "<turn|>",
  "<|tool_response>",
  "<｜end▁of▁sentence｜>",
  "[e~[",
]);

/** C's isspace in the "C" locale. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** A raw-text fragment (offset, length) or a special token id. */
type Fragment = { id: number } | { start: number; end: number };

/**
 * A GGUF tokenizer that encodes and decodes as llama.cpp does.
 *
 * @example A tiny SentencePiece vocabulary
 * ```ts
 * import { GgufTokenizer } from "@proj/tinyllm";
 * const tok = new GgufTokenizer({
 *   model: "llama",
 *   tokens: ["<unk>", "<s>", "</s>", "▁", "h", "i", "▁h", "▁hi"],
 *   scores: [0, 0, 0, -1, -2, -3, -4, -5],
 *   tokenTypes: [2, 3, 3, 1, 1, 1, 1, 1],
 * });
 * console.log(tok.encode("hi")); // [1, 7]  (BOS, "▁hi")
 * console.log(tok.decode([7])); // "hi"
 * console.log(tok.decode([1, 7])); // " hi" (llama.cpp keeps the space after BOS)
 * ```
 */
export class GgufTokenizer implements Tokenizer {
  /** Always "gguf". */
  readonly kind = "gguf";
  /** "spm" or "bpe" (llama.cpp's vocabulary type). */
  readonly type: "spm" | "bpe";
  /** The `tokenizer.ggml.pre` in force ("default" when absent; "" for SPM). */
  readonly pre: string;
  /** Number of tokens. */
  readonly vocabSize: number;
  /** BOS id, or -1 when the vocabulary has none. */
  readonly bosId: number;
  /** EOS id, or -1. */
  readonly eosId: number;
  /** EOT id (end of turn), or -1. */
  readonly eotId: number;
  /** EOM id, or -1. */
  readonly eomId: number;
  /** Unknown-token id, or -1. */
  readonly unkId: number;
  /** Padding id, or -1. */
  readonly padId: number;
  /** Whether `add_special` prepends BOS. */
  readonly addBos: boolean;
  /** Whether `add_special` appends EOS. */
  readonly addEos: boolean;
  /** Whether SPM text gets a leading space (and decoding strips it). */
  readonly addSpacePrefix: boolean;
  /** Whether decoding applies `clean_up_tokenization_spaces`. */
  readonly cleanSpaces: boolean;
  /** Ids that end generation (EOS, EOT, EOM, FIM pad/rep/sep, …). */
  readonly eogIds: ReadonlySet<number>;
  /** Token attribute bits per id ({@linkcode GGUF_TOKEN_ATTR}). */
  readonly attrs: Uint16Array;

  readonly #data: GgufTokenizerData;
  readonly #texts: string[]; // binary strings
  readonly #ids: Map<string, number>;
  readonly #scores: Float32Array;
  readonly #special: number[]; // ids split out before BPE, longest first
  readonly #escapeWhitespaces: boolean;
  readonly #byteEncode: boolean;
  readonly #pretok?: PreTokenizer;
  readonly #merger?: BpeMerger;
  readonly #pieces: (string | undefined)[]; // piece with special = true
  readonly #spmVocab?: SpmVocab;

  /**
   * Builds a tokenizer from plain data.
   * @throws {FormatError} on inconsistent data (duplicate tokens, short arrays)
   * @throws {ConfigError} on a tokenizer model or pre-tokenizer llama.cpp does
   *   not support here
   */
  constructor(data: GgufTokenizerData) {
    this.#data = data;
    const n = data.tokens.length;
    if (n === 0) throw new FormatError("tokenizer.ggml.tokens: empty");
    let spec: PreTokenizerSpec | undefined;
    const ids: Record<IdField, number> = Object.fromEntries(
      ID_FIELDS.map((f) => [f, -1]),
    ) as Record<IdField, number>;
    let addBos = false, addEos = false, addSpacePrefix = false;
    let cleanSpaces = false, escapeWhitespaces = true;
    if (data.model === "llama") {
      this.type = "spm";
      this.pre = "";
      ids.bosId = 1;
      ids.eosId = 2;
      ids.unkId = 0;
      addSpacePrefix = true;
      addBos = true;
    } else if (data.model === "gpt2" || data.model === "gemma4") {
      this.type = "bpe";
      this.pre = data.model === "gemma4" ? "gemma4" : data.pre || "default";
      if (!data.merges && this.pre !== "kimi-k2") {
        throw new FormatError("tokenizer.ggml.merges: missing");
      }
      if (data.model === "gpt2") ids.bosId = ids.eosId = 11;
      spec = preTokenizerSpec(this.pre);
      cleanSpaces = spec.cleanSpaces ?? true;
      escapeWhitespaces = spec.escapeWhitespaces ?? false;
      addBos = spec.addBos ?? false;
      if (spec.noDefaultBos) ids.bosId = -1;
    } else {
      throw new ConfigError(
        `tokenizer.ggml.model: unsupported tokenizer ${
          JSON.stringify(data.model)
        } (supported: llama, gpt2, gemma4)`,
      );
    }
    if (data.addSpacePrefix !== undefined) {
      addSpacePrefix = data.addSpacePrefix;
    }
    this.#escapeWhitespaces = escapeWhitespaces;
    this.#byteEncode = spec?.byteEncode ?? true;

    if (data.scores && data.scores.length < n) {
      throw new FormatError(
        `tokenizer.ggml.scores: ${data.scores.length} scores for ${n} tokens`,
      );
    }
    if (data.tokenTypes && data.tokenTypes.length < n) {
      throw new FormatError(
        `tokenizer.ggml.token_type: ${data.tokenTypes.length} types for ${n} tokens`,
      );
    }
    this.vocabSize = n;
    const index = indexTokens(data.tokens);
    this.#texts = index.texts;
    this.#ids = index.ids;
    this.#scores = new Float32Array(n);
    this.attrs = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      if (data.scores) this.#scores[i] = data.scores[i];
      this.attrs[i] = data.tokenTypes
        ? attrOfType(data.tokenTypes[i])
        : A.NORMAL;
    }

    for (const f of ID_FIELDS) {
      if (ids[f] >= n) ids[f] = -1;
      const v = data[f];
      if (v !== undefined && Number.isInteger(v) && v >= 0 && v < n) ids[f] = v;
    }
    if (data.addBos !== undefined) addBos = data.addBos;
    if (data.addEos !== undefined) addEos = data.addEos;
    if (spec?.gemma4) addBos = true;
    if (addBos && ids.bosId < 0) {
      throw new FormatError(
        "tokenizer.ggml.add_bos_token is true, but tokenizer.ggml.bos_token_id is not set",
      );
    }
    if (addEos && ids.eosId < 0) {
      throw new FormatError(
        "tokenizer.ggml.add_eos_token is true, but tokenizer.ggml.eos_token_id is not set",
      );
    }
    this.#detectSpecials(ids);
    this.bosId = ids.bosId;
    this.eosId = ids.eosId;
    this.eotId = ids.eotId;
    this.eomId = ids.eomId;
    this.unkId = ids.unkId;
    this.padId = ids.padId;
    this.addBos = addBos;
    this.addEos = addEos;
    this.addSpacePrefix = addSpacePrefix;
    this.cleanSpaces = cleanSpaces;
    this.eogIds = this.#eog(ids);

    const special: number[] = [];
    for (let i = 0; i < n; i++) {
      if (this.attrs[i] & (A.CONTROL | A.USER_DEFINED | A.UNKNOWN)) {
        special.push(i);
      }
    }
    // Longest first (llama.cpp's std::sort leaves ties unordered; id order
    // here).
    special.sort((a, b) => this.#texts[b].length - this.#texts[a].length);
    this.#special = special;
    this.#stripFlags(data);

    if (this.type === "bpe") {
      this.#pretok = new PreTokenizer(spec!.regexes);
      this.#merger = new BpeMerger(
        { lookup: (t) => this.#ids.get(t) },
        data.merges ?? [],
        {
          ignoreMerges: spec!.ignoreMerges,
          byteEncode: this.#byteEncode,
          newlineWords: spec!.gemma4,
        },
      );
    }
    this.#pieces = new Array(n);
    if (this.type === "spm") {
      this.#spmVocab = {
        lookup: (t) => this.#ids.get(t),
        scores: this.#scores,
        size: n,
      };
    }
  }

  /** Finds EOT/EOM/FIM ids by their text, as llama.cpp does. */
  #detectSpecials(ids: Record<IdField, number>): void {
    const mark = (id: number) => {
      this.attrs[id] |= A.CONTROL;
    };
    for (const [field, texts] of AUTO_DETECT) {
      if (ids[field] >= 0) continue;
      for (const t of texts) {
        const id = this.#ids.get(toBinary(t));
        if (id !== undefined) {
          // llama.cpp walks a hash map; the lowest id wins here.
          if (ids[field] < 0 || id < ids[field]) ids[field] = id;
        }
      }
      if (ids[field] >= 0 && !(this.attrs[ids[field]] & A.CONTROL)) {
        mark(ids[field]);
      }
    }
    // Control tokens whose text says "unused".
    for (let i = 0; i < this.vocabSize; i++) {
      if ((this.attrs[i] & A.CONTROL) && this.#texts[i].includes("unused")) {
        this.attrs[i] |= A.UNUSED;
      }
    }
  }

  #eog(ids: Record<IdField, number>): Set<number> {
    const eog = new Set<number>();
    for (const f of ["fimPadId", "fimRepId", "fimSepId"] as const) {
      if (ids[f] >= 0) eog.add(ids[f]);
    }
    for (const t of EOG_TEXTS) {
      const id = this.#ids.get(toBinary(t));
      if (id === undefined) continue;
      eog.add(id);
      this.attrs[id] |= A.CONTROL;
    }
    // gpt-oss: these are always rendered.
    for (
      const t of ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"]
    ) {
      const id = this.#ids.get(t);
      if (id !== undefined) this.attrs[id] = A.USER_DEFINED;
    }
    for (const f of ["eosId", "eotId", "eomId"] as const) {
      if (ids[f] >= 0) eog.add(ids[f]);
    }
    // o200k_harmony / solar-open: "<|end|>" is not an end of generation.
    const has = (t: string) => {
      const id = this.#ids.get(t);
      return id !== undefined && eog.has(id) ? id : -1;
    };
    const end = has("<|end|>");
    const call = has("<|call|>") >= 0 || has("<|calls|>") >= 0;
    if (
      end >= 0 &&
      ((has("<|return|>") >= 0 && call) || (call && has("<|flush|>") >= 0))
    ) {
      eog.delete(end);
      this.attrs[end] = A.USER_DEFINED;
    }
    // gemma4 / paddleocr: "</s>" is not one either.
    const s = has("</s>");
    if (s >= 0 && has("<|tool_response>") >= 0) {
      eog.delete(s);
      this.attrs[s] = A.NORMAL;
    }
    return eog;
  }

  /** llama.cpp's per-model LSTRIP/RSTRIP attributes. */
  #stripFlags(data: GgufTokenizerData): void {
    const name = (data.modelName ?? "").toLowerCase();
    const pre = data.pre ?? "";
    const arch = data.architecture ?? "";
    const set = (t: string, attr: number, on: boolean) => {
      const id = this.#ids.get(t);
      if (id === undefined) return;
      this.attrs[id] = on ? this.attrs[id] | attr : this.attrs[id] & ~attr;
    };
    if (
      ["jina-v2-de", "jina-v2-es", "jina-v2-code"].some((s) =>
        pre.includes(s)
      ) ||
      ["nomic-bert-moe", "jina-bert-v3"].some((s) => arch.includes(s))
    ) {
      set("<mask>", A.LSTRIP, true);
    } else if (name.includes("phi-3") || name.includes("phi3")) {
      for (const id of this.#special) this.attrs[id] |= A.RSTRIP;
      set("</s>", A.RSTRIP, true);
      for (const t of ["<unk>", "<s>", "<|endoftext|>"]) {
        set(t, A.RSTRIP, false);
      }
    } else if (name.includes("modern-bert")) {
      set("[MASK]", A.LSTRIP, true);
    }
  }

  /** Whether `id` ends generation. */
  isEog(id: number): boolean {
    return this.eogIds.has(id);
  }

  /** A token's text as stored in the vocabulary. */
  tokenText(id: number): string {
    this.#checkId(id);
    return dec.decode(binaryToBytes(this.#texts[id]));
  }

  /** A token's id by its vocabulary text, or undefined. */
  tokenId(text: string): number | undefined {
    return this.#ids.get(toBinary(text));
  }

  /** A token's score. */
  score(id: number): number {
    this.#checkId(id);
    return this.#scores[id];
  }

  #checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new InputError(
        `token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`,
      );
    }
  }

  /**
   * Encodes text to ids. By default BOS/EOS are added as the file asks
   * (llama.cpp's `add_special = true`) and control tokens in the text are
   * not parsed. `bos`/`eos`, when given, force BOS/EOS on or off.
   *
   * @throws {InputError} when BOS/EOS is requested and the vocabulary has
   *   none, or a byte has no fallback token
   */
  encode(text: string, options: GgufEncodeOptions = {}): number[] {
    return this.encodeBytes(enc.encode(text), options);
  }

  /** {@linkcode GgufTokenizer.encode} for raw UTF-8 bytes (need not be valid). */
  encodeBytes(bytes: Uint8Array, options: GgufEncodeOptions = {}): number[] {
    const addSpecial = options.addSpecial ?? true;
    const bos = options.bos ?? (addSpecial && this.addBos);
    const eos = options.eos ?? (addSpecial && this.addEos);
    if (bos && this.bosId < 0) {
      throw new InputError("encode: BOS requested but the vocabulary has none");
    }
    if (eos && this.eosId < 0) {
      throw new InputError("encode: EOS requested but the vocabulary has none");
    }
    const raw = bytesToBinary(bytes);
    const frags: Fragment[] = raw.length > 0
      ? this.#partition(raw, options.parseSpecial ?? false)
      : [];
    const out: number[] = [];
    if (bos) out.push(this.bosId);
    if (this.type === "spm") {
      let prevSpecial = true;
      for (const f of frags) {
        if ("id" in f) {
          out.push(f.id);
          prevSpecial = true;
          continue;
        }
        let t = raw.slice(f.start, f.end);
        if (this.addSpacePrefix && prevSpecial) t = " " + t;
        t = t.replaceAll(" ", ESCAPED_SPACE);
        spmTokenize(t, this.#spmVocab!, (b) => this.#byteToken(b), out);
        prevSpecial = false;
      }
    } else {
      for (const f of frags) {
        if ("id" in f) out.push(f.id);
        else this.#bpeFragment(raw.slice(f.start, f.end), out);
      }
    }
    if (eos) out.push(this.eosId);
    return out;
  }

  #byteToken(b: number): number | undefined {
    const hex = b.toString(16).toUpperCase().padStart(2, "0");
    return this.#ids.get(`<0x${hex}>`) ?? this.#ids.get(String.fromCharCode(b));
  }

  #bpeFragment(text: string, out: number[]): void {
    if (this.#escapeWhitespaces) text = text.replaceAll(" ", ESCAPED_SPACE);
    const cpts = cptsFromUtf8(binaryToBytes(text));
    const lens = this.#pretok!.split(cpts);
    let at = 0;
    for (const len of lens) {
      if (len === 0) continue;
      let word = "";
      for (let i = at; i < at + len; i++) {
        const bytes = cptToBinary(cpts[i]);
        if (!this.#byteEncode) {
          word += bytes;
          continue;
        }
        for (let j = 0; j < bytes.length; j++) {
          word += cptToBinary(byteToUnicode(bytes.charCodeAt(j)));
        }
      }
      at += len;
      this.#merger!.tokenizeWord(word, out);
    }
  }

  /**
   * llama.cpp's `tokenizer_st_partition`: splits special tokens out of the
   * text, longest token first, each occurrence left to right.
   */
  #partition(raw: string, parseSpecial: boolean): Fragment[] {
    let frags: Fragment[] = [{ start: 0, end: raw.length }];
    for (const id of this.#special) {
      const attr = this.attrs[id];
      if (!parseSpecial && (attr & (A.CONTROL | A.UNKNOWN))) continue;
      const text = this.#texts[id];
      const next: Fragment[] = [];
      for (const f of frags) {
        if ("id" in f) {
          next.push(f);
          continue;
        }
        let start = f.start;
        const end = f.end;
        for (;;) {
          const at = raw.indexOf(text, start);
          if (at < 0 || at + text.length > end) {
            if (start < end) next.push({ start, end });
            break;
          }
          let leftEnd = at;
          if (attr & A.LSTRIP) {
            while (leftEnd > start && isSpace(raw.charCodeAt(leftEnd - 1))) {
              leftEnd--;
            }
          }
          if (leftEnd > start) next.push({ start, end: leftEnd });
          next.push({ id });
          start = at + text.length;
          if (attr & A.RSTRIP) {
            while (start < end && isSpace(raw.charCodeAt(start))) start++;
          }
        }
      }
      frags = next;
    }
    return frags;
  }

  /**
   * llama.cpp's `llama_token_to_piece`: the bytes a token prints.
   * @param special render control/unknown tokens' text (else they print nothing)
   * @param lstrip leading spaces to drop (at most this many)
   */
  tokenToPiece(id: number, special = false, lstrip = 0): Uint8Array {
    return binaryToBytes(this.#piece(id, special, lstrip));
  }

  #piece(id: number, special: boolean, lstrip: number): string {
    this.#checkId(id);
    const attr = this.attrs[id];
    if (!special && (attr & (A.UNKNOWN | A.CONTROL))) return "";
    let p = this.#pieces[id];
    if (p === undefined) p = this.#pieces[id] = this.#renderPiece(id);
    let k = 0;
    while (k < lstrip && k < p.length && p.charCodeAt(k) === 0x20) k++;
    return k ? p.slice(k) : p;
  }

  #renderPiece(id: number): string {
    const attr = this.attrs[id];
    const text = this.#texts[id];
    if (attr & (A.UNKNOWN | A.CONTROL | A.USER_DEFINED)) return text;
    if (attr & A.NORMAL) {
      if (this.type === "spm" || this.#escapeWhitespaces) {
        return text.replaceAll(ESCAPED_SPACE, " ");
      }
      return decodeByteLevel(text);
    }
    if (attr & A.BYTE) {
      return String.fromCharCode(parseInt(text.slice(3, 5), 16) & 0xff);
    }
    return "";
  }

  /**
   * llama.cpp's `llama_detokenize` as UTF-8 bytes.
   * @throws {InputError} on an id outside the vocabulary
   */
  decodeBytes(
    ids: readonly number[],
    options: GgufDecodeOptions = {},
  ): Uint8Array {
    const removeSpecial = options.removeSpecial ?? true;
    const unparse = options.unparseSpecial ?? false;
    let first = 0, last = ids.length;
    let removeSpace = this.addSpacePrefix;
    if (removeSpecial && this.addBos && last > 0 && ids[0] === this.bosId) {
      removeSpace = false;
      first++;
    }
    if (
      removeSpecial && this.addEos && last > first &&
      ids[last - 1] === this.eosId
    ) last--;
    let s = "";
    for (let i = first; i < last; i++) {
      s += this.#piece(ids[i], unparse, removeSpace ? 1 : 0);
      removeSpace = false;
    }
    if (options.cleanSpaces ?? this.cleanSpaces) s = cleanUpSpaces(s);
    return binaryToBytes(s);
  }

  /**
   * Decodes ids to text as `llama_detokenize` does (default: a leading BOS
   * and trailing EOS dropped, control tokens rendered as nothing); invalid
   * UTF-8 becomes U+FFFD.
   */
  decode(ids: readonly number[], options: GgufDecodeOptions = {}): string {
    return dec.decode(this.decodeBytes(ids, options));
  }

  /**
   * The bytes `id` prints after `prev` when streaming: its piece, with the
   * SPM leading space dropped right after BOS.
   */
  decodePiece(prev: number, id: number): Uint8Array {
    const lstrip = this.addSpacePrefix && prev === this.bosId ? 1 : 0;
    return binaryToBytes(this.#piece(id, false, lstrip));
  }

  /** The data this tokenizer was built from, as JSON. */
  toJSON(): TokenizerJson {
    const d = this.#data;
    return {
      ...d,
      kind: "gguf",
      scores: d.scores ? Array.from(d.scores) : undefined,
      tokenTypes: d.tokenTypes ? Array.from(d.tokenTypes) : undefined,
    };
  }

  /**
   * Rebuilds a tokenizer from {@linkcode GgufTokenizer.toJSON}'s output.
   * @throws {FormatError} on malformed JSON data
   */
  static fromJSON(json: TokenizerJson): GgufTokenizer {
    if (
      typeof json.model !== "string" || !Array.isArray(json.tokens)
    ) {
      throw new FormatError(
        "tokenizer.json: gguf tokenizer needs model and tokens",
      );
    }
    const { kind: _kind, ...data } = json;
    return new GgufTokenizer(data as unknown as GgufTokenizerData);
  }
}

/** Token texts as binary strings and their ids, shared per tokens array. */
const TOKEN_INDEX = new WeakMap<
  readonly string[],
  { texts: string[]; ids: Map<string, number> }
>();

function indexTokens(
  tokens: readonly string[],
): { texts: string[]; ids: Map<string, number> } {
  const hit = TOKEN_INDEX.get(tokens);
  if (hit) return hit;
  const n = tokens.length;
  const texts: string[] = new Array(n);
  const ids = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    let word = tokens[i];
    if (typeof word !== "string") {
      throw new FormatError(`tokenizer.ggml.tokens[${i}]: not a string`);
    }
    if (word === "") word = `[EMPTY_${i}]`;
    const bin = toBinary(word);
    const had = ids.get(bin);
    if (had !== undefined) {
      throw new FormatError(
        `tokenizer.ggml.tokens: duplicate token ${
          JSON.stringify(word)
        } has ids ${had} and ${i}`,
      );
    }
    ids.set(bin, i);
    texts[i] = bin;
  }
  const index = { texts, ids };
  TOKEN_INDEX.set(tokens, index);
  return index;
}

function attrOfType(t: number): number {
  switch (t) {
    case GGUF_TOKEN_TYPE.UNKNOWN:
      return A.UNKNOWN;
    case GGUF_TOKEN_TYPE.UNUSED:
      return A.UNUSED;
    case GGUF_TOKEN_TYPE.NORMAL:
      return A.NORMAL;
    case GGUF_TOKEN_TYPE.CONTROL:
      return A.CONTROL;
    case GGUF_TOKEN_TYPE.USER_DEFINED:
      return A.USER_DEFINED;
    case GGUF_TOKEN_TYPE.BYTE:
      return A.BYTE;
    default:
      return A.UNDEFINED;
  }
}

/** llama.cpp's `llama_decode_text`: GPT-2 byte characters back to bytes. */
function decodeByteLevel(text: string): string {
  const cpts = cptsFromUtf8(binaryToBytes(text));
  let out = "";
  for (const c of cpts) {
    const b = unicodeToByte(c);
    if (b >= 0) {
      out += String.fromCharCode(b);
      continue;
    }
    const utf8 = cptToBinary(c);
    out += "[UNK_BYTE_0x";
    for (let i = 0; i < utf8.length; i++) {
      out += utf8.charCodeAt(i).toString(16).padStart(2, "0");
    }
    out += text + "]";
  }
  return out;
}

/** llama.cpp's `clean_up_tokenization_spaces` passes (on bytes). */
function cleanUpSpaces(s: string): string {
  const t = Array.from(s, (c) => c.charCodeAt(0));
  let total = t.length;
  // " ?", " !", " .", " ,": drop the space.
  {
    const n = total;
    total = n ? 1 : 0;
    for (let i = 1; i < n; i++) {
      const x = t[i];
      if (
        t[i - 1] === 0x20 &&
        (x === 0x3f || x === 0x21 || x === 0x2e || x === 0x2c)
      ) {
        total--;
      }
      t[total++] = x;
    }
  }
  // " ' ": drop both spaces.
  {
    const n = total;
    total = n ? 1 : 0;
    for (let i = 1; i < n; i++) {
      const x = t[i];
      if (x === 0x27 && i + 1 < n && t[i - 1] === 0x20 && t[i + 1] === 0x20) {
        total--;
        t[++i] = 0;
      }
      t[total++] = x;
    }
  }
  // " 's", " 'm", " 're", " 've": drop the space.
  {
    const n = total;
    total = n ? 1 : 0;
    for (let i = 1; i < n; i++) {
      const x = t[i];
      if (t[i - 1] === 0x20 && x === 0x27 && i + 1 < n) {
        const x1 = t[i + 1];
        if (x1 === 0x73 || x1 === 0x6d) total--;
        else if (i + 2 < n) {
          const x2 = t[i + 2];
          if ((x1 === 0x72 && x2 === 0x65) || (x1 === 0x76 && x2 === 0x65)) {
            total--;
          }
        }
      }
      t[total++] = x;
    }
  }
  let out = "";
  for (let i = 0; i < total; i += 4096) {
    out += String.fromCharCode(...t.slice(i, Math.min(total, i + 4096)));
  }
  return out;
}

/** Reads a GGUF metadata value of one kind, or undefined when absent. */
function metaValue<T>(
  meta: ReadonlyMap<string, unknown>,
  key: string,
  kind: string,
  ok: (v: unknown) => v is T,
): T | undefined {
  if (!meta.has(key)) return undefined;
  const v = meta.get(key);
  if (!ok(v)) {
    throw new FormatError(`${key}: expected ${kind}`);
  }
  return v;
}

const isString = (v: unknown): v is string => typeof v === "string";
const isBool = (v: unknown): v is boolean => typeof v === "boolean";
const isInt = (v: unknown): v is number | bigint =>
  typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v));
const isStrings = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === "string");
const isNumbers = (v: unknown): v is ArrayLike<number> =>
  (ArrayBuffer.isView(v) && !(v instanceof DataView) &&
    !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array)) ||
  (Array.isArray(v) && v.every((x) => typeof x === "number"));

const ID_KEYS: [IdField, string[]][] = [
  ["bosId", ["bos_token_id"]],
  ["eosId", ["eos_token_id"]],
  ["eotId", ["eot_token_id"]],
  ["eomId", ["eom_token_id"]],
  ["unkId", ["unknown_token_id"]],
  ["sepId", ["seperator_token_id"]],
  ["padId", ["padding_token_id"]],
  ["maskId", ["mask_token_id"]],
  ["fimPreId", ["fim_pre_token_id", "prefix_token_id"]],
  ["fimSufId", ["fim_suf_token_id", "suffix_token_id"]],
  ["fimMidId", ["fim_mid_token_id", "middle_token_id"]],
  ["fimPadId", ["fim_pad_token_id"]],
  ["fimRepId", ["fim_rep_token_id"]],
  ["fimSepId", ["fim_sep_token_id"]],
];

/**
 * The tokenizer data of a GGUF file's metadata map (keys `tokenizer.ggml.*`
 * plus `general.name` and `general.architecture`).
 *
 * @example
 * ```ts
 * import { ggufTokenizerData } from "@proj/tinyllm/tokenizer";
 * const data = ggufTokenizerData(new Map<string, unknown>([
 *   ["tokenizer.ggml.model", "llama"],
 *   ["tokenizer.ggml.tokens", ["<unk>", "<s>", "</s>"]],
 *   ["tokenizer.ggml.bos_token_id", 1],
 * ]));
 * console.log(data.model, data.bosId); // llama 1
 * ```
 *
 * @throws {FormatError} when a key is missing or has the wrong type
 */
export function ggufTokenizerData(
  meta: ReadonlyMap<string, unknown>,
): GgufTokenizerData {
  const k = (name: string) => `tokenizer.ggml.${name}`;
  const model = metaValue(meta, k("model"), "a string", isString);
  if (model === undefined) throw new FormatError(`${k("model")}: missing`);
  const tokens = metaValue(meta, k("tokens"), "an array of strings", isStrings);
  if (tokens === undefined) throw new FormatError(`${k("tokens")}: missing`);
  const data: GgufTokenizerData = {
    model,
    tokens,
    pre: metaValue(meta, k("pre"), "a string", isString),
    scores: metaValue(meta, k("scores"), "a numeric array", isNumbers),
    tokenTypes: metaValue(meta, k("token_type"), "a numeric array", isNumbers),
    merges: metaValue(meta, k("merges"), "an array of strings", isStrings),
    addBos: metaValue(meta, k("add_bos_token"), "a boolean", isBool),
    addEos: metaValue(meta, k("add_eos_token"), "a boolean", isBool),
    addSep: metaValue(meta, k("add_sep_token"), "a boolean", isBool),
    addSpacePrefix: metaValue(meta, k("add_space_prefix"), "a boolean", isBool),
    modelName: metaValue(meta, "general.name", "a string", isString),
    architecture: metaValue(meta, "general.architecture", "a string", isString),
  };
  for (const [field, names] of ID_KEYS) {
    for (const name of names) {
      const v = metaValue(meta, k(name), "an integer", isInt);
      // Out-of-range ids are ignored (llama.cpp keeps its default then).
      if (v !== undefined && v >= 0 && v <= 0x7fffffff) data[field] = Number(v);
    }
  }
  for (const key of Object.keys(data) as (keyof GgufTokenizerData)[]) {
    if (data[key] === undefined) delete data[key];
  }
  return data;
}

/**
 * Builds the tokenizer stored in a GGUF file's metadata.
 *
 * @throws {FormatError} on missing or mistyped `tokenizer.ggml.*` keys
 * @throws {ConfigError} on a tokenizer model or pre-tokenizer not supported
 *
 * @example
 * ```ts
 * import { tokenizerFromGguf } from "@proj/tinyllm";
 * const meta = new Map<string, unknown>([
 *   ["tokenizer.ggml.model", "gpt2"],
 *   ["tokenizer.ggml.pre", "gpt-2"],
 *   ["tokenizer.ggml.tokens", ["h", "i", "hi", "Ġ", "Ġhi"]],
 *   ["tokenizer.ggml.merges", ["h i", "Ġ hi"]],
 * ]);
 * const tok = tokenizerFromGguf(meta);
 * console.log(tok.encode("hi hi")); // [2, 4]
 * ```
 */
export function tokenizerFromGguf(
  meta: ReadonlyMap<string, unknown>,
): GgufTokenizer {
  return new GgufTokenizer(ggufTokenizerData(meta));
}
