/**
 * End-to-end: the demo page runs a GGUF file the user picks. Builds the site
 * into a temp dir, serves it on 127.0.0.1, and in headless Chromium chooses
 * llama.cpp's stories260K Q8_0 file in the demo's file input, generates
 * greedily, and checks the text is llama.cpp's greedy continuation.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, ElementHandle } from "puppeteer-core";
import { buildSite } from "../www/site.tsx";
import { serveSite } from "../www/serve.ts";
import { demoModelForTest } from "./site_fixture.ts";
import { missing, testNeeding } from "./permissions.ts";

const CHROMIUM = "/usr/bin/chromium";
const MODELS = new URL("./testdata/gguf/models/", import.meta.url);
const test = testNeeding(
  import.meta.url,
  "read",
  "write",
  "env",
  "sys",
  "net",
  `run:${CHROMIUM}`,
);

test({
  name: "e2e demo: a user's GGUF file generates llama.cpp's greedy text",
  // Debian's Chromium (.ci/run installs it)
  ignore: missing("read").length === 0 && !existsSync(CHROMIUM),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const ref = JSON.parse(
      await Deno.readTextFile(new URL("stories260K-q8_0.ref.json", MODELS)),
    );
    const tmp = await Deno.makeTempDir({ prefix: "tinyllm-gguf-demo-" });
    const site = `${tmp}/site`;
    await buildSite({
      dataDir: fileURLToPath(new URL("../www/fixtures", import.meta.url)),
      siteDir: site,
      demoModel: await demoModelForTest(tmp),
    });
    const ac = new AbortController();
    const server = serveSite({ root: site, port: 0, signal: ac.signal });
    let browser: Browser | undefined;
    try {
      // imported here: puppeteer reads the environment as it loads
      const puppeteer = (await import("puppeteer-core")).default;
      browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-dev-shm-usage",
          "--no-first-run",
        ],
        headless: true,
      });
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(`http://127.0.0.1:${server.addr.port}/demo.html`, {
        waitUntil: "load",
      });
      await page.waitForSelector("#demo-file:not([disabled])", {
        timeout: 20000,
      });
      const input = await page.$("#demo-file") as ElementHandle<
        HTMLInputElement
      >;
      await input.uploadFile(
        new URL("stories260K-q8_0.gguf", MODELS).pathname,
      );
      await page.waitForSelector(
        ".demo[data-status=ready], .demo[data-status=error]",
        { timeout: 30000 },
      );
      const message = await page.$eval("#demo-message", (m) => m.textContent);
      assert.match(message ?? "", /q8_0 gguf model: dim 64/);
      await page.$eval("#demo-prompt", (e, p) => {
        const i = e as HTMLInputElement;
        i.value = p as string;
        i.dispatchEvent(new Event("input", { bubbles: true }));
      }, ref.prompt);
      for (
        const [id, value] of [["#demo-temperature", "0"], ["#demo-max", "30"]]
      ) {
        await page.$eval(id, (e, v) => {
          const i = e as HTMLInputElement;
          i.value = v as string;
          i.dispatchEvent(new Event("input", { bubbles: true }));
        }, value);
      }
      await page.click("#demo-run");
      await page.waitForFunction(
        () =>
          document.querySelector(".demo")?.getAttribute("data-status") !==
            "running",
        { timeout: 60000 },
      );
      const status = await page.$eval(
        ".demo",
        (d) => d.getAttribute("data-status"),
      );
      const out = await page.$eval("#demo-output", (d) => d.textContent ?? "");
      assert.equal(
        status,
        "ready",
        await page.$eval("#demo-message", (m) => m.textContent),
      );
      assert.ok(out.startsWith(ref.prompt), out);
      const continuation = out.slice(ref.prompt.length);
      assert.ok(continuation.length > 20, out);
      assert.ok(ref.greedy_text.startsWith(continuation), continuation);
      assert.deepEqual(errors, []);
      const shots = Deno.env.get("TINYLLM_SCREENSHOTS") ?? tmp;
      await Deno.mkdir(shots, { recursive: true });
      await page.screenshot({ path: `${shots}/demo-gguf.png`, fullPage: true });
    } finally {
      await browser?.close();
      ac.abort();
      await server.finished;
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
