// `tinyllm tokenize` as a user (and the checkers) run it: stdin in, one line
// of ids out, equal to llama.cpp's vocab tests; --decode; one-line errors.
import assert from "node:assert/strict";
import { testNeeding } from "./permissions.ts";
import { ROOT as ROOT_DIR, taskArgs } from "./tasks.ts";

const test = testNeeding(import.meta.url, "read", "run:deno");

const ROOT = new URL("../", import.meta.url);
const VOCAB = new URL("tests/testdata/gguf/vocab/", ROOT);
const SEP = "\n__ggml_vocab_test__\n";

async function cli(args: string[], stdin: Uint8Array | string) {
  // `deno task tokenize`, with that task's permissions
  const [sub, ...task] = taskArgs("tokenize");
  const child = new Deno.Command(Deno.execPath(), {
    args: [sub, "-q", ...task, ...args],
    cwd: ROOT_DIR,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(
    typeof stdin === "string" ? new TextEncoder().encode(stdin) : stdin,
  );
  await w.close();
  const out = await child.output();
  const dec = new TextDecoder();
  const stderr = dec.decode(out.stderr).split("\n").filter((l) =>
    // deno-lint-ignore no-control-regex
    !/^(\x1b\[[0-9;]*m)*(Blocking|Download|Initialize)\b/.test(l)
  ).join("\n");
  return { code: out.code, stdout: dec.decode(out.stdout), stderr };
}

test("cli tokenize: llama.cpp's vocab test lines (no BOS, specials not parsed)", async () => {
  for (const name of ["llama-spm", "gpt-2", "phi-3"]) {
    const model = new URL(`ggml-vocab-${name}.gguf`, VOCAB).pathname;
    const inputs = (await Deno.readTextFile(`${model}.inp`)).split(SEP);
    const outputs = (await Deno.readTextFile(`${model}.out`)).split("\n");
    // A few inputs per vocabulary (each run is a process): the empty one,
    // whitespace, and the longest.
    const longest = inputs.reduce(
      (a, s, i) => s.length > inputs[a].length ? i : a,
      0,
    );
    for (const i of [0, 1, 5, longest]) {
      const r = await cli(["--model", model], inputs[i]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(" " + r.stdout.trimEnd(), outputs[i] || " ", `${name} ${i}`);
      assert.ok(r.stdout.endsWith("\n"));
    }
  }
});

test("cli tokenize: --add-special, --parse-special and --decode", async () => {
  const model = new URL("ggml-vocab-gpt-2.gguf", VOCAB).pathname;
  let r = await cli(["--model", model], "Hello world<|endoftext|>");
  assert.equal(r.stdout, "15496 995 27 91 437 1659 5239 91 29\n");
  r = await cli(
    ["--model", model, "--parse-special"],
    "Hello world<|endoftext|>",
  );
  assert.equal(r.stdout, "15496 995 50256\n");
  r = await cli(["--model", model, "--decode"], "15496 995\n");
  assert.equal(r.stdout, "Hello world");
  const spm = new URL("ggml-vocab-llama-spm.gguf", VOCAB).pathname;
  r = await cli(["--model", spm, "--add-special"], "Hello world");
  assert.equal(r.stdout, "1 15043 3186\n");
  // llama_detokenize: without a BOS the SPM prefix space is stripped; after
  // a (removed) BOS it is kept.
  r = await cli(["--model", spm, "--decode"], "15043 3186");
  assert.equal(r.stdout, "Hello world");
  r = await cli(["--model", spm, "--decode", "--add-special"], "1 15043 3186");
  assert.equal(r.stdout, " Hello world");
});

test("cli tokenize: bad input gives one error line and exit code 1", async () => {
  const model = new URL("ggml-vocab-gpt-2.gguf", VOCAB).pathname;
  const cases: [string[], string, RegExp][] = [
    [[], "x", /--model is required/],
    [["--model", "/nonexistent.gguf"], "x", /not found/],
    [["--model", `${model}.inp`], "x", /gguf/i],
    [["--model", model, "--decode"], "1 x 2", /not a token id/],
    [["--model", model, "--decode"], "99999999", /outside the vocabulary/],
  ];
  for (const [args, stdin, msg] of cases) {
    const r = await cli(args, stdin);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
});
