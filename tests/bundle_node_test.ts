// The core has no Deno dependency: bundle mod.ts for the browser platform and
// run a greedy generation of stories260K under the machine's Node.js.
import assert from "node:assert/strict";
import { testNeeding } from "./permissions.ts";
import { runcGreedy, STORIES260K_PATH, TOK512_PATH } from "./reference.ts";

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
console.log(JSON.stringify(r));
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
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
