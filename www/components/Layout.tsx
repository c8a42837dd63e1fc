import type { ComponentChildren } from "preact";

/** The pages of the site, in navigation order: file name and title. */
export const PAGES: { file: string; title: string }[] = [
  { file: "index.html", title: "Results" },
  { file: "kvcache.html", title: "KV cache" },
  { file: "quantization.html", title: "Quantization" },
  { file: "training.html", title: "Training" },
  { file: "demo.html", title: "Live demo" },
  { file: "method.html", title: "Method" },
];

const CSS = `
:root { --fg: #1d232a; --muted: #5b6570; --accent: #1b7837; --bg: #fcfcfb; --line: #dde1e5; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { border-bottom: 1px solid var(--line); background: white; }
header .wrap { display: flex; gap: 1.5rem; align-items: baseline; flex-wrap: wrap; }
header a.brand { font-weight: 700; font-size: 1.2rem; color: var(--fg); text-decoration: none; }
nav a { margin-right: 1rem; color: var(--muted); text-decoration: none; white-space: nowrap; display: inline-block; }
nav a[aria-current="page"] { color: var(--accent); font-weight: 600; }
.wrap { max-width: 1080px; margin: 0 auto; padding: 0.8rem 1.2rem; }
main h1 { margin-top: 0.5rem; }
table { display: block; max-width: 100%; overflow-x: auto; border-collapse: collapse; margin: 0.8rem 0 1.6rem; font-variant-numeric: tabular-nums; font-size: 0.92rem; }
th, td { border-bottom: 1px solid var(--line); padding: 0.3rem 0.7rem; text-align: right; white-space: nowrap; }
table.training-record { max-width: 100%; }
table.training-record td { white-space: normal; text-align: left; }
table.training-record code { word-break: break-all; }
table.training-record td span.kv { display: inline-block; margin-right: 1rem; }
th { background: #f1f3f5; }
td:first-child, th:first-child, td.text, th.text { text-align: left; }
figure { margin: 1rem 0 2rem; overflow-x: auto; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); background: white; }
figcaption { color: var(--muted); font-size: 0.9rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 1rem; margin: 1rem 0 2rem; }
.card { background: white; border: 1px solid var(--line); border-radius: 8px; padding: 0.9rem 1rem; }
.card .label { color: var(--muted); font-size: 0.85rem; }
.card .ours { font-size: 1.4rem; font-weight: 700; color: var(--accent); }
.card .theirs { color: var(--muted); font-size: 0.9rem; }
.note { color: var(--muted); font-size: 0.9rem; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 0.88rem; }
pre { background: #f1f3f5; padding: 0.7rem 0.9rem; border-radius: 6px; overflow-x: auto; }
#demo-output { white-space: pre-wrap; background: white; border: 1px solid var(--line); border-radius: 6px; padding: 0.8rem; min-height: 6rem; }
.demo-controls { display: flex; gap: 0.8rem; flex-wrap: wrap; align-items: end; margin: 0.8rem 0; }
.demo-controls label { display: flex; flex-direction: column; font-size: 0.85rem; color: var(--muted); }
.demo-controls input { font: inherit; padding: 0.25rem 0.4rem; }
.demo-controls input[type=text] { width: 22rem; max-width: 100%; }
.demo-controls input[type=number] { width: 6rem; }
.demo-controls label.inline { flex-direction: row; gap: 0.3rem; align-items: center; }
button { font: inherit; padding: 0.35rem 1rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: white; cursor: pointer; }
button[disabled] { opacity: 0.5; cursor: default; }
footer { border-top: 1px solid var(--line); margin-top: 2rem; color: var(--muted); font-size: 0.85rem; }
/* Phones: tables drop their secondary columns (std, raw bytes, tokens/s) and
   wrap headers and names; plots keep their natural size (legible text) and
   scroll sideways inside their figure. */
@media (max-width: 700px) {
  .wrap { padding: 0.6rem 0.8rem; }
  th, td { padding: 0.25rem 0.35rem; font-size: 0.82rem; }
  th, td.text, td:first-child { white-space: normal; }
  th.secondary, td.secondary { display: none; }
  table.stack thead { display: none; }
  table.stack, table.stack tbody, table.stack tr { display: block; }
  table.stack tr { border-bottom: 1px solid var(--line); padding: 0.3rem 0; }
  table.stack td { display: flex; justify-content: space-between; gap: 1rem; border: none; padding: 0.05rem 0.3rem; text-align: right; }
  table.stack td::before { content: attr(data-label); color: var(--muted); text-align: left; }
  table.stack td.secondary { display: none; }
  figure img { max-width: none; width: auto; }
  .demo-controls input[type=text] { width: 100%; }
  .demo-controls label:first-child { flex-basis: 100%; }
}
`;

/** Page shell: head, navigation, footer. */
export function Layout(
  props: {
    title: string;
    file: string;
    children: ComponentChildren;
    scripts?: string[];
    generated?: string;
  },
) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <link rel="icon" href="data:," />
        <title>{`${props.title} · tinyllm`}</title>
        <style dangerouslySetInnerHTML={{ __html: CSS }} />
      </head>
      <body>
        <header>
          <div class="wrap">
            <a class="brand" href="index.html">tinyllm</a>
            <nav>
              {PAGES.map((p) => (
                <a
                  href={p.file}
                  aria-current={p.file === props.file ? "page" : undefined}
                >
                  {p.title}
                </a>
              ))}
            </nav>
          </div>
        </header>
        <main class="wrap">{props.children}</main>
        <footer>
          <div class="wrap">
            tinyllm: small transformer language models on typed arrays, in
            TypeScript.{" "}
            {props.generated ? `Results measured ${props.generated}.` : ""}{" "}
            Pages rendered with Preact on the server; plots by Observable Plot.
          </div>
        </footer>
        {(props.scripts ?? []).map((s) => (
          <script key={s} type="module" src={s} />
        ))}
      </body>
    </html>
  );
}
