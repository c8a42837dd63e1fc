// The train and eval commands end to end on a small text file (word and BPE
// tokenizers), resume, and one-line usage errors.
import assert from "node:assert/strict";
import { main as train } from "../src/cli/train.ts";
import { main as evalMain } from "../src/cli/eval.ts";
import { UsageError } from "../src/cli/common.ts";
import { loadModelFile } from "../src/io/load_fs.ts";
import { Rng } from "../src/random.ts";
import { STORIES260K_PATH, TOK512_PATH } from "./reference.ts";
import { testNeeding } from "./permissions.ts";

const test = testNeeding(import.meta.url, "read", "write", "env");

const TINY = [
  "--dim",
  "16",
  "--layers",
  "1",
  "--heads",
  "2",
  "--hidden",
  "32",
  "--seq-len",
  "8",
  "--batch",
  "2",
  "--eval-tokens",
  "200",
  "--quiet",
];

async function quietly<T>(f: () => Promise<T>): Promise<string> {
  const log = console.log;
  const lines: string[] = [];
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    await f();
  } finally {
    console.log = log;
  }
  return lines.join("\n");
}

test("train CLI: word and BPE runs on --data, saved archive loads, eval prints perplexity, resume continues", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const rng = new Rng(1);
    const words = "the a cat dog sat on mat and ran far".split(" ");
    const text = Array.from(
      { length: 4000 },
      () => words[rng.int(words.length)],
    )
      .join(" ");
    await Deno.writeTextFile(`${dir}/t.txt`, text);
    const out = `${dir}/m.tar.gz`;
    const log = await quietly(() =>
      train([...TINY, "--data", `${dir}/t.txt`, "--steps", "3", "--out", out])
    );
    assert.match(log, /Vocab: 14, Tokens: \d+/);
    assert.match(log, /Model saved to/);
    // the final figure names what it is measured on
    assert.match(
      log,
      /val perplexity [\d.]+ \(the whole validation split, \d+ tokens in windows of 8\)/,
    );
    const m = await loadModelFile(out);
    assert.equal(m.config.dim, 16);
    const t = m.training as Record<string, unknown>;
    assert.equal(t.steps, 3);
    assert.equal((t.hyper as { seqLen: number }).seqLen, 8);
    assert.equal((t.curve as unknown[]).length, 3);

    const resumed = `${dir}/r.tar.gz`;
    const rlog = await quietly(() =>
      train(["--resume", out, "--steps", "5", "--out", resumed])
    );
    assert.match(rlog, /resuming at step 3/);
    // the in-training figure names its sample
    assert.match(
      rlog,
      /Step 4\/5, .*Val loss \(\d+ fixed val windows of 8\): [\d.]+ \(ppl [\d.]+\)/,
    );
    assert.match(
      rlog,
      /Evaluating perplexity on the whole validation split/,
    );
    assert.equal((await loadModelFile(resumed)).training?.steps, 5);

    const ev = await quietly(() =>
      evalMain(["--model", out, "--split", "test", "--json"])
    );
    const r = JSON.parse(ev);
    assert.ok(r.perplexityPerWord > 1 && r.perplexityPerWord < 20); // ~uniform after 3 steps
    assert.equal(r.perplexityPerToken, r.perplexityPerWord); // word tokens

    const bpe = `${dir}/b.tar.gz`;
    await quietly(() =>
      train([
        ...TINY,
        "--data",
        `${dir}/t.txt`,
        "--tokenizer",
        "bpe",
        "--bpe-vocab",
        "280",
        "--steps",
        "2",
        "--out",
        bpe,
      ])
    );
    const b = JSON.parse(
      await quietly(() =>
        evalMain(["--model", bpe, "--json", "--tokens", "300"])
      ),
    );
    // several BPE tokens per word: per-word perplexity is the larger one
    assert.ok(b.perplexityPerWord > b.perplexityPerToken);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("train/eval CLI: bad flags are one-line usage errors", async () => {
  await assert.rejects(() => train(["--preset", "nope"]), UsageError);
  await assert.rejects(() => train(["--positional", "abs"]), UsageError);
  await assert.rejects(() => train(["--lr", "fast"]), UsageError);
  await assert.rejects(() => evalMain([]), /--model is required/);
  await assert.rejects(
    () =>
      evalMain([
        "--model",
        STORIES260K_PATH,
        "--tokenizer",
        TOK512_PATH,
      ]),
    /--data file.txt is required/,
  );
});
