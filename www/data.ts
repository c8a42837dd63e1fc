/**
 * What every page is rendered from: the result files of `deno task bench`,
 * the plot files of `deno task plot`, and whether the demo model is present.
 *
 * @module
 */
import { readResults, type Results } from "../bench/lib/results.ts";

/** Inputs of the site. */
export interface SiteData extends Results {
  /** SVG file names available in the data directory. */
  plots: string[];
  /** Whether the demo model archive is published with the site. */
  demoModel: boolean;
}

/** The figures the original project printed, which the index compares with. */
export const ORIGINAL = {
  kvSpeedup50: 1.95,
  kvWithCacheMs: 8.98,
  kvWithoutCacheMs: 17.47,
  compressionInt8: 1.88,
  compressionInt4: 1.88,
  perplexity: 1052.43,
  deltaInt8: 0.06,
  deltaInt4: 2.32,
  latencyFp32Ms: 9.23,
  latencyInt8Ms: 22.68,
  latencyInt4Ms: 22.74,
  vocab: 1004,
} as const;

/** Loads the site data from a results directory (usually `out/`). */
export async function loadSiteData(
  dataDir: string,
  demoModel: boolean,
): Promise<SiteData> {
  const plots: string[] = [];
  try {
    for await (const e of Deno.readDir(dataDir)) {
      if (e.isFile && e.name.endsWith(".svg")) plots.push(e.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  plots.sort();
  return { ...(await readResults(dataDir)), plots, demoModel };
}

/** The final validation perplexity, wherever the record keeps it. */
export function valPerplexity(raw: Record<string, unknown>): number | null {
  for (const v of [raw, ...Object.values(raw)]) {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const p = (v as Record<string, unknown>)["valPerplexity"];
      if (typeof p === "number" && Number.isFinite(p)) return p;
    }
  }
  return null;
}
