/**
 * `tinyllm chat`: a conversation with a GGUF model. Each line read from
 * stdin is a user turn; the whole conversation is rendered with the file's
 * `tokenizer.chat_template` (ChatML when it has none, as llama.cpp), only the
 * tokens past what the KV cache already holds are fed, and the reply is
 * sampled until an end-of-generation token and printed.
 *
 * @module
 */
import { numberFlag, parseFlags, UsageError } from "./common.ts";
import type { Backend } from "../backend.ts";
import { InputError } from "../errors.ts";
import { applyChatTemplate, type ChatMessage } from "../generate/chat.ts";
import { Sampler } from "../generate/sampler.ts";
import { loadModelFile } from "../io/load_fs.ts";
import { createKvCache } from "../kv/create.ts";
import { bindKernels } from "../model/bind.ts";
import { createRunState, forwardToken } from "../model/decode.ts";
import { GgufTokenizer } from "../tokenizer/gguf_tokenizer.ts";

const USAGE =
  `usage: chat --model M.gguf [--system TEXT] [--max-tokens N] [--temperature T]
          [--top-k K] [--top-p P] [--seed S] [--ctx N] [--backend auto|wasm|js]
  Reads one user message per line on stdin and prints each reply.`;

/** llama.cpp's fallback when a model has no template. */
const CHATML =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

async function* lines(): AsyncGenerator<string> {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of Deno.stdin.readable) {
    buf += dec.decode(chunk, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl).replace(/\r$/, "");
      buf = buf.slice(nl + 1);
    }
  }
  buf += dec.decode();
  if (buf !== "") yield buf;
}

/** Entry point: `tinyllm chat [flags]`. */
export async function main(args: string[]): Promise<void> {
  const v = parseFlags(args, {
    model: { type: "string" },
    system: { type: "string" },
    "max-tokens": { type: "string" },
    temperature: { type: "string" },
    "top-k": { type: "string" },
    "top-p": { type: "string" },
    seed: { type: "string" },
    ctx: { type: "string" },
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
  const maxTokens = numberFlag(v, "max-tokens", 512, {
    integer: true,
    min: 1,
  });
  const temperature = numberFlag(v, "temperature", 0.8, { min: 0 });
  const topK = numberFlag(v, "top-k", 40, { integer: true, min: 0 });
  const topP = numberFlag(v, "top-p", 0.95, { min: 0, max: 1 });
  if (topP === 0) throw new UsageError("--top-p must be in (0, 1], got 0");
  const seed = numberFlag(v, "seed", Date.now() % 2147483647, {
    integer: true,
  });
  const ctx = numberFlag(v, "ctx", 4096, { integer: true, min: 1 });
  const backend = v.backend as string;
  if (backend !== "auto" && backend !== "wasm" && backend !== "js") {
    throw new UsageError(
      `--backend must be auto, wasm or js, got "${backend}"`,
    );
  }
  const loaded = await loadModelFile(v.model, { maxContext: ctx });
  const tok = loaded.tokenizer;
  if (!(tok instanceof GgufTokenizer)) {
    throw new UsageError(
      "chat needs a GGUF model (its tokenizer and chat template)",
    );
  }
  let template = loaded.chatTemplate;
  if (template === undefined) {
    console.error(
      "chat: the model has no tokenizer.chat_template; using ChatML",
    );
    template = CHATML;
  }
  const c = loaded.config;
  const weights = bindKernels(loaded.weights, backend as Backend);
  const cache = createKvCache("f16", c);
  const state = createRunState(c, weights);
  const sampler = new Sampler(c.vocabSize, {
    temperature,
    topK,
    topP,
    seed,
  });
  const bosText = tok.bosId >= 0 ? tok.tokenText(tok.bosId) : "";
  const eosText = tok.eosId >= 0 ? tok.tokenText(tok.eosId) : "";
  const messages: ChatMessage[] = [];
  if (typeof v.system === "string") {
    messages.push({ role: "system", content: v.system });
  }
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const write = (s: string) => {
    const b = enc.encode(s);
    for (let o = 0; o < b.length;) o += Deno.stdout.writeSync(b.subarray(o));
  };
  const interactive = Deno.stdin.isTerminal();
  const fed: number[] = []; // the tokens the cache holds, in order
  let logits: Float32Array | null = null;
  if (interactive) console.error("(one message per line; Ctrl-D ends)");
  if (interactive) Deno.stderr.writeSync(enc.encode("> "));
  for await (const line of lines()) {
    if (line.trim() === "") continue;
    messages.push({ role: "user", content: line });
    let prompt = applyChatTemplate(template, messages, {
      bosToken: bosText,
      eosToken: eosText,
    });
    // llama.cpp: the tokenizer adds BOS, so a BOS the template wrote goes.
    if (tok.addBos && bosText !== "" && prompt.startsWith(bosText)) {
      prompt = prompt.slice(bosText.length);
    }
    const ids = tok.encode(prompt, { parseSpecial: true });
    let same = 0;
    while (same < fed.length && same < ids.length && fed[same] === ids[same]) {
      same++;
    }
    if (same === ids.length) same--; // re-feed the last token for its logits
    fed.length = same;
    if (ids.length + maxTokens > c.seqLen) {
      throw new InputError(
        `the conversation (${ids.length} tokens) and a reply no longer fit the context of ${c.seqLen} (--ctx)`,
      );
    }
    for (let i = same; i < ids.length; i++) {
      logits = forwardToken(weights, state, cache, ids[i], i);
      fed.push(ids[i]);
    }
    const reply: number[] = [];
    let prev = fed[fed.length - 1];
    for (let n = 0; n < maxTokens; n++) {
      const next = sampler.sample(logits!);
      if (tok.isEog(next)) break;
      reply.push(next);
      write(dec.decode(tok.decodePiece(prev, next), { stream: true }));
      logits = forwardToken(weights, state, cache, next, fed.length);
      fed.push(next);
      prev = next;
    }
    write(dec.decode() + "\n");
    messages.push({ role: "assistant", content: tok.decode(reply) });
    if (interactive) Deno.stderr.writeSync(enc.encode("> "));
  }
}
