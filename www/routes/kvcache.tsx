import type { SiteData } from "../data.ts";
import { Plot, Table } from "../components/Table.tsx";
import { slug } from "../../bench/plot.ts";
import type { KvMemoryRow, KvRow } from "../../bench/lib/results.ts";

/** KV-cache page: generation latency with and without cache, cache memory. */
export default function KvCache({ data }: { data: SiteData }) {
  const rows = data.kvcache?.rows ?? [];
  const models = [...new Set(rows.map((r) => r.model))];
  const mem = data.kvMemory?.rows ?? [];
  return (
    <>
      <h1>KV cache</h1>
      <p>
        Time to generate N tokens after a one-token prompt, greedy, with the KV
        cache (each step runs one token against the stored keys and values) and
        without it (each step re-runs the whole sequence, as the original
        project's baseline did). Mean ± standard deviation over repetitions
        after warm-up runs. Without a cache the work grows with the square of
        the length, so the speed-up grows with it; the original measured 1.95×
        at 50 tokens (8.98 ms with the cache, 17.47 ms without).
      </p>
      {data.kvcache
        ? (
          <Table<KvRow>
            id="table-kvcache"
            rows={rows}
            columns={[
              { key: "model", label: "model", text: true },
              { key: "length", label: "tokens" },
              { key: "withCacheMs", label: "with cache (ms)" },
              { key: "withCacheStdMs", label: "± std", secondary: true },
              { key: "withoutCacheMs", label: "without cache (ms)" },
              { key: "withoutCacheStdMs", label: "± std", secondary: true },
              { key: "speedup", label: "speed-up" },
            ]}
          />
        )
        : <p class="note">No out/kvcache.json yet: run deno task bench.</p>}
      {models.map((m) => (
        <Plot
          file={`kvcache-${slug(m)}.svg`}
          caption={`${m}: total generation time vs generated tokens`}
          available={data.plots}
        />
      ))}
      <h2>Cache memory</h2>
      <p>
        Bytes of key/value storage for a sequence of the given length: the
        preallocated fp32 cache, the int8 cache (one scale per head vector), and
        the sliding-window ring buffer (fixed memory).
      </p>
      {data.kvMemory
        ? (
          <Table<KvMemoryRow>
            id="table-kvmemory"
            rows={mem}
            columns={[
              { key: "model", label: "model", text: true },
              { key: "cache", label: "cache", text: true },
              { key: "length", label: "length" },
              { key: "bytes", label: "bytes" },
            ]}
          />
        )
        : (
          <p class="note">
            No out/kvcache-memory.json yet: run deno task bench.
          </p>
        )}
      <Plot
        file="kvcache-memory.svg"
        caption="KV-cache memory by cache type and length"
        available={data.plots}
      />
    </>
  );
}
