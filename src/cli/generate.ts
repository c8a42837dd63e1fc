/**
 * `tinyllm generate`: prints the prompt and its continuation as it is
 * produced, then `achieved tok/s: X` on stderr (as llama2.c's `run`).
 *
 * `--max-tokens N` counts generated tokens after the prompt (default 256,
 * stopping earlier at the context end, or at BOS/EOS). llama2.c's `-n S`
 * counts positions including the prompt, so `run -n S` with a prompt of P
 * tokens (BOS included) equals `--max-tokens S - P + 1`.
 *
 * @module
 */
import { numberFlag, parseFlags, UsageError } from "./common.ts";
import type { Backend } from "../backend.ts";
import { loadModelFile } from "../io/load_fs.ts";
import { generate, type GenerateOptions } from "../generate/generate.ts";
import { bindKernels } from "../model/bind.ts";
import { Llama2cTokenizer } from "../tokenizer/llama2c.ts";
import type { Tokenizer } from "../tokenizer/types.ts";

const USAGE =
  "usage: generate --model M.bin|M.tar.gz|M.gguf [--tokenizer T.bin] [--prompt TEXT] [--max-tokens N] [--temperature T] [--top-k K] [--top-p P] [--seed S] [--no-cache | --cache fp32|f16|int8|ring:N] [--backend auto|wasm|js] [--suppress-unk] (a GGUF model's default cache is f16, as llama.cpp)";

/** The tokenizer's `<unk>` id(s): never useful to print. */
function unkIds(tokenizer: Tokenizer): number[] {
  const id = (tokenizer as { unkId?: unknown }).unkId;
  if (typeof id === "number" && Number.isInteger(id) && id >= 0) return [id];
  // llama2.c tokenizers keep "<unk>" as id 0
  if (
    tokenizer instanceof Llama2cTokenizer &&
    new TextDecoder().decode(tokenizer.piece(0)) === "<unk>"
  ) return [0];
  return [];
}

/**
 * Runs `generate` with command-line flags.
 *
 * @example
 * ```ts ignore
 * import { main } from "./generate.ts";
 * await main(["--model", "stories260K.bin", "--tokenizer", "tok512.bin", "--prompt", "Once upon a time", "--temperature", "0"]);
 * ```
 */
export async function main(args: string[]): Promise<void> {
  const v = parseFlags(args, {
    model: { type: "string" },
    tokenizer: { type: "string" },
    prompt: { type: "string", default: "" },
    "max-tokens": { type: "string" },
    temperature: { type: "string" },
    "top-k": { type: "string" },
    "top-p": { type: "string" },
    seed: { type: "string" },
    "no-cache": { type: "boolean", default: false },
    cache: { type: "string" },
    backend: { type: "string", default: "auto" },
    "suppress-unk": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  if (typeof v.model !== "string") {
    throw new UsageError(`--model is required (${USAGE})`);
  }
  const maxTokens = numberFlag(v, "max-tokens", 256, { integer: true, min: 0 });
  const temperature = numberFlag(v, "temperature", 1, { min: 0 });
  const topK = numberFlag(v, "top-k", 0, { integer: true, min: 0 });
  const topP = numberFlag(v, "top-p", 1, { min: 0, max: 1 });
  if (topP === 0) throw new UsageError("--top-p must be in (0, 1], got 0");
  const seed = numberFlag(v, "seed", Date.now() % 2147483647, {
    integer: true,
  });
  let cache = (v.cache ?? "fp32") as string;
  if (!/^(fp32|f16|int8|none|ring:[1-9]\d*)$/.test(cache)) {
    throw new UsageError(
      `--cache must be fp32, f16, int8, none or ring:N, got "${cache}"`,
    );
  }
  if (v["no-cache"]) {
    if (v.cache !== undefined && cache !== "none") {
      throw new UsageError("--no-cache conflicts with --cache " + cache);
    }
    cache = "none";
  }
  const backend = v.backend as string;
  if (backend !== "auto" && backend !== "wasm" && backend !== "js") {
    throw new UsageError(
      `--backend must be auto, wasm or js, got "${backend}"`,
    );
  }

  const loaded = await loadModelFile(v.model, {
    tokenizer: v.tokenizer as string | undefined,
  });
  const weights = bindKernels(loaded.weights, backend as Backend);
  // GGUF models attend as llama.cpp does unless told otherwise.
  if (loaded.source === "gguf" && v.cache === undefined && !v["no-cache"]) {
    cache = "f16";
  }
  let suppressTokens: number[] = [];
  if (v["suppress-unk"]) {
    suppressTokens = unkIds(loaded.tokenizer);
    if (suppressTokens.length === 0) {
      throw new UsageError(
        `--suppress-unk: the ${loaded.tokenizer.kind} tokenizer has no <unk> token`,
      );
    }
  }
  const options: GenerateOptions = {
    suppressTokens,
    maxTokens,
    temperature,
    topK,
    topP,
    seed,
    cache: cache as GenerateOptions["cache"],
    echoPrompt: true,
  };
  const enc = new TextEncoder();
  const write = (s: string) => {
    const b = enc.encode(s);
    for (let o = 0; o < b.length;) o += Deno.stdout.writeSync(b.subarray(o));
  };
  // run.c: the timer starts after the first forward pass; tok/s counts the
  // forward passes after it.
  let start = 0, passes = 0;
  for await (
    const t of generate(weights, loaded.tokenizer, v.prompt as string, options)
  ) {
    write(t.text);
    passes++;
    if (passes === 1) start = performance.now();
  }
  write("\n");
  if (passes > 1) {
    const secs = (performance.now() - start) / 1000;
    console.error(`achieved tok/s: ${((passes - 1) / secs).toFixed(2)}`);
  } else {
    console.error("achieved tok/s: n/a (fewer than 2 tokens)");
  }
}
