/**
 * Test helper: the permissions a test needs. The library's own tests need
 * none and run under plain `deno test`; tests that spawn the CLI, write temp
 * files, read the tree or drive a browser declare what they need here.
 * `deno task test` grants exactly that set (tools/test.sh); under plain
 * `deno test` those tests are ignored, with one line per file saying why,
 * instead of failing with NotCapable.
 *
 * @module
 */

/**
 * `read` (anywhere), `write` (the temp dir), `env`, `sys`, `net`
 * (127.0.0.1), or `run:CMD` (`run:deno` is this Deno's own executable).
 */
export type Need =
  | "read"
  | "write"
  | "env"
  | "sys"
  | "net"
  | `run:${string}`;

function tempDir(): string {
  const env = Deno.permissions.querySync({ name: "env", variable: "TMPDIR" });
  return (env.state === "granted" ? Deno.env.get("TMPDIR") : undefined) ??
    "/tmp";
}

function descriptor(need: Need): Deno.PermissionDescriptor {
  if (need.startsWith("run:")) {
    const command = need.slice(4);
    return {
      name: "run",
      command: command === "deno" ? Deno.execPath() : command,
    };
  }
  switch (need) {
    case "write":
      return { name: "write", path: tempDir() };
    case "net":
      return { name: "net", host: "127.0.0.1" };
    default:
      return { name: need as "read" | "env" | "sys" };
  }
}

/** The needs among `needs` that this process has not been granted. */
export function missing(...needs: Need[]): Need[] {
  return needs.filter((n) =>
    Deno.permissions.querySync(descriptor(n)).state !== "granted"
  );
}

const told = new Set<string>();

type TestFn = (t: Deno.TestContext) => void | Promise<void>;

/**
 * `Deno.test` for tests that need `needs`: ignored (and said so once per
 * file) when any is not granted.
 *
 * @example
 * ```ts ignore
 * const test = testNeeding(import.meta.url, "read", "write", "run:deno");
 * test("cli: writes an archive", async () => {});
 * ```
 */
export function testNeeding(
  file: string,
  ...needs: Need[]
): (nameOrOptions: string | Deno.TestDefinition, fn?: TestFn) => void {
  const lacking = missing(...needs);
  if (lacking.length > 0 && !told.has(file)) {
    told.add(file);
    console.error(
      `${file.split("/").pop()}: tests needing ${
        lacking.join(", ")
      } ignored (not granted; \`deno task test\` grants them)`,
    );
  }
  return (nameOrOptions, fn) => {
    const options: Deno.TestDefinition = typeof nameOrOptions === "string"
      ? { name: nameOrOptions, fn: fn! }
      : nameOrOptions;
    Deno.test({
      ...options,
      ignore: Boolean(options.ignore) || lacking.length > 0,
    });
  };
}
