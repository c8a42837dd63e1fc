// Atomic writes leave nothing behind: a killed writer's temp file is swept by
// the next write of the same file, a live writer's is not, and a failed write
// removes its own.
import assert from "node:assert/strict";
import { writeFileAtomic } from "../src/files_fs.ts";
import { testNeeding } from "./permissions.ts";

const test = testNeeding(import.meta.url, "read", "write", "run:deno");

const temps = (dir: string, base: string) =>
  [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
    n.startsWith(`${base}.`) && n.endsWith(".tmp")
  ).sort();

const old = new Date(Date.now() - 60_000);

test("writeFileAtomic: a killed writer's temp file is removed by the next write; a live one stays", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/m.tar.gz`;
    // a writer process that dies by SIGKILL while holding its temp file,
    // as writeFileAtomic holds it (open, exclusive lock, partial data)
    const killed = `${out}.424242.1700000000000.tmp`;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `const f = await Deno.open(${
          JSON.stringify(killed)
        }, { write: true, create: true });
         await f.lock(true);
         await f.write(new Uint8Array(4096));
         console.log("holding");
         setInterval(() => {}, 1000);`,
      ],
      stdout: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    await reader.read(); // "holding"
    Deno.utimeSync(killed, old, old);
    // while it lives, its temp file is not touched
    await writeFileAtomic(out, "first");
    assert.deepEqual(temps(dir, "m.tar.gz"), [killed.split("/").pop()]);
    child.kill("SIGKILL");
    await child.status;
    reader.releaseLock();
    await child.stdout.cancel();
    // a leftover nobody holds, and a fresh one that may still be starting
    const fresh = `${out}.434343.1700000000001.tmp`;
    Deno.writeFileSync(fresh, new Uint8Array(10));
    await writeFileAtomic(out, "second");
    assert.deepEqual(temps(dir, "m.tar.gz"), [fresh.split("/").pop()]);
    assert.equal(Deno.readTextFileSync(out), "second");
    // other files in the folder are never touched
    Deno.writeFileSync(`${dir}/other.bin.1.2.tmp`, new Uint8Array(1));
    Deno.utimeSync(`${dir}/other.bin.1.2.tmp`, old, old);
    Deno.utimeSync(fresh, old, old);
    await writeFileAtomic(out, "third");
    assert.deepEqual(temps(dir, "m.tar.gz"), []);
    assert.ok(Deno.statSync(`${dir}/other.bin.1.2.tmp`).isFile);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("writeFileAtomic: a failed write removes its temp file and keeps the old one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // the target is a non-empty directory: the final rename fails
    await Deno.mkdir(`${dir}/out`);
    await Deno.writeTextFile(`${dir}/out/keep`, "x");
    await assert.rejects(writeFileAtomic(`${dir}/out`, "data"));
    assert.deepEqual(temps(dir, "out"), []);
    assert.equal(Deno.readTextFileSync(`${dir}/out/keep`), "x");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
