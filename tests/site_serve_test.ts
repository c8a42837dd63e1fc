// The site server with hostile requests: malformed escapes, directories,
// methods other than GET/HEAD, traversal; every answer carries nosniff and a
// Content-Security-Policy; a busy port is one error line.
import assert from "node:assert/strict";
import { SECURITY_HEADERS, serveSite } from "../www/serve.ts";
import { testNeeding } from "./permissions.ts";
import { runTask } from "./tasks.ts";

const test = testNeeding(import.meta.url, "read", "write", "net", "run:deno");

/** Sends one raw HTTP/1.1 request (so nothing normalises it); returns status, headers, body. */
async function raw(port: number, line: string, extra = "") {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(
    new TextEncoder().encode(
      `${line}\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`,
    ),
  );
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
  }
  conn.close();
  const text = new TextDecoder().decode(
    new Uint8Array(chunks.flatMap((c) => [...c])),
  );
  const [head, ...rest] = text.split("\r\n\r\n");
  const [statusLine, ...lines] = head.split("\r\n");
  const headers = new Map(
    lines.map((l) => {
      const i = l.indexOf(":");
      return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()];
    }),
  );
  return {
    status: Number(statusLine.split(" ")[1]),
    headers,
    body: rest.join("\r\n\r\n"),
  };
}

test("site server: 400 for bad escapes, 405 for other methods, full answers or 404, security headers", async () => {
  const root = await Deno.makeTempDir({ prefix: "tinyllm-serve-" });
  const ac = new AbortController();
  try {
    const page = "<!doctype html><p>" + "x".repeat(200_000) + "</p>";
    await Deno.writeTextFile(`${root}/index.html`, page);
    await Deno.mkdir(`${root}/plots`);
    await Deno.writeTextFile(`${root}/plots/a.svg`, "<svg/>");
    await Deno.mkdir(`${root}/sub`);
    await Deno.writeTextFile(`${root}/sub/index.html`, "<p>sub</p>");
    const server = serveSite({ root, port: 0, signal: ac.signal });
    const port = server.addr.port;
    const expect = async (line: string, status: number, body?: string) => {
      const r = await raw(port, line);
      assert.equal(r.status, status, line);
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) {
        assert.equal(r.headers.get(k), v, `${line}: ${k}`);
      }
      if (body !== undefined) assert.equal(r.body, body, line);
      return r;
    };
    await expect("GET / HTTP/1.1", 200, page);
    await expect("GET /index.html HTTP/1.1", 200, page);
    await expect("GET /plots/a.svg HTTP/1.1", 200, "<svg/>");
    await expect("GET /sub HTTP/1.1", 200, "<p>sub</p>");
    await expect("GET /sub/ HTTP/1.1", 200, "<p>sub</p>");
    await expect("GET /plots HTTP/1.1", 404); // a directory without index
    await expect("GET /plots/ HTTP/1.1", 404);
    await expect("GET /nope.html HTTP/1.1", 404);
    await expect("GET /% HTTP/1.1", 400);
    await expect("GET /%zz HTTP/1.1", 400);
    await expect("GET /a%2f..%2f..%2fetc%2fpasswd HTTP/1.1", 400);
    await expect("GET /%00 HTTP/1.1", 400);
    for (const m of ["POST", "PUT", "DELETE", "TRACE", "OPTIONS", "PATCH"]) {
      const r = await expect(`${m} /index.html HTTP/1.1`, 405);
      assert.equal(r.headers.get("allow"), "GET, HEAD");
      assert.ok(!r.body.includes("xxxx"), `${m} must not return the file`);
    }
    const h = await expect("HEAD /index.html HTTP/1.1", 200, "");
    assert.equal(h.headers.get("content-length"), String(page.length));
  } finally {
    ac.abort();
    await Deno.remove(root, { recursive: true });
  }
});

test("site: a busy port is one error line and exit code 1", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (listener.addr as Deno.NetAddr).port;
    const r = await runTask("site", ["--port", String(port)]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stderr,
      `site: error: port ${port} on 127.0.0.1 is in use (choose another with --port)\n`,
    );
  } finally {
    listener.close();
  }
});
