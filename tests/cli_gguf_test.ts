// The GGUF command-line contract as the outside checks run it (subprocess):
// `logits` prints llama.cpp's teacher-forced top logits per position,
// `generate` prints the prompt and llama.cpp's greedy continuation,
// `export` writes a GGUF and refuses a word-level vocabulary in one line,
// `chat` answers each stdin line.
import assert from "node:assert/strict";
import {
  makeConfig,
  randomModelWeights,
  saveModelArchive,
  WordTokenizer,
} from "../mod.ts";
import { parseGguf } from "../src/io/gguf.ts";
import { testNeeding } from "./permissions.ts";
import { STORIES260K_PATH, TOK512_PATH } from "./reference.ts";
import { ROOT, runTask, taskArgs } from "./tasks.ts";

const test = testNeeding(import.meta.url, "read", "write", "run:deno");
const MODELS = new URL("./testdata/gguf/models/", import.meta.url);
const model = (name: string) => new URL(`${name}.gguf`, MODELS).pathname;

/** `deno task NAME ARGS…` with that task's permissions, `stdin` piped in. */
async function taskWithStdin(name: string, args: string[], stdin: string) {
  const [sub, ...rest] = taskArgs(name);
  const child = new Deno.Command(Deno.execPath(), {
    args: [sub, "-q", ...rest, ...args],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(stdin));
  await w.close();
  const out = await child.output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

function ref(name: string) {
  return JSON.parse(
    Deno.readTextFileSync(new URL(`${name}.ref.json`, MODELS)),
  ) as {
    prompt: string;
    steps: { pos: number; token: number; top: [number, number][] }[];
    greedy_ids: number[];
    greedy_text_hex: string;
  };
}

const hex = (h: string) =>
  Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));

test("cli logits: one JSON line per position, llama.cpp's top-8", async () => {
  const r = ref("stories260K-f16");
  const ids = r.steps.map((s) => s.token).join(" ");
  const { code, stdout } = await runTask("logits", [
    "--model",
    model("stories260K-f16"),
    "--ids",
    ids,
    "--top",
    "8",
  ]);
  assert.equal(code, 0);
  const lines = stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, r.steps.length);
  lines.forEach((l, p) => {
    assert.equal(l.pos, p);
    assert.equal(l.top.length, 8);
    const want = r.steps[p].top;
    assert.equal(l.top[0][0], want[0][0], `top-1 at ${p}`);
    for (const [id, v] of want) {
      const got = l.top.find((t: number[]) => t[0] === id);
      if (got) assert.ok(Math.abs(got[1] - v) <= 2e-3 * Math.abs(want[0][1]));
    }
  });
});

for (const name of ["stories260K-q8_0", "qwen2-gpt2-q8_0"]) {
  test(`cli generate ${name}: the prompt, then llama.cpp's greedy continuation`, async () => {
    const r = ref(name);
    const { code, stdout, stderr } = await runTask("generate", [
      "--model",
      model(name),
      "--prompt",
      r.prompt,
      "--temperature",
      "0",
      "--max-tokens",
      String(r.greedy_ids.length),
    ]);
    assert.equal(code, 0, stderr);
    const want = new Uint8Array([
      ...new TextEncoder().encode(r.prompt),
      ...hex(r.greedy_text_hex),
      10,
    ]);
    assert.equal(stdout, new TextDecoder().decode(want));
    assert.match(stderr, /achieved tok\/s: \d/);
  });
}

test("cli export: a GGUF for llama.cpp; a word-level vocabulary is one error line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const words = WordTokenizer.fromWords("a b c a b".split(" "), {
      maxSize: 3,
    });
    const weights = randomModelWeights(
      makeConfig({
        dim: 8,
        hiddenDim: 16,
        nLayers: 1,
        nHeads: 2,
        vocabSize: words.vocabSize,
        seqLen: 8,
      }),
      1,
    );
    await Deno.writeFile(
      `${dir}/word.tar.gz`,
      await saveModelArchive({ weights, tokenizer: words }),
    );
    const bad = await runTask("export", [
      "--model",
      `${dir}/word.tar.gz`,
      "--out",
      `${dir}/word.gguf`,
    ]);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr.trim(),
      /^tinyllm: error: .*GGUF has no word-level tokenizer type/,
    );
    assert.equal(bad.stderr.trim().split("\n").length, 1);
    const ok = await runTask("export", [
      "--model",
      STORIES260K_PATH,
      "--tokenizer",
      TOK512_PATH,
      "--out",
      `${dir}/s.gguf`,
      "--type",
      "q4_k",
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const f = parseGguf(await Deno.readFile(`${dir}/s.gguf`));
    assert.equal(f.metadata.get("general.architecture"), "llama");
    assert.equal(f.tensor("blk.0.attn_q.weight")!.typeName, "Q5_0"); // 64 wide: not whole Q4_K blocks
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("cli chat: one reply per stdin line, stopping at the reply limit or EOG", async () => {
  const { code, stdout, stderr } = await taskWithStdin("chat", [
    "--model",
    model("stories260K-f32"),
    "--temperature",
    "0",
    "--max-tokens",
    "8",
  ], "Once upon a time\nThe end\n");
  assert.equal(code, 0, stderr);
  assert.match(stderr, /no tokenizer\.chat_template; using ChatML/);
  assert.equal(stdout.split("\n").length, 3);
});
