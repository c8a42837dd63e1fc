/// <reference lib="dom" />
/**
 * Browser entry of the site (bundled to `demo.js` by `deno task site:build`):
 * hydrates the demo island and hands it the library-backed engine.
 *
 * @module
 */
import { hydrate } from "preact";
import { DemoIsland } from "./Demo.tsx";
import { libraryEngine } from "./engine_lib.ts";

const root = document.getElementById("demo-root");
if (root) {
  const model =
    root.querySelector("[data-model]")?.getAttribute("data-model") ??
      "models/model-int4.tar.gz";
  hydrate(
    <DemoIsland model={model} engine={() => Promise.resolve(libraryEngine)} />,
    root,
  );
}
