// Pre-tokenizer word splits on hand-checked strings, one or two per regex
// family, worked out from llama.cpp's regexes and splitters (the exact ids
// for every `pre` are checked against llama.cpp in tokenizer_gguf_test.ts).
import assert from "node:assert/strict";
import fc from "fast-check";
import { ConfigError } from "../mod.ts";
import {
  PRE_TOKENIZERS,
  PreTokenizer,
  preTokenizerSpec,
} from "../src/tokenizer/mod.ts";
import {
  cptFlags,
  LETTER,
  NUMBER,
  WHITESPACE,
} from "../src/tokenizer/unicode.ts";

function words(pre: string, text: string): string[] {
  const p = new PreTokenizer(PRE_TOKENIZERS[pre].regexes);
  const cpts = Array.from(text, (c) => c.codePointAt(0)!);
  const out: string[] = [];
  let at = 0;
  for (const len of p.split(cpts)) {
    if (len > 0) out.push(String.fromCodePoint(...cpts.slice(at, at + len)));
    at += len;
  }
  return out;
}

Deno.test("gpt-2: contractions, ' ?\\p{L}+', ' ?\\p{N}+', \\s+(?!\\S)", () => {
  assert.deepEqual(words("gpt-2", "Hello world's 42!!  x"), [
    "Hello",
    " world",
    "'s",
    " 42",
    "!!",
    " ",
    " x",
  ]);
  // Case-sensitive contractions: "'S" is punctuation then a letter.
  assert.deepEqual(words("gpt-2", "IT'S"), ["IT", "'", "S"]);
});

Deno.test("llama3: case-insensitive contractions, digits in threes, newline runs", () => {
  assert.deepEqual(words("llama3", "I'M 12345 ok\n\n  x"), [
    "I",
    "'M",
    " ",
    "123",
    "45",
    " ok",
    "\n\n",
    " ",
    " x",
  ]);
});

Deno.test("qwen2: single digits", () => {
  assert.deepEqual(words("qwen2", "x 2024"), ["x", " ", "2", "0", "2", "4"]);
});

Deno.test("deepseek-llm: regexes applied in turn; non-ASCII space counts as \\s", () => {
  assert.deepEqual(words("deepseek-llm", "Hi 你好\n123"), [
    "Hi",
    " ",
    "你好",
    "\n",
    "123",
  ]);
  // U+3000 is whitespace for llama.cpp: it joins the following word.
  assert.deepEqual(words("deepseek-llm", "\u3000abc"), ["\u3000abc"]);
});

Deno.test("bloom: unmatched characters between matches form one piece", () => {
  assert.deepEqual(words("bloom", "Hello, world. (x)"), [
    "Hello",
    ",",
    " world",
    ". (",
    "x",
    ")",
  ]);
});

Deno.test("superbpe: digit groups of three from the right (empty matches)", () => {
  assert.deepEqual(words("superbpe", "1234567 89"), [
    "1",
    "234",
    "567",
    " ",
    "89",
  ]);
});

Deno.test("afmoe: digit grouping keeps the text before it with the first group", () => {
  assert.deepEqual(words("afmoe", "ab1234"), ["ab", "1", "234"]);
});

Deno.test("kimi-k2: Han runs apart from other letters", () => {
  assert.deepEqual(words("kimi-k2", "你好world's"), ["你好", "world's"]);
});

Deno.test("tekken / gpt-4o: case-aware words", () => {
  assert.deepEqual(words("tekken", "HTTPServer getX"), [
    "HTTPServer",
    " get",
    "X",
  ]);
  assert.deepEqual(words("gpt-4o", "don't STOP"), ["don't", " STOP"]);
});

Deno.test("every pre-tokenizer splits any text into pieces covering it", () => {
  const pres = Object.keys(PRE_TOKENIZERS).map((p) =>
    new PreTokenizer(PRE_TOKENIZERS[p].regexes)
  );
  fc.assert(
    fc.property(fc.string({ unit: "grapheme", maxLength: 30 }), (s) => {
      const cpts = Array.from(s, (c) => c.codePointAt(0)!);
      for (const p of pres) {
        const lens = p.split(cpts);
        assert.equal(lens.reduce((a, b) => a + b, 0), cpts.length);
        assert.ok(lens.every((l) => l >= 0));
      }
    }),
    { numRuns: 60, seed: 3 },
  );
});

Deno.test("llama.cpp's Unicode table: categories and whitespace", () => {
  assert.ok(cptFlags(0x41) & LETTER);
  assert.ok(cptFlags(0x4e2d) & LETTER); // 中
  assert.ok(cptFlags(0x0663) & NUMBER); // Arabic-Indic 3
  assert.ok(cptFlags(0x2163) & NUMBER); // Roman numeral four
  assert.ok(cptFlags(0x3000) & WHITESPACE);
  assert.ok(cptFlags(0x85) & WHITESPACE);
  assert.ok(!(cptFlags(0xfeff) & WHITESPACE)); // JS \s has it; llama.cpp not
  assert.ok(!(cptFlags(0x200b) & WHITESPACE));
  assert.equal(cptFlags(0x110000), 1); // past Unicode: undefined
});

Deno.test("unknown pre-tokenizer names are a ConfigError", () => {
  assert.throws(() => preTokenizerSpec("no-such"), ConfigError);
  assert.throws(() => preTokenizerSpec("toString"), ConfigError);
  assert.equal(preTokenizerSpec(undefined), PRE_TOKENIZERS["default"]);
});
