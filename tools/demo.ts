/**
 * `deno task demo`: the whole pipeline in one command —
 * train (seed preset) → generate a sample → quantize (int8, int4) →
 * benchmark (`--quick` unless `--full`) → plots → static site.
 *
 * Usage: `deno task demo [--full] [--retrain] [--llama2c DIR]`
 * (llama2.c's stories260K comes from DIR, else from the repository's copy in
 * tests/testdata/.)
 *
 * @module
 */
import { existsSync } from "node:fs";
import { parseFlags, runCli } from "../src/cli/common.ts";

const MODEL = "dist/model.tar.gz";

/** Runs `deno <args>` with inherited output; throws if it fails. */
async function deno(args: string[]): Promise<void> {
  const p = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!p.success) {
    throw new Error(`\`deno ${args.join(" ")}\` failed (exit ${p.code})`);
  }
}

async function main(args: string[]): Promise<void> {
  const f = parseFlags(
    args,
    {
      full: { type: "boolean", default: false },
      retrain: { type: "boolean", default: false },
      llama2c: { type: "string" },
    },
    "usage: deno task demo [--full] [--retrain] [--llama2c DIR]\n  train (seed preset) → generate → quantize → bench (--quick unless --full) → plots → site:build",
  );
  const started = performance.now();
  const llama2c = f.llama2c as string | undefined;
  const stages: [string, () => Promise<void>][] = [
    ["train the seed model", async () => {
      if (existsSync(MODEL) && !f.retrain) {
        console.log(`${MODEL} exists: reusing it (--retrain to train again)`);
        return;
      }
      await deno(["task", "train", "--preset", "seed", "--out", MODEL]);
    }],
    ["generate a sample", () =>
      deno([
        "task",
        "generate",
        "--model",
        MODEL,
        "--prompt",
        "the",
        "--max-tokens",
        "40",
        "--temperature",
        "0.8",
        "--seed",
        "1",
      ])],
    ["quantize (int8 and int4, G32)", async () => {
      for (const type of ["int8", "int4"]) {
        await deno([
          "task",
          "quantize",
          "--model",
          MODEL,
          "--type",
          type,
          "--group",
          "32",
          "--out",
          `dist/model-${type}.tar.gz`,
        ]);
      }
    }],
    [`benchmark (${f.full ? "full" : "--quick"})`, () =>
      deno([
        "task",
        "bench",
        ...(f.full ? [] : ["--quick"]),
        ...(llama2c ? ["--llama2c", llama2c] : []),
      ])],
    ["plots", () => deno(["task", "plot"])],
    ["site", () => deno(["task", "site:build"])],
  ];
  for (const [i, [name, run]] of stages.entries()) {
    const t0 = performance.now();
    console.log(`\n=== [${i + 1}/${stages.length}] ${name}`);
    await run();
    console.log(
      `=== ${name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  console.log(
    `\nDemo finished in ${
      ((performance.now() - started) / 1000).toFixed(0)
    } s.\n` +
      `Results: out/*.json, out/*.csv, plots out/*.svg\n` +
      `Site:    www/_site/index.html (static; the live demo page needs HTTP)\n` +
      `Serve:   deno task site   → http://127.0.0.1:8000/`,
  );
}

if (import.meta.main) {
  await runCli("demo", () => main(Deno.args));
}
