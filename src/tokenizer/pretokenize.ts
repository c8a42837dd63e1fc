/**
 * Pre-tokenizers of byte-level BPE vocabularies, as llama.cpp runs them: the
 * regex list that each `tokenizer.ggml.pre` value names, applied one after
 * the other, each splitting the pieces the previous one left.
 *
 * llama.cpp does not run these regexes with a Unicode-aware engine. The
 * common ones have hand-written splitters (ported here as they are, quirks
 * included). The rest run through C++ `std::regex` on a "collapsed" copy of
 * the text in which every non-ASCII code point is replaced by one byte that
 * stands for its category (so `\p{L}` becomes "[\xD2A-Za-z]", and `\p{Lu}`
 * matches lowercase letters too), or, for regexes without categories, on
 * the code points with ASCII-only `\s`/`\d`/`\b`. This module reproduces
 * both with JavaScript regexes over the same representations, using
 * llama.cpp's own Unicode tables ({@link cptFlags}).
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import {
  ACCENT_MARK,
  asciiLower,
  cptFlags,
  isHan,
  LETTER,
  MASK_CATEGORIES,
  NUMBER,
  PUNCTUATION,
  SYMBOL,
  WHITESPACE,
} from "./unicode.ts";

/** How llama.cpp tokenizes with one `tokenizer.ggml.pre` value. */
export interface PreTokenizerSpec {
  /** Regexes applied in order (llama.cpp's `regex_exprs`). */
  readonly regexes: readonly string[];
  /** Map bytes to GPT-2's printable characters before BPE (default true). */
  readonly byteEncode?: boolean;
  /** `clean_up_tokenization_spaces` when decoding (default true). */
  readonly cleanSpaces?: boolean;
  /** Look a whole word up in the vocabulary before merging (default false). */
  readonly ignoreMerges?: boolean;
  /** Default of `add_bos_token` (default false). */
  readonly addBos?: boolean;
  /** Replace spaces with U+2581 before BPE (default false). */
  readonly escapeWhitespaces?: boolean;
  /** No BOS id unless the file names one (chatglm). */
  readonly noDefaultBos?: boolean;
  /**
   * llama.cpp's gemma4 pre-tokenizer type: BOS always added, and a word of
   * newlines that is a token stays whole.
   */
  readonly gemma4?: boolean;
}

// The regexes, spelled as in llama.cpp's llama-vocab.cpp (a JS string here is
// the C string there).
const CONTRACTIONS =
  "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
const GPT2 =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
const LLAMA3 = CONTRACTIONS +
  "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const LLAMA3_ORIGINAL =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2 = CONTRACTIONS +
  "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN35 = CONTRACTIONS +
  "|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const JAIS2 = CONTRACTIONS +
  "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s{512}(?!\\S)|\\s{256}(?!\\S)|\\s{128}(?!\\S)|\\s{64}(?!\\S)|\\s{32}(?!\\S)|\\s{16}(?!\\S)|\\s{8}(?!\\S)|\\s{4}(?!\\S)|\\s{1,2}(?!\\S)|\\s{1}";
const DEEPSEEK_LLM = [
  "[\r\n]",
  "\\s?[A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af\u0370-\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481\u048a-\u052f\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc\u2102\u2107\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a\uff41-\uff5a\u{10400}-\u{1044f}\u{104b0}-\u{104d3}\u{104d8}-\u{104fb}\u{10c80}-\u{10cb2}\u{10cc0}-\u{10cf2}\u{118a0}-\u{118df}\u{1e900}-\u{1e943}]+",
  "\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+",
  "\\s+$",
  "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+",
  "\\p{N}+",
];
const DEEPSEEK3 = [
  "\\p{N}{1,3}",
  "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
  "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
];
const SPARK2_5 = [
  "\\p{N}{1,3}",
  "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
  "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+|[\r\n]|\\s+(?!\\S)|\\s+",
  "\\p{N}",
];
const CASED_WORDS_MARKS =
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+" +
  CONTRACTIONS + "?" +
  "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*" +
  CONTRACTIONS + "?";
const YOUTU = [
  "[\uac00-\ud7a3\u3131-\u318e]+|[\uff01\u2026\u201c\u201d\u2018\u2019\u2014\uff1a\uff1b\uff0c\u3001-\u303f\ufe30-\ufe4f]+|[\u3105-\u312f]+|[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
  CASED_WORDS_MARKS +
  "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
];
const DEEPSEEK_CODER = [
  "[\r\n]",
  "\\s?\\p{L}+",
  "\\s?\\p{P}+",
  "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+",
  "\\p{N}",
];
const FALCON = ["[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2, "[0-9][0-9][0-9]"];
const STARCODER = ["\\p{N}", GPT2];
const BLOOM = " ?[^(\\s|.,!?\u2026\u3002\uff0c\u3001\u0964\u06d4\u060c)]+";
const TEKKEN =
  "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const CHAMELEON = [
  "<sentinel:[0-9]+>",
  "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z",
  "([\\t\\n]|    |  )",
  "\\p{N}",
  "[\\p{P}!-/:-@\\[-`{-~]",
  GPT2,
];
const GPT4O =
  "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+" +
  CONTRACTIONS + "?" +
  "|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*" +
  CONTRACTIONS + "?" +
  "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const GRANITE_EMB_MULTI =
  "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))*((?=[\\p{L}\\p{M}])([^A-Z]))+" +
  CONTRACTIONS + "?" +
  "|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))+((?=[\\p{L}\\p{M}])([^A-Z]))*" +
  CONTRACTIONS + "?" +
  "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const TINY_AYA = [
  "\\d{1,3}(?=(?:\\d{3})*\\b)",
  CASED_WORDS_MARKS +
  "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
];
const BAILINGMOE =
  "'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";
const SEED_CODER = CONTRACTIONS +
  "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const UFAKZEKA =
  "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const AFMOE = [
  "\\p{AFMoE_digits}",
  "[\u4e00-\u9fff\u3400-\u4dbf\u8c48-\ufaff\u3040-\u309f\u30a0-\u30ff\uff65-\uff9f\u2f00-\u2fdf\u0e40-\u0e7f\u0e80-\u0eff\u1780-\u17ff\u1000-\u109f\uaa60-\uaa7f\ua9e0-\ua9ff\uac00-\ud7af\u1100-\u11ff]+",
  "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
];
const NEWLINES = "[^\\n]+|[\\n]+";
const EXAONE_MOE = CONTRACTIONS +
  "|[^\\r\\n\\p{L}\\p{N}]?(?:\\p{L}\\p{M}*(?: \\p{L}\\p{M}*)*)+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";
const MINICPM5 = [
  "\\p{N}{1,3}",
  CONTRACTIONS +
  "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
];
const DEFAULT = [
  "[\\p{P}\\$\\+<=>\\^~\\|]+",
  GPT2,
  "\\p{N}+",
  "[0-9][0-9][0-9]",
];

const NO_CLEAN = { cleanSpaces: false } as const;

/**
 * Every `tokenizer.ggml.pre` value that llama.cpp's `llama-vocab.cpp`
 * accepts for BPE vocabularies, with its regexes and flags.
 *
 * @example
 * ```ts
 * import { PRE_TOKENIZERS } from "@proj/tinyllm/tokenizer";
 * console.log(PRE_TOKENIZERS["qwen2"].cleanSpaces); // false
 * console.log("llama3" in PRE_TOKENIZERS); // true
 * ```
 */
export const PRE_TOKENIZERS: Readonly<Record<string, PreTokenizerSpec>> = {
  "default": { regexes: DEFAULT },
  ...Object.fromEntries(
    [
      "llama3",
      "llama-v3",
      "llama-bpe",
      "falcon3",
      "falcon-h1",
      "pixtral",
      "midm-2.0",
      "lfm2",
      "jina-v5-nano",
    ].map((n) => [n, { regexes: [LLAMA3], ignoreMerges: true, addBos: true }]),
  ),
  "minicpm5": { regexes: MINICPM5, ignoreMerges: true },
  "deepseek-llm": { regexes: DEEPSEEK_LLM, ...NO_CLEAN },
  "deepseek-coder": { regexes: DEEPSEEK_CODER, ...NO_CLEAN },
  "deepseek-v3": { regexes: DEEPSEEK3, ...NO_CLEAN },
  "spark2_5": { regexes: SPARK2_5, ...NO_CLEAN },
  "youtu": { regexes: YOUTU, ...NO_CLEAN, ignoreMerges: true },
  "falcon": { regexes: FALCON },
  "mpt": { regexes: [GPT2] },
  "starcoder": { regexes: STARCODER },
  ...Object.fromEntries(
    [
      "gpt-2",
      "phi-2",
      "jina-es",
      "jina-de",
      "gigachat",
      "jina-v2-es",
      "jina-v2-de",
      "a.x-4.0",
      "mellum",
      "modern-bert",
      "exaone4",
      "jina-v1-en",
      "jina-v2-code",
      "roberta-bpe",
    ].map((n) => [n, { regexes: [GPT2] }]),
  ),
  "jais-2": { regexes: [JAIS2] },
  "gemma4": {
    regexes: [NEWLINES],
    byteEncode: false,
    escapeWhitespaces: true,
    gemma4: true,
  },
  "granite-embed-multi-311m": {
    regexes: [NEWLINES],
    byteEncode: false,
    escapeWhitespaces: true,
    gemma4: true,
  },
  "sarvam-moe": {
    regexes: [NEWLINES],
    byteEncode: false,
    escapeWhitespaces: true,
    ...NO_CLEAN,
  },
  "whitespace": { regexes: ["\\S+"], byteEncode: false },
  "refact": { regexes: STARCODER },
  "command-r": { regexes: STARCODER, ...NO_CLEAN },
  ...Object.fromEntries(
    ["qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2"].map((
      n,
    ) => [n, { regexes: [QWEN2], ...NO_CLEAN }]),
  ),
  "qwen35": { regexes: [QWEN35], ...NO_CLEAN },
  "stablelm2": { regexes: [QWEN2] },
  "olmo": { regexes: [GPT2] },
  "dbrx": { regexes: [LLAMA3] },
  "smaug-bpe": { regexes: [LLAMA3] },
  "poro-chat": { regexes: [BLOOM], ...NO_CLEAN },
  "glm4": { regexes: [LLAMA3], noDefaultBos: true },
  "chatglm-bpe": { regexes: [LLAMA3], noDefaultBos: true },
  "viking": { regexes: [BLOOM, "\\p{N}"], ...NO_CLEAN },
  "jais": { regexes: [GPT2] },
  "tekken": {
    regexes: [TEKKEN],
    ...NO_CLEAN,
    ignoreMerges: true,
    addBos: true,
  },
  "smollm": { regexes: STARCODER, ...NO_CLEAN },
  "codeshell": { regexes: STARCODER },
  "bloom": { regexes: [BLOOM] },
  "gpt3-finnish": { regexes: [BLOOM] },
  "exaone": { regexes: STARCODER },
  "exaone-moe": { regexes: [EXAONE_MOE] },
  "chameleon": { regexes: CHAMELEON, addBos: true, ...NO_CLEAN },
  "minerva-7b": { regexes: STARCODER },
  "megrez": { regexes: [QWEN2] },
  ...Object.fromEntries(
    ["gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"].map((
      n,
    ) => [n, { regexes: [GPT4O], ...NO_CLEAN }]),
  ),
  "granite-embed-multi-97m": {
    regexes: [GRANITE_EMB_MULTI],
    ...NO_CLEAN,
    ignoreMerges: true,
  },
  "tiny_aya": { regexes: TINY_AYA, ...NO_CLEAN },
  "cohere2moe": { regexes: TINY_AYA, ...NO_CLEAN },
  "superbpe": { regexes: ["\\p{N}+", "(?=(\\d{3})+(?!\\d))"], ...NO_CLEAN },
  "trillion": { regexes: [GPT2], ...NO_CLEAN },
  "granite-docling": { regexes: [GPT2], ...NO_CLEAN },
  "bailingmoe": { regexes: [BAILINGMOE], ...NO_CLEAN },
  "bailingmoe2": { regexes: [BAILINGMOE], ...NO_CLEAN },
  "llada-moe": { regexes: [BAILINGMOE], ...NO_CLEAN },
  "seed-coder": { regexes: [SEED_CODER], ...NO_CLEAN },
  "hunyuan": { regexes: [QWEN2], ...NO_CLEAN },
  "hunyuan-dense": { regexes: DEEPSEEK3, ...NO_CLEAN },
  "hy_v4": { regexes: DEEPSEEK3, ...NO_CLEAN },
  "joyai-llm": { regexes: DEEPSEEK3, ...NO_CLEAN },
  "kimi-k2": { regexes: ["\\p{Han}+"], ...NO_CLEAN },
  "ufakzeka": { regexes: [UFAKZEKA], ...NO_CLEAN },
  "grok-2": { regexes: [QWEN2], ...NO_CLEAN },
  "afmoe": { regexes: AFMOE, ...NO_CLEAN },
  "laguna": { regexes: [NEWLINES, QWEN2], ...NO_CLEAN },
  "solar-open": { regexes: [QWEN2], ...NO_CLEAN },
  "mellum2": { regexes: STARCODER },
};

/**
 * The spec of a `tokenizer.ggml.pre` value ("" or absent: llama.cpp's
 * default, as it does with a warning).
 *
 * @example
 * ```ts
 * import { preTokenizerSpec } from "@proj/tinyllm/tokenizer";
 * console.log(preTokenizerSpec("llama-bpe").addBos); // true
 * ```
 *
 * @throws {ConfigError} on a value llama.cpp does not know
 */
export function preTokenizerSpec(pre: string | undefined): PreTokenizerSpec {
  const spec = PRE_TOKENIZERS[pre || "default"];
  if (!spec || !Object.hasOwn(PRE_TOKENIZERS, pre || "default")) {
    throw new ConfigError(
      `tokenizer.ggml.pre: unknown pre-tokenizer ${JSON.stringify(pre)}`,
    );
  }
  return spec;
}

// ---------------------------------------------------------------------------
// Hand-written splitters (llama.cpp's unicode_regex_split_custom_*). Each
// takes the code points and the current piece lengths and returns the new
// piece lengths.

type Splitter = (cpts: readonly number[], offsets: number[]) => number[];

/** Per-piece cursor helpers shared by the splitters. */
class Piece {
  ini = 0;
  end = 0;
  prevEnd = 0;
  constructor(readonly cpts: readonly number[], readonly out: number[]) {}
  reset(ini: number, end: number): void {
    this.ini = ini;
    this.end = end;
    this.prevEnd = ini;
  }
  /** Code point at `pos`, or -1 outside the piece. */
  cpt(pos: number): number {
    return pos >= this.ini && pos < this.end ? this.cpts[pos] : -1;
  }
  /** Flags at `pos`, or 0 outside the piece. */
  flags(pos: number): number {
    return pos >= this.ini && pos < this.end ? cptFlags(this.cpts[pos]) : 0;
  }
  /** Ends a word at `end`; returns its length. */
  add(end: number): number {
    const len = end - this.prevEnd;
    if (len > 0) this.out.push(len);
    this.prevEnd = end;
    return len;
  }
}

function eachPiece(
  cpts: readonly number[],
  offsets: number[],
  body: (p: Piece) => void,
): number[] {
  const out: number[] = [];
  const p = new Piece(cpts, out);
  let start = 0;
  for (const len of offsets) {
    p.reset(start, start + len);
    start += len;
    body(p);
  }
  return out;
}

/** Matches 's 't 'm 'd 're 've 'll at `pos`; returns its length or 0. */
function contraction(p: Piece, pos: number, fold: boolean): number {
  if (p.cpt(pos) !== 0x27 || pos + 1 >= p.end) return 0;
  const lower = fold ? asciiLower : (c: number) => c;
  const n1 = lower(p.cpt(pos + 1));
  if (n1 === 0x73 || n1 === 0x74 || n1 === 0x6d || n1 === 0x64) return 2;
  if (pos + 2 < p.end) {
    const n2 = lower(p.cpt(pos + 2));
    if (
      (n1 === 0x72 && n2 === 0x65) || (n1 === 0x76 && n2 === 0x65) ||
      (n1 === 0x6c && n2 === 0x6c)
    ) return 3;
  }
  return 0;
}

/** Whitespace run at `pos`: [count, end of its last \r or \n (0: none)]. */
function whitespaceRun(p: Piece, pos: number): [number, number] {
  let n = 0, lastNl = 0;
  while (p.flags(pos + n) & WHITESPACE) {
    const c = p.cpt(pos + n);
    if (c === 0x0d || c === 0x0a) lastNl = pos + n + 1;
    n++;
  }
  return [n, lastNl];
}

const splitGpt2: Splitter = (cpts, offsets) =>
  eachPiece(cpts, offsets, (p) => {
    for (let pos = p.ini; pos < p.end;) {
      const cpt = p.cpt(pos);
      const c = contraction(p, pos, false);
      if (c) {
        pos += p.add(pos + c);
        continue;
      }
      let f2 = cpt === 0x20 ? p.flags(pos + 1) : p.flags(pos);
      if (f2 & LETTER) {
        if (cpt === 0x20) pos++;
        while (f2 & LETTER) f2 = p.flags(++pos);
        p.add(pos);
        continue;
      }
      if (f2 & NUMBER) {
        if (cpt === 0x20) pos++;
        while (f2 & NUMBER) f2 = p.flags(++pos);
        p.add(pos);
        continue;
      }
      if (!(f2 & (WHITESPACE | LETTER | NUMBER)) && f2) {
        if (cpt === 0x20) pos++;
        while (!(f2 & (WHITESPACE | LETTER | NUMBER)) && f2) {
          f2 = p.flags(++pos);
        }
        p.add(pos);
        continue;
      }
      const [n] = whitespaceRun(p, pos);
      if (n > 1 && p.cpt(pos + n) !== -1) {
        pos += n - 1;
        p.add(pos);
        continue;
      }
      if (n > 0) {
        pos += n;
        p.add(pos);
        continue;
      }
      p.add(++pos);
    }
  });

/**
 * llama3 (digits in threes), qwen2 (single digits) and qwen35 (letters take
 * combining marks) share one splitter.
 */
function llama3Family(maxDigits: number, marks: boolean): Splitter {
  const word = marks ? LETTER | ACCENT_MARK : LETTER;
  return (cpts, offsets) =>
    eachPiece(cpts, offsets, (p) => {
      for (let pos = p.ini; pos < p.end;) {
        const cpt = p.cpt(pos);
        const flags = p.flags(pos);
        const c = contraction(p, pos, true);
        if (c) {
          pos += p.add(pos + c);
          continue;
        }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (!(cpt === 0x0d || cpt === 0x0a || (flags & NUMBER))) {
          if ((flags & word) || (p.flags(pos + 1) & word)) {
            pos++;
            while (p.flags(pos) & word) pos++;
            p.add(pos);
            continue;
          }
        }
        // \p{N}{1,maxDigits}
        if (flags & NUMBER) {
          let ini = pos;
          while (p.flags(pos) & NUMBER) {
            if (++pos - ini >= maxDigits) {
              p.add(pos);
              ini = pos;
            }
          }
          p.add(pos);
          continue;
        }
        // ' ?[^\s\p{L}\p{N}]+[\r\n]*' (llama.cpp tests the first code
        // point's flags for "inside the piece", not the second's)
        const stop = WHITESPACE | word | NUMBER;
        let f2 = cpt === 0x20 ? p.flags(pos + 1) : flags;
        if (!(f2 & stop) && flags) {
          if (cpt === 0x20) pos++;
          while (!(f2 & stop) && f2) f2 = p.flags(++pos);
          let c2 = p.cpt(pos);
          while (c2 === 0x0d || c2 === 0x0a) c2 = p.cpt(++pos);
          p.add(pos);
          continue;
        }
        const [n, lastNl] = whitespaceRun(p, pos);
        if (lastNl > 0) {
          pos = lastNl;
          p.add(pos);
          continue;
        }
        if (n > 1 && p.cpt(pos + n) !== -1) {
          pos += n - 1;
          p.add(pos);
          continue;
        }
        if (n > 0) {
          pos += n;
          p.add(pos);
          continue;
        }
        p.add(++pos);
      }
    });
}

const splitKimiK2: Splitter = (cpts, offsets) =>
  eachPiece(cpts, offsets, (p) => {
    const letterNotHan = (pos: number) =>
      (p.flags(pos) & LETTER) !== 0 && !isHan(p.cpt(pos));
    for (let pos = p.ini; pos < p.end;) {
      const cpt = p.cpt(pos);
      const flags = p.flags(pos);
      if (isHan(cpt)) {
        while (isHan(p.cpt(pos))) pos++;
        p.add(pos);
        continue;
      }
      const leadable =
        !(cpt === 0x0d || cpt === 0x0a || (flags & (LETTER | NUMBER)));
      if (
        ((flags & LETTER) && !isHan(cpt)) || (leadable && letterNotHan(pos + 1))
      ) {
        let lead = false;
        if (leadable) {
          lead = true;
          pos++;
        }
        let letters = false;
        while (letterNotHan(pos)) {
          letters = true;
          pos++;
        }
        if (letters || (!lead && letterNotHan(pos))) {
          if (!letters) pos++;
          while (letterNotHan(pos)) pos++;
          if (p.cpt(pos) === 0x27 && pos + 1 < p.end) {
            const n1 = asciiLower(p.cpt(pos + 1));
            if (n1 === 0x73 || n1 === 0x74 || n1 === 0x6d || n1 === 0x64) {
              pos += 2;
            } else if (pos + 2 < p.end) {
              const n2 = asciiLower(p.cpt(pos + 2));
              if (
                (n1 === 0x72 && n2 === 0x65) || (n1 === 0x76 && n2 === 0x65) ||
                (n1 === 0x6c && n2 === 0x6c)
              ) pos += 3;
            }
          }
          p.add(pos);
          continue;
        } else if (lead) {
          pos--;
        }
      }
      if (flags & NUMBER) {
        let ini = pos;
        while (p.flags(pos) & NUMBER) {
          if (++pos - ini >= 3) {
            p.add(pos);
            ini = pos;
          }
        }
        p.add(pos);
        continue;
      }
      let f2 = cpt === 0x20 ? p.flags(pos + 1) : flags;
      if (!(f2 & (WHITESPACE | LETTER | NUMBER)) && f2) {
        if (cpt === 0x20) pos++;
        while (!(f2 & (WHITESPACE | LETTER | NUMBER)) && f2) {
          f2 = p.flags(++pos);
        }
        let c2 = p.cpt(pos);
        while (c2 === 0x0d || c2 === 0x0a) c2 = p.cpt(++pos);
        p.add(pos);
        continue;
      }
      const [n, lastNl] = whitespaceRun(p, pos);
      if (lastNl > 0) {
        pos = lastNl;
        p.add(pos);
        continue;
      }
      if (n > 1 && p.cpt(pos + n) !== -1) {
        pos += n - 1;
        p.add(pos);
        continue;
      }
      if (n > 0) {
        pos += n;
        p.add(pos);
        continue;
      }
      p.add(++pos);
    }
  });

/**
 * AFMoE / tiny_aya digit grouping. As in llama.cpp, the text before a digit
 * run is not cut off: it joins the run's first group (later regexes split
 * it again).
 */
const splitDigitGroups: Splitter = (cpts, offsets) =>
  eachPiece(cpts, offsets, (p) => {
    for (let pos = p.ini; pos < p.end;) {
      if (p.flags(pos) & NUMBER) {
        const first = pos;
        let count = 0;
        while ((p.flags(pos) & NUMBER) && pos < p.end) {
          count++;
          pos++;
        }
        const rem = count % 3;
        let cur = first;
        if (rem > 0) {
          p.add(cur + rem);
          cur += rem;
        }
        while (cur < first + count) {
          p.add(cur + 3);
          cur += 3;
        }
        continue;
      }
      pos++;
    }
    if (p.prevEnd < p.end) p.add(p.end);
  });

const splitNewlines: Splitter = (cpts, offsets) => {
  const out: number[] = [];
  let start = 0;
  for (const len of offsets) {
    let pos = start;
    const end = start + len;
    while (pos < end) {
      const nl = cpts[pos] === 0x0a;
      const runStart = pos;
      while (pos < end && (cpts[pos] === 0x0a) === nl) pos++;
      out.push(pos - runStart);
    }
    start = end;
  }
  return out;
};

const CUSTOM: Readonly<Record<string, Splitter>> = {
  [GPT2]: splitGpt2,
  [LLAMA3]: llama3Family(3, false),
  [LLAMA3_ORIGINAL]: llama3Family(3, false),
  [QWEN2]: llama3Family(1, false),
  [QWEN35]: llama3Family(1, true),
  "\\p{Han}+": splitKimiK2,
  "\\p{AFMoE_digits}": splitDigitGroups,
  [NEWLINES]: splitNewlines,
  [TINY_AYA[0]]: splitDigitGroups,
};

// ---------------------------------------------------------------------------
// Regex fallbacks (llama.cpp's std::regex / std::wregex paths).

const CATEGORY_NAMES: Readonly<Record<string, number>> = {
  "\\p{N}": NUMBER,
  "\\p{L}": LETTER,
  "\\p{P}": PUNCTUATION,
  "\\p{M}": ACCENT_MARK,
  "\\p{S}": SYMBOL,
  "\\p{Lu}": LETTER,
  "\\p{Ll}": LETTER,
  "\\p{Lt}": LETTER,
  "\\p{Lm}": LETTER,
  "\\p{Lo}": LETTER,
};
/** The byte a non-ASCII code point of each category collapses to. */
const CATEGORY_BYTE: Readonly<Record<number, number>> = {
  [NUMBER]: 0xd1,
  [LETTER]: 0xd2,
  [PUNCTUATION]: 0xd3,
  [ACCENT_MARK]: 0xd4,
  [SYMBOL]: 0xd5,
};
/** The ASCII members llama.cpp lists for each category. */
const CATEGORY_ASCII: Readonly<Record<number, string>> = {
  [NUMBER]: "0-9",
  [LETTER]: "A-Za-z",
  [PUNCTUATION]: "!-#%-*,-/:-;?-@\\[-\\]_\\{\\}",
  [ACCENT_MARK]: "",
  [SYMBOL]: "\\$\\+<->^`\\|",
};

function usesCategories(re: string): boolean {
  return Object.keys(CATEGORY_NAMES).some((k) => re.includes(k));
}

/** llama.cpp's rewrite of a regex for the collapsed text. */
function collapseRegex(re: string): string {
  for (const ch of re) {
    if (ch.codePointAt(0)! >= 128) {
      throw new ConfigError(
        `pre-tokenizer regex mixes Unicode categories and non-ASCII text: ${re}`,
      );
    }
  }
  let out = "";
  let inside = false;
  for (let i = 0; i < re.length; i++) {
    if (re[i] === "[" && (i === 0 || re[i - 1] !== "\\")) {
      out += "[";
      inside = true;
      continue;
    }
    if (inside && re[i] === "]" && re[i - 1] !== "\\") {
      out += "]";
      inside = false;
      continue;
    }
    if (
      re[i] === "\\" && i + 3 < re.length && re[i + 1] === "p" &&
      re[i + 2] === "{"
    ) {
      const close = re.indexOf("}", i + 3);
      if (close >= 0 && close <= i + 10) {
        const cat = CATEGORY_NAMES[re.slice(i, close + 1)];
        if (cat !== undefined) {
          const body = String.fromCharCode(CATEGORY_BYTE[cat]) +
            CATEGORY_ASCII[cat];
          out += inside ? body : "[" + body + "]";
          i = close;
          continue;
        }
      }
    }
    out += re[i];
  }
  return out;
}

/**
 * Rewrites `\s` and `\S` to C++'s `std::wregex` meaning in the "C" locale
 * (ASCII whitespace only); `\d`, `\w` and `\b` are ASCII in JS already.
 */
function asciiWhitespaceRegex(re: string): string {
  let out = "";
  let inside = false;
  for (let i = 0; i < re.length; i++) {
    const ch = re[i];
    if (ch === "\\" && i + 1 < re.length) {
      const next = re[i + 1];
      if (next === "s") out += inside ? "\\t-\\r " : "[\\t-\\r ]";
      else if (next === "S" && !inside) out += "[^\\t-\\r ]";
      else if (next === "S") {
        throw new ConfigError(`pre-tokenizer regex: \\S inside a class: ${re}`);
      } else out += ch + next;
      i++;
      continue;
    }
    if (ch === "[" && !inside) inside = true;
    else if (ch === "]" && inside) inside = false;
    out += ch;
  }
  return out;
}

/**
 * C++ `std::regex_iterator` over one piece: matched spans and the gaps
 * between them all become pieces (an empty match yields an empty piece,
 * and the search resumes one code point later).
 */
function regexSplitPiece(
  re: RegExp,
  s: string,
  unitToCpt: (unit: number) => number,
  pieceLen: number,
  out: number[],
): void {
  re.lastIndex = 0;
  let startIdx = 0;
  for (;;) {
    const m = re.exec(s);
    if (!m) break;
    const pos = unitToCpt(m.index);
    const endPos = unitToCpt(m.index + m[0].length);
    if (pos > startIdx) out.push(pos - startIdx);
    out.push(endPos - pos);
    startIdx = endPos;
    if (m[0].length === 0) {
      if (m.index >= s.length) break;
      const c = s.codePointAt(m.index)!;
      re.lastIndex = m.index + (c > 0xffff ? 2 : 1);
    }
  }
  if (startIdx < pieceLen) out.push(pieceLen - startIdx);
}

type Step =
  | { kind: "custom"; split: Splitter }
  | { kind: "collapsed"; re: RegExp }
  | { kind: "wide"; re: RegExp };

/**
 * A compiled pre-tokenizer: splits code points into words.
 *
 * @example Words of the gpt-2 pre-tokenizer
 * ```ts
 * import { PreTokenizer, PRE_TOKENIZERS } from "@proj/tinyllm/tokenizer";
 * const pre = new PreTokenizer(PRE_TOKENIZERS["gpt-2"].regexes);
 * const cpts = Array.from("Hello world's 42", (c) => c.codePointAt(0)!);
 * console.log(pre.split(cpts)); // [5, 6, 2, 3]
 * ```
 */
export class PreTokenizer {
  readonly #steps: Step[];
  readonly #collapse: boolean;

  /**
   * Compiles a regex list.
   * @throws {ConfigError} if a regex does not compile
   */
  constructor(regexes: readonly string[]) {
    this.#collapse = regexes.some(usesCategories);
    this.#steps = regexes.map((r): Step => {
      const split: Splitter | undefined = Object.hasOwn(CUSTOM, r)
        ? CUSTOM[r]
        : undefined;
      if (split) return { kind: "custom", split };
      try {
        return usesCategories(r)
          ? { kind: "collapsed", re: new RegExp(collapseRegex(r), "g") }
          : { kind: "wide", re: new RegExp(asciiWhitespaceRegex(r), "gu") };
      } catch (e) {
        if (e instanceof ConfigError) throw e;
        throw new ConfigError(`pre-tokenizer regex does not compile: ${r}`);
      }
    });
  }

  /** Splits code points into word lengths (summing to `cpts.length`). */
  split(cpts: readonly number[]): number[] {
    let offsets = [cpts.length];
    let collapsed: string | undefined;
    let wide: { s: string; units: Int32Array } | undefined;
    for (const step of this.#steps) {
      if (step.kind === "custom") {
        const next = step.split(cpts, offsets);
        // llama.cpp falls back to std::regex when a custom splitter returns
        // nothing; that only happens for empty input, which splits to nothing.
        offsets = next;
        continue;
      }
      const out: number[] = [];
      let start = 0;
      if (step.kind === "collapsed") {
        collapsed ??= this.#collapsed(cpts);
        for (const len of offsets) {
          const s = collapsed.slice(start, start + len);
          regexSplitPiece(step.re, s, (u) => u, len, out);
          start += len;
        }
      } else {
        wide ??= wideText(cpts);
        for (const len of offsets) {
          const u0 = wide.units[start], u1 = wide.units[start + len];
          const s = wide.s.slice(u0, u1);
          const toCpt = unitMapper(wide.units, start, u0);
          regexSplitPiece(step.re, s, toCpt, len, out);
          start += len;
        }
      }
      offsets = out;
    }
    return offsets;
  }

  #collapsed(cpts: readonly number[]): string {
    if (!this.#collapse) return "";
    const codes = new Uint16Array(cpts.length);
    for (let i = 0; i < cpts.length; i++) {
      const c = cpts[i];
      if (c < 128) {
        codes[i] = c;
        continue;
      }
      const f = cptFlags(c);
      codes[i] = f & WHITESPACE
        ? 0x0b
        : CATEGORY_BYTE[f & MASK_CATEGORIES] ?? 0xd0;
    }
    let s = "";
    for (let i = 0; i < codes.length; i += 4096) {
      s += String.fromCharCode(...codes.subarray(i, i + 4096));
    }
    return s;
  }
}

/**
 * The code points as a JS string for `std::wregex`'s view of them: non-ASCII
 * whitespace becomes \v (llama.cpp's trick, since wregex's \s is ASCII-only),
 * and `units[i]` is the UTF-16 index of code point i.
 */
function wideText(cpts: readonly number[]): { s: string; units: Int32Array } {
  const units = new Int32Array(cpts.length + 1);
  const parts: string[] = [];
  let u = 0;
  for (let i = 0; i < cpts.length; i++) {
    let c = cpts[i];
    if (c > 0x7f && (cptFlags(c) & WHITESPACE)) c = 0x0b;
    // Past U+10FFFF there is no JS character: any non-matching stand-in.
    if (c > 0x10ffff) c = 0xfffd;
    units[i] = u;
    parts.push(String.fromCodePoint(c));
    u += c > 0xffff ? 2 : 1;
  }
  units[cpts.length] = u;
  return { s: parts.join(""), units };
}

/** Maps a UTF-16 index within a piece back to a code point index in it. */
function unitMapper(
  units: Int32Array,
  firstCpt: number,
  firstUnit: number,
): (unit: number) => number {
  return (unit) => {
    // Pieces are short and regex matches move forward: a binary search.
    let lo = firstCpt, hi = units.length - 1;
    const target = unit + firstUnit;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (units[mid] < target) lo = mid + 1;
      else hi = mid;
    }
    return lo - firstCpt;
  };
}
