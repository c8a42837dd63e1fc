/**
 * Test helper: runs a `deno task` command the way a user does — with the
 * permissions deno.json gives that task, nothing more — so the tests also
 * prove each task's permission set is enough.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import config from "../deno.json" with { type: "json" };

/** The repository root (tasks run from there). */
export const ROOT: string = fileURLToPath(new URL("../", import.meta.url));

/** `deno` arguments of a task (its words after `deno`), e.g. `["run", "--allow-read", "src/cli/main.ts", "generate"]`. */
export function taskArgs(name: string): string[] {
  const command = (config.tasks as Record<string, string>)[name];
  if (!command) throw new Error(`deno.json has no task "${name}"`);
  const words = command.split(/\s+/);
  if (words[0] !== "deno") {
    throw new Error(`task ${name} is not a deno command`);
  }
  return words.slice(1);
}

/** Runs `deno task NAME ARGS…` (as a subprocess, from the root); output captured. */
export async function runTask(
  name: string,
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [sub, ...rest] = taskArgs(name);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [sub, "-q", ...rest, ...args],
    cwd: ROOT,
    env: options.env,
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
