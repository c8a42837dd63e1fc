/**
 * The `tinyllm` command line: `tinyllm <command> [flags]`.
 *
 * Commands: `generate`, `train`, `quantize`, `eval`, `convert`, `tokenize`,
 * `logits`, `chat`, `export`.
 * Each command lives in its own module under `src/cli/` and exports
 * `main(args)`.
 *
 * @example Generate from a llama2.c checkpoint
 * ```sh
 * deno run --allow-read jsr:@proj/tinyllm/cli generate --model stories260K.bin --tokenizer tok512.bin --prompt "Once upon a time"
 * ```
 *
 * @module
 */
import { HelpRequested, runCli, UsageError } from "./common.ts";

type Command = (args: string[]) => Promise<void>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  generate: async () => (await import("./generate.ts")).main,
  convert: async () => (await import("./convert.ts")).main,
  quantize: async () => (await import("./quantize.ts")).main,
  "random-checkpoint": async () =>
    (await import("./random_checkpoint.ts")).main,
  train: async () => (await import("./train.ts")).main,
  eval: async () => (await import("./eval.ts")).main,
  tokenize: async () => (await import("./tokenize.ts")).main,
  logits: async () => (await import("./logits.ts")).main,
  chat: async () => (await import("./chat.ts")).main,
  export: async () => (await import("./export.ts")).main,
};

/**
 * Runs the command named by `args[0]` with the remaining arguments.
 *
 * @example
 * ```ts ignore
 * import { main } from "@proj/tinyllm/cli";
 * await main(["generate", "--model", "m.bin", "--tokenizer", "t.bin"]);
 * ```
 */
export async function main(args: string[]): Promise<void> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h") {
    const usage = `usage: tinyllm <command> [flags]  (commands: ${
      Object.keys(COMMANDS).join(", ")
    }; <command> --help for its flags)`;
    if (name === undefined) throw new UsageError(usage.slice(7));
    throw new HelpRequested(usage);
  }
  const load = name === undefined ? undefined : COMMANDS[name];
  if (!load) {
    throw new UsageError(
      `unknown command "${name ?? ""}" (commands: ${
        Object.keys(COMMANDS).join(", ")
      })`,
    );
  }
  await (await load())(rest);
}

if (import.meta.main) {
  await runCli("tinyllm", () => main(Deno.args));
}
