/**
 * `deno task site [--port 8000] [--data out] [--dir www/_site]`: builds the
 * site, then serves it on 127.0.0.1. Pages are re-rendered from `--data` on
 * every request (like Fresh), so a new `deno task bench` shows up on reload;
 * everything else is served from the built directory.
 *
 * @module
 */
import {
  numberFlag,
  parseFlags,
  runCli,
  UsageError,
} from "../src/cli/common.ts";
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

/**
 * Headers on every answer: no MIME sniffing, and a Content-Security-Policy
 * allowing only the site's own files (the inline stylesheet, the demo's
 * module script and its WebAssembly compilation included).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "content-security-policy": [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; "),
};

function answer(
  body: BodyInit | null,
  status: number,
  headers: Record<string, string> = {},
): Response {
  return new Response(body, {
    status,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      ...SECURITY_HEADERS,
      ...headers,
    },
  });
}

/** The regular file at `path`, following `dir/` to `dir/index.html`; null if none. */
async function regularFile(path: string): Promise<string | null> {
  try {
    const st = await Deno.stat(path);
    if (st.isFile) return path;
    if (st.isDirectory) return await regularFile(`${path}/index.html`);
  } catch { /* missing */ }
  return null;
}

/**
 * Serves the built site on 127.0.0.1; returns the running server. Only GET
 * and HEAD (else 405); a malformed path is a 400, a path with `..` or one
 * that is not a regular file in the site a 404 or 400, never a partial
 * answer.
 */
export function serveSite(opts: ServeOptions): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    hostname: "127.0.0.1",
    port: opts.port ?? 8000,
    signal: opts.signal,
    onListen: () => {},
    onError: () => answer("internal error\n", 500),
  }, async (req) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return answer("method not allowed\n", 405, { allow: "GET, HEAD" });
    }
    const head = req.method === "HEAD";
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url).pathname);
    } catch {
      return answer("bad path: malformed percent-escape\n", 400);
    }
    if (path.split("/").includes("..") || path.includes("\0")) {
      return answer("bad path\n", 400);
    }
    if (path.endsWith("/")) path += "index.html";
    const file = path.slice(1);
    if (opts.liveData && file.endsWith(".html")) {
      const model = await regularFile(`${opts.root}/models/model-int4.tar.gz`);
      const html = renderPage(
        file,
        await loadSiteData(opts.liveData, model !== null),
      );
      if (html !== null) {
        return answer(head ? null : html, 200, { "content-type": TYPES.html });
      }
    }
    const found = await regularFile(`${opts.root}/${file}`);
    if (found === null) return answer("not found\n", 404);
    const ext = found.slice(found.lastIndexOf(".") + 1);
    const headers = {
      "content-type": TYPES[ext] ?? "application/octet-stream",
      "cache-control": "no-cache",
    };
    const f = await Deno.open(found, { read: true });
    const size = (await f.stat()).size;
    const sized = { ...headers, "content-length": String(size) };
    if (head) {
      f.close();
      return answer(null, 200, sized);
    }
    return answer(f.readable, 200, sized);
  });
}

const USAGE =
  "usage: deno task site [--port 8000] [--data out] [--dir www/_site] [--model dist/model-int4.tar.gz]";

/** Fails with one line when 127.0.0.1:`port` is taken (checked before building). */
function checkPortFree(port: number): void {
  if (port === 0) return;
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      throw new UsageError(
        `port ${port} on 127.0.0.1 is in use (choose another with --port)`,
      );
    }
    throw e;
  }
}

if (import.meta.main) {
  await runCli("site", async () => {
    const f = parseFlags(Deno.args, {
      port: { type: "string" },
      data: { type: "string", default: "out" },
      dir: { type: "string", default: "www/_site" },
      model: { type: "string", default: "dist/model-int4.tar.gz" },
      help: { type: "boolean", short: "h" },
    });
    if (f.help) {
      console.log(USAGE);
      return;
    }
    const port = numberFlag(f, "port", 8000, {
      integer: true,
      min: 0,
      max: 65535,
    });
    checkPortFree(port);
    await buildSite({
      dataDir: f.data as string,
      siteDir: f.dir as string,
      demoModel: f.model as string,
      log: (l) => console.log(l),
    });
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = serveSite({
        root: f.dir as string,
        port,
        liveData: f.data as string,
      });
    } catch (e) {
      if (e instanceof Deno.errors.AddrInUse) checkPortFree(port);
      throw e;
    }
    console.log(`serving http://127.0.0.1:${server.addr.port}/ (Ctrl-C stops)`);
    await server.finished;
  });
}
