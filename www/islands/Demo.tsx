/**
 * The live demo island: rendered on the server like any component, then
 * hydrated in the browser by `client.tsx`, where it downloads the model and
 * streams generated text.
 *
 * @module
 */
import { useRef, useState } from "preact/hooks";
import type { DemoEngine, LoadedDemoModel } from "./engine.ts";

/** Props of {@linkcode DemoIsland}. */
export interface DemoProps {
  /** URL of the model archive. */
  model: string;
  /** Loads the engine (only in the browser; absent on the server). */
  engine?: () => Promise<DemoEngine>;
}

type Status = "idle" | "loading" | "ready" | "running" | "error";

/** Prompt box, settings, streamed output and tokens/s. */
export function DemoIsland(props: DemoProps) {
  const [status, setStatus] = useState<Status>("idle");
  const [message, setMessage] = useState("");
  const [output, setOutput] = useState("");
  const [speed, setSpeed] = useState("");
  const [prompt, setPrompt] = useState("the");
  const [maxTokens, setMaxTokens] = useState(60);
  const [temperature, setTemperature] = useState(0.8);
  const [seed, setSeed] = useState(1);
  const [newSeed, setNewSeed] = useState(true);
  const engineRef = useRef<LoadedDemoModel | null>(null);

  async function run() {
    if (!props.engine) return;
    try {
      if (!engineRef.current) {
        setStatus("loading");
        setMessage(`downloading ${props.model}…`);
        const t0 = performance.now();
        const engine = await (await props.engine()).load(props.model);
        engineRef.current = engine;
        setMessage(
          `${engine.describe} · loaded in ${
            ((performance.now() - t0) / 1000).toFixed(2)
          } s`,
        );
      }
      const engine = engineRef.current!;
      setStatus("running");
      setOutput(prompt);
      setSpeed("");
      let text = prompt;
      let n = 0;
      const t0 = performance.now();
      for await (
        const piece of engine.generate(prompt, {
          maxTokens,
          temperature,
          seed,
        })
      ) {
        text += piece;
        n++;
        setOutput(text);
        const s = (performance.now() - t0) / 1000;
        setSpeed(
          `${n} tokens · ${(n / s).toFixed(1)} tokens/s · seed ${seed}`,
        );
        // Let the browser paint the token before computing the next one.
        await new Promise((r) => setTimeout(r, 0));
      }
      // the same seed gives the same text; the next run samples another
      if (newSeed) setSeed(seed + 1);
      setStatus("ready");
    } catch (e) {
      setStatus("error");
      setMessage(`error: ${(e as Error).message}`);
    }
  }

  async function loadFile(file: File) {
    if (!props.engine) return;
    try {
      setStatus("loading");
      setMessage(`reading ${file.name}…`);
      const t0 = performance.now();
      const bytes = new Uint8Array(await file.arrayBuffer());
      engineRef.current = await (await props.engine()).loadBytes(
        bytes,
        file.name,
      );
      setMessage(
        `${file.name}: ${engineRef.current.describe} · loaded in ${
          ((performance.now() - t0) / 1000).toFixed(2)
        } s`,
      );
      setStatus("ready");
    } catch (e) {
      engineRef.current = null;
      setStatus("error");
      setMessage(`error: ${(e as Error).message}`);
    }
  }

  const busy = status === "loading" || status === "running";
  return (
    <div class="demo" data-status={status} data-model={props.model}>
      <div class="demo-controls">
        <label>
          prompt
          <input
            id="demo-prompt"
            type="text"
            value={prompt}
            onInput={(e) => setPrompt((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          tokens
          <input
            id="demo-max"
            type="number"
            min={1}
            max={500}
            value={maxTokens}
            onInput={(e) =>
              setMaxTokens(Number((e.target as HTMLInputElement).value))}
          />
        </label>
        <label>
          temperature
          <input
            id="demo-temperature"
            type="number"
            min={0}
            max={2}
            step={0.1}
            value={temperature}
            onInput={(e) =>
              setTemperature(Number((e.target as HTMLInputElement).value))}
          />
        </label>
        <label>
          seed
          <input
            id="demo-seed"
            type="number"
            min={0}
            step={1}
            value={seed}
            onInput={(e) =>
              setSeed(
                Math.max(
                  0,
                  Math.trunc(Number((e.target as HTMLInputElement).value)) ||
                    0,
                ),
              )}
          />
        </label>
        <label class="inline">
          <input
            id="demo-new-seed"
            type="checkbox"
            checked={newSeed}
            onChange={(e) => setNewSeed((e.target as HTMLInputElement).checked)}
          />
          next seed after each run
        </label>
        <button
          id="demo-run"
          type="button"
          disabled={busy || !props.engine}
          onClick={run}
        >
          {status === "loading"
            ? "Loading model…"
            : status === "running"
            ? "Generating…"
            : "Generate"}
        </button>
      </div>
      <label class="demo-file">
        or run your own model file (.gguf, .tar.gz), read in this page only
        <input
          id="demo-file"
          type="file"
          accept=".gguf,.tar.gz"
          disabled={busy || !props.engine}
          onChange={(e) => {
            const f = (e.target as HTMLInputElement).files?.[0];
            if (f) loadFile(f);
          }}
        />
      </label>
      <p id="demo-message" class="note">{message}</p>
      {props.engine ? null : (
        <p id="demo-static" class="note">
          Generate stays disabled while the page's script has not run. Opened
          from disk (a <code>file://</code>{" "}
          address) it never will: browsers do not run module scripts there.
          Serve the site instead, e.g. <code>deno task site</code>{" "}
          and open http://127.0.0.1:8000/demo.html.
        </p>
      )}
      <div id="demo-output">{output}</div>
      <p id="demo-speed" class="note">{speed}</p>
    </div>
  );
}
