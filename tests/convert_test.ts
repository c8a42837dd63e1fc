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
import { encodeLlama2cQ80 } from "../src/io/llama2c_q80.ts";

import {
  runcEncodeCases,
  runcGreedy,
  STORIES260K_PATH as MODEL,
  stories260KBytes,
  TOK512_PATH as TOK,
} from "./reference.ts";
import { testNeeding } from "./permissions.ts";

const test = testNeeding(import.meta.url, "read", "write");

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

test("convert stories260K: same weights bit for bit, same tokenizer, same greedy tokens", async () => {
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
    const ref = parseLlama2cCheckpoint(stories260KBytes());
    assert.deepEqual(allFloats(a.weights), allFloats(ref));
    assert.equal(
      a.weights.classifier.weight === a.weights.tokenEmbedding,
      true,
    );
    for (const c of runcEncodeCases()) {
      assert.deepEqual(a.tokenizer.encode(c.text), c.token_ids, c.text);
      assert.deepEqual(a.tokenizer.encode(c.text), b.tokenizer.encode(c.text));
    }
    const g = runcGreedy("once_upon_a_time");
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

test("convert / loadModelFile: usage and format errors", async () => {
  // each rejection for the reason named (the model file exists)
  const usage = (re: RegExp) => (e: unknown) =>
    e instanceof UsageError && re.test(e.message);
  const typed = (C: typeof ConfigError, re: RegExp) => (e: unknown) =>
    e instanceof C && re.test(e.message);
  await assert.rejects(
    loadModelFile(MODEL),
    typed(ConfigError, /a tokenizer is required/),
  );
  await assert.rejects(
    loadModelFile("/nonexistent/m.tar.gz"),
    typed(InputError, /model file not found/),
  );
  await assert.rejects(
    convert(["--model", MODEL, "--out", "/tmp/x.tar.gz"]),
    usage(/--tokenizer is required/),
  );
  await assert.rejects(convert(["--bogus"]), usage(/bogus/));
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

test("convert --to llama2c-q80: writes llama2.c's version 2 file; flags checked", async () => {
  const dir = await Deno.makeTempDir();
  const log = console.log;
  const lines: string[] = [];
  try {
    console.log = (...a: unknown[]) => lines.push(a.join(" "));
    const out = `${dir}/s260-q80.bin`;
    await convert(["--to", "llama2c-q80", "--model", MODEL, "--out", out]);
    const bytes = await Deno.readFile(out);
    assert.deepEqual(
      bytes,
      encodeLlama2cQ80(parseLlama2cCheckpoint(stories260KBytes()), 64),
    );
    assert.match(
      lines.join("\n"),
      /group 4: 64 does not divide dim 64 and hidden_dim 172/,
    );
    // from an archive too: the same weights give the same file
    await convert([
      "--model",
      MODEL,
      "--tokenizer",
      TOK,
      "--out",
      `${dir}/a.tar.gz`,
    ]);
    await convert([
      "--to",
      "llama2c-q80",
      "--model",
      `${dir}/a.tar.gz`,
      "--out",
      `${dir}/again.bin`,
    ]);
    assert.deepEqual(await Deno.readFile(`${dir}/again.bin`), bytes);
    console.log = log;
    const usage = (re: RegExp) => (e: unknown) =>
      e instanceof UsageError && re.test(e.message);
    await assert.rejects(
      convert(["--to", "gguf", "--model", MODEL, "--out", `${dir}/x`]),
      usage(/--to must be archive or llama2c-q80/),
    );
    await assert.rejects(
      convert(["--to", "llama2c-q80", "--model", out, "--out", `${dir}/y`]),
      usage(/already a llama2.c version 2 checkpoint/),
    );
    await assert.rejects(
      convert([
        "--to",
        "llama2c-q80",
        "--model",
        MODEL,
        "--out",
        `${dir}/y`,
        "--group",
        "0",
      ]),
      usage(/--group must be >= 1/),
    );
    await assert.rejects(
      convert([
        "--model",
        MODEL,
        "--tokenizer",
        TOK,
        "--out",
        `${dir}/y`,
        "--group",
        "8",
      ]),
      usage(/--group applies only with --to llama2c-q80/),
    );
  } finally {
    console.log = log;
    await Deno.remove(dir, { recursive: true });
  }
});
