/**
 * Shared plumbing for the command-line tools: flag parsing that reports bad
 * flags in one line, and a runner that turns any library error into one clear
 * error line and exit code 1 (no stack trace).
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { TinyLlmError } from "../errors.ts";

/** A bad flag or flag value; printed as one line by {@linkcode runCli}. */
export class UsageError extends Error {
  /** @param message one line naming the flag and the problem */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Options map for {@linkcode parseFlags} (node:util parseArgs options). */
export type FlagOptions = NonNullable<ParseArgsConfig["options"]>;

/**
 * Thrown by {@linkcode parseFlags} for `--help` / `-h`; {@linkcode runCli}
 * prints the usage on stdout and exits with code 0.
 */
export class HelpRequested extends Error {
  /** @param usage the command's usage text */
  constructor(readonly usage: string) {
    super(usage);
    this.name = "HelpRequested";
  }
}

// A value such as "-1", "-0.5", "-1e3" or "-Infinity".
const NEGATIVE_NUMBER = /^-(\d|\.\d|Infinity$)/;

/**
 * Parses `args` strictly; unknown flags or missing values become a
 * {@linkcode UsageError}. Values stay strings: use {@linkcode numberFlag}. A
 * negative number after a flag that takes a value is that value
 * (`--max-tokens -1`), so the range check can name it. With `usage`,
 * `--help` / `-h` throws {@linkcode HelpRequested}.
 */
export function parseFlags(
  args: string[],
  options: FlagOptions,
  usage?: string,
): Record<string, string | boolean | string[] | undefined> {
  if (usage !== undefined && !options.help) {
    if (args.some((a) => a === "--help" || a === "-h")) {
      throw new HelpRequested(usage);
    }
  }
  // node:util reads "-1" as an option; join it to its flag instead
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const name = a.startsWith("--") ? a.slice(2) : undefined;
    if (
      name !== undefined && !name.includes("=") &&
      options[name]?.type === "string" && i + 1 < args.length &&
      NEGATIVE_NUMBER.test(args[i + 1])
    ) {
      joined.push(`${a}=${args[++i]}`);
    } else joined.push(a);
  }
  try {
    const { values, positionals } = parseArgs({
      args: joined,
      options,
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0) {
      throw new UsageError(`unexpected argument "${positionals[0]}"`);
    }
    return values as Record<string, string | boolean | string[] | undefined>;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const err = e as Error & { code?: string };
    // node's own texts run on (and quote unevenly); say it in one line
    const flag = /'([^']+)'/.exec(err.message)?.[1];
    if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag) {
      throw new UsageError(
        `unknown option ${flag}${usage !== undefined ? " (see --help)" : ""}`,
      );
    }
    throw new UsageError(err.message.split("\n")[0]);
  }
}

/**
 * Reads a numeric flag, checking it is finite (and an integer when asked) and
 * within [min, max].
 */
export function numberFlag(
  values: Record<string, unknown>,
  name: string,
  fallback: number,
  opts: { integer?: boolean; min?: number; max?: number } = {},
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(v)) {
    throw new UsageError(`--${name} must be a number, got "${raw}"`);
  }
  if (opts.integer && !Number.isInteger(v)) {
    throw new UsageError(`--${name} must be an integer, got "${raw}"`);
  }
  if (opts.min !== undefined && v < opts.min) {
    throw new UsageError(`--${name} must be >= ${opts.min}, got ${raw}`);
  }
  if (opts.max !== undefined && v > opts.max) {
    throw new UsageError(`--${name} must be <= ${opts.max}, got ${raw}`);
  }
  return v;
}

/**
 * Runs a CLI entry point. Library errors (missing files included), usage
 * errors and unreadable paths print `error: <one line>` on stderr and exit
 * with code 1.
 */
export async function runCli(
  name: string,
  main: () => Promise<void> | void,
): Promise<void> {
  try {
    await main();
  } catch (e) {
    if (e instanceof HelpRequested) {
      console.log(e.usage);
      return;
    }
    if (
      e instanceof TinyLlmError || e instanceof UsageError ||
      e instanceof Deno.errors.NotFound ||
      e instanceof Deno.errors.PermissionDenied ||
      e instanceof Deno.errors.IsADirectory
    ) {
      console.error(`${name}: error: ${(e as Error).message.split("\n")[0]}`);
      Deno.exit(1);
    }
    if (e instanceof Deno.errors.NotCapable) {
      // e.g. `Requires read access to "m.bin", run again with the --allow-read flag`
      console.error(
        `${name}: error: missing permission: ${
          (e as Error).message.split("\n")[0]
        } (the deno task of the same name grants what it needs)`,
      );
      Deno.exit(1);
    }
    throw e;
  }
}

/**
 * A progress callback for long synchronous work (an evaluation): on a
 * terminal it redraws `label 45%` in place on stderr (written synchronously,
 * so it shows while the work runs); elsewhere it stays silent. `done()`
 * clears the line.
 */
export function progressLine(
  label: string,
): { update(done: number, total: number): void; done(): void } {
  const tty = Deno.stderr.isTerminal();
  const enc = new TextEncoder();
  let last = -1;
  return {
    update(done, total) {
      const pct = Math.floor((100 * done) / Math.max(total, 1));
      if (!tty || pct === last) return;
      last = pct;
      Deno.stderr.writeSync(enc.encode(`\r\x1b[K${label} ${pct}%`));
    },
    done() {
      if (tty && last >= 0) Deno.stderr.writeSync(enc.encode("\r\x1b[K"));
    },
  };
}
