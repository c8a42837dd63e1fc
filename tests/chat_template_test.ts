// applyChatTemplate against llama.cpp's own chat-template test vectors
// (tests/testdata/gguf/chat_templates.json: every template its
// test-chat-template.cpp renders with its Jinja engine, the fixed
// conversation, and the expected prompt), plus the polyfills and errors.
import assert from "node:assert/strict";
import { applyChatTemplate } from "../src/generate/chat.ts";
import { FormatError, InputError } from "../src/errors.ts";

interface Vectors {
  messages: { role: string; content: string }[];
  cases: {
    name: string;
    template: string;
    bos_token: string;
    eos_token: string;
    extra_messages: { role: string; content: string }[];
    expected: string;
  }[];
}

// module import: this test needs no permission
import vectors from "./testdata/gguf/chat_templates.json" with { type: "json" };

const V = vectors as Vectors;

Deno.test("chat templates: all of llama.cpp's Jinja test vectors render identically", () => {
  assert.equal(V.cases.length, 35);
  const bad: string[] = [];
  for (const c of V.cases) {
    const out = applyChatTemplate(c.template, [
      ...V.messages,
      ...c.extra_messages,
    ], { bosToken: c.bos_token, eosToken: c.eos_token });
    if (out !== c.expected) bad.push(c.name);
  }
  assert.deepEqual(bad, []);
});

const CHATML =
  "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

Deno.test("chat templates: generation prompt on and off, developer role as system", () => {
  const msgs = [{ role: "developer", content: "Be brief" }, {
    role: "user",
    content: "Hi",
  }];
  assert.equal(
    applyChatTemplate(CHATML, msgs),
    "<|im_start|>system\nBe brief<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
  );
  assert.equal(
    applyChatTemplate(CHATML, msgs.slice(1), { addGenerationPrompt: false }),
    "<|im_start|>user\nHi<|im_end|>\n",
  );
});

Deno.test("chat templates: a system message the template ignores is merged into the first user turn", () => {
  const userOnly =
    "{% for m in messages %}{% if m.role == 'user' %}[U]{{ m.content }}{% elif m.role == 'assistant' %}[A]{{ m.content }}{% endif %}{% endfor %}";
  assert.equal(
    applyChatTemplate(userOnly, [
      { role: "system", content: "S" },
      { role: "user", content: "Q" },
    ]),
    "[U]S\nQ",
  );
});

Deno.test("chat templates: a template that does not parse is a FormatError, raise_exception an InputError", () => {
  assert.throws(
    () => applyChatTemplate("{% for m in messages %}", []),
    FormatError,
  );
  const strict =
    "{% for m in messages %}{% if m.role == 'assistant' %}{{ raise_exception('no assistant turns') }}{% endif %}{% endfor %}";
  assert.throws(
    () => applyChatTemplate(strict, [{ role: "assistant", content: "x" }]),
    (e) => e instanceof InputError && /no assistant turns/.test(e.message),
  );
});
