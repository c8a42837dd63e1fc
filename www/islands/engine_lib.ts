/**
 * The demo engine backed by tinyllm itself: fetch the archive (or take the
 * bytes of a file the user picked: a GGUF model or an archive), load it from
 * bytes (the same loader the CLI uses), and stream generated text.
 *
 * @module
 */
import { loadModel } from "../../src/io/load.ts";
import { bindKernels } from "../../src/model/bind.ts";
import { generate } from "../../src/generate/generate.ts";
import { WordTokenizer } from "../../src/tokenizer/word.ts";
import type { DemoEngine, LoadedDemoModel } from "./engine.ts";

async function loadBytes(
  bytes: Uint8Array,
  name: string,
): Promise<LoadedDemoModel> {
  const loaded = await loadModel(bytes, { name, maxContext: 2048 });
  const weights = bindKernels(loaded.weights, "auto");
  const tokenizer = loaded.tokenizer;
  const c = weights.config;
  const kind = weights.layers[0]?.wq.weight.type ?? "fp32";
  const kernels = weights.layers[0]?.wq.kernels.backend ?? "js";
  return {
    describe:
      `${kind} ${loaded.source} model: dim ${c.dim}, ${c.nLayers} layers, ${c.nHeads} heads, vocab ${c.vocabSize}, ${
        (bytes.length / 1024).toFixed(0)
      } KiB, ${kernels} kernels`,
    async *generate(prompt, opts) {
      for await (
        const t of generate(weights, tokenizer, prompt, {
          maxTokens: opts.maxTokens,
          temperature: opts.temperature,
          seed: opts.seed,
          // GGUF models attend as llama.cpp does; a sliding window lets a
          // short-context model (the seed model has 64 positions) keep
          // generating past its context.
          cache: loaded.source === "gguf"
            ? "f16"
            : c.positional === "rope"
            ? `ring:${c.seqLen}`
            : "fp32",
          // A 1000-word model maps ~28% of text to <unk>; never print it.
          suppressTokens: tokenizer instanceof WordTokenizer
            ? [tokenizer.unkId]
            : [],
        })
      ) yield t.text;
    },
  };
}

/** Engine that runs the library in the page. */
export const libraryEngine: DemoEngine = {
  async load(url: string): Promise<LoadedDemoModel> {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    return await loadBytes(new Uint8Array(await res.arrayBuffer()), url);
  },
  loadBytes,
};
