import assert from "node:assert/strict";
import { main as convert } from "../src/cli/convert.ts";
import { loadModelFile, saveModelFile } from "../src/io/load_fs.ts";
import { isGzip } from "../src/bytes.ts";
import { parseLlama2cCheckpoint } from "../src/io/llama2c.ts";
import { createRunState, forwardToken } from "../src/model/decode.ts";
import { KvCacheFp32 } from "../src/kv/caches.ts";
import type { ModelWeights } from "../src/model/weights.ts";
import { UsageError } from "../src/cli/common.ts";
import { ConfigError, FormatError, InputError } from "../src/errors.ts";

const REF = new URL("../../shared/reference/", import.meta.url).pathname;
const MODEL = REF + "models/stories260K.bin";
const TOK = REF + "models/tok512.bin";

function greedy(w: ModelWeights, prompt: number[], n: number): number[] {
  const s = createRunState(w.config);
  const cache = new KvCacheFp32(w.config);
  const out: number[] = [];
  let tok = prompt[0];
  for (let pos = 0; pos < prompt.length - 1 + n; pos++) {
    const logits = forwardToken(w, s, cache, tok, pos);
    if (pos + 1 < prompt.length) tok = prompt[pos + 1];
    else {
      let best = 0;
      for (let i = 1; i < logits.length; i++) {
        if (logits[i] > logits[best]) best = i;
      }
      tok = best;
      out.push(tok);
    }
  }
  return out;
}

function allFloats(w: ModelWeights): Uint32Array[] {
  const f = (a: Float32Array | Int8Array | Uint8Array) =>
    new Uint32Array(a.slice().buffer);
  const out = [f(w.tokenEmbedding.data), f(w.rmsFinal)];
  for (const l of w.layers) {
    out.push(f(l.rmsAtt), f(l.rmsFfn));
    for (const m of [l.wq, l.wk, l.wv, l.wo, l.w1, l.w2, l.w3]) {
      out.push(f(m.weight.data));
    }
  }
  out.push(f(w.classifier.weight.data));
  return out;
}

Deno.test("convert stories260K: same weights bit for bit, same tokenizer, same greedy tokens", async () => {
  const dir = await Deno.makeTempDir();
  const log = console.log;
  try {
    const out = `${dir}/s260.tar.gz`;
    console.log = () => {};
    await convert(["--model", MODEL, "--tokenizer", TOK, "--out", out]);
    console.log = log;
    const bytes = await Deno.readFile(out);
    assert.ok(isGzip(bytes));
    const a = await loadModelFile(out);
    const b = await loadModelFile(MODEL, { tokenizer: TOK });
    assert.equal(a.source, "archive");
    assert.equal(b.source, "llama2c");
    assert.deepEqual(a.config, b.config);
    assert.deepEqual(a.training, {
      source: "llama2.c",
      converted_from: { model: "stories260K.bin", tokenizer: "tok512.bin" },
    });
    const ref = parseLlama2cCheckpoint(await Deno.readFile(MODEL));
    assert.deepEqual(allFloats(a.weights), allFloats(ref));
    assert.equal(
      a.weights.classifier.weight === a.weights.tokenEmbedding,
      true,
    );
    const vectors = JSON.parse(
      await Deno.readTextFile(REF + "stories260K/encode_vectors.json"),
    );
    for (const c of vectors.cases) {
      assert.deepEqual(a.tokenizer.encode(c.text), c.token_ids, c.text);
      assert.deepEqual(a.tokenizer.encode(c.text), b.tokenizer.encode(c.text));
    }
    const g = JSON.parse(
      await Deno.readTextFile(REF + "stories260K/greedy_once_upon_a_time.json"),
    );
    const n = 24;
    const fromArchive = greedy(a.weights, g.prompt_token_ids, n);
    assert.deepEqual(fromArchive, greedy(b.weights, g.prompt_token_ids, n));
    assert.deepEqual(fromArchive, g.generated_token_ids.slice(0, n));
    assert.equal(
      a.tokenizer.decode(fromArchive),
      b.tokenizer.decode(fromArchive),
    );
    // converting again gives the same bytes; saveModelFile replaces atomically
    console.log = () => {};
    await convert([
      "--model",
      MODEL,
      "--tokenizer",
      TOK,
      "--out",
      `${dir}/again.tar.gz`,
    ]);
    console.log = log;
    assert.deepEqual(await Deno.readFile(`${dir}/again.tar.gz`), bytes);
    const size = await saveModelFile(out, {
      weights: a.weights,
      tokenizer: a.tokenizer,
      training: { x: 1 },
    });
    assert.equal((await Deno.stat(out)).size, size);
    assert.deepEqual((await loadModelFile(out)).training, { x: 1 });
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "again.tar.gz",
      "s260.tar.gz",
    ]);
  } finally {
    console.log = log;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("convert / loadModelFile: usage and format errors", async () => {
  await assert.rejects(loadModelFile(MODEL), ConfigError);
  await assert.rejects(loadModelFile("/nonexistent/m.tar.gz"), InputError);
  await assert.rejects(
    convert(["--model", MODEL, "--out", "/tmp/x.tar.gz"]),
    UsageError,
  );
  await assert.rejects(convert(["--bogus"]), UsageError);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(
      `${dir}/bad.tar.gz`,
      new Uint8Array([0x1f, 0x8b, 1, 2, 3]),
    );
    await assert.rejects(loadModelFile(`${dir}/bad.tar.gz`), FormatError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
