// Commands never destroy their input, --resume refuses settings it would
// ignore, and an empty or non-gzip ".tar.gz" is named as what it is.
import assert from "node:assert/strict";
import { main as quantize } from "../src/cli/quantize.ts";
import { main as convert } from "../src/cli/convert.ts";
import { main as train } from "../src/cli/train.ts";
import { UsageError } from "../src/cli/common.ts";
import { FormatError, InputError } from "../src/errors.ts";
import { loadModelFile } from "../src/io/load_fs.ts";
import { STORIES260K_PATH, TOK512_PATH } from "./reference.ts";
import { testNeeding } from "./permissions.ts";

const test = testNeeding(import.meta.url, "read", "write", "env", "run:ln");

const rejectsWith = (C: typeof InputError | typeof UsageError, re: RegExp) =>
(
  e: unknown,
) => e instanceof C && re.test(e.message);

async function silently<T>(f: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => {};
  try {
    return await f();
  } finally {
    console.log = log;
  }
}

test("quantize/convert: an --out that is an input file (by any name) is refused, the input kept", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bin = `${dir}/c.bin`, tok = `${dir}/tok.bin`;
    await Deno.copyFile(STORIES260K_PATH, bin);
    await Deno.copyFile(TOK512_PATH, tok);
    const archive = `${dir}/a.tar.gz`;
    await silently(() =>
      convert(["--model", bin, "--tokenizer", tok, "--out", archive])
    );
    const before = await Deno.readFile(archive);
    await Deno.link(archive, `${dir}/hard.tar.gz`);
    // Deno.symlink needs unscoped write permission; `ln -s` needs only --allow-run=ln
    const ln = await new Deno.Command("ln", {
      args: ["-s", archive, `${dir}/soft.tar.gz`],
    }).output();
    assert.ok(ln.success, "ln -s failed");
    for (
      const out of [
        `${dir}/./a.tar.gz`,
        `${dir}/../${dir.split("/").pop()}/a.tar.gz`,
        `${dir}/hard.tar.gz`,
        `${dir}/soft.tar.gz`,
      ]
    ) {
      await assert.rejects(
        silently(() =>
          quantize(["--model", archive, "--type", "int4", "--out", out])
        ),
        rejectsWith(InputError, /is the input file .*\(--model\)/),
        out,
      );
    }
    assert.deepEqual(await Deno.readFile(archive), before);
    const binBefore = await Deno.readFile(bin);
    for (
      const [args, flag] of [
        [["--model", bin, "--tokenizer", tok, "--out", bin], "--model"],
        [["--model", bin, "--tokenizer", tok, "--out", tok], "--tokenizer"],
        [["--to", "llama2c-q80", "--model", bin, "--out", bin], "--model"],
      ] as const
    ) {
      await assert.rejects(
        silently(() => convert([...args])),
        rejectsWith(InputError, new RegExp(`\\(${flag}\\)`)),
      );
    }
    await assert.rejects(
      silently(() =>
        quantize([
          "--model",
          bin,
          "--tokenizer",
          tok,
          "--type",
          "int8",
          "--out",
          tok,
        ])
      ),
      rejectsWith(InputError, /\(--tokenizer\)/),
    );
    assert.deepEqual(await Deno.readFile(bin), binBefore);
    // a new path is fine
    await silently(() =>
      quantize([
        "--model",
        archive,
        "--type",
        "int4",
        "--out",
        `${dir}/q.tar.gz`,
      ])
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("train: --out onto the --data file is refused; --resume refuses settings it would ignore", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const text = `${dir}/t.txt`;
    await Deno.writeTextFile(text, "the cat sat on the mat ".repeat(400));
    const tiny = [
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
      "100",
      "--quiet",
    ];
    await assert.rejects(
      silently(() => train([...tiny, "--data", text, "--out", text])),
      rejectsWith(InputError, /is the input file .*\(--data\)/),
    );
    assert.equal((await Deno.readTextFile(text)).length, 23 * 400);
    const out = `${dir}/m.tar.gz`;
    await silently(() =>
      train([...tiny, "--data", text, "--steps", "2", "--out", out])
    );
    await assert.rejects(
      silently(() => train(["--resume", out, "--lr", "5", "--dim", "7"])),
      rejectsWith(
        UsageError,
        /^--dim, --lr cannot change on --resume|^--lr, --dim cannot change on --resume/,
      ),
    );
    // allowed: a longer run, written in place
    await silently(() =>
      train(["--resume", out, "--steps", "3", "--out", out, "--quiet"])
    );
    assert.equal((await loadModelFile(out)).training?.steps, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("an empty or non-gzip .tar.gz is a FormatError saying so, not a tokenizer complaint", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/empty.tar.gz`, new Uint8Array(0));
    await Deno.writeTextFile(`${dir}/text.tar.gz`, "not an archive at all");
    await Deno.writeFile(`${dir}/empty.bin`, new Uint8Array(0));
    await assert.rejects(
      loadModelFile(`${dir}/empty.tar.gz`),
      rejectsWith(FormatError, /empty\.tar\.gz: the file is empty/),
    );
    await assert.rejects(
      loadModelFile(`${dir}/text.tar.gz`),
      rejectsWith(FormatError, /text\.tar\.gz: not a gzip archive/),
    );
    await assert.rejects(
      loadModelFile(`${dir}/empty.bin`),
      rejectsWith(FormatError, /the file is empty/),
    );
    // a damaged .bin is named as damaged even without --tokenizer
    await Deno.writeTextFile(`${dir}/junk.bin`, "hello, not a checkpoint");
    await assert.rejects(
      loadModelFile(`${dir}/junk.bin`),
      rejectsWith(FormatError, /junk\.bin: (file is|header field)/),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
