import type { SiteData } from "../data.ts";
import { DemoIsland } from "../islands/Demo.tsx";

/** Live demo: the browser downloads the int4 model and generates text. */
export default function Demo({ data }: { data: SiteData }) {
  return (
    <>
      <h1>Live demo</h1>
      <p>
        Your browser downloads the int4 (G32) archive of the trained model and
        runs tinyllm itself, bundled for the browser: the same TypeScript that
        produced the benchmarks, on typed arrays, in this tab. Tokens stream in
        as they are generated.
      </p>
      <p id="demo-tiny">
        It is a <strong>tiny</strong> model: the <code>seed</code>{" "}
        preset, under a million parameters trained for about 20 seconds on
        50,000 words of the Brown corpus with a 1,004-word vocabulary (rarer
        words become{" "}
        <code>&lt;unk&gt;</code>). Expect plausible word sequences, not sense.
        The same seed gives the same text; change the seed (or leave "next seed"
        on) for another sample.
      </p>
      {data.demoModel ? null : (
        <p class="note">
          The model archive is missing from this build (run{" "}
          <code>deno task demo</code> or <code>deno task site:build</code>{" "}
          after training).
        </p>
      )}
      <div id="demo-root">
        <DemoIsland model="models/model-int4.tar.gz" />
      </div>
    </>
  );
}
