// GGUF models in Node: mod.ts bundled for the browser platform loads a
// llama.cpp-made Q4_0 GGUF file (its tokenizer from the metadata, ggml block
// kernels) under the machine's Node.js and generates llama.cpp's greedy ids.
import assert from "node:assert/strict";
import { testNeeding } from "./permissions.ts";

const ROOT = new URL("../", import.meta.url);
const MODELS = new URL("tests/testdata/gguf/models/", ROOT);

const test = testNeeding(
  import.meta.url,
  "read",
  "write",
  "run:deno",
  "run:node",
);

function hasNode(): boolean {
  try {
    return new Deno.Command("node", { args: ["--version"], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

test({
  name: "bundle: a GGUF model under Node gives llama.cpp's greedy ids",
  ignore: !hasNode(),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const bundle = `${dir}/core.mjs`;
      const b = await new Deno.Command(Deno.execPath(), {
        args: [
          "bundle",
          "--platform",
          "browser",
          "-o",
          bundle,
          new URL("mod.ts", ROOT).pathname,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(b.code, 0, new TextDecoder().decode(b.stderr));
      const ref = JSON.parse(
        await Deno.readTextFile(new URL("stories260K-q4_0.ref.json", MODELS)),
      );
      const script = `${dir}/run.mjs`;
      await Deno.writeTextFile(
        script,
        `
import { readFileSync } from "node:fs";
import * as core from ${JSON.stringify(bundle)};
const m = await core.loadModel(new Uint8Array(readFileSync(${
          JSON.stringify(new URL("stories260K-q4_0.gguf", MODELS).pathname)
        })));
const w = core.bindKernels(m.weights, "auto");
const r = await core.generateText(w, m.tokenizer, ${
          JSON.stringify(ref.prompt)
        }, { temperature: 0, maxTokens: 40, cache: "f16" });
console.log(JSON.stringify({ ...r, source: m.source, type: w.layers[0].wq.weight.type }));
`,
      );
      const n = await new Deno.Command("node", {
        args: [script],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(n.code, 0, new TextDecoder().decode(n.stderr));
      const r = JSON.parse(new TextDecoder().decode(n.stdout));
      assert.equal(r.source, "gguf");
      assert.equal(r.type, "q4_0");
      assert.deepEqual(r.ids, ref.greedy_ids.slice(0, 40));
      assert.ok(ref.greedy_text.startsWith(r.text), r.text);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
