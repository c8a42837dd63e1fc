/**
 * `deno task plot`: renders the benchmark results in `out/*.json` to SVG files
 * in `out/` with Observable Plot, server-side (linkedom supplies the DOM).
 *
 * Usage: `deno task plot [--data out] [--out out]`
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";
import {
  type KvMemoryRow,
  type KvRow,
  type QuantRow,
  readResults,
  type Results,
  type TrainingRun,
} from "./lib/results.ts";
import { parseFlags, runCli } from "../src/cli/common.ts";
import { writeFileAtomic } from "../src/files_fs.ts";

type PlotOptions = NonNullable<Parameters<typeof Plot.plot>[0]>;

/** Renders one Plot specification to a standalone SVG string. */
function svgOf(options: PlotOptions, title: string): string {
  // linkedom's types describe a browser Window; only its document is used.
  const { document } = parseHTML(
    "<!doctype html><html><body></body></html>",
  ) as unknown as { document: unknown };
  const node = Plot.plot({
    ...options,
    document: document as unknown as PlotOptions["document"],
    style: { fontSize: "12px", background: "white" },
  }) as unknown as {
    outerHTML: string;
    setAttribute(n: string, v: string): void;
    tagName: string;
  };
  // A standalone .svg needs the namespace; the title lets screen readers and
  // tests tell the plots apart.
  node.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  node.setAttribute("role", "img");
  node.setAttribute("aria-label", title);
  return node.outerHTML;
}

// Axis labels beside the axes, centred (not at the ends, where they run into
// the last tick or a facet title); integer ticks from zero, so a series of
// one point still gets whole-number ticks.
const X_AXIS = {
  grid: true,
  zero: true,
  tickFormat: "d",
  labelAnchor: "center",
  labelArrow: "none",
  labelOffset: 36,
} as const;
const Y_AXIS = {
  grid: true,
  labelAnchor: "center",
  labelArrow: "none",
  labelOffset: 56,
} as const;

/** File-name friendly form of a model name. */
export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

/** Latency of generating N tokens with and without the KV cache, one model. */
export function kvLatencySvg(rows: KvRow[], model: string): string {
  const pts = rows.filter((r) => r.model === model).flatMap((r) => [
    {
      length: r.length,
      ms: r.withCacheMs,
      lo: r.withCacheMs - r.withCacheStdMs,
      hi: r.withCacheMs + r.withCacheStdMs,
      mode: "with cache",
    },
    {
      length: r.length,
      ms: r.withoutCacheMs,
      lo: r.withoutCacheMs - r.withoutCacheStdMs,
      hi: r.withoutCacheMs + r.withoutCacheStdMs,
      mode: "without cache",
    },
  ]);
  const last = (mode: string) =>
    pts.filter((p) => p.mode === mode).sort((a, b) => b.length - a.length)
      .slice(0, 1);
  return svgOf({
    width: 640,
    height: 340,
    marginRight: 100,
    marginLeft: 72,
    marginBottom: 44,
    x: { ...X_AXIS, label: "generated tokens" },
    y: { ...Y_AXIS, label: "total time (ms)", zero: true, tickFormat: "~s" },
    color: {
      domain: ["with cache", "without cache"],
      range: ["#1b7837", "#c2185b"],
    },
    marks: [
      Plot.ruleY([0]),
      Plot.lineY(pts, {
        x: "length",
        y: "ms",
        z: "mode",
        stroke: "mode",
        strokeWidth: 2,
      }),
      Plot.dot(pts, { x: "length", y: "ms", fill: "mode", r: 3 }),
      Plot.ruleX(pts, { x: "length", y1: "lo", y2: "hi", stroke: "mode" }),
      Plot.text([...last("with cache"), ...last("without cache")], {
        x: "length",
        y: "ms",
        text: "mode",
        fill: "mode",
        dx: 8,
        textAnchor: "start",
      }),
    ],
  }, `KV cache latency, ${model}`);
}

const CONFIG_ORDER = [
  "fp32",
  "int8 row",
  "int8 G32",
  "int4 G32",
  "int8 tensor",
  "int4 tensor",
];

function configDomain(rows: QuantRow[]): string[] {
  const seen = [...new Set(rows.map((r) => r.config))];
  return seen.sort((a, b) => {
    const ia = CONFIG_ORDER.indexOf(a), ib = CONFIG_ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
}

/** One bar chart per quant metric, one panel per model. */
export function quantSvg(
  rows: QuantRow[],
  metric: "size" | "perplexity" | "latency",
): string {
  const fp32 = new Map(
    rows.filter((r) => r.config === "fp32").map((r) => [r.model, r]),
  );
  const data = rows.flatMap((r) => {
    const base = fp32.get(r.model);
    let v: number | null;
    if (metric === "size") v = base ? 100 * r.sizeBytes / base.sizeBytes : null;
    else if (metric === "perplexity") {
      v = r.perplexity !== null && base?.perplexity
        ? 100 * (r.perplexity / base.perplexity - 1)
        : null;
    } else v = base ? r.latencyMs / base.latencyMs : null;
    return v === null || !Number.isFinite(v) ? [] : [{ ...r, v }];
  });
  const label = {
    size: "model size, % of fp32",
    perplexity: "perplexity change vs fp32 (%)",
    latency: "decode latency per token, relative to fp32",
  }[metric];
  const models = [...new Set(data.map((d) => d.model))];
  // wide enough per bar for its value label
  const panel = Math.max(220, 60 * configDomain(rows).length + 20);
  return svgOf({
    width: panel * Math.max(1, models.length) + 80,
    height: 340,
    marginTop: 40,
    marginBottom: 70,
    marginLeft: 72,
    // room above the tallest bar for its value label
    insetTop: 20,
    fx: { label: null, domain: models },
    x: { domain: configDomain(rows), label: null, tickRotate: -35 },
    y: {
      ...Y_AXIS,
      label,
      type: metric === "perplexity" ? "symlog" : "linear",
      ticks: metric === "perplexity" ? [0, 1, 10, 100, 1000, 10000] : undefined,
      tickFormat: metric === "perplexity" ? (d: number) => `${d}` : undefined,
    },
    color: { domain: configDomain(rows), scheme: "tableau10" },
    marks: [
      Plot.barY(data, { fx: "model", x: "config", y: "v", fill: "config" }),
      Plot.ruleY([metric === "latency" ? 1 : 0]),
      Plot.text(data, {
        fx: "model",
        x: "config",
        y: "v",
        text: (d: { v: number; sizeBytes: number }) =>
          metric === "size"
            ? `${(d.sizeBytes / 2 ** 20).toFixed(2)} MiB`
            : metric === "latency"
            ? `${d.v.toFixed(2)}×`
            : `${d.v >= 0 ? "+" : ""}${
              d.v.toFixed(Math.abs(d.v) >= 10 ? 0 : 1)
            }%`,
        dy: -6,
        fontSize: 10,
      }),
    ],
  }, `quantization ${metric}`);
}

/** KV-cache memory per cache type and length, one panel per model. */
export function kvMemorySvg(rows: KvMemoryRow[]): string {
  // Colour by kind (ring windows differ per model), label with the window.
  const data = rows.map((r) => ({
    ...r,
    kib: r.bytes / 1024,
    kind: r.cache.startsWith("ring") ? "ring" : r.cache,
  }));
  const longest = new Map<string, number>();
  for (const r of rows) {
    longest.set(r.model, Math.max(longest.get(r.model) ?? 0, r.length));
  }
  const models = [...new Set(rows.map((r) => r.model))];
  // A legend in the first panel's top-left corner (the lines start low there)
  // instead of end-of-line labels, which collide where the lines meet.
  const kinds = ["fp32", "int8", "ring"].filter((k) =>
    data.some((d) => d.kind === k)
  );
  const ringName = rows.find((r) => r.cache.startsWith("ring"))?.cache;
  const legend = kinds.map((kind, i) =>
    Plot.text([{ model: models[0], kind }], {
      fx: "model",
      text: (d: { kind: string }) =>
        `● ${
          d.kind === "ring" ? `${ringName ?? "ring"} (sliding window)` : d.kind
        }`,
      fill: "kind",
      frameAnchor: "top-left",
      textAnchor: "start",
      dx: 6,
      dy: 6 + 15 * i,
    })
  );
  return svgOf({
    width: 220 * Math.max(1, models.length) + 80,
    height: 320,
    marginTop: 40,
    marginLeft: 72,
    marginBottom: 44,
    fx: { label: null, domain: models },
    x: { ...X_AXIS, label: "sequence length" },
    // Log scale: the models' caches differ by two orders of magnitude.
    y: { ...Y_AXIS, label: "KV cache (KiB, log scale)", type: "log" },
    color: { domain: ["fp32", "int8", "ring"], scheme: "dark2" },
    marks: [
      Plot.lineY(data, {
        fx: "model",
        x: "length",
        y: "kib",
        z: "kind",
        stroke: "kind",
      }),
      Plot.dot(data, { fx: "model", x: "length", y: "kib", fill: "kind" }),
      ...legend,
    ],
  }, "KV cache memory");
}

/** Training (and validation) loss curves, one panel per model. */
export function trainingSvg(runs: TrainingRun[]): string {
  const data = runs.flatMap((r) =>
    r.curve.map((p) => ({ ...p, model: r.model }))
  );
  return svgOf({
    width: 640,
    height: 320 * Math.max(1, runs.length),
    marginLeft: 72,
    marginBottom: 44,
    fy: { label: null },
    x: { ...X_AXIS, label: "step" },
    y: { ...Y_AXIS, label: "cross-entropy loss (nats/token)" },
    color: { domain: ["train", "val"], range: ["#1f77b4", "#ff7f0e"] },
    marks: [
      Plot.lineY(data, { fy: "model", x: "step", y: "loss", stroke: "split" }),
      Plot.dot(data.filter((d) => d.split === "val"), {
        fy: "model",
        x: "step",
        y: "loss",
        fill: "split",
        r: 3,
      }),
      Plot.text(
        runs.flatMap((r) =>
          (["train", "val"] as const).flatMap((split) => {
            const pts = r.curve.filter((p) => p.split === split);
            return pts.length
              ? [{ ...pts[pts.length - 1], model: r.model }]
              : [];
          })
        ),
        {
          fy: "model",
          x: "step",
          y: "loss",
          text: "split",
          fill: "split",
          dy: -10,
        },
      ),
    ],
  }, "training loss");
}

/** Every plot the results allow, as file name → SVG text. */
export function plotAll(results: Results): Record<string, string> {
  const files: Record<string, string> = {};
  const kv = results.kvcache?.rows ?? [];
  for (const model of new Set(kv.map((r) => r.model))) {
    files[`kvcache-${slug(model)}.svg`] = kvLatencySvg(kv, model);
  }
  const q = results.quant?.rows ?? [];
  if (q.length) {
    for (const m of ["size", "perplexity", "latency"] as const) {
      files[`quant-${m}.svg`] = quantSvg(q, m);
    }
  }
  const mem = results.kvMemory?.rows ?? [];
  if (mem.length) files["kvcache-memory.svg"] = kvMemorySvg(mem);
  const runs = (results.training?.rows ?? []).filter((r) => r.curve.length);
  if (runs.length) files["training-loss.svg"] = trainingSvg(runs);
  return files;
}

/** Reads `dataDir`, writes every SVG into `outDir`, returns the file names. */
export async function writePlots(
  dataDir: string,
  outDir: string,
): Promise<string[]> {
  const files = plotAll(await readResults(dataDir));
  for (const [name, svg] of Object.entries(files)) {
    await writeFileAtomic(`${outDir}/${name}`, svg);
  }
  return Object.keys(files);
}

if (import.meta.main) {
  await runCli("plot", async () => {
    const f = parseFlags(
      Deno.args,
      {
        data: { type: "string", default: "out" },
        out: { type: "string" },
      },
      "usage: deno task plot [--data out] [--out DIR]\n  Renders out/*.json to SVG plots (into --out, default the --data folder).",
    );
    const data = f.data as string;
    const out = (f.out as string | undefined) ?? data;
    const names = await writePlots(data, out);
    if (names.length === 0) {
      console.error(
        `plot: no results in ${data}/ (run \`deno task bench\` first)`,
      );
      Deno.exit(1);
    }
    for (const n of names) console.log(`wrote ${out}/${n}`);
  });
}
