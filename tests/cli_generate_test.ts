// `tinyllm generate` and `random-checkpoint` as a user runs them (subprocess):
// exact run.c stdout, tok/s line, and one-line errors with exit code 1.
import assert from "node:assert/strict";
import {
  runcGreedy,
  STORIES260K_PATH as MODEL,
  TOK512_PATH as TOK,
  TOKENIZER32K_PATH,
} from "./reference.ts";
import { testNeeding } from "./permissions.ts";
import { ROOT, runTask } from "./tasks.ts";

const test = testNeeding(import.meta.url, "read", "write", "run:deno");

/** `deno task <args[0]> <rest>`, with that task's permissions. */
function cli(args: string[]) {
  const [task, ...rest] = args;
  return runTask(task, rest);
}

test("cli generate: --temperature 0 prints exactly run.c's stdout for the 3 reference prompts", async () => {
  const names = ["once_upon_a_time", "lily_park", "empty"] as const;
  await Promise.all(names.map(async (name) => {
    const ref = runcGreedy(name);
    // run.c's -n 64 counts positions incl. the prompt: 64 - P + 1 new tokens
    const maxTokens = ref.steps - ref.prompt_token_ids.length + 1;
    const r = await cli([
      "generate",
      "--model",
      MODEL,
      "--tokenizer",
      TOK,
      "--prompt",
      ref.prompt,
      "--temperature",
      "0",
      "--max-tokens",
      String(maxTokens),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, ref.stdout, name);
    assert.match(r.stderr, /^achieved tok\/s: \d+(\.\d+)?\n$/);
  }));
});

test("cli generate: bad input gives one error line and exit code 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const trunc = `${dir}/trunc.bin`;
    const bytes = await Deno.readFile(MODEL);
    await Deno.writeFile(trunc, bytes.subarray(0, 5000));
    const foreign = `${dir}/foreign.bin`;
    await Deno.writeTextFile(foreign, "hello, this is not a checkpoint at all");
    const tokTrunc = `${dir}/tok.bin`;
    await Deno.writeFile(
      tokTrunc,
      (await Deno.readFile(TOK)).subarray(0, 1001),
    );
    const big = TOKENIZER32K_PATH;
    const base = ["generate", "--model", MODEL, "--tokenizer", TOK];
    const cases: [string[], RegExp][] = [
      [
        ["generate", "--model", `${dir}/nope.bin`, "--tokenizer", TOK],
        /model file not found/,
      ],
      [
        ["generate", "--model", trunc, "--tokenizer", TOK],
        /needs 1056540 bytes, file is 5000/,
      ],
      [
        ["generate", "--model", foreign, "--tokenizer", TOK],
        /foreign\.bin: header field/,
      ],
      [
        ["generate", "--model", MODEL, "--tokenizer", tokTrunc],
        /tok\.bin: truncated/,
      ],
      [
        ["generate", "--model", MODEL, "--tokenizer", big],
        /32000 tokens but the model's vocab_size is 512/,
      ],
      [
        ["generate", "--model", MODEL, "--tokenizer", MODEL],
        /stories260K\.bin: .*not a llama2\.c tokenizer/,
      ],
      [
        [...base, "--prompt", "Once upon a time ".repeat(200)],
        /longer than the model's seq_len 512/,
      ],
      [[...base, "--temperature", "NaN"], /--temperature must be a number/],
      [[...base, "--top-p", "2"], /--top-p must be <= 1/],
      [[...base, "--max-tokens", "1.5"], /--max-tokens must be an integer/],
      [[...base, "--cache", "ring:x"], /--cache must be/],
      [[...base, "--backend", "gpu"], /--backend must be/],
      [[...base, "--bogus"], /bogus/],
      [["generate", "--tokenizer", TOK], /--model is required/],
      [["generate", "--model", MODEL], /tokenizer is required/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    results.forEach((r, i) => {
      const [args, re] = cases[i];
      assert.equal(r.code, 1, `${args.join(" ")}\n${r.stderr}`);
      assert.match(r.stderr, /^tinyllm: error: [^\n]+\n$/, r.stderr);
      assert.match(r.stderr, re);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("cli: a missing permission is one error line, not a NotCapable trace", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-q",
      `${ROOT}/src/cli/main.ts`,
      "generate",
      "--model",
      MODEL,
      "--tokenizer",
      TOK,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1);
  assert.match(
    stderr,
    /^tinyllm: error: missing permission: Requires read access to "[^"]*stories260K\.bin"[^\n]*\n$/,
  );
});

test("cli random-checkpoint: writes a loadable checkpoint of the asked shape", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/r.bin`;
    const r = await cli([
      "random-checkpoint",
      "--dim",
      "32",
      "--layers",
      "2",
      "--heads",
      "4",
      "--vocab",
      "512",
      "--seq-len",
      "64",
      "--seed",
      "3",
      "--out",
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const { parseLlama2cCheckpoint } = await import("../src/io/llama2c.ts");
    const w = parseLlama2cCheckpoint(await Deno.readFile(out));
    assert.equal(w.config.dim, 32);
    assert.equal(w.config.nLayers, 2);
    assert.equal(w.config.seqLen, 64);
    const g = await cli([
      "generate",
      "--model",
      out,
      "--tokenizer",
      TOK,
      "--max-tokens",
      "5",
      "--seed",
      "1",
      "--cache",
      "int8",
    ]);
    assert.equal(g.code, 0, g.stderr);
    const bad = await cli([
      "random-checkpoint",
      "--shape",
      "99M",
      "--out",
      out,
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^tinyllm: error: --shape must be one of/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("cli generate: a tinyllm archive (converted from stories260K) prints the same text", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const archive = `${dir}/m.tar.gz`;
    const c = await cli([
      "convert",
      "--model",
      MODEL,
      "--tokenizer",
      TOK,
      "--out",
      archive,
    ]);
    assert.equal(c.code, 0, c.stderr);
    const ref = runcGreedy("once_upon_a_time");
    const r = await cli([
      "generate",
      "--model",
      archive,
      "--prompt",
      ref.prompt,
      "--temperature",
      "0",
      "--max-tokens",
      "60",
      "--backend",
      "js",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, ref.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("cli generate --suppress-unk: a word model's <unk> is never printed", async () => {
  const { WordTokenizer } = await import("../src/tokenizer/word.ts");
  const { randomModelWeights } = await import("../src/model/build.ts");
  const { saveModelArchive } = await import("../src/io/archive.ts");
  const dir = await Deno.makeTempDir();
  try {
    const words = "the a dog cat ran sat on mat".split(" ");
    const tokenizer = WordTokenizer.fromWords(words, { maxSize: 8 });
    const { makeConfig } = await import("../src/model/config.ts");
    const weights = randomModelWeights(
      makeConfig({
        dim: 16,
        hiddenDim: 32,
        nLayers: 1,
        nHeads: 2,
        vocabSize: tokenizer.vocabSize,
        seqLen: 256,
        sharedClassifier: false,
      }),
      1,
    );
    // Blocks that add nothing (wo, w2 = 0), every embedding [1, 0, …], and a
    // classifier reading only that first component: <pad>, <bos> and <eos>
    // far below, <unk> and the words equally likely.
    for (const l of weights.layers) {
      (l.wo.weight.data as Float32Array).fill(0);
      (l.w2.weight.data as Float32Array).fill(0);
    }
    const emb = weights.tokenEmbedding.data as Float32Array;
    emb.fill(0);
    for (let t = 0; t < tokenizer.vocabSize; t++) emb[t * 16] = 1;
    weights.rmsFinal.fill(1);
    const cls = weights.classifier.weight.data as Float32Array;
    cls.fill(0);
    for (const special of [0, tokenizer.bosId, tokenizer.eosId]) {
      cls[special * 16] = -100;
    }
    const archive = `${dir}/w.tar.gz`;
    await Deno.writeFile(
      archive,
      await saveModelArchive({ weights, tokenizer }),
    );
    const base = [
      "generate",
      "--model",
      archive,
      "--prompt",
      "the",
      "--max-tokens",
      "200",
      "--seed",
      "3",
    ];
    const plain = await cli(base);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /<unk>/); // 1 in 9 of 200 tokens
    const suppressed = await cli([...base, "--suppress-unk"]);
    assert.equal(suppressed.code, 0, suppressed.stderr);
    assert.doesNotMatch(suppressed.stdout, /<unk>/);
    assert.ok(suppressed.stdout.split(" ").length > 150);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
