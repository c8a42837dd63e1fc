import assert from "node:assert/strict";
import fc from "fast-check";
import {
  BPE_BOS,
  BPE_EOS,
  BPE_FIRST_MERGE,
  BpeTokenizer,
  presplit,
} from "../src/tokenizer/bpe.ts";
import { tokenizerFromJSON } from "../src/tokenizer/json.ts";
import { WordTokenizer } from "../src/tokenizer/word.ts";
import { FormatError, InputError } from "../src/errors.ts";

const TRAIN_TEXT = [
  "The jury further said in term-end presentments that the City Executive",
  "Committee , which had over-all charge of the election , `` deserves the",
  "praise and thanks of the City of Atlanta '' for the manner in which the",
  "election was conducted . Grüße, naïve café — 東京 🐈‍⬛ emoji\ttabs\n\nlines",
].join("\n").repeat(5);
const tok = BpeTokenizer.train(TRAIN_TEXT, 400);

Deno.test("bpe presplit covers the text exactly, words keep one leading space", () => {
  assert.deepEqual(presplit("a  b\n c"), ["a", " ", " b", "\n", " c"]);
  assert.deepEqual(presplit(""), []);
  const long = "x".repeat(200) + " ".repeat(100) + "y";
  assert.equal(presplit(long).join(""), long);
  assert.ok(presplit(long).every((c) => [...c].length <= 65));
});

Deno.test("bpe train: hand-checked merges on a tiny text, ties to the smaller pair", () => {
  // "ab ab ab cd": pairs (a,b)×3, (' ',a)×2, (c,d)×1 → first merge (a,b)
  const t = BpeTokenizer.train("ab ab ab cd", 260);
  assert.deepEqual(Array.from(t.merges), [97, 98, 32, 258]);
  assert.deepEqual(t.encode("ab ab cd", { bos: false }), [
    258,
    259,
    32,
    99,
    100,
  ]);
  // all pairs tie at count 1 → no merge is worth it (count < 2): stops early
  assert.equal(BpeTokenizer.train("xy", 300).vocabSize, BPE_FIRST_MERGE);
  // equal counts: the smaller (left, right) pair wins
  const tie = BpeTokenizer.train("ba ba dc dc", 259);
  // pairs (b,a)×2, (" ",b)×1, (" ",d)×2, (d,c)×2 → (32, 100) is the smallest of the three 2s
  assert.deepEqual(Array.from(tie.merges), [32, 100]);
  assert.throws(() => BpeTokenizer.train("x", 10), InputError);
});

Deno.test("bpe: learns the frequent words, deterministic, compresses", () => {
  assert.equal(tok.vocabSize, 400);
  const again = BpeTokenizer.train(TRAIN_TEXT, 400);
  assert.deepEqual(again.merges, tok.merges);
  const ids = tok.encode(" the election", { bos: false });
  assert.ok(ids.length <= 3, `" the election" took ${ids.length} tokens`);
  assert.ok(
    tok.encode(TRAIN_TEXT).length <
      new TextEncoder().encode(TRAIN_TEXT).length / 2,
  );
  assert.deepEqual(tok.encode("", { bos: true, eos: true }), [
    BPE_BOS,
    BPE_EOS,
  ]);
});

Deno.test("bpe: decode(encode(s)) === s for every Unicode string (property)", () => {
  const check = (s: string) => tok.decode(tok.encode(s)) === s;
  fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 80 }), check), {
    numRuns: 400,
    seed: 7,
  });
  fc.assert(
    fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), check),
    {
      numRuns: 300,
      seed: 8,
    },
  );
  // strings built from pieces of the training text exercise the merges
  const pieces = ["the", " the", " ", "  ", "\n", "é", "東", "🐈", "ion", "\t"];
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...pieces), { maxLength: 30 }),
      (p) => check(p.join("")),
    ),
    { numRuns: 300, seed: 9 },
  );
});

Deno.test("bpe: decodePiece streams the exact bytes, specials give none", () => {
  const s = "naïve 東京 🐈 the City";
  const ids = tok.encode(s, { eos: true });
  const parts: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    parts.push(...tok.decodePiece(i ? ids[i - 1] : BPE_BOS, ids[i]));
  }
  assert.equal(new TextDecoder().decode(new Uint8Array(parts)), s);
  assert.equal(tok.decodePiece(0, BPE_BOS).length, 0);
  assert.throws(() => tok.decode([tok.vocabSize]), InputError);
});

Deno.test("bpe + word: tokenizer.json round trip through tokenizerFromJSON, bad JSON rejected", () => {
  const back = tokenizerFromJSON(JSON.parse(JSON.stringify(tok.toJSON())));
  assert.equal(back.kind, "bpe");
  assert.deepEqual(back.encode(TRAIN_TEXT), tok.encode(TRAIN_TEXT));
  const w = WordTokenizer.fromWords(["a", "b"], { maxSize: 9 });
  assert.deepEqual(
    tokenizerFromJSON(w.toJSON()).encode("b a c"),
    w.encode("b a c"),
  );
  assert.throws(() => tokenizerFromJSON({ kind: "nope" }), FormatError);
  assert.throws(() => tokenizerFromJSON([1]), FormatError);
  assert.throws(
    () => tokenizerFromJSON({ kind: "bpe", merges: [1] }),
    FormatError,
  );
  assert.throws(
    () => tokenizerFromJSON({ kind: "bpe", merges: [1, 300] }),
    FormatError,
  );
  assert.throws(
    () => tokenizerFromJSON({ kind: "bpe", merges: [1, BPE_BOS] }),
    FormatError,
  );
  assert.throws(
    () => tokenizerFromJSON({ kind: "bpe", merges: [1, 2, 1, 2] }),
    FormatError,
  );
});
