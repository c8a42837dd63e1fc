/**
 * `tinyllm eval`: perplexity per token and per word of a model (tinyllm
 * archive or llama2.c checkpoint, any weight type) on a corpus split, through
 * the sequence forward (default) or token by token through the decode path
 * with a chosen KV cache.
 *
 * @module
 */
import { numberFlag, parseFlags, progressLine, UsageError } from "./common.ts";
import { loadModelFile } from "../io/load_fs.ts";
import { loadCorpus } from "../data/brown_fs.ts";
import { WordTokenizer } from "../tokenizer/word.ts";
import { perplexity } from "../eval/perplexity.ts";
import { createKvCache } from "../kv/create.ts";
import type { Backend } from "../backend.ts";
import { bindKernels } from "../model/bind.ts";

const FLAGS = {
  model: { type: "string" },
  tokenizer: { type: "string" },
  split: { type: "string" },
  cache: { type: "string" },
  data: { type: "string" },
  "seq-len": { type: "string" },
  tokens: { type: "string" },
  batch: { type: "string" },
  backend: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const HELP =
  `usage: tinyllm eval --model M.tar.gz|M.bin [--tokenizer T.bin] [--split val|test]
          [--cache fp32|int8|ring:N] [--data brown|file.txt] [--seq-len N]
          [--tokens N (first N tokens only)] [--batch N] [--backend auto|wasm|js] [--json]
  Windows of seq-len tokens (default: the model's seq_len), non-overlapping;
  a BOS id is prepended so every word of the split is predicted. Per-word
  perplexity = exp(total NLL / words in the split).`;

/** Entry point: `tinyllm eval [flags]`. */
export async function main(args: string[]): Promise<void> {
  const v = parseFlags(args, FLAGS);
  if (v.help) {
    console.log(HELP);
    return;
  }
  if (typeof v.model !== "string") {
    throw new UsageError(
      `--model is required (${HELP.split("\n")[0]} …; see --help)`,
    );
  }
  const split = v.split ?? "val";
  if (split !== "val" && split !== "test") {
    throw new UsageError(`--split must be val or test, got "${split}"`);
  }
  const backend = (v.backend ?? "auto") as Backend;
  if (!["auto", "wasm", "js"].includes(backend)) {
    throw new UsageError(
      `--backend must be auto, wasm or js, got "${backend}"`,
    );
  }
  const cache = typeof v.cache === "string" ? v.cache : undefined;
  const loaded = await loadModelFile(v.model, {
    tokenizer: typeof v.tokenizer === "string" ? v.tokenizer : undefined,
  });
  const weights = bindKernels(loaded.weights, backend);
  const cfg = loaded.config;
  if (cache) createKvCache(cache, cfg); // validate the spec before the work
  let data = typeof v.data === "string" ? v.data : undefined;
  if (data === undefined) {
    if (loaded.source === "llama2c") {
      throw new UsageError(
        "--data file.txt is required with a llama2.c checkpoint (it has no corpus)",
      );
    }
    const d = loaded.training?.data;
    data = typeof d === "string" ? d : "brown";
  }
  const corpus = await loadCorpus(data);
  const part = split === "val" ? corpus.val : corpus.test;
  const tok = loaded.tokenizer;
  let stream = tok instanceof WordTokenizer
    ? tok.encodeWords(part.words, { bos: true })
    : tok.encode(part.text, { bos: true });
  let words = part.words.length;
  const limit = numberFlag(v, "tokens", 0, { integer: true, min: 0 });
  if (limit > 0 && limit + 1 < stream.length) {
    // pro-rata words for a prefix
    words = Math.max(1, Math.round((words * limit) / (stream.length - 1)));
    stream = stream.slice(0, limit + 1);
  }
  const seqLen = numberFlag(v, "seq-len", cfg.seqLen, {
    integer: true,
    min: 1,
    max: cfg.seqLen,
  });
  const batch = numberFlag(v, "batch", 8, { integer: true, min: 1 });
  const t0 = performance.now();
  const progress = progressLine("evaluating");
  const r = perplexity(weights, stream, {
    seqLen,
    batch,
    words,
    cache,
    onProgress: v.json ? undefined : progress.update,
  });
  progress.done();
  const seconds = (performance.now() - t0) / 1000;
  const unk = tok instanceof WordTokenizer
    ? stream.filter((id) => id === tok.unkId).length / (stream.length - 1)
    : 0;
  if (v.json) {
    console.log(JSON.stringify({
      model: v.model,
      data,
      split,
      path: r.path,
      seqLen: r.seqLen,
      tokens: r.tokens,
      words: r.words,
      nll: r.nll,
      perplexityPerToken: r.perToken,
      perplexityPerWord: r.perWord,
      unkRate: unk,
      weightTypes: [
        ...new Set(weights.layers.map((l) => l.wq.weight.type)),
      ],
      backend: weights.classifier.kernels.backend,
      seconds,
    }));
    return;
  }
  console.log(
    `Perplexity on ${data} ${split} (${r.words} words, ${r.tokens} tokens${
      unk > 0 ? `, ${(unk * 100).toFixed(2)}% <unk>` : ""
    }; windows of ${r.seqLen}, ${
      r.path === "sequence"
        ? "sequence forward"
        : `decode with ${r.path} KV cache`
    }):`,
  );
  console.log(`  per token: ${r.perToken.toFixed(2)}`);
  console.log(`  per word:  ${r.perWord.toFixed(2)}`);
  console.log(`  (${seconds.toFixed(1)} s)`);
}
