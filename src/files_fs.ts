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

/** Largest file {@linkcode readFileNamed} reads whole (2 GiB). */
export const MAX_READ_BYTES = 2 ** 31;

/**
 * Reads a whole regular file of at most `maxBytes` (default
 * {@linkcode MAX_READ_BYTES}), read up to its size at open time. A missing
 * file, a directory, anything not a regular file (`/dev/zero`, a FIFO), a
 * file too large, or one that cannot be held in memory is an
 * {@linkcode InputError} naming the path and what it was for.
 */
export async function readFileNamed(
  path: string,
  what: string,
  maxBytes: number = MAX_READ_BYTES,
): Promise<Uint8Array<ArrayBuffer>> {
  let file: Deno.FsFile;
  try {
    // stat first: opening a FIFO would wait for a writer
    const st = await Deno.stat(path);
    if (!st.isFile && !st.isDirectory) {
      throw new InputError(
        `${what} path is not a regular file (a device, pipe or socket): ${path}`,
      );
    }
    file = await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof InputError) throw e;
    if (e instanceof Deno.errors.NotFound) {
      throw new InputError(`${what} file not found: ${path}`);
    }
    if (e instanceof Deno.errors.IsADirectory) {
      throw new InputError(`${what} path is a directory: ${path}`);
    }
    throw e;
  }
  try {
    const st = await file.stat();
    if (st.isDirectory) {
      throw new InputError(`${what} path is a directory: ${path}`);
    }
    if (!st.isFile) {
      throw new InputError(
        `${what} path is not a regular file (a device, pipe or socket): ${path}`,
      );
    }
    if (st.size > maxBytes) {
      throw new InputError(
        `${what} file ${path} is ${st.size} bytes, more than the ${maxBytes} it may have`,
      );
    }
    let out: Uint8Array<ArrayBuffer>;
    try {
      out = new Uint8Array(st.size);
    } catch {
      throw new InputError(
        `${what} file ${path} (${st.size} bytes) does not fit in memory`,
      );
    }
    // never more than the size it had when opened (a growing file stops there)
    let o = 0;
    while (o < out.length) {
      const n = await file.read(out.subarray(o));
      if (n === null) break;
      o += n;
    }
    return o === out.length ? out : out.slice(0, o);
  } finally {
    file.close();
  }
}

/**
 * Throws an {@linkcode InputError} when `out` is one of the `inputs` files
 * (the same file however it is named: compared by device and inode, or by
 * real path where the OS has no inodes), so no command replaces its own
 * input. Paths that do not exist yet are fine.
 */
export async function refuseOverwritingInput(
  out: string,
  inputs: Record<string, string | undefined>,
): Promise<void> {
  const id = async (p: string) => {
    try {
      const st = await Deno.stat(p);
      return st.ino !== null && st.dev !== null
        ? `${st.dev}:${st.ino}`
        : await Deno.realPath(p);
    } catch {
      return null;
    }
  };
  const target = await id(out);
  if (target === null) return;
  for (const [flag, path] of Object.entries(inputs)) {
    if (path !== undefined && await id(path) === target) {
      throw new InputError(
        `--out ${out} is the input file ${path} (${flag}): writing it would destroy the input; choose another path`,
      );
    }
  }
}

/** A temp file of {@linkcode writeFileAtomic}: `<name>.<pid>.<ms>.tmp`. */
const TEMP_TAIL = /^\.(\d+)\.(\d+)\.tmp$/;

/** Temp files younger than this are never swept (one may be just created). */
const STALE_AFTER_MS = 5_000;

/**
 * Writes `data` to `path` atomically: a temp file beside it, then a rename,
 * so an interrupted write never leaves a half-written file or destroys the
 * previous one. The temp file is locked while it is written (the lock dies
 * with the process, even on `kill -9`); temp files of `path` that nobody
 * holds are left by killed runs and are removed first. A failed write
 * removes its temp file, and so does Ctrl-C during the write.
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
): Promise<void> {
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
  await Deno.mkdir(dir, { recursive: true });
  await removeStaleTemps(dir, path.slice(slash + 1));
  const bytes = typeof data === "string"
    ? new TextEncoder().encode(data)
    : data;
  const tmp = `${path}.${Deno.pid}.${Date.now()}.tmp`;
  const file = await Deno.open(tmp, { write: true, createNew: true });
  const interrupted = () => {
    try {
      Deno.removeSync(tmp);
    } catch { /* already gone */ }
    Deno.exit(130);
  };
  const signals = listen(interrupted);
  try {
    await file.lock(true);
    for (let o = 0; o < bytes.length;) {
      o += await file.write(bytes.subarray(o));
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  } finally {
    file.close();
    signals();
  }
}

/** Removes `base`'s temp files in `dir` that no live writer holds. */
async function removeStaleTemps(dir: string, base: string): Promise<void> {
  const now = Date.now();
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || !e.name.startsWith(`${base}.`)) continue;
    if (!TEMP_TAIL.test(e.name.slice(base.length))) continue;
    const p = `${dir}/${e.name}`;
    let f: Deno.FsFile;
    try {
      if (
        now - ((await Deno.stat(p)).mtime?.getTime() ?? now) < STALE_AFTER_MS
      ) {
        continue;
      }
      f = await Deno.open(p, { read: true, write: true });
    } catch {
      continue; // gone meanwhile, or not ours to open
    }
    try {
      if (await f.tryLock(true)) await Deno.remove(p).catch(() => {});
    } finally {
      f.close();
    }
  }
}

/** Calls `handler` on SIGINT/SIGTERM until the returned function is called. */
function listen(handler: () => void): () => void {
  const added: Deno.Signal[] = [];
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(sig, handler);
      added.push(sig);
    } catch { /* not supported on this OS */ }
  }
  return () => {
    for (const sig of added) Deno.removeSignalListener(sig, handler);
  };
}
