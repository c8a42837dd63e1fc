/**
 * A column: header text, row key, whether it holds text (left-aligned), and
 * whether it is secondary (hidden on phone-width screens).
 */
export interface Column<R> {
  key: keyof R & string;
  label: string;
  text?: boolean;
  secondary?: boolean;
}

function classOf(c: { text?: boolean; secondary?: boolean }) {
  const names = [c.text ? "text" : "", c.secondary ? "secondary" : ""]
    .filter(Boolean);
  return names.length ? names.join(" ") : undefined;
}

/** Shows a JSON value exactly as stored (no rounding), null as an em dash. */
export function cell(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "—";
  return String(v);
}

/**
 * A results table. Every cell is the stored JSON value verbatim, and carries
 * `data-key` so the end-to-end test can compare it with the JSON.
 */
export function Table<R extends object>(
  props: { id: string; rows: R[]; columns: Column<R>[]; caption?: string },
) {
  return (
    <table id={props.id} class="stack" data-rows={props.rows.length}>
      {props.caption ? <caption>{props.caption}</caption> : null}
      <thead>
        <tr>
          {props.columns.map((c) => (
            <th class={classOf(c)} scope="col">{c.label}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <tr>
            {props.columns.map((c) => (
              <td class={classOf(c)} data-key={c.key} data-label={c.label}>
                {cell((r as Record<string, unknown>)[c.key])}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A plot produced by `deno task plot`, or a note when it is missing. */
export function Plot(
  props: { file: string; caption: string; available: string[] },
) {
  if (!props.available.includes(props.file)) {
    return (
      <p class="note">
        Plot <code>{props.file}</code> not generated yet: run{" "}
        <code>deno task plot</code>.
      </p>
    );
  }
  return (
    <figure>
      <img
        src={`plots/${props.file}`}
        alt={props.caption}
        data-plot={props.file}
      />
      <figcaption>{props.caption}</figcaption>
    </figure>
  );
}
