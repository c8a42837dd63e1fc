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
  // Every card reads one way: how many times faster or smaller, and levels
  // side by side (no mix of levels and deltas).
  const times = (v: number | undefined, word: string) =>
    v === undefined ? "—" : `${v}× ${word}`;
  const pct = (v: number, base: number) => {
    const p = 100 * (v / base - 1);
    return `${p >= 0 ? "+" : "−"}${Math.abs(p).toFixed(1)}%`;
  };
  /** fp32 time / quantized time, as "N× faster" or "N× slower". */
  const speed = (fp32Ms: number, ms: number) => {
    const r = fp32Ms / ms;
    return r >= 1 ? `${r.toFixed(1)}× faster` : `${(1 / r).toFixed(1)}× slower`;
  };
  const latency = (a?: QuantRow, base?: QuantRow) =>
    a && base ? speed(base.latencyMs, a.latencyMs) : "—";
  const level = (r?: QuantRow) =>
    r?.perplexity === null || r?.perplexity === undefined
      ? "—"
      : String(r.perplexity);
  const change = (r?: QuantRow) =>
    fp?.perplexity && r?.perplexity ? pct(r.perplexity, fp.perplexity) : "—";
  const origPpl8 = ORIGINAL.perplexity + ORIGINAL.deltaInt8;
  const origPpl4 = ORIGINAL.perplexity + ORIGINAL.deltaInt4;
  const latFp = bigFp ?? fp;
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
              label={`Trained model (${trained.model}): validation perplexity (lower is better)`}
              ours={trainedPpl.toFixed(1)}
              theirs={`original: ${ORIGINAL.perplexity} with the same ${ORIGINAL.vocab}-word vocabulary (uniform guessing: ${ORIGINAL.vocab})`}
            />
          )
          : null}
        <Card
          id="card-kv"
          label={`Generating 50 tokens with the KV cache${
            headline ? ` (${headline.model})` : ""
          }`}
          ours={times(headline?.speedup, "faster")}
          theirs={`original: ${ORIGINAL.kvSpeedup50}× faster (${ORIGINAL.kvWithCacheMs} ms vs ${ORIGINAL.kvWithoutCacheMs} ms)${
            ownLongest && ownLongest.model !== headline?.model
              ? ` · ${ownLongest.model}, ${ownLongest.length} tokens (its context): ${ownLongest.speedup}× faster`
              : ""
          }`}
        />
        <Card
          id="card-compression"
          label="Model size vs fp32: int8 (per row) · int4 (groups of 32)"
          ours={`${times(i8?.compression, "smaller")} · ${
            times(i4?.compression, "smaller")
          }`}
          theirs={`original: ${ORIGINAL.compressionInt8}× smaller · ${ORIGINAL.compressionInt4}× smaller`}
        />
        <Card
          id="card-perplexity"
          label={`Perplexity, fp32 · int8 · int4 (lower is better)${
            fp ? `, ${fp.perplexityOn}` : ""
          }`}
          ours={`${level(fp)} · ${level(i8)} · ${level(i4)}`}
          theirs={`int8 ${change(i8)}, int4 ${
            change(i4)
          } vs fp32 · original: ${ORIGINAL.perplexity} · ${
            origPpl8.toFixed(2)
          } · ${origPpl4.toFixed(2)} (${pct(origPpl8, ORIGINAL.perplexity)}, ${
            pct(origPpl4, ORIGINAL.perplexity)
          }; vocab ${ORIGINAL.vocab}: worse than uniform)`}
        />
        <Card
          id="card-latency"
          label={`Decode time per token vs fp32${
            bigFp ? ` (${big})` : ""
          }: int8 · int4`}
          ours={`${latency(bigI8 ?? i8, latFp)} · ${
            latency(bigI4 ?? i4, latFp)
          }`}
          theirs={`original: ${
            speed(ORIGINAL.latencyFp32Ms, ORIGINAL.latencyInt8Ms)
          } · ${speed(ORIGINAL.latencyFp32Ms, ORIGINAL.latencyInt4Ms)}`}
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
