import { ORIGINAL, type SiteData } from "../data.ts";
import { Plot, Table } from "../components/Table.tsx";
import type { QuantRow } from "../../bench/lib/results.ts";

/** Quantization page: size, perplexity and latency per weight type. */
export default function Quantization({ data }: { data: SiteData }) {
  const rows = data.quant?.rows ?? [];
  const on = [...new Set(rows.map((r) => `${r.model}: ${r.perplexityOn}`))];
  return (
    <>
      <h1>Quantization</h1>
      <p>
        Symmetric quantization without zero point. “row” keeps one scale per
        output row (the int8 default); “G32” keeps one scale per group of 32
        consecutive weights along the input dimension (the int4 default);
        “tensor” is the original project's scheme, one scale for the whole
        matrix, shown for contrast. Sizes are the real bytes of the weights
        (payload plus scales); int4 packs two weights per byte. The kernels
        multiply by the packed weights directly, without an fp32 copy. Latency
        is per generated token with the KV cache.
      </p>
      {(data.quant?.notes ?? []).length
        ? (
          <ul id="quant-notes">
            {data.quant!.notes!.map((n) => <li key={n}>{n}</li>)}
          </ul>
        )
        : null}
      {data.quant
        ? (
          <Table<QuantRow>
            id="table-quant"
            rows={rows}
            columns={[
              { key: "model", label: "model", text: true },
              { key: "config", label: "config", text: true },
              { key: "sizeBytes", label: "size (bytes)", secondary: true },
              { key: "compression", label: "compression" },
              { key: "perplexity", label: "perplexity" },
              { key: "deltaPerplexity", label: "Δ perplexity" },
              { key: "latencyMs", label: "latency (ms/token)" },
              { key: "latencyStdMs", label: "± std", secondary: true },
              { key: "tokensPerSecond", label: "tokens/s", secondary: true },
            ]}
          />
        )
        : <p class="note">No out/quant.json yet: run deno task bench.</p>}
      {on.length
        ? (
          <>
            <p>Perplexity measured on:</p>
            <ul id="perplexity-on">{on.map((s) => <li key={s}>{s}</li>)}</ul>
          </>
        )
        : null}
      <h2>The original's table</h2>
      <table id="table-original-quant">
        <thead>
          <tr>
            <th>config</th>
            <th>size (MB)</th>
            <th>compression</th>
            <th>perplexity</th>
            <th>Δ</th>
            <th>latency (ms)</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <td>FP32</td>
            <td>1.99</td>
            <td>1.00</td>
            <td>{ORIGINAL.perplexity}</td>
            <td>—</td>
            <td>9.23 ± 0.51</td>
          </tr>
          <tr>
            <td>Int8 (per tensor)</td>
            <td>1.06</td>
            <td>1.88</td>
            <td>1052.49</td>
            <td>+0.06</td>
            <td>22.68 ± 0.59</td>
          </tr>
          <tr>
            <td>Int4 (per tensor, one per byte)</td>
            <td>1.06</td>
            <td>1.88</td>
            <td>1054.75</td>
            <td>+2.32</td>
            <td>22.74 ± 0.64</td>
          </tr>
        </tbody>
      </table>
      <Plot
        file="quant-size.svg"
        caption="Model size per weight type"
        available={data.plots}
      />
      <Plot
        file="quant-perplexity.svg"
        caption="Perplexity change vs fp32 (symlog scale)"
        available={data.plots}
      />
      <Plot
        file="quant-latency.svg"
        caption="Decode latency per token relative to fp32 (below 1 = faster)"
        available={data.plots}
      />
    </>
  );
}
