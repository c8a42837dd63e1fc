// llama2.c checkpoint and tokenizer loaders: round trips, validation errors,
// and run.c's decode/print rules.
import assert from "node:assert/strict";
import {
  encodeLlama2cCheckpoint,
  llama2cFileSize,
  parseLlama2cCheckpoint,
} from "../src/io/llama2c.ts";
import {
  encodeLlama2cTokenizer,
  Llama2cTokenizer,
  parseLlama2cTokenizer,
} from "../src/tokenizer/llama2c.ts";
import { tokenizerFromJSON } from "../src/tokenizer/json.ts";
import { randomModelWeights } from "../src/model/build.ts";
import { FormatError, ShapeError } from "../src/errors.ts";
import { makeConfig, type ModelConfig } from "../src/model/config.ts";

import {
  stories260KBytes,
  tok512Bytes,
  tokenizer32kBytes,
} from "./reference.ts";

const tok512 = tok512Bytes();
const tok32k = tokenizer32kBytes();
const model260k = stories260KBytes();

const cfg: ModelConfig = makeConfig({
  dim: 16,
  hiddenDim: 40,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: 12,
  seqLen: 8,
  sharedClassifier: false,
});

Deno.test("llama2c checkpoint: encode → parse round-trips every tensor (unshared classifier)", () => {
  const w = randomModelWeights(cfg, 3);
  const bytes = encodeLlama2cCheckpoint(w);
  assert.equal(bytes.length, llama2cFileSize(cfg));
  assert.equal(new DataView(bytes.buffer).getInt32(20, true), -12);
  const back = parseLlama2cCheckpoint(bytes);
  assert.deepEqual(back.config, cfg);
  assert.deepEqual(back.tokenEmbedding.data, w.tokenEmbedding.data);
  assert.deepEqual(back.classifier.weight.data, w.classifier.weight.data);
  assert.notEqual(back.classifier.weight, back.tokenEmbedding);
  for (let l = 0; l < cfg.nLayers; l++) {
    for (const k of ["wq", "wk", "wv", "wo", "w1", "w2", "w3"] as const) {
      assert.deepEqual(
        back.layers[l][k].weight.data,
        w.layers[l][k].weight.data,
      );
      assert.equal(back.layers[l][k].weight.rows, w.layers[l][k].weight.rows);
    }
    assert.deepEqual(back.layers[l].rmsAtt, w.layers[l].rmsAtt);
  }
  // and the bytes re-encode identically
  assert.deepEqual(encodeLlama2cCheckpoint(back), bytes);
});

Deno.test("llama2c checkpoint: stories260K re-encodes byte for byte (freq_cis included)", () => {
  const w = parseLlama2cCheckpoint(model260k);
  const again = encodeLlama2cCheckpoint(w);
  // freq_cis is recomputed in float64→float32 vs the exporter's float32: allow last-bit differences there only
  const hs = 8, start = llama2cFileSize(w.config) - 4 * 512 * hs;
  assert.deepEqual(again.subarray(0, start), model260k.subarray(0, start));
  const a = new Float32Array(again.buffer, start, 512 * hs);
  const b = new Float32Array(
    model260k.buffer,
    model260k.byteOffset + start,
    512 * hs,
  );
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i] - b[i]) < 1e-4, `freq_cis[${i}]`);
  }
});

Deno.test("llama2c checkpoint: misaligned buffer is copied and still parses", () => {
  const bytes = encodeLlama2cCheckpoint(randomModelWeights(cfg, 4));
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  const w = parseLlama2cCheckpoint(shifted.subarray(1));
  assert.deepEqual(
    w.layers[1].w2.weight.data,
    parseLlama2cCheckpoint(bytes).layers[1].w2.weight.data,
  );
});

Deno.test("llama2c checkpoint: size mismatch and absurd headers are FormatErrors naming sizes", () => {
  const bytes = encodeLlama2cCheckpoint(randomModelWeights(cfg, 5));
  assert.throws(
    () => parseLlama2cCheckpoint(bytes.subarray(0, bytes.length - 4), "m.bin"),
    (e: unknown) =>
      e instanceof FormatError &&
      e.message.includes(
        `needs ${bytes.length} bytes, file is ${bytes.length - 4}`,
      ) &&
      e.message.startsWith("m.bin:"),
  );
  const longer = new Uint8Array(bytes.length + 4);
  longer.set(bytes);
  assert.throws(() => parseLlama2cCheckpoint(longer), FormatError);
  assert.throws(
    () => parseLlama2cCheckpoint(bytes.subarray(0, 10)),
    /header needs 28/,
  );
  const bad = (i: number, v: number) => {
    const b = bytes.slice();
    new DataView(b.buffer).setInt32(i * 4, v, true);
    return b;
  };
  assert.throws(
    () => parseLlama2cCheckpoint(bad(0, 2 ** 30)),
    /dim = 1073741824 is out of range/,
  );
  assert.throws(() => parseLlama2cCheckpoint(bad(2, 0)), /n_layers = 0/);
  assert.throws(() => parseLlama2cCheckpoint(bad(4, 3)), /inconsistent/);
  assert.throws(() => parseLlama2cCheckpoint(bad(5, -(2 ** 31))), FormatError);
  // the tokenizer is not a checkpoint
  assert.throws(() => parseLlama2cCheckpoint(tok512), FormatError);
});

Deno.test("llama2c tokenizer: parses tok512 and the 32000-token tokenizer; binary round trip", () => {
  const t = parseLlama2cTokenizer(tok512, { vocabSize: 512 });
  assert.equal(t.vocabSize, 512);
  assert.equal(t.maxTokenLength, 7);
  assert.deepEqual(encodeLlama2cTokenizer(t), tok512);
  assert.ok(Object.is(t.score(259), -0));
  const big = parseLlama2cTokenizer(tok32k, { vocabSize: 32000 });
  assert.deepEqual(encodeLlama2cTokenizer(big), tok32k);
  assert.deepEqual(big.encode("Hello world"), [1, 15043, 3186]);
});

Deno.test("llama2c tokenizer: JSON round trip is exact (pieces, scores, -0)", () => {
  for (const bytes of [tok512, tok32k]) {
    const t = parseLlama2cTokenizer(bytes);
    const json = JSON.parse(JSON.stringify(t.toJSON()));
    assert.equal(json.kind, "llama2c");
    const back = tokenizerFromJSON(json) as Llama2cTokenizer;
    assert.deepEqual(encodeLlama2cTokenizer(back), bytes);
  }
  // a piece that is not valid UTF-8 survives too
  const odd = new Llama2cTokenizer(
    [[0x3c], [1], [2], [0xff, 0xfe], [0xe6, 0x97]].map((b) =>
      Uint8Array.from(b)
    ),
    new Float32Array([0, -0, 1.5, -2, 3]),
  );
  const back = Llama2cTokenizer.fromJSON(JSON.parse(JSON.stringify(odd)));
  assert.deepEqual(encodeLlama2cTokenizer(back), encodeLlama2cTokenizer(odd));
  assert.throws(
    () =>
      Llama2cTokenizer.fromJSON({ kind: "llama2c", pieces: [1], scores: "" }),
    FormatError,
  );
});

Deno.test("llama2c tokenizer: truncated, foreign and mismatched files", () => {
  assert.throws(
    () => parseLlama2cTokenizer(tok512.subarray(0, 101), { name: "t.bin" }),
    (e: unknown) =>
      e instanceof FormatError &&
      /^t\.bin: truncated .*token \d+/.test(e.message),
  );
  assert.throws(
    () => parseLlama2cTokenizer(tok512.subarray(0, 2)),
    FormatError,
  );
  assert.throws(() => parseLlama2cTokenizer(model260k), FormatError);
  assert.throws(
    () => parseLlama2cTokenizer(tok512, { vocabSize: 32000 }),
    (e: unknown) =>
      e instanceof ShapeError && /512 tokens .* 32000/.test(e.message),
  );
});

Deno.test("llama2c tokenizer: decodePiece follows run.c's decode + safe_printf", () => {
  const t = parseLlama2cTokenizer(tok512);
  const s = (b: Uint8Array) => Array.from(b);
  const enc = (x: string) => Array.from(new TextEncoder().encode(x));
  assert.deepEqual(s(t.decodePiece(1, 403)), enc("Once")); // space dropped after BOS
  assert.deepEqual(s(t.decodePiece(378, 403)), enc(" Once"));
  assert.deepEqual(s(t.decodePiece(5, 13)), [10]); // <0x0A> → newline
  assert.deepEqual(s(t.decodePiece(5, 12)), [9]); // tab is whitespace: printed
  assert.deepEqual(s(t.decodePiece(5, 3 + 7)), []); // <0x07> bell: skipped
  assert.deepEqual(s(t.decodePiece(5, 3 + 0xe6)), []); // lone high byte: skipped like run.c
  assert.deepEqual(s(t.decodePiece(5, 3 + 0x41)), [0x41]);
  assert.deepEqual(s(t.decodePiece(5, 1)), []); // BOS never printed
  assert.deepEqual(s(t.decodePiece(1, 410)), []); // " " after BOS is empty
  assert.throws(() => t.decodePiece(1, 512), ShapeError);
  // decode() keeps byte-fallback characters whole
  assert.equal(t.decode(t.encode("unseen 日本語")), "unseen 日本語");
  assert.equal(
    t.decode(t.encode("tabs\tand\nnewlines")),
    "tabs\tand\nnewlines",
  );
});
