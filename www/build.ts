/**
 * `deno task site:build [--data out] [--out www/_site] [--model dist/model-int4.tar.gz]`:
 * writes the static results site.
 *
 * @module
 */
import { parseFlags, runCli } from "../src/cli/common.ts";
import { buildSite } from "./site.tsx";

if (import.meta.main) {
  await runCli("site:build", async () => {
    const f = parseFlags(
      Deno.args,
      {
        data: { type: "string", default: "out" },
        out: { type: "string", default: "www/_site" },
        model: { type: "string", default: "dist/model-int4.tar.gz" },
        "no-bundle": { type: "boolean", default: false },
      },
      "usage: deno task site:build [--data out] [--out www/_site] [--model dist/model-int4.tar.gz] [--no-bundle]\n  Writes the static results site (the live demo page needs it served: deno task site).",
    );
    await buildSite({
      dataDir: f.data as string,
      siteDir: f.out as string,
      demoModel: f.model as string,
      noBundle: f["no-bundle"] as boolean,
      log: (l) => console.log(l),
    });
    console.log(`open ${f.out}/index.html, or serve it: deno task site`);
  });
}
