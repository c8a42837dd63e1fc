// The repository stands alone: no file that a clone carries names the
// reference folder that sat beside the original working copy. (The forbidden
// string is built at run time so this file does not contain it.)
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { testNeeding } from "./permissions.ts";

const test = testNeeding(import.meta.url, "read");

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const FORBIDDEN = ["..", "shared"].join("/");
// Build outputs and installed packages (all git-ignored), and git itself.
const SKIP = new Set([
  ".git",
  "node_modules",
  "dist",
  "out",
  "cov",
  "docs",
  "www/_site",
]);

function* files(dir: string, rel = ""): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (SKIP.has(e.name) || SKIP.has(r)) continue;
    if (e.isDirectory) yield* files(`${dir}/${e.name}`, r);
    else if (e.isFile) yield r;
  }
}

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (hay[i + j] !== needle[j]) continue outer;
    }
    return true;
  }
  return false;
}

test({
  name:
    "standalone: no file in the repository names the sibling reference folder",
  fn() {
    const needle = new TextEncoder().encode(FORBIDDEN);
    const offenders: string[] = [];
    let n = 0;
    for (const f of files(ROOT)) {
      n++;
      if (contains(Deno.readFileSync(`${ROOT}/${f}`), needle)) {
        offenders.push(f);
      }
    }
    assert.ok(n > 100, `only ${n} files scanned from ${ROOT}`);
    assert.deepEqual(offenders, [], `files naming ${FORBIDDEN}`);
  },
});
