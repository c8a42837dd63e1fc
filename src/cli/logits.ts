/**
 * `tinyllm logits`: feeds token ids one position at a time through the
 * decode path and prints, per position, one JSON line with the largest
 * logits: `{"pos": p, "top": [[id, logit], …]}` (largest first). The check
 * against llama.cpp's teacher-forced logits uses exactly this.
 *
 * @module
 */
import { numberFlag, parseFlags, UsageError } from "./common.ts";
import type { Backend } from "../backend.ts";
import { loadModelFile } from "../io/load_fs.ts";
import { createKvCache } from "../kv/create.ts";
import { bindKernels } from "../model/bind.ts";
import { createRunState, forwardToken } from "../model/decode.ts";

const USAGE =
  `usage: logits --model M.gguf|M.tar.gz|M.bin [--tokenizer T.bin] --ids "i1 i2 …" [--top K]
          [--cache fp32|f16|int8] [--backend auto|wasm|js]
  One JSON line per position: {"pos": p, "top": [[id, logit], …]}, the K (default 8)
  largest logits after feeding ids[0..p]. A GGUF model's default cache is f16, as llama.cpp.`;

/**
 * The indices of the `k` largest values of `a`, largest first (ties: lower
 * index first).
 */
function topK(a: Float32Array, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (best.length === k && !(v > a[best[k - 1]])) continue;
    let j = best.length === k ? k - 1 : best.length;
    while (j > 0 && v > a[best[j - 1]]) j--;
    best.splice(j, 0, i);
    if (best.length > k) best.pop();
  }
  return best;
}

/** Entry point: `tinyllm logits [flags]`. */
export async function main(args: string[]): Promise<void> {
  const v = parseFlags(args, {
    model: { type: "string" },
    tokenizer: { type: "string" },
    ids: { type: "string" },
    top: { type: "string" },
    cache: { type: "string" },
    backend: { type: "string", default: "auto" },
    help: { type: "boolean", short: "h", default: false },
  });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  if (typeof v.model !== "string") {
    throw new UsageError(`--model is required (${USAGE.split("\n")[0]})`);
  }
  if (typeof v.ids !== "string") throw new UsageError("--ids is required");
  const words = v.ids.trim().split(/[\s,]+/).filter((w) => w !== "");
  if (words.length === 0) throw new UsageError("--ids holds no token id");
  const ids = words.map((w) => {
    const n = Number(w);
    if (!/^\d+$/.test(w) || !Number.isSafeInteger(n)) {
      throw new UsageError(`--ids: "${w}" is not a token id`);
    }
    return n;
  });
  const top = numberFlag(v, "top", 8, { integer: true, min: 1 });
  const backend = v.backend as string;
  if (backend !== "auto" && backend !== "wasm" && backend !== "js") {
    throw new UsageError(
      `--backend must be auto, wasm or js, got "${backend}"`,
    );
  }
  const loaded = await loadModelFile(v.model, {
    tokenizer: v.tokenizer as string | undefined,
  });
  const c = loaded.config;
  if (ids.length > c.seqLen) {
    throw new UsageError(
      `--ids has ${ids.length} ids, more than the model's context of ${c.seqLen}`,
    );
  }
  const cacheSpec = (v.cache as string | undefined) ??
    (loaded.source === "gguf" ? "f16" : "fp32");
  if (!["fp32", "f16", "int8"].includes(cacheSpec)) {
    throw new UsageError(
      `--cache must be fp32, f16 or int8, got "${cacheSpec}"`,
    );
  }
  const weights = bindKernels(loaded.weights, backend as Backend);
  const cache = createKvCache(cacheSpec, c, ids.length);
  const state = createRunState(c, weights);
  const k = Math.min(top, c.vocabSize);
  for (let pos = 0; pos < ids.length; pos++) {
    const logits = forwardToken(weights, state, cache, ids[pos], pos);
    const best = topK(logits, k).map((id) => [id, logits[id]]);
    console.log(JSON.stringify({ pos, top: best }));
  }
}
