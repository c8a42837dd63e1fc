/**
 * The site's server-side rendering without a browser: every page renders
 * from the fixture results, tables carry the JSON values verbatim, the index
 * quotes the original's figures, and missing results give notes, not errors.
 */
import assert from "node:assert/strict";
import { parseHTML } from "linkedom";
import { pageFiles, renderPage } from "../www/site.tsx";
import type { SiteData } from "../www/data.ts";
import kvcacheFixture from "../www/fixtures/kvcache.json" with {
  type: "json",
};
import quantFixture from "../www/fixtures/quant.json" with { type: "json" };
import kvMemoryFixture from "../www/fixtures/kvcache-memory.json" with {
  type: "json",
};
import trainingFixture from "../www/fixtures/training.json" with {
  type: "json",
};

type Doc = {
  querySelectorAll(s: string): ArrayLike<
    {
      textContent: string | null;
      getAttribute(n: string): string | null;
      querySelectorAll: Doc["querySelectorAll"];
    }
  >;
  querySelector(s: string): { textContent: string | null } | null;
};

function dom(html: string): Doc {
  return (parseHTML(html) as unknown as { document: Doc }).document;
}

function rowsOf(doc: Doc, id: string): Record<string, string>[] {
  return Array.from(doc.querySelectorAll(`#${id} tbody tr`)).map((tr) =>
    Object.fromEntries(
      Array.from(tr.querySelectorAll("td[data-key]")).map((
        td,
      ) => [td.getAttribute("data-key")!, td.textContent ?? ""]),
    )
  ).filter((r) => Object.keys(r).length > 0);
}

// The fixture results, as the site reads them from a results folder.
const data: SiteData = {
  kvcache: kvcacheFixture as unknown as SiteData["kvcache"],
  quant: quantFixture as unknown as SiteData["quant"],
  kvMemory: kvMemoryFixture as unknown as SiteData["kvMemory"],
  training: trainingFixture as unknown as SiteData["training"],
  plots: [],
  demoModel: false,
};

Deno.test("every page renders a full HTML document with navigation", () => {
  for (const f of pageFiles()) {
    const html = renderPage(f, data)!;
    assert.ok(html.startsWith("<!doctype html>"), f);
    const doc = dom(html);
    assert.equal(doc.querySelectorAll("nav a").length, pageFiles().length);
    assert.ok(doc.querySelector("h1")?.textContent, `${f} has a title`);
  }
  assert.equal(renderPage("nope.html", data), null);
});

Deno.test("tables show the JSON values exactly", () => {
  const kv = rowsOf(dom(renderPage("kvcache.html", data)!), "table-kvcache");
  assert.equal(kv.length, data.kvcache!.rows.length);
  data.kvcache!.rows.forEach((r, i) => {
    assert.equal(kv[i].withCacheMs, String(r.withCacheMs));
    assert.equal(kv[i].speedup, String(r.speedup));
    assert.equal(kv[i].model, r.model);
  });
  const q = rowsOf(dom(renderPage("quantization.html", data)!), "table-quant");
  data.quant!.rows.forEach((r, i) => {
    assert.equal(q[i].sizeBytes, String(r.sizeBytes));
    assert.equal(
      q[i].perplexity,
      r.perplexity === null ? "—" : String(r.perplexity),
    );
    assert.equal(q[i].latencyMs, String(r.latencyMs));
  });
});

Deno.test("the index cards read one way, in words: N× faster / smaller, levels side by side", () => {
  const doc = dom(renderPage("index.html", data)!);
  const text = (id: string) => doc.querySelector(`#${id}`)!.textContent!;
  const seed50 = data.kvcache!.rows.find((r) =>
    r.model === "seed" && r.length === 50
  )!;
  assert.ok(text("card-kv").includes(`${seed50.speedup}× faster`));
  assert.match(text("card-kv"), /original: 1\.95× faster/);
  assert.match(
    text("card-compression"),
    /original: 1\.88× smaller · 1\.88× smaller/,
  );
  // perplexity: levels (fp32 · int8 · int4), then the change in percent
  const q = data.quant!.rows.filter((r) => r.model === "seed");
  const fp32 = q.find((r) => r.config === "fp32")!;
  const int4 = q.find((r) => r.config === "int4 G32")!;
  const ppl = text("card-perplexity");
  assert.ok(ppl.includes(`${fp32.perplexity} · `), ppl);
  assert.ok(ppl.includes(` · ${int4.perplexity}`), ppl);
  const change = 100 * (int4.perplexity! / fp32.perplexity! - 1);
  assert.ok(ppl.includes(`int4 +${change.toFixed(1)}%`), ppl);
  assert.match(
    ppl,
    /original: 1052\.43 · 1052\.49 · 1054\.75 \(\+0\.0%, \+0\.2%/,
  );
  assert.doesNotMatch(ppl, /→/);
  // latency: fp32 time / quantized time, with the word
  const big = data.quant!.rows.filter((r) => r.model.startsWith("stories15M"));
  const bigFp = big.find((r) => r.config === "fp32")!;
  const bigI4 = big.find((r) => r.config === "int4 G32")!;
  const r4 = bigFp.latencyMs / bigI4.latencyMs;
  const lat = text("card-latency");
  assert.ok(
    lat.includes(
      r4 >= 1 ? `${r4.toFixed(1)}× faster` : `${(1 / r4).toFixed(1)}× slower`,
    ),
    lat,
  );
  assert.match(lat, /original: 2\.5× slower · 2\.5× slower/);
  assert.doesNotMatch(lat, /0\.\d+×/);
});

Deno.test("pages render without results, saying how to produce them", () => {
  const empty: SiteData = {
    kvcache: null,
    quant: null,
    kvMemory: null,
    training: null,
    plots: [],
    demoModel: false,
  };
  for (const f of pageFiles()) assert.ok(renderPage(f, empty));
  assert.match(renderPage("kvcache.html", empty)!, /deno task bench/);
});
