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
 * Parses `args` strictly; unknown flags or missing values become a
 * {@linkcode UsageError}. Values stay strings: use {@linkcode numberFlag}.
 */
export function parseFlags(
  args: string[],
  options: FlagOptions,
): Record<string, string | boolean | string[] | undefined> {
  try {
    const { values, positionals } = parseArgs({
      args,
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
    throw new UsageError((e as Error).message.split("\n")[0]);
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
    if (
      e instanceof TinyLlmError || e instanceof UsageError ||
      e instanceof Deno.errors.NotFound ||
      e instanceof Deno.errors.PermissionDenied ||
      e instanceof Deno.errors.IsADirectory
    ) {
      console.error(`${name}: error: ${(e as Error).message.split("\n")[0]}`);
      Deno.exit(1);
    }
    throw e;
  }
}
