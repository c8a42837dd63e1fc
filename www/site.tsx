/**
 * The results site: Preact components (Fresh's component model: routes,
 * components, islands) rendered to static HTML from `out/*.json`.
 *
 * @module
 */
import { renderToString } from "preact-render-to-string";
import type { FunctionComponent } from "preact";
import { Layout, PAGES } from "./components/Layout.tsx";
import { loadSiteData, type SiteData } from "./data.ts";
import Index from "./routes/index.tsx";
import KvCache from "./routes/kvcache.tsx";
import Quantization from "./routes/quantization.tsx";
import Training from "./routes/training.tsx";
import Demo from "./routes/demo.tsx";
import Method from "./routes/method.tsx";

type Route = FunctionComponent<{ data: SiteData }>;

const ROUTES: Record<string, Route> = {
  "index.html": Index,
  "kvcache.html": KvCache,
  "quantization.html": Quantization,
  "training.html": Training,
  "demo.html": Demo,
  "method.html": Method,
};

/** Where the demo model lives inside the site. */
export const DEMO_MODEL_PATH = "models/model-int4.tar.gz";

/** Renders one page (file name like "index.html"), or null if unknown. */
export function renderPage(file: string, data: SiteData): string | null {
  const Page = ROUTES[file];
  const meta = PAGES.find((p) => p.file === file);
  if (!Page || !meta) return null;
  const generated = data.kvcache?.date ?? data.quant?.date;
  return "<!doctype html>\n" + renderToString(
    <Layout
      title={meta.title}
      file={file}
      generated={generated
        ? generated.slice(0, 16).replace("T", " ") + " UTC"
        : undefined}
      scripts={file === "demo.html" ? ["demo.js"] : []}
    >
      <Page data={data} />
    </Layout>,
  );
}

/** Every page file name. */
export function pageFiles(): string[] {
  return Object.keys(ROUTES);
}

/** Options of {@linkcode buildSite}. */
export interface BuildOptions {
  /** Results directory with *.json and *.svg (default "out"). */
  dataDir?: string;
  /** Output directory (default "www/_site"). */
  siteDir?: string;
  /** The int4 model archive for the demo, copied if it exists. */
  demoModel?: string;
  /** Skip bundling the client script (faster; the demo will not run). */
  noBundle?: boolean;
  /** Log progress lines. */
  log?: (line: string) => void;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Bundles the browser entry (the demo island plus the library) to `outFile`. */
export async function bundleClient(outFile: string): Promise<void> {
  const entry = new URL("./islands/client.tsx", import.meta.url).pathname;
  const config = new URL("../deno.json", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "-c",
      config,
      "--platform",
      "browser",
      "--minify",
      "-o",
      outFile,
      entry,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `deno bundle failed: ${new TextDecoder().decode(out.stderr).trim()}`,
    );
  }
}

/** Writes the static site; returns the list of files written. */
export async function buildSite(opts: BuildOptions = {}): Promise<string[]> {
  const dataDir = opts.dataDir ?? "out";
  const siteDir = opts.siteDir ?? "www/_site";
  const log = opts.log ?? (() => {});
  const written: string[] = [];
  await Deno.mkdir(`${siteDir}/plots`, { recursive: true });
  await Deno.mkdir(`${siteDir}/models`, { recursive: true });
  const demoModel = opts.demoModel !== undefined &&
    await exists(opts.demoModel);
  if (demoModel) {
    await Deno.copyFile(opts.demoModel!, `${siteDir}/${DEMO_MODEL_PATH}`);
    written.push(DEMO_MODEL_PATH);
  }
  const data = await loadSiteData(dataDir, demoModel);
  for (const svg of data.plots) {
    await Deno.copyFile(`${dataDir}/${svg}`, `${siteDir}/plots/${svg}`);
    written.push(`plots/${svg}`);
  }
  for (const json of ["kvcache", "quant", "kvcache-memory", "training"]) {
    for (const ext of ["json", "csv"]) {
      const f = `${dataDir}/${json}.${ext}`;
      if (await exists(f)) {
        await Deno.mkdir(`${siteDir}/data`, { recursive: true });
        await Deno.copyFile(f, `${siteDir}/data/${json}.${ext}`);
        written.push(`data/${json}.${ext}`);
      }
    }
  }
  for (const file of pageFiles()) {
    await Deno.writeTextFile(`${siteDir}/${file}`, renderPage(file, data)!);
    written.push(file);
  }
  if (!opts.noBundle) {
    log("bundling the demo client (deno bundle --platform browser)…");
    await bundleClient(`${siteDir}/demo.js`);
    written.push("demo.js");
  }
  log(`wrote ${written.length} files to ${siteDir}/`);
  return written;
}
