// Bad input with bounded memory: an archive is read member by member, each
// only as large as its kind can hold, so "gzip bombs" stop early; devices,
// pipes and oversized files are refused before any read.
import assert from "node:assert/strict";
import { gunzipBytes, readArchiveMembers } from "../src/io/archive.ts";
import { loadModel } from "../src/io/load.ts";
import { FormatError, InputError } from "../src/errors.ts";
import { readFileNamed } from "../src/files_fs.ts";
import { testNeeding } from "./permissions.ts";
import { runTask } from "./tasks.ts";

const test = testNeeding(
  import.meta.url,
  "read",
  "write",
  "run:deno",
  "run:mkfifo",
);

async function gzipStream(
  chunks: () => Iterable<Uint8Array>,
): Promise<Uint8Array> {
  const it = chunks()[Symbol.iterator]();
  const source = new ReadableStream<BufferSource>({
    pull(c) {
      const n = it.next();
      if (n.done) c.close();
      else c.enqueue(n.value as Uint8Array<ArrayBuffer>);
    },
  });
  return new Uint8Array(
    await new Response(source.pipeThrough(new CompressionStream("gzip")))
      .arrayBuffer(),
  );
}

/** A ustar header block for a regular file. */
function tarHeader(name: string, size: number): Uint8Array {
  const h = new Uint8Array(512);
  const put = (off: number, s: string) =>
    h.set(new TextEncoder().encode(s), off);
  put(0, name);
  put(100, "0000644\0");
  put(108, "0000000\0");
  put(116, "0000000\0");
  put(124, size.toString(8).padStart(11, "0") + "\0");
  put(136, "00000000000\0");
  h[156] = 48; // "0"
  put(257, "ustar\0");
  put(263, "00");
  put(148, "        ");
  const sum = h.reduce((a, b) => a + b, 0);
  put(148, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}

const MiB = 1 << 20;
const zeros = (mib: number) =>
  function* () {
    for (let i = 0; i < mib; i++) yield new Uint8Array(MiB);
  };

const formatError = (re: RegExp) => (e: unknown) =>
  e instanceof FormatError && re.test(e.message);

Deno.test("gzip bomb of zeros: reading stops at the end-of-archive marker, long before the data ends", async () => {
  const bomb = await gzipStream(zeros(8)); // 8 MiB of zeros in ~8 KiB
  assert.ok(bomb.length < MiB);
  // cut off the end: reading everything would meet the damage
  const cut = bomb.subarray(0, bomb.length - 1024);
  await assert.rejects(
    readArchiveMembers(cut, "bomb.tar.gz"),
    formatError(/bomb\.tar\.gz: not a tar archive \(no members\)/),
  );
  await assert.rejects(
    loadModel(cut, { name: "bomb.tar.gz" }),
    formatError(/no members/),
  );
});

Deno.test("gunzipBytes stops at its output limit (default: 256× the input + 64 MiB)", async () => {
  const bomb = await gzipStream(zeros(8));
  await assert.rejects(
    gunzipBytes(bomb, "z.gz", MiB),
    formatError(/z\.gz: inflates to more than 1048576 bytes/),
  );
  assert.equal((await gunzipBytes(bomb, "z.gz")).length, 8 * MiB);
});

Deno.test("a member declaring more than its kind can hold is refused before its data is read", async () => {
  // model.safetensors claims 8 GiB after a small config.json
  const config = new TextEncoder().encode(JSON.stringify({
    format_version: 1,
    dim: 8,
    hiddenDim: 16,
    nLayers: 1,
    nHeads: 2,
    nKvHeads: 2,
    vocabSize: 4,
    seqLen: 8,
    positional: "rope",
    sharedClassifier: true,
    normEps: 1e-5,
    ropeTheta: 10000,
  }));
  const pad = (n: number) => new Uint8Array((512 - (n % 512)) % 512);
  const bomb = await gzipStream(function* () {
    yield tarHeader("config.json", config.length);
    yield config;
    yield pad(config.length);
    yield tarHeader("model.safetensors", 2 ** 33 - 1);
    yield* zeros(8)(); // the claimed data, never reached
  });
  await assert.rejects(
    readArchiveMembers(bomb.subarray(0, bomb.length - 1024), "m.tar.gz"),
    formatError(
      /m\.tar\.gz: member model\.safetensors declares 8589934591 bytes, more than the \d+ its kind can hold/,
    ),
  );
  // without a config first, the file's own size bounds it
  const headless = await gzipStream(function* () {
    yield tarHeader("model.safetensors", 2 ** 30);
    yield* zeros(8)();
  });
  await assert.rejects(
    readArchiveMembers(
      headless.subarray(0, headless.length - 1024),
      "h.tar.gz",
    ),
    formatError(/declares 1073741824 bytes/),
  );
  // a config.json of a megabyte or more is not a config
  const big = await gzipStream(function* () {
    yield tarHeader("config.json", 4 * MiB);
  });
  await assert.rejects(
    readArchiveMembers(big, "c.tar.gz"),
    formatError(/member config\.json declares 4194304 bytes/),
  );
});

test("files: devices, pipes and oversized files are refused before reading", async () => {
  if (Deno.build.os !== "windows") {
    await assert.rejects(
      readFileNamed("/dev/zero", "model"),
      (e) =>
        e instanceof InputError &&
        e.message ===
          "model path is not a regular file (a device, pipe or socket): /dev/zero",
    );
  }
  const dir = await Deno.makeTempDir();
  try {
    const fifo = `${dir}/pipe`;
    let made = false;
    try {
      made = (await new Deno.Command("mkfifo", { args: [fifo] }).output())
        .success;
    } catch { /* no mkfifo, or not allowed to run it */ }
    if (made) {
      await assert.rejects(
        readFileNamed(fifo, "model"),
        (e) => e instanceof InputError && /not a regular file/.test(e.message),
      );
    }
    await Deno.writeFile(`${dir}/m.bin`, new Uint8Array(100));
    await assert.rejects(
      readFileNamed(`${dir}/m.bin`, "model", 99),
      (e) =>
        e instanceof InputError &&
        /is 100 bytes, more than the 99 it may have/.test(e.message),
    );
    assert.equal(
      (await readFileNamed(`${dir}/m.bin`, "model", 100)).length,
      100,
    );
    // as a user meets it: one line, exit code 1, at once
    const r = await runTask("generate", ["--model", "/dev/zero"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^tinyllm: error: model path is not a regular file[^\n]*\n$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
