/**
 * File helpers for the tools (Deno only): reading a file with an error that
 * names what it was for, atomic writes, base names.
 *
 * @module
 */
import { InputError } from "./errors.ts";

/** The last path component of `path` (`dist/model.tar.gz` → `model.tar.gz`). */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * Reads a whole file; a missing file or a directory is an
 * {@linkcode InputError} naming the path and what it was for.
 */
export async function readFileNamed(
  path: string,
  what: string,
): Promise<Uint8Array<ArrayBuffer>> {
  try {
    return await Deno.readFile(path) as Uint8Array<ArrayBuffer>;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new InputError(`${what} file not found: ${path}`);
    }
    if (e instanceof Deno.errors.IsADirectory) {
      throw new InputError(`${what} path is a directory: ${path}`);
    }
    throw e;
  }
}

/**
 * Writes `data` to `path` atomically: a temp file beside it, then a rename,
 * so an interrupted write never leaves a half-written file or destroys the
 * previous one.
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
): Promise<void> {
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  if (dir) await Deno.mkdir(dir, { recursive: true });
  const tmp = `${path}.${Deno.pid}.${Date.now()}.tmp`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
