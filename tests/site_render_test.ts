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

Deno.test("the index puts the headline numbers beside the original's", () => {
  const doc = dom(renderPage("index.html", data)!);
  const kvCard = doc.querySelector("#card-kv")!.textContent!;
  const seed50 = data.kvcache!.rows.find((r) =>
    r.model === "seed" && r.length === 50
  )!;
  assert.match(kvCard, new RegExp(`${seed50.speedup}×`));
  assert.match(kvCard, /1\.95×/);
  assert.match(doc.querySelector("#card-compression")!.textContent!, /1\.88×/);
  assert.match(
    doc.querySelector("#card-perplexity")!.textContent!,
    /1052\.43 → \+0\.06 \/ \+2\.32/,
  );
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
