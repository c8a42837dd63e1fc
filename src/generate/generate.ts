/**
 * Text generation: a streaming async iterable of tokens and text pieces, and
 * a non-streaming wrapper. Follows llama2.c's `generate` loop: the prompt is
 * forced token by token, then tokens are sampled until `maxTokens`, the
 * context end, or BOS/EOS (a GGUF tokenizer's end-of-generation tokens).
 *
 * @module
 */
import { ConfigError, InputError, ShapeError } from "../errors.ts";
import { createKvCache } from "../kv/create.ts";
import type { KvCache, KvCacheSpec } from "../kv/types.ts";
import { modelArena } from "../model/bind.ts";
import { createRunState, forwardToken } from "../model/decode.ts";
import { createActivations, sequenceForward } from "../model/sequence.ts";
import type { ModelWeights } from "../model/weights.ts";
import { GgufTokenizer } from "../tokenizer/gguf_tokenizer.ts";
import type { Tokenizer } from "../tokenizer/types.ts";
import { Sampler } from "./sampler.ts";

/** Generation options. */
export interface GenerateOptions {
  /** Tokens to generate after the prompt (default 256). */
  maxTokens?: number;
  /** 0 = greedy; default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 = off). */
  topK?: number;
  /** Nucleus sampling threshold (1 = off). */
  topP?: number;
  /** Seed of the sampler (default 0): same seed, same text. */
  seed?: number;
  /**
   * Stop when BOS is sampled (default true, as llama2.c; false with a GGUF
   * tokenizer, as llama.cpp).
   */
  stopAtBos?: boolean;
  /**
   * Stop when EOS is sampled (default true); with a GGUF tokenizer, any of
   * its end-of-generation tokens (EOS, EOT, …).
   */
  stopAtEos?: boolean;
  /**
   * KV cache: `"fp32"` (default; kept in WebAssembly memory with SIMD
   * attention when the model is bound to the wasm backend), `"int8"`,
   * `"ring:N"` (sliding window of N positions; with RoPE generation may run
   * past seqLen), or `"none"`: no cache, the whole sequence is recomputed at
   * every step (the baseline).
   */
  cache?: KvCacheSpec | "none";
  /**
   * Token ids never sampled (their logits are set to -Infinity), e.g. a word
   * tokenizer's `<unk>`, which a small vocabulary predicts often.
   */
  suppressTokens?: readonly number[];
  /** Also yield the prompt's tokens (but a leading BOS) as they are fed, like run.c's echo. Default false. */
  echoPrompt?: boolean;
}

/** One generated (or echoed prompt) token. */
export interface GeneratedToken {
  /** The token id. */
  id: number;
  /**
   * Text it adds (run.c's printing rules; a UTF-8 character split across
   * tokens appears with the token that completes it).
   */
  text: string;
  /** True for an echoed prompt token. */
  prompt?: boolean;
}

/**
 * The ids generation starts from: BOS and the prompt's tokens; with a GGUF
 * tokenizer, as llama.cpp tokenizes a prompt for generation (BOS/EOS as the
 * file says, control tokens in the text parsed).
 *
 * @throws {InputError} when that leaves no token to start from
 */
function promptIds(tokenizer: Tokenizer, prompt: string): number[] {
  const ids = tokenizer instanceof GgufTokenizer
    ? tokenizer.encode(prompt, { parseSpecial: true })
    : tokenizer.encode(prompt, { bos: true, eos: false });
  if (ids.length === 0) {
    throw new InputError(
      "the prompt is empty and the tokenizer adds no BOS: nothing to start from",
    );
  }
  return ids;
}

/**
 * Streams tokens generated from `prompt`. The prompt (BOS plus its tokens)
 * must fit in the model's seqLen, else an {@linkcode InputError}.
 *
 * @example Greedy continuation, streamed
 * ```ts
 * import { generate, Llama2cTokenizer, makeConfig, randomModelWeights } from "@proj/tinyllm";
 * import assert from "node:assert/strict";
 * const enc = new TextEncoder();
 * const tok = new Llama2cTokenizer(["<unk>", "<s>", "</s>", " ", "a", "b"].map((p) =>
 *   enc.encode(p)), new Float32Array(6));
 * const model = randomModelWeights(makeConfig({ dim: 16, hiddenDim: 32, nLayers: 1, nHeads: 2, nKvHeads: 1, vocabSize: 6, seqLen: 16 }), 1);
 * const ids: number[] = [];
 * for await (const t of generate(model, tok, "a", { maxTokens: 3, temperature: 0, stopAtBos: false, stopAtEos: false })) {
 *   ids.push(t.id); // t.text is its text, streamed as produced
 * }
 * assert.equal(ids.length, 3);
 * ```
 */
export async function* generate(
  model: ModelWeights,
  tokenizer: Tokenizer,
  prompt: string,
  options: GenerateOptions = {},
): AsyncGenerator<GeneratedToken, void, undefined> {
  checkArguments(model, tokenizer, prompt, options);
  const c = model.config;
  const gguf = tokenizer instanceof GgufTokenizer;
  const {
    maxTokens = 256,
    stopAtBos = !gguf,
    stopAtEos = true,
    cache: cacheSpec = "fp32",
    echoPrompt = false,
  } = options;
  if (!Number.isInteger(maxTokens) || maxTokens < 0) {
    throw new ConfigError(`maxTokens must be an integer ≥ 0, got ${maxTokens}`);
  }
  if (tokenizer.vocabSize !== c.vocabSize) {
    throw new ShapeError(
      `tokenizer has ${tokenizer.vocabSize} tokens but the model's vocabulary is ${c.vocabSize}`,
    );
  }
  const sampler = new Sampler(c.vocabSize, options);
  const suppress = options.suppressTokens ?? [];
  for (const id of suppress) {
    if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) {
      throw new ConfigError(
        `suppressTokens: ${id} is not a token id of a ${c.vocabSize}-token vocabulary`,
      );
    }
  }
  const ids = promptIds(tokenizer, prompt);
  if (ids.length > c.seqLen) {
    throw new InputError(
      `prompt is ${ids.length} tokens (with BOS), longer than the model's seq_len ${c.seqLen}`,
    );
  }
  const replay = cacheSpec === "none";
  // A model whose weights live in WebAssembly memory gets the fp32 cache
  // with SIMD attention (same numbers up to summation order).
  const cache: KvCache | null = replay ? null : createKvCache(
    cacheSpec,
    c,
    c.seqLen,
    { wasm: modelArena(model) !== undefined },
  );
  // With a ring cache and RoPE, positions are unbounded; otherwise seqLen.
  const maxPos = cache?.kind === "ring" && c.positional === "rope"
    ? Infinity
    : c.seqLen;
  const state = createRunState(c, model);
  const decoder = new TextDecoder();
  const isEnd = gguf
    ? (id: number) => tokenizer.isEog(id)
    : (id: number) => id === tokenizer.eosId;
  if (echoPrompt && ids[0] !== tokenizer.bosId) {
    // A prompt without BOS: its first token is text too.
    const text = decoder.decode(tokenizer.decodePiece(-1, ids[0]), {
      stream: true,
    });
    yield { id: ids[0], text, prompt: true };
  }
  const seq = ids.slice();
  let token = ids[0];
  let generated = 0;
  for (let pos = 0; pos < maxPos; pos++) {
    const forced = pos < ids.length - 1;
    if (!forced && generated >= maxTokens) break;
    let logits: Float32Array;
    if (replay) {
      // No cache: run the whole sequence so far through the sequence forward
      // (as the original project's baseline did) and keep the last row.
      const acts = createActivations(c, 1, pos + 1);
      sequenceForward(model, acts, seq);
      logits = acts.logits.subarray(pos * c.vocabSize, (pos + 1) * c.vocabSize);
    } else {
      logits = forwardToken(model, state, cache!, token, pos);
    }
    if (!forced) {
      for (let i = 0; i < logits.length; i++) {
        // NaN or ±Infinity everywhere: weights a loader should have refused
        if (!(Math.abs(logits[i]) < Infinity)) {
          throw new InputError(
            `generate: the model produced a non-finite logit (${
              logits[i]
            } for token ${i}) at position ${pos}: its weights are damaged`,
          );
        }
      }
      for (const id of suppress) logits[id] = -Infinity;
    }
    const next = forced ? ids[pos + 1] : sampler.sample(logits);
    if (!forced) {
      generated++;
      if (
        (stopAtBos && next === tokenizer.bosId) ||
        (stopAtEos && isEnd(next))
      ) break;
      if (replay) seq.push(next);
    }
    if (!forced || echoPrompt) {
      const text = decoder.decode(tokenizer.decodePiece(token, next), {
        stream: true,
      });
      if (forced) yield { id: next, text, prompt: true };
      else yield { id: next, text };
    }
    token = next;
  }
}

/** Typed errors for arguments of the wrong kind (JavaScript callers, `null`). */
function checkArguments(
  model: unknown,
  tokenizer: unknown,
  prompt: unknown,
  options: unknown,
): void {
  const kind = (v: unknown) => v === null ? "null" : typeof v;
  const m = model as Partial<ModelWeights> | null;
  if (
    !m || typeof m !== "object" || !m.config || !Array.isArray(m.layers) ||
    !m.classifier
  ) {
    throw new InputError(
      `generate: model must be ModelWeights, got ${kind(model)}`,
    );
  }
  const t = tokenizer as Partial<Tokenizer> | null;
  if (
    !t || typeof t !== "object" || typeof t.encode !== "function" ||
    typeof t.decodePiece !== "function"
  ) {
    throw new InputError(
      `generate: tokenizer must be a Tokenizer, got ${kind(tokenizer)}`,
    );
  }
  if (typeof prompt !== "string") {
    throw new InputError(
      `generate: prompt must be a string, got ${kind(prompt)}`,
    );
  }
  if (options === null || typeof options !== "object") {
    throw new InputError(
      `generate: options must be an object, got ${kind(options)}`,
    );
  }
}

/** Result of {@linkcode generateText}. */
export interface GenerateResult {
  /** The generated text (prompt not included). */
  text: string;
  /** The generated token ids. */
  ids: number[];
}

/**
 * Generates and returns the whole continuation at once.
 *
 * @example
 * ```ts
 * import { generateText, Llama2cTokenizer, makeConfig, randomModelWeights } from "@proj/tinyllm";
 * import assert from "node:assert/strict";
 * const enc = new TextEncoder();
 * const tok = new Llama2cTokenizer(["<unk>", "<s>", "</s>", " ", "a", "b"].map((p) =>
 *   enc.encode(p)), new Float32Array(6));
 * const model = randomModelWeights(makeConfig({ dim: 16, hiddenDim: 32, nLayers: 1, nHeads: 2, nKvHeads: 1, vocabSize: 6, seqLen: 16 }), 1);
 * const r = await generateText(model, tok, "ab", { maxTokens: 4, seed: 7, stopAtBos: false, stopAtEos: false });
 * assert.equal(r.ids.length, 4);
 * ```
 */
export async function generateText(
  model: ModelWeights,
  tokenizer: Tokenizer,
  prompt: string,
  options: GenerateOptions = {},
): Promise<GenerateResult> {
  let text = "";
  const ids: number[] = [];
  for await (
    const t of generate(model, tokenizer, prompt, {
      ...options,
      echoPrompt: false,
    })
  ) {
    text += t.text;
    ids.push(t.id);
  }
  return { text, ids };
}
