import assert from "node:assert/strict";
import { WORD_SPECIALS, WordTokenizer } from "../src/tokenizer/word.ts";
import { FormatError, InputError } from "../src/errors.ts";

const dec = new TextDecoder();

Deno.test("WordTokenizer: specials first, then descending count, ties by first occurrence", () => {
  const words = "c b a b a d e e e".split(" ");
  const t = WordTokenizer.fromWords(words, { maxSize: 10 });
  assert.deepEqual(t.tokens, [...WORD_SPECIALS, "e", "b", "a", "c", "d"]);
  assert.deepEqual(
    WordTokenizer.fromWords(words, { maxSize: 2 }).tokens.slice(4),
    ["e", "b"],
  );
  assert.deepEqual(
    WordTokenizer.fromWords(words, { minCount: 2 }).tokens.slice(4),
    ["e", "b", "a"],
  );
  assert.equal(t.padId, 0);
  assert.equal(t.unkId, 1);
  assert.equal(t.bosId, 2);
  assert.equal(t.eosId, 3);
});

Deno.test("WordTokenizer: encode/decode/decodePiece", () => {
  const t = WordTokenizer.fromWords(["The", "jury", ",", "The"], {
    maxSize: 10,
  });
  assert.deepEqual(t.encode("The jury ,\n said"), [2, 4, 5, 6, 1]);
  assert.deepEqual(t.encode("The", { bos: false, eos: true }), [4, 3]);
  assert.deepEqual(t.encodeWords(["jury", "x"], { bos: false }), [5, 1]);
  assert.equal(t.decode([2, 4, 5, 1, 3, 0]), "The jury <unk>");
  assert.equal(dec.decode(t.decodePiece(4, 5)), " jury");
  assert.equal(dec.decode(t.decodePiece(2, 5)), "jury");
  assert.equal(t.decodePiece(4, 3).length, 0);
  assert.throws(() => t.decode([99]), InputError);
  assert.throws(() => t.decodePiece(0, -1), InputError);
});

Deno.test("WordTokenizer: JSON round trip and validation", () => {
  const t = WordTokenizer.fromWords("x y y z".split(" "), { maxSize: 3 });
  const back = WordTokenizer.fromJSON(JSON.parse(JSON.stringify(t.toJSON())));
  assert.deepEqual(back.tokens, t.tokens);
  assert.deepEqual(back.encode("y z q"), t.encode("y z q"));
  assert.throws(() => WordTokenizer.fromJSON({ kind: "bpe" }), FormatError);
  assert.throws(() => new WordTokenizer(["a", "b"]), FormatError);
  assert.throws(
    () => new WordTokenizer([...WORD_SPECIALS, "a", "a"]),
    FormatError,
  );
  assert.throws(
    () => new WordTokenizer([...WORD_SPECIALS, "a b"]),
    FormatError,
  );
});
