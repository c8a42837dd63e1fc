/**
 * Chat templates (`@proj/tinyllm/chat`): rendering a conversation with the
 * Jinja template a GGUF file carries (`tokenizer.chat_template`), through
 * `@huggingface/jinja` (the engine transformers.js uses; pure JavaScript, so
 * this runs in Deno, Node and browsers). It is the one module of the library
 * with a dependency, so it is a subpath of its own and the main module stays
 * dependency-free.
 *
 * Rendering follows llama.cpp's: a template that ignores the system message
 * gets it merged into the first user message, and the `developer` role is
 * mapped to `system`.
 *
 * @example Render a ChatML conversation
 * ```ts
 * import { applyChatTemplate } from "@proj/tinyllm/chat";
 * import assert from "node:assert/strict";
 * const chatml = "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}" +
 *   "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
 * assert.equal(
 *   applyChatTemplate(chatml, [{ role: "user", content: "Hi" }]),
 *   "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
 * );
 * ```
 *
 * @module
 */
import { Template } from "@huggingface/jinja";
import { FormatError, InputError } from "../errors.ts";

/** One message of a conversation. */
export interface ChatMessage {
  /** "system", "user", "assistant" (or another role the template knows). */
  role: string;
  /** The message text. */
  content: string;
}

/** Options of {@linkcode applyChatTemplate}. */
export interface ChatTemplateOptions {
  /** End with the header of an assistant turn (default true). */
  addGenerationPrompt?: boolean;
  /** The text of the BOS token, as `bos_token` (default ""). */
  bosToken?: string;
  /** The text of the EOS token, as `eos_token` (default ""). */
  eosToken?: string;
  /** More variables for the template (`enable_thinking`, `tools`, …). */
  context?: Record<string, unknown>;
}

const PROBE = "\u0000tinyllm system probe\u0000";
const compiled = new Map<string, { template: Template; system: boolean }>();

function compile(source: string): { template: Template; system: boolean } {
  let entry = compiled.get(source);
  if (entry) return entry;
  let template: Template;
  try {
    template = new Template(source);
  } catch (e) {
    throw new FormatError(
      `chat template: ${(e as Error).message.split("\n")[0]}`,
    );
  }
  // llama.cpp's capability check: does the template use a system message?
  let system = false;
  try {
    system = template.render({
      messages: [
        { role: "system", content: PROBE },
        { role: "user", content: "User message" },
      ],
      bos_token: "",
      eos_token: "",
      add_generation_prompt: true,
    }).includes(PROBE);
  } catch { /* a template that rejects the system role */ }
  entry = { template, system };
  if (compiled.size > 16) compiled.clear();
  compiled.set(source, entry);
  return entry;
}

/**
 * Renders `messages` with a Jinja chat template, as llama.cpp's `--jinja`
 * chat does: variables `messages`, `bos_token`, `eos_token`,
 * `add_generation_prompt` (plus `options.context`); `developer` messages
 * become `system` ones; when the template ignores the system role, a leading
 * system message is merged into the next message (`system + "\n" + user`).
 *
 * @throws {FormatError} when the template does not parse
 * @throws {InputError} when the template rejects the conversation (its
 *   `raise_exception`, e.g. roles that do not alternate)
 *
 * @example Zephyr-style template with BOS/EOS text
 * ```ts
 * import { applyChatTemplate } from "@proj/tinyllm/chat";
 * import assert from "node:assert/strict";
 * const t = "{{ bos_token }}{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}{{ eos_token }}\n{% endfor %}" +
 *   "{% if add_generation_prompt %}<|assistant|>\n{% endif %}";
 * assert.equal(
 *   applyChatTemplate(t, [{ role: "user", content: "Hello" }], {
 *     bosToken: "<s>", eosToken: "</s>" }),
 *   "<s><|user|>\nHello</s>\n<|assistant|>\n",
 * );
 * ```
 */
export function applyChatTemplate(
  template: string,
  messages: readonly ChatMessage[],
  options: ChatTemplateOptions = {},
): string {
  const { template: t, system } = compile(template);
  const msgs = messages.map((m) => ({
    role: m.role === "developer" ? "system" : m.role,
    content: m.content,
  }));
  if (!system && msgs.length > 0 && msgs[0].role === "system") {
    const [first] = msgs.splice(0, 1);
    if (msgs.length > 0) {
      msgs[0] = { ...msgs[0], content: `${first.content}\n${msgs[0].content}` };
    }
  }
  try {
    return t.render({
      ...options.context,
      messages: msgs,
      bos_token: options.bosToken ?? "",
      eos_token: options.eosToken ?? "",
      add_generation_prompt: options.addGenerationPrompt ?? true,
    });
  } catch (e) {
    throw new InputError(
      `chat template: ${(e as Error).message.split("\n")[0]}`,
    );
  }
}
