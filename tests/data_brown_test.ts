import assert from "node:assert/strict";
import {
  brownWords,
  countWords,
  splitText,
  splitWords,
} from "../src/data/brown.ts";
import { loadBrownCorpus, loadCorpus } from "../src/data/brown_fs.ts";
import { wordCounts, WordTokenizer } from "../src/tokenizer/word.ts";
import { FormatError } from "../src/errors.ts";
import { testNeeding } from "./permissions.ts";

const test = testNeeding(import.meta.url, "read", "write", "env");

Deno.test("brownWords: splits each token on its LAST slash, keeps case and punctuation", () => {
  assert.deepEqual(
    brownWords(["\n\n\tThe/at Fulton/np-tl 1/2/cd ``/`` ./.\n", " AT&T/np$ "]),
    ["The", "Fulton", "1/2", "``", ".", "AT&T"],
  );
  assert.throws(() => brownWords(["ok/x notag"]), FormatError);
});

Deno.test("countWords counts whitespace-separated words", () => {
  assert.equal(countWords(""), 0);
  assert.equal(countWords(" \t\n"), 0);
  assert.equal(countWords("a"), 1);
  assert.equal(countWords(" a  b\nc\u00a0d "), 4);
});

Deno.test("splitWords / splitText: in order, nothing lost, nothing cut", () => {
  const c = splitWords("x", ["a", "b", "c", "d", "e"], 2, 2);
  assert.deepEqual([c.train.words, c.val.words, c.test.words], [["a", "b"], [
    "c",
    "d",
  ], ["e"]]);
  assert.equal(c.val.text, "c d");
  assert.throws(() => splitWords("x", ["a", "b"], 1, 1), FormatError);
  const text = Array.from({ length: 1000 }, (_, i) => `w${i}`).join(" ");
  const t = splitText("t.txt", text);
  assert.equal(t.train.text + t.val.text + t.test.text, text);
  assert.deepEqual(
    [...t.train.words, ...t.val.words, ...t.test.words],
    text.split(" "),
  );
  const n = text.length;
  assert.ok(Math.abs(t.train.text.length - 0.9 * n) < 8);
  assert.ok(Math.abs(t.val.text.length - 0.05 * n) < 8);
  assert.throws(() => splitText("short", "ab"), FormatError);
});

test("Brown corpus: the exact counts of brown-ngram.md", async () => {
  const c = await loadBrownCorpus();
  assert.equal(c.train.words.length, 800_000);
  assert.equal(c.val.words.length, 200_000);
  assert.equal(c.test.words.length, 161_192);
  assert.equal(countWords(c.test.text), 161_192);
  assert.deepEqual(c.train.words.slice(0, 4), [
    "The",
    "Fulton",
    "County",
    "Grand",
  ]);
  const counts = wordCounts(c.train.words);
  assert.equal(counts.size, 46_187);
  const all = new Set([...c.train.words, ...c.val.words, ...c.test.words]);
  assert.equal(all.size, 56_057);
  // seed vocabulary: 1000 most frequent train words, the 1000th has count 79
  const tok = WordTokenizer.fromWords(c.train.words, { maxSize: 1000 });
  assert.equal(tok.vocabSize, 1004);
  assert.equal(counts.get(tok.tokens[1003]), 79);
  assert.equal(tok.tokens[4], "the");
  // ties by first occurrence: among words with count 79, the chosen ones
  // are exactly the earliest-seen ones
  const c79 = [...counts].filter(([, n]) => n === 79).map(([w]) => w);
  const chosen = tok.tokens.filter((w) => counts.get(w) === 79);
  assert.deepEqual(chosen, c79.slice(0, chosen.length));
  assert.ok(chosen.length < c79.length);
  // Bengio's rule over train: words seen more than 3 times (+ 4 specials)
  const big = WordTokenizer.fromWords(c.train.words, { minCount: 4 });
  assert.equal(big.vocabSize, 14_114 - 1 + 4); // the table's V counts <unk> once
  const loaded = await loadCorpus("brown");
  assert.equal(loaded.val.words[0], c.val.words[0]);
});

test("loadCorpus(file): UTF-8 text split 90/5/5 by characters; bad UTF-8 rejected", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const text = Array.from({ length: 2000 }, (_, i) => `wörd${i % 97}`).join(
      " \n",
    );
    await Deno.writeTextFile(`${dir}/t.txt`, text);
    const c = await loadCorpus(`${dir}/t.txt`);
    assert.equal(c.source, `${dir}/t.txt`);
    assert.equal(c.splitUnit, "characters");
    assert.equal(c.train.text + c.val.text + c.test.text, text);
    assert.equal(
      c.train.words.length + c.val.words.length + c.test.words.length,
      2000,
    );
    assert.ok(Math.abs(c.test.text.length / text.length - 0.05) < 0.005);
    await Deno.writeFile(`${dir}/bad.txt`, new Uint8Array([0x61, 0xff, 0x62]));
    await assert.rejects(loadCorpus(`${dir}/bad.txt`), FormatError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("countWords equals the number of non-empty whitespace-split pieces (property)", async () => {
  const fc = (await import("fast-check")).default;
  const pieces = fc.constantFrom(
    "a",
    "bc",
    " ",
    "  ",
    "\n",
    "\t",
    "\u00a0",
    "\u2003",
    "é",
    "😀",
    "\r\n",
  );
  fc.assert(
    fc.property(fc.array(pieces, { maxLength: 40 }), (p) => {
      const s = p.join("");
      return countWords(s) === s.split(/\s+/).filter((w) => w !== "").length;
    }),
    { numRuns: 500, seed: 5 },
  );
});
