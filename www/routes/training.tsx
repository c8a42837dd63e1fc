import { type SiteData, valPerplexity } from "../data.ts";
import { Plot } from "../components/Table.tsx";

function Value({ v }: { v: unknown }) {
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    // Nested records (hyper-parameters, results) as key: value pairs.
    return (
      <>
        {Object.entries(v as Record<string, unknown>).map(([k, x]) => (
          <span class="kv" key={k}>
            {k}:{" "}
            <code>{typeof x === "object" ? JSON.stringify(x) : String(x)}</code>
          </span>
        ))}
      </>
    );
  }
  if (Array.isArray(v)) return <code>{JSON.stringify(v)}</code>;
  return <>{v === null || v === undefined ? "—" : String(v)}</>;
}

/** Training page: loss curves and the archives' training records. */
export default function Training({ data }: { data: SiteData }) {
  const runs = data.training?.rows ?? [];
  return (
    <>
      <h1>Training</h1>
      <p>
        Models trained from scratch in TypeScript on typed arrays: manual
        backward pass, AdamW, warm-up then cosine decay, gradient clipping,
        seeded. The curves come from each archive's{" "}
        <code>training.json</code>. The original project's run (100 steps, vocab
        1004) went from loss 7.09 to 6.83 and ended at perplexity 1052: worse
        than guessing uniformly among its 1004 words.
      </p>
      <Plot
        file="training-loss.svg"
        caption="Training and validation loss"
        available={data.plots}
      />
      {runs.length === 0
        ? (
          <p class="note">
            No out/training.json yet: run deno task bench.
          </p>
        )
        : null}
      {runs.map((r) => (
        <section>
          <h2>{r.model}</h2>
          {valPerplexity(r.raw) !== null
            ? (
              <p class="val-perplexity">
                Validation perplexity <b>{valPerplexity(r.raw)!.toFixed(1)}</b>
                {" "}
                (original project: 1052.43 with the same 1004-word vocabulary).
              </p>
            )
            : null}
          <table class="training-record" data-model={r.model}>
            <tbody>
              {Object.entries(r.raw).filter(([, v]) =>
                !Array.isArray(v) || v.length <= 8
              ).map(([k, v]) => (
                <tr>
                  <th class="text" scope="row">{k}</th>
                  <td class="text" data-key={k}>
                    <Value v={v} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </>
  );
}
