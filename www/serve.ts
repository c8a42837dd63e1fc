/**
 * `deno task site [--port 8000] [--data out] [--dir www/_site]`: builds the
 * site, then serves it on 127.0.0.1. Pages are re-rendered from `--data` on
 * every request (like Fresh), so a new `deno task bench` shows up on reload;
 * everything else is served from the built directory.
 *
 * @module
 */
import { numberFlag, parseFlags, runCli } from "../src/cli/common.ts";
import { buildSite, renderPage } from "./site.tsx";
import { loadSiteData } from "./data.ts";

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  svg: "image/svg+xml",
  json: "application/json",
  csv: "text/csv; charset=utf-8",
  gz: "application/gzip",
  png: "image/png",
  css: "text/css; charset=utf-8",
};

/** Options of {@linkcode serveSite}. */
export interface ServeOptions {
  /** Directory of the built site. */
  root: string;
  /** Port (0 = any free port). */
  port?: number;
  /** Re-render pages from this results directory on each request. */
  liveData?: string;
  /** Stops the server when aborted. */
  signal?: AbortSignal;
}

/** Serves the built site on 127.0.0.1; returns the running server. */
export function serveSite(opts: ServeOptions): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    hostname: "127.0.0.1",
    port: opts.port ?? 8000,
    signal: opts.signal,
    onListen: () => {},
  }, async (req) => {
    let path = decodeURIComponent(new URL(req.url).pathname);
    if (path.endsWith("/")) path += "index.html";
    if (path.split("/").includes("..")) {
      return new Response("bad path", { status: 400 });
    }
    const file = path.slice(1);
    if (opts.liveData && file.endsWith(".html")) {
      const model = await Deno.stat(`${opts.root}/models/model-int4.tar.gz`)
        .then(() => true, () => false);
      const html = renderPage(file, await loadSiteData(opts.liveData, model));
      if (html !== null) {
        return new Response(html, { headers: { "content-type": TYPES.html } });
      }
    }
    try {
      const f = await Deno.open(`${opts.root}/${file}`, { read: true });
      const ext = file.slice(file.lastIndexOf(".") + 1);
      return new Response(f.readable, {
        headers: {
          "content-type": TYPES[ext] ?? "application/octet-stream",
          "cache-control": "no-cache",
        },
      });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
}

if (import.meta.main) {
  await runCli("site", async () => {
    const f = parseFlags(Deno.args, {
      port: { type: "string" },
      data: { type: "string", default: "out" },
      dir: { type: "string", default: "www/_site" },
      model: { type: "string", default: "dist/model-int4.tar.gz" },
    });
    const port = numberFlag(f, "port", 8000, { integer: true, min: 0 });
    await buildSite({
      dataDir: f.data as string,
      siteDir: f.dir as string,
      demoModel: f.model as string,
      log: (l) => console.log(l),
    });
    const server = serveSite({
      root: f.dir as string,
      port,
      liveData: f.data as string,
    });
    console.log(`serving http://127.0.0.1:${server.addr.port}/ (Ctrl-C stops)`);
    await server.finished;
  });
}
