// The source tree's layers point down: every relative import under src/ goes
// to the same layer or a lower one; nothing below src/cli/ imports the CLI;
// the file formats (src/io) never import training; the core (all of src/
// but src/cli/ and *_fs.ts files) uses no Deno.* and no node: modules.
import assert from "node:assert/strict";
import { testNeeding } from "./permissions.ts";

const test = testNeeding(import.meta.url, "read");

const SRC = new URL("../src/", import.meta.url);

/** Layers from the bottom; a file may import its own layer or lower ones. */
const LAYERS: readonly (readonly string[])[] = [
  ["errors.ts", "random.ts", "backend.ts", "bytes.ts", "files_fs.ts"],
  ["wasm/", "tokenizer/", "data/"],
  ["tensor/"],
  ["quant/", "kv/"],
  ["kernels/"],
  ["model/"],
  ["io/"],
  ["train/", "generate/", "eval/"],
  ["mod_fs.ts"],
  ["cli/"],
];

function layerOf(rel: string): number {
  const i = LAYERS.findIndex((l) =>
    l.some((p) => p.endsWith("/") ? rel.startsWith(p) : rel === p)
  );
  if (i < 0) throw new Error(`${rel} is in no layer: add it to LAYERS`);
  return i;
}

function* sources(dir: URL, prefix = ""): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    if (e.isDirectory) {
      yield* sources(new URL(`${e.name}/`, dir), `${prefix}${e.name}/`);
    } else if (e.name.endsWith(".ts")) yield `${prefix}${e.name}`;
  }
}

/** Relative specifiers a file imports or re-exports (static and dynamic). */
function importsOf(text: string): string[] {
  const out: string[] = [];
  const re =
    /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"|import\(\s*"([^"]+)"\s*\)|(?:^|\n)\s*import\s*"([^"]+)"/g;
  for (const m of text.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/** `spec` imported by `from` as a path relative to src/, or null if outside. */
function resolve(from: string, spec: string): string | null {
  if (!spec.startsWith(".")) return null;
  const url = new URL(spec, new URL(from, SRC));
  const rel = url.href.slice(SRC.href.length);
  return url.href.startsWith(SRC.href) ? rel : null;
}

// read on first use, inside the tests (which need read permission)
let files: string[] | undefined;
function sourceFiles(): string[] {
  files ??= [...sources(SRC)].sort();
  return files;
}

/** Every (file, imported file) pair inside src/. */
function* edges(): Generator<[string, string]> {
  for (const file of sourceFiles()) {
    const text = Deno.readTextFileSync(new URL(file, SRC));
    for (const spec of importsOf(text)) {
      const target = resolve(file, spec);
      if (target !== null) yield [file, target];
    }
  }
}

test("layering: every import under src/ points to its own layer or below", () => {
  const bad = [...edges()]
    .filter(([file, target]) => layerOf(target) > layerOf(file))
    .map(([file, target]) => `${file} → ${target}`);
  assert.deepEqual(bad, [], `imports pointing up:\n${bad.join("\n")}`);
});

test("layering: nothing outside src/cli/ imports src/cli/; src/io never imports src/train", () => {
  const bad = [...edges()]
    .filter(([file, t]) =>
      (!file.startsWith("cli/") && t.startsWith("cli/")) ||
      (file.startsWith("io/") && t.startsWith("train/"))
    )
    .map(([file, t]) => `${file} → ${t}`);
  assert.deepEqual(bad, [], bad.join("\n"));
});

test("layering: the core uses no Deno.* and no node: modules", () => {
  const bad: string[] = [];
  for (const file of sourceFiles()) {
    if (file.startsWith("cli/") || file.endsWith("_fs.ts")) continue;
    const text = Deno.readTextFileSync(new URL(file, SRC))
      // doc comments may show how a tool calls the library
      .replace(/\/\*\*[\s\S]*?\*\//g, "");
    if (/\bDeno\./.test(text)) bad.push(`${file}: Deno.*`);
    if (importsOf(text).some((s) => s.startsWith("node:"))) {
      bad.push(`${file}: node:`);
    }
  }
  assert.deepEqual(bad, [], bad.join("\n"));
});

Deno.test("layering: the test can fail (an upward import is caught)", () => {
  assert.equal(layerOf("tensor/rope.ts") < layerOf("model/decode.ts"), true);
  assert.deepEqual(
    importsOf(
      'import { a } from "../model/x.ts";\nexport type { B } from "./b.ts";\nconst c = await import("../cli/c.ts");',
    ),
    ["../model/x.ts", "./b.ts", "../cli/c.ts"],
  );
  assert.equal(
    resolve("io/archive.ts", "../train/params.ts"),
    "train/params.ts",
  );
});
