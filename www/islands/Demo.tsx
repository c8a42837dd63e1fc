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
          seed: 42,
        })
      ) {
        text += piece;
        n++;
        setOutput(text);
        const s = (performance.now() - t0) / 1000;
        setSpeed(`${n} tokens · ${(n / s).toFixed(1)} tokens/s`);
        // Let the browser paint the token before computing the next one.
        await new Promise((r) => setTimeout(r, 0));
      }
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
      <div id="demo-output">{output}</div>
      <p id="demo-speed" class="note">{speed}</p>
    </div>
  );
}
