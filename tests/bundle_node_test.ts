// The core has no Deno dependency: bundle mod.ts for the browser platform and
// run a greedy generation of stories260K under the machine's Node.js.
import assert from "node:assert/strict";
import { testNeeding } from "./permissions.ts";
import {
  runcGreedy,
  STORIES260K_PATH,
  stories260KBytes,
  TOK512_PATH,
  tok512Bytes,
} from "./reference.ts";
import { loadModel } from "../src/io/load.ts";
import { bindKernels } from "../src/model/bind.ts";
import { quantizeModel } from "../src/model/quantize.ts";
import { generateText } from "../src/generate/generate.ts";
import { wasmSupport } from "../src/wasm/runtime.ts";

const ROOT = new URL("../", import.meta.url);

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
  name:
    "bundle: mod.ts bundled for the browser runs under Node and matches run.c's greedy ids",
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
      const src = await Deno.readTextFile(bundle);
      assert.ok(!/\bDeno\./.test(src), "the core bundle mentions Deno.*");
      const ref = runcGreedy("once_upon_a_time");
      const script = `${dir}/run.mjs`;
      await Deno.writeTextFile(
        script,
        `
import { readFileSync } from "node:fs";
import * as core from ${JSON.stringify(bundle)};
const m = await core.loadModel(new Uint8Array(readFileSync(${
          JSON.stringify(STORIES260K_PATH)
        })), { tokenizer: new Uint8Array(readFileSync(${
          JSON.stringify(TOK512_PATH)
        })) });
const r = await core.generateText(core.bindKernels(m.weights, "auto"), m.tokenizer, ${
          JSON.stringify(ref.prompt)
        }, { temperature: 0, maxTokens: 12 });
// sampled, quantized: Node 20 runs the SIMD128 build, Deno the relaxed one
const sampled = {};
for (const type of ["int4", "int8", "fp32"]) {
  const w = core.bindKernels(type === "fp32" ? m.weights : core.quantizeModel(m.weights, type), "auto");
  sampled[type] = (await core.generateText(w, m.tokenizer, "Once upon a time", { temperature: 0.8, seed: 42, maxTokens: 200 })).ids;
}
console.log(JSON.stringify({ ...r, sampled }));
`,
      );
      const n = await new Deno.Command("node", {
        args: [script],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(n.code, 0, new TextDecoder().decode(n.stderr));
      const r = JSON.parse(new TextDecoder().decode(n.stdout));
      assert.deepEqual(r.ids, ref.generated_token_ids.slice(0, 12));
      assert.ok(ref.generated_text.startsWith(r.text), r.text);
      // the README's way in Deno: the bundle by path, from a folder with no
      // deno.json (nothing to resolve `nanotar` with)
      const app = `${dir}/app.ts`;
      await Deno.writeTextFile(
        app,
        `import { bindKernels, generateText, loadModel } from ${
          JSON.stringify(bundle)
        };
const m = await loadModel(await Deno.readFile(${
          JSON.stringify(STORIES260K_PATH)
        }), { tokenizer: await Deno.readFile(${JSON.stringify(TOK512_PATH)}) });
const r = await generateText(bindKernels(m.weights, "auto"), m.tokenizer, "Once upon a time", { temperature: 0, maxTokens: 12 });
console.log(JSON.stringify(r.ids));
`,
      );
      const d = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-config", "--allow-read", app],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(d.code, 0, new TextDecoder().decode(d.stderr));
      assert.deepEqual(
        JSON.parse(new TextDecoder().decode(d.stdout)),
        ref.generated_token_ids.slice(0, 12),
      );
      // same seed, same text in Node and Deno, whichever wasm build each runs
      const m = await loadModel(stories260KBytes(), {
        tokenizer: tok512Bytes(),
      });
      for (const type of ["int4", "int8", "fp32"]) {
        const w = bindKernels(
          type === "fp32" ? m.weights : quantizeModel(m.weights, type),
          "auto",
        );
        const here = await generateText(w, m.tokenizer, "Once upon a time", {
          temperature: 0.8,
          seed: 42,
          maxTokens: 200,
        });
        assert.deepEqual(
          r.sampled[type],
          here.ids,
          `${type}: Node vs Deno (relaxed SIMD here: ${wasmSupport().relaxed})`,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
