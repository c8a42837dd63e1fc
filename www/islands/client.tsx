/// <reference lib="dom" />
/**
 * Browser entry of the site (bundled to `demo.js` by `deno task site:build`):
 * renders the demo island over its server-rendered markup, now with the
 * library-backed engine (hydrate would keep the server's disabled button).
 *
 * @module
 */
import { render } from "preact";
import { DemoIsland } from "./Demo.tsx";
import { libraryEngine } from "./engine_lib.ts";

const root = document.getElementById("demo-root");
if (root) {
  const model =
    root.querySelector("[data-model]")?.getAttribute("data-model") ??
      "models/model-int4.tar.gz";
  root.textContent = "";
  render(
    <DemoIsland model={model} engine={() => Promise.resolve(libraryEngine)} />,
    root,
  );
}
