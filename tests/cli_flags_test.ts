// Command-line parsing as a new user meets it: negative numbers are values
// (so the range check names them), unknown flags are one readable line,
// `--help` works on every task and does nothing else.
import assert from "node:assert/strict";
import {
  HelpRequested,
  numberFlag,
  parseFlags,
  UsageError,
} from "../src/cli/common.ts";
import config from "../deno.json" with { type: "json" };
import { testNeeding } from "./permissions.ts";
import { runTask } from "./tasks.ts";

const test = testNeeding(import.meta.url, "read", "run:deno");

const usageError = (re: RegExp) => (e: unknown) =>
  e instanceof UsageError && re.test(e.message);

Deno.test("flags: a negative number after a flag is its value, then range-checked", () => {
  const options = {
    "max-tokens": { type: "string" },
    temperature: { type: "string" },
    "top-k": { type: "string" },
    "top-p": { type: "string" },
    seed: { type: "string" },
    steps: { type: "string" },
    lr: { type: "string" },
    verbose: { type: "boolean" },
  } as const;
  const v = parseFlags([
    "--max-tokens",
    "-1",
    "--temperature",
    "-0.5",
    "--top-k",
    "-3",
    "--top-p",
    "-.2",
    "--seed",
    "-7",
    "--steps",
    "-1e3",
    "--lr",
    "-Infinity",
  ], options);
  assert.deepEqual(
    [
      v["max-tokens"],
      v.temperature,
      v["top-k"],
      v["top-p"],
      v.seed,
      v.steps,
      v.lr,
    ],
    ["-1", "-0.5", "-3", "-.2", "-7", "-1e3", "-Infinity"],
  );
  assert.throws(
    () => numberFlag(v, "max-tokens", 0, { integer: true, min: 0 }),
    usageError(/^--max-tokens must be >= 0, got -1$/),
  );
  assert.throws(
    () => numberFlag(v, "temperature", 1, { min: 0 }),
    usageError(/--temperature must be >= 0, got -0\.5/),
  );
  assert.throws(
    () => numberFlag(v, "lr", 1, { min: 0 }),
    usageError(/--lr must be a number, got "-Infinity"/),
  );
  assert.equal(numberFlag(v, "seed", 0, { integer: true }), -7);
  // a boolean flag never takes the next word; a dash word is still a flag
  assert.throws(
    () => parseFlags(["--verbose", "-1"], options),
    usageError(/-1/),
  );
});

Deno.test("flags: unknown options are one line naming the option; --help throws the usage", () => {
  const options = { model: { type: "string" } } as const;
  assert.throws(
    () => parseFlags(["--bogus"], options, "usage: x"),
    (e) =>
      e instanceof UsageError &&
      e.message === "unknown option --bogus (see --help)",
  );
  assert.throws(
    () => parseFlags(["--model"], options),
    usageError(/--model/),
  );
  assert.throws(
    () => parseFlags(["--model", "m", "-h"], options, "usage: x --model M"),
    (e) => e instanceof HelpRequested && e.usage === "usage: x --model M",
  );
  assert.throws(() => parseFlags(["stray"], options), usageError(/"stray"/));
});

const TASKS = Object.keys(config.tasks).filter((t) =>
  t !== "test" && t !== "bench:suites"
);

test("--help on every task: usage on stdout, exit code 0, nothing else done", async () => {
  const results = await Promise.all(
    TASKS.map(async (t) => [t, await runTask(t, ["--help"])] as const),
  );
  for (const [task, r] of results) {
    assert.equal(r.code, 0, `${task}: ${r.stderr}`);
    assert.match(r.stdout, /^usage: /, task);
    assert.equal(r.stderr, "", task);
    assert.doesNotMatch(r.stdout, /^wrote /m, task);
  }
});
