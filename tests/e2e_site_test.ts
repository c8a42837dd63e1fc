/**
 * End-to-end: build the results site into a temp dir, serve it on
 * 127.0.0.1, and drive Debian's headless Chromium through it: every table
 * shows the values of the JSON it was built from, every plot renders, the
 * live demo produces text. Nothing is written outside a temp dir; set
 * TINYLLM_SCREENSHOTS=DIR to keep the page screenshots in DIR.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "puppeteer-core";
import { buildSite } from "../www/site.tsx";
import { serveSite } from "../www/serve.ts";
import { writePlots } from "../bench/plot.ts";
import { readResults, type Results } from "../bench/lib/results.ts";
import { demoModelForTest } from "./site_fixture.ts";
import { missing, testNeeding } from "./permissions.ts";

const CHROMIUM = "/usr/bin/chromium";
const test = testNeeding(
  import.meta.url,
  "read",
  "write",
  "env",
  "sys",
  "net",
  `run:${CHROMIUM}`,
);
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-dev-shm-usage",
];

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Real results when a full set exists in out/, else the fixture. */
function dataSource(): string {
  const real = ["kvcache", "quant", "kvcache-memory", "training"].every((f) =>
    existsSync(`${ROOT}/out/${f}.json`)
  );
  return real ? `${ROOT}/out` : `${ROOT}/www/fixtures`;
}

/**
 * Whether a cell's text shows the JSON value exactly: numbers parse back to
 * the same number (nothing rounded away), missing values are an em dash,
 * text is verbatim.
 */
function shows(text: string | undefined, value: unknown): boolean {
  if (text === undefined) return false;
  if (value === null || value === undefined) return text === "—";
  if (typeof value === "number") {
    return text.trim() !== "" && Number(text.replaceAll(",", "")) === value;
  }
  return text === String(value);
}

/** Cell texts of a table's data rows, keyed like the JSON. */
function tableRows(page: Page, id: string) {
  return page.$$eval(
    `#${id} tbody tr`,
    (trs) =>
      trs.map((tr) =>
        Object.fromEntries(
          [...tr.querySelectorAll("td[data-key]")].map((td) => [
            td.getAttribute("data-key"),
            td.textContent,
          ]),
        )
      ).filter((r) => Object.keys(r).length > 0),
  );
}

async function checkTable(
  page: Page,
  id: string,
  rows: object[],
  keys: string[],
) {
  const shown = await tableRows(page, id);
  assert.equal(shown.length, rows.length, `${id}: row count`);
  rows.forEach((r, i) => {
    for (const k of keys) {
      const value = (r as Record<string, unknown>)[k];
      assert.ok(
        shows(shown[i][k] ?? undefined, value),
        `${id} row ${i} ${k}: shows ${JSON.stringify(shown[i][k])} for ${
          JSON.stringify(value)
        }`,
      );
    }
  });
}

async function checkPlots(page: Page, expected: string[]) {
  const plots = await page.$$eval(
    "img[data-plot]",
    (imgs) =>
      imgs.map((img) => {
        const i = img as HTMLImageElement;
        const box = i.getBoundingClientRect();
        return {
          file: i.getAttribute("data-plot"),
          ok: i.complete && i.naturalWidth > 0,
          w: box.width,
          h: box.height,
        };
      }),
  );
  for (const f of expected) {
    const p = plots.find((x) => x.file === f);
    assert.ok(p, `plot ${f} is on the page`);
    assert.ok(p.ok && p.w > 0 && p.h > 0, `plot ${f} renders (${p.w}×${p.h})`);
  }
}

/**
 * Texts of a plot (opened as its own SVG document) whose boxes overlap: labels
 * that collide, ticks that run into each other. Empty when legible.
 */
async function overlappingTexts(
  page: Page,
  url: string,
): Promise<string[]> {
  await page.goto(url, { waitUntil: "load" });
  return await page.evaluate(() => {
    // each text's box as drawn: its local bbox through its transform (ticks
    // may be rotated), then a separating-axis test between the quadrilaterals
    type P = { x: number; y: number };
    const quads = [...document.querySelectorAll("text")].flatMap((t) => {
      const text = t.textContent ?? "";
      const b = t.getBBox();
      const m = t.getScreenCTM();
      if (!m || text.trim() === "" || b.width === 0) return [];
      const at = (x: number, y: number): P => ({
        x: m.a * x + m.c * y + m.e,
        y: m.b * x + m.d * y + m.f,
      });
      return [{
        text,
        q: [
          at(b.x, b.y),
          at(b.x + b.width, b.y),
          at(b.x + b.width, b.y + b.height),
          at(b.x, b.y + b.height),
        ],
      }];
    });
    const apart = (a: P[], b: P[]) => {
      for (const poly of [a, b]) {
        for (let i = 0; i < 4; i++) {
          const p = poly[i], q = poly[(i + 1) % 4];
          const nx = q.y - p.y, ny = p.x - q.x;
          const len = Math.hypot(nx, ny) || 1;
          const proj = (r: P[]) => r.map((v) => (v.x * nx + v.y * ny) / len);
          const pa = proj(a), pb = proj(b);
          // 1 px of overlap is tolerated (antialiasing, glyph padding)
          if (
            Math.max(...pa) - Math.min(...pb) <= 1 ||
            Math.max(...pb) - Math.min(...pa) <= 1
          ) return true;
        }
      }
      return false;
    };
    const hits: string[] = [];
    for (let i = 0; i < quads.length; i++) {
      for (let j = i + 1; j < quads.length; j++) {
        if (!apart(quads[i].q, quads[j].q)) {
          hits.push(`"${quads[i].text}" × "${quads[j].text}"`);
        }
      }
    }
    return hits;
  });
}

/** Tick labels printed with needless decimals (e.g. 16.000000). */
async function longTicks(page: Page): Promise<string[]> {
  return await page.evaluate(() =>
    [...document.querySelectorAll("text")].map((t) => t.textContent ?? "")
      .filter((t) => /\d\.\d{4,}/.test(t))
  );
}

async function visit(
  page: Page,
  base: string,
  file: string,
  shot: string,
  shots: string,
) {
  const res = await page.goto(`${base}/${file}`, { waitUntil: "load" });
  assert.equal(res?.status(), 200, `${file} status`);
  await page.evaluate(() =>
    Promise.all(
      [...document.images].map((img) =>
        img.complete ? null : new Promise((r) => {
          img.onload = img.onerror = r;
        })
      ),
    )
  );
  await page.screenshot({ path: `${shots}/${shot}.png`, fullPage: true });
}

test({
  name:
    "e2e: the built site shows the JSON values, renders plots, runs the demo",
  // Debian's Chromium (.ci/run installs it)
  ignore: missing("read").length === 0 && !existsSync(CHROMIUM),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const src = dataSource();
    const tmp = await Deno.makeTempDir({ prefix: "tinyllm-site-" });
    const data = `${tmp}/data`;
    const site = `${tmp}/site`;
    const shots = Deno.env.get("TINYLLM_SCREENSHOTS") ?? `${tmp}/screenshots`;
    await Deno.mkdir(data);
    await Deno.mkdir(shots, { recursive: true });
    for await (const e of Deno.readDir(src)) {
      if (e.name.endsWith(".json")) {
        await Deno.copyFile(`${src}/${e.name}`, `${data}/${e.name}`);
      }
    }
    // a model measured at one length only: its plot has a one-point line
    const kvFile = `${data}/kvcache.json`;
    const kvJson = JSON.parse(await Deno.readTextFile(kvFile));
    kvJson.rows.push({
      model: "one-point",
      length: 16,
      withCacheMs: 1.5,
      withCacheStdMs: 0.1,
      withoutCacheMs: 9.25,
      withoutCacheStdMs: 0.2,
      speedup: 6.17,
    });
    await Deno.writeTextFile(kvFile, JSON.stringify(kvJson));
    const plots = await writePlots(data, data);
    const model = await demoModelForTest(tmp);
    await buildSite({
      dataDir: data,
      siteDir: site,
      demoModel: model ?? undefined,
    });
    const results: Results = await readResults(data);

    const ac = new AbortController();
    const server = serveSite({ root: site, port: 0, signal: ac.signal });
    const base = `http://127.0.0.1:${server.addr.port}`;
    let browser: Browser | undefined;
    try {
      // imported here: puppeteer reads the environment as it loads
      const puppeteer = (await import("puppeteer-core")).default;
      browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        args: FLAGS,
        headless: true,
      });
      const page = await browser.newPage();
      await page.setViewport({ width: 1100, height: 900 });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));

      await t.step("index: headline table", async () => {
        await visit(page, base, "index.html", "index", shots);
        await checkTable(
          page,
          "headline-kv",
          results.kvcache!.rows.filter((r) => r.length === 50),
          ["model", "withCacheMs", "withoutCacheMs", "speedup"],
        );
      });
      await t.step("kvcache: tables and plots", async () => {
        await visit(page, base, "kvcache.html", "kvcache", shots);
        await checkTable(page, "table-kvcache", results.kvcache!.rows, [
          "model",
          "length",
          "withCacheMs",
          "withCacheStdMs",
          "withoutCacheMs",
          "withoutCacheStdMs",
          "speedup",
        ]);
        await checkTable(page, "table-kvmemory", results.kvMemory!.rows, [
          "model",
          "cache",
          "length",
          "bytes",
        ]);
        await checkPlots(
          page,
          plots.filter((p) => p.startsWith("kvcache")),
        );
      });
      await t.step("quantization: table and plots", async () => {
        await visit(page, base, "quantization.html", "quantization", shots);
        await checkTable(page, "table-quant", results.quant!.rows, [
          "model",
          "config",
          "sizeBytes",
          "compression",
          "perplexity",
          "deltaPerplexity",
          "latencyMs",
          "latencyStdMs",
          "tokensPerSecond",
        ]);
        await checkPlots(page, plots.filter((p) => p.startsWith("quant")));
      });
      await t.step(
        "plots: no text overlaps, no needless decimals",
        async () => {
          const bad: string[] = [];
          for (const f of plots) {
            const hits = await overlappingTexts(page, `${base}/plots/${f}`);
            const ticks = await longTicks(page);
            if (hits.length) bad.push(`${f}: ${hits.join(", ")}`);
            if (ticks.length) bad.push(`${f}: ticks ${ticks.join(", ")}`);
          }
          assert.deepEqual(bad, []);
        },
      );
      await t.step(
        "phone width (390 px): one-line nav labels, every key cell in view, plots at full size",
        async () => {
          await page.setViewport({ width: 390, height: 844 });
          try {
            for (
              const f of [
                "index",
                "kvcache",
                "quantization",
                "training",
                "demo",
                "method",
              ]
            ) {
              await visit(page, base, `${f}.html`, `${f}-390`, shots);
              const problems = await page.evaluate(() => {
                const out: string[] = [];
                const vw = document.documentElement.clientWidth;
                if (document.documentElement.scrollWidth > vw) {
                  out.push(
                    `page scrolls sideways (${document.documentElement.scrollWidth} px)`,
                  );
                }
                for (const a of document.querySelectorAll("nav a")) {
                  if (
                    a.getClientRects().length !== 1 ||
                    a.getBoundingClientRect().height > 40
                  ) {
                    out.push(`nav label "${a.textContent}" wraps`);
                  }
                }
                for (const td of document.querySelectorAll("table.stack td")) {
                  if (td.classList.contains("secondary")) continue;
                  const r = td.getBoundingClientRect();
                  if (r.width === 0 || r.left < 0 || r.right > vw + 0.5) {
                    out.push(
                      `cell ${
                        td.getAttribute("data-key")
                      } "${td.textContent}" out of view`,
                    );
                    break;
                  }
                }
                for (const img of document.querySelectorAll("figure img")) {
                  const i = img as HTMLImageElement;
                  const scale = i.getBoundingClientRect().width /
                    i.naturalWidth;
                  if (scale < 0.95) {
                    out.push(
                      `plot ${i.getAttribute("data-plot")} shrunk to ${
                        scale.toFixed(2)
                      }×`,
                    );
                  }
                }
                return out;
              });
              assert.deepEqual(problems, [], `${f}.html at 390 px`);
            }
          } finally {
            await page.setViewport({ width: 1100, height: 900 });
          }
        },
      );
      await t.step("training and method pages", async () => {
        await visit(page, base, "training.html", "training", shots);
        await checkPlots(page, ["training-loss.svg"]);
        await visit(page, base, "method.html", "method", shots);
        const dates = await page.$$eval(
          "#table-meta td[data-key=date]",
          (tds) => tds.map((td) => td.textContent),
        );
        assert.ok(dates.includes(results.kvcache!.date));
      });
      await t.step({
        name: "demo: the browser generates text with the library",
        ignore: model === null,
        fn: async () => {
          await visit(page, base, "demo.html", "demo-before", shots);
          await page.waitForSelector("#demo-run:not([disabled])", {
            timeout: 10_000,
          });
          await page.click("#demo-run");
          await page.waitForSelector(
            ".demo[data-status=ready], .demo[data-status=error]",
            { timeout: 30_000 },
          );
          const status = await page.$eval(
            ".demo",
            (d) => d.getAttribute("data-status"),
          );
          const message = await page.$eval(
            "#demo-message",
            (d) => d.textContent,
          );
          assert.equal(status, "ready", message ?? "");
          const prompt = await page.$eval(
            "#demo-prompt",
            (i) => (i as HTMLInputElement).value,
          );
          const text = await page.$eval("#demo-output", (d) => d.textContent);
          assert.ok(
            text!.startsWith(prompt) && text!.length > prompt.length,
            `demo produced text: ${JSON.stringify(text)}`,
          );
          const speed = await page.$eval("#demo-speed", (d) => d.textContent);
          assert.match(speed ?? "", /tokens\/s · seed 1$/);
          await page.screenshot({ path: `${shots}/demo.png`, fullPage: true });
          const tiny = await page.$eval("#demo-tiny", (d) => d.textContent);
          assert.match(tiny ?? "", /tiny/);

          // seed control: the same seed gives the same text, another seed
          // another one; "next seed" moves on after each run
          const runWithSeed = async (seed: number | null) => {
            if (seed !== null) {
              await page.$eval("#demo-seed", (i, v) => {
                const input = i as HTMLInputElement;
                input.value = String(v);
                input.dispatchEvent(new Event("input", { bubbles: true }));
              }, seed);
            }
            await page.click("#demo-run");
            await page.waitForSelector(".demo[data-status=running]", {
              timeout: 10_000,
            }).catch(() => {});
            await page.waitForSelector(".demo[data-status=ready]", {
              timeout: 30_000,
            });
            return await page.$eval("#demo-output", (d) => d.textContent);
          };
          assert.equal(
            await page.$eval(
              "#demo-seed",
              (i) => (i as HTMLInputElement).value,
            ),
            "2",
          );
          const next = await runWithSeed(null); // seed 2
          const again = await runWithSeed(1);
          assert.equal(again, text, "seed 1 again gives the same text");
          assert.notEqual(next, text, "seed 2 gives another text");
        },
      });
      await t.step({
        name: "demo opened from disk: Generate disabled, the page says why",
        ignore: model === null,
        fn: async () => {
          await page.goto(`file://${site}/demo.html`, { waitUntil: "load" });
          const disabled = await page.$eval(
            "#demo-run",
            (b) => (b as HTMLButtonElement).disabled,
          );
          assert.equal(disabled, true);
          const why = await page.$eval("#demo-static", (d) => d.textContent);
          assert.match(why ?? "", /file:\/\/.*deno task site/s);
        },
      });
      assert.deepEqual(errors, [], "no uncaught errors in the pages");
    } finally {
      await browser?.close();
      ac.abort();
      await server.finished;
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
