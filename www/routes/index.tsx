import { ORIGINAL, type SiteData, valPerplexity } from "../data.ts";
import type { QuantRow } from "../../bench/lib/results.ts";

function Card(
  props: { id: string; label: string; ours: string; theirs: string },
) {
  return (
    <div class="card" id={props.id}>
      <div class="label">{props.label}</div>
      <div class="ours">{props.ours}</div>
      <div class="theirs">{props.theirs}</div>
    </div>
  );
}

/** The trained model (first model of the quant table), or null. */
function mainModel(data: SiteData): string | null {
  return data.quant?.rows[0]?.model ?? data.kvcache?.rows[0]?.model ?? null;
}

function quantRow(rows: QuantRow[], model: string, config: string) {
  return rows.find((r) => r.model === model && r.config === config);
}

/** Index: the headline numbers beside the original project's. */
export default function Index({ data }: { data: SiteData }) {
  const model = mainModel(data);
  const kv = data.kvcache?.rows ?? [];
  const q = data.quant?.rows ?? [];
  const trained = data.training?.rows[0];
  const trainedPpl = trained ? valPerplexity(trained.raw) : null;
  const kv50 = kv.filter((r) => r.length === 50);
  // The trained model's context may be shorter than 50 tokens: then the card
  // shows the first model that reached 50, and the trained model's longest.
  const headline = kv50.find((r) => r.model === model) ?? kv50[0];
  const ownLongest =
    kv.filter((r) => r.model === model).sort((a, b) => b.length - a.length)[0];
  const fp = model ? quantRow(q, model, "fp32") : undefined;
  const i8 = model ? quantRow(q, model, "int8 row") : undefined;
  const i4 = model ? quantRow(q, model, "int4 G32") : undefined;
  const big = q.find((r) => r.model.startsWith("stories15M"))?.model ?? "";
  const bigFp = quantRow(q, big, "fp32");
  const bigI8 = quantRow(q, big, "int8 row");
  const bigI4 = quantRow(q, big, "int4 G32");
  const x = (v: number | undefined) => v === undefined ? "—" : `${v}×`;
  const signed = (v: number | null | undefined) =>
    v === null || v === undefined ? "—" : `${v >= 0 ? "+" : ""}${v}`;
  const ratio = (a?: QuantRow, b?: QuantRow) =>
    a && b ? `${(a.latencyMs / b.latencyMs).toFixed(2)}×` : "—";
  return (
    <>
      <h1>tinyllm results</h1>
      <p>
        A TypeScript re-implementation of a small-LM course project: it trains a
        word-level model from scratch, loads llama2.c checkpoints, quantizes
        weights to int8/int4 and generates with or without a KV cache. Each card
        puts our measurement beside the figure the original project printed.
      </p>
      <div class="cards">
        {trained && trainedPpl !== null
          ? (
            <Card
              id="card-trained"
              label={`Trained model (${trained.model}): validation perplexity`}
              ours={trainedPpl.toFixed(1)}
              theirs={`original: ${ORIGINAL.perplexity} with the same ${ORIGINAL.vocab}-word vocabulary (uniform guessing: ${ORIGINAL.vocab})`}
            />
          )
          : null}
        <Card
          id="card-kv"
          label={`KV-cache speed-up, 50 tokens${
            headline ? ` (${headline.model})` : ""
          }`}
          ours={x(headline?.speedup)}
          theirs={`original: ${ORIGINAL.kvSpeedup50}× (${ORIGINAL.kvWithCacheMs} ms vs ${ORIGINAL.kvWithoutCacheMs} ms)${
            ownLongest && ownLongest.model !== headline?.model
              ? ` · ${ownLongest.model}, ${ownLongest.length} tokens (its context): ${ownLongest.speedup}×`
              : ""
          }`}
        />
        <Card
          id="card-compression"
          label="Model size, int8 (row) / int4 (G32) vs fp32"
          ours={`${i8?.compression ?? "—"}× / ${i4?.compression ?? "—"}×`}
          theirs={`original: ${ORIGINAL.compressionInt8}× / ${ORIGINAL.compressionInt4}× smaller`}
        />
        <Card
          id="card-perplexity"
          label={`Perplexity, fp32 → Δ int8 / Δ int4${
            fp ? ` (${fp.perplexityOn})` : ""
          }`}
          ours={`${fp?.perplexity ?? "—"} → ${signed(i8?.deltaPerplexity)} / ${
            signed(i4?.deltaPerplexity)
          }`}
          theirs={`original: ${ORIGINAL.perplexity} → +${ORIGINAL.deltaInt8} / +${ORIGINAL.deltaInt4} (vocab ${ORIGINAL.vocab}: worse than uniform)`}
        />
        <Card
          id="card-latency"
          label={`Decode time per token vs fp32 (below 1× = faster)${
            bigFp ? ` (${big})` : ""
          }, int8 / int4`}
          ours={`${ratio(bigI8 ?? i8, bigFp ?? fp)} / ${
            ratio(bigI4 ?? i4, bigFp ?? fp)
          }`}
          theirs={`original: ${
            (ORIGINAL.latencyInt8Ms / ORIGINAL.latencyFp32Ms).toFixed(2)
          }× / ${
            (ORIGINAL.latencyInt4Ms / ORIGINAL.latencyFp32Ms).toFixed(2)
          }× (2.5× slower)`}
        />
      </div>
      <h2>KV cache at 50 generated tokens</h2>
      <table id="headline-kv">
        <thead>
          <tr>
            <th>model</th>
            <th>with cache (ms)</th>
            <th>without cache (ms)</th>
            <th>speed-up</th>
          </tr>
        </thead>
        <tbody>
          {kv50.map((r) => (
            <tr>
              <td data-key="model">{r.model}</td>
              <td data-key="withCacheMs">{String(r.withCacheMs)}</td>
              <td data-key="withoutCacheMs">{String(r.withoutCacheMs)}</td>
              <td data-key="speedup">{String(r.speedup)}</td>
            </tr>
          ))}
          <tr class="original">
            <td>original (PyTorch, 50 tokens)</td>
            <td>{String(ORIGINAL.kvWithCacheMs)}</td>
            <td>{String(ORIGINAL.kvWithoutCacheMs)}</td>
            <td>{String(ORIGINAL.kvSpeedup50)}</td>
          </tr>
        </tbody>
      </table>
      <p>
        Details: <a href="kvcache.html">KV cache</a>,{" "}
        <a href="quantization.html">quantization</a>,{" "}
        <a href="training.html">training</a>; try the model in your browser on
        the <a href="demo.html">live demo</a>; how it was measured:{" "}
        <a href="method.html">method</a>.
      </p>
      {data.kvcache?.quick
        ? (
          <p class="note">
            These figures come from a <code>--quick</code>{" "}
            run (fewer lengths and repetitions).
          </p>
        )
        : null}
    </>
  );
}
