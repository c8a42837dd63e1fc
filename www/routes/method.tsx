import type { SiteData } from "../data.ts";
import type { RunMeta } from "../../bench/lib/results.ts";

const FIELDS: (keyof RunMeta)[] = [
  "date",
  "command",
  "quick",
  "deno",
  "v8",
  "os",
  "cpu",
  "cores",
  "backend",
];

/** Method page: the machine, the runtime, and how to reproduce. */
export default function Method({ data }: { data: SiteData }) {
  const files: [string, RunMeta | null][] = [
    ["kvcache.json", data.kvcache],
    ["quant.json", data.quant],
    ["kvcache-memory.json", data.kvMemory],
    ["training.json", data.training],
  ];
  return (
    <>
      <h1>Method</h1>
      <h2>Machine and runtime</h2>
      <table id="table-meta">
        <thead>
          <tr>
            <th class="text">file</th>
            {FIELDS.map((f) => <th key={f} class="text">{f}</th>)}
          </tr>
        </thead>
        <tbody>
          {files.filter(([, m]) => m).map(([name, m]) => (
            <tr>
              <td class="text">{name}</td>
              {FIELDS.map((f) => (
                <td class="text" data-key={f}>{String(m![f] ?? "—")}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        Raw data: {files.filter(([, m]) => m).map(([name]) => (
          <span key={name}>
            <a href={`data/${name}`}>{name}</a>
            {name === "training.json" ? null : (
              <>
                {" "}(<a href={`data/${name.replace(".json", ".csv")}`}>csv</a>)
              </>
            )}
            {" "}
          </span>
        ))}
      </p>
      <h2>What is measured</h2>
      <ul>
        <li>
          <b>KV cache</b>: wall time to generate N tokens greedily after a
          one-token prompt, with the cache and without it (re-running the whole
          sequence each step). Warm-up runs first, then mean ± sample standard
          deviation over repetitions; the speed-up is the ratio of the means.
        </li>
        <li>
          <b>Quantization</b>: size is the real byte count of all weights
          (packed payload, scales, fp32 embeddings and norms). Perplexity of the
          trained model is on its validation split; for llama2.c models on a
          fixed text (the page says which). Latency is the mean time per
          generated token with the KV cache.
        </li>
        <li>
          <b>Models</b>: the model trained by{" "}
          <code>deno task train --preset seed</code>; Karpathy's stories260K
          (llama2.c checkpoint, when given with{" "}
          <code>--llama2c DIR</code>); and a stories15M-shaped model (dim 288,
          hidden 768, 6 layers, 6 heads, vocab 32000) with seeded random
          weights, generated in memory (speed depends only on shape).
        </li>
        <li>
          Everything runs single-threaded on a shared 2-core virtual machine, so
          absolute numbers are noisy; compare ratios.
        </li>
      </ul>
      <h2>How to reproduce</h2>
      <pre>{`npm ci --prefix tools/deno
export PATH="$PWD/tools/deno/node_modules/.bin:$PATH"
deno task demo                       # train → generate → quantize → bench --quick → plot → site:build
deno task bench --llama2c DIR        # full benchmark (DIR holds stories260K.bin + tok512.bin)
deno task plot                       # SVG plots into out/
deno task site:build                 # static site into www/_site/
deno task site                       # serve it on http://127.0.0.1:8000
deno bench -A bench/                 # Deno.bench suites (kernels, decode step, 50-token generation)`}</pre>
    </>
  );
}
