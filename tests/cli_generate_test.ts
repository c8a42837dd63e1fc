// `tinyllm generate` and `random-checkpoint` as a user runs them (subprocess):
// exact run.c stdout, tok/s line, and one-line errors with exit code 1.
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const REF = new URL("../shared/reference/", ROOT);
const MODEL = new URL("models/stories260K.bin", REF).pathname;
const TOK = new URL("models/tok512.bin", REF).pathname;
const MAIN = new URL("src/cli/main.ts", ROOT).pathname;

async function cli(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  // Deno's own progress lines (another process holding the npm cache lock)
  // are not the program's output.
  const stderr = dec.decode(out.stderr).split("\n").filter((l) =>
    // deno-lint-ignore no-control-regex
    !/^(\x1b\[[0-9;]*m)*(Blocking|Download|Initialize)\b/.test(l)
  ).join("\n");
  return { code: out.code, stdout: dec.decode(out.stdout), stderr };
}

Deno.test("cli generate: --temperature 0 prints exactly run.c's stdout for the 3 reference prompts", async () => {
  const names = ["once_upon_a_time", "lily_park", "empty"];
  await Promise.all(names.map(async (name) => {
    const ref = JSON.parse(
      await Deno.readTextFile(new URL(`stories260K/greedy_${name}.json`, REF)),
    );
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

Deno.test("cli generate: bad input gives one error line and exit code 1", async () => {
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
    const big = new URL("models/tokenizer.bin", REF).pathname;
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

Deno.test("cli random-checkpoint: writes a loadable checkpoint of the asked shape", async () => {
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

Deno.test("cli generate: a tinyllm archive (converted from stories260K) prints the same text", async () => {
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
    const ref = JSON.parse(
      await Deno.readTextFile(
        new URL("stories260K/greedy_once_upon_a_time.json", REF),
      ),
    );
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
