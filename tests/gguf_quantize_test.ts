// Requantizing GGUF files against llama-quantize --pure's own output
// (tests/testdata/gguf/requantize), byte for byte.
import assert from "node:assert/strict";
import { ggufFixture } from "./gguf_fixtures.ts";
import { ConfigError } from "../src/errors.ts";
import { GGML_TYPE, parseGguf, writeGguf } from "../src/io/gguf.ts";
import {
  ggufTensorIsQuantizable,
  quantizeGguf,
} from "../src/io/gguf_quantize.ts";

// deno-lint-ignore require-await
const read = async (name: string) => ggufFixture(`requantize/${name}`);
const f32 = await read("tiny-f32.gguf");

function assertSameBytes(got: Uint8Array, want: Uint8Array, what: string) {
  assert.equal(got.length, want.length, `${what}: length`);
  const first = got.findIndex((b, i) => b !== want[i]);
  assert.equal(first, -1, `${what}: first differing byte ${first}`);
}

const CASES: [string, number][] = [
  ["Q8_0", GGML_TYPE.Q8_0],
  ["Q4_0", GGML_TYPE.Q4_0],
  ["Q4_1", GGML_TYPE.Q4_1],
  ["Q5_0", GGML_TYPE.Q5_0],
  ["Q5_1", GGML_TYPE.Q5_1],
  ["Q4_K_S", GGML_TYPE.Q4_K],
  ["Q5_K_S", GGML_TYPE.Q5_K],
  ["Q6_K", GGML_TYPE.Q6_K],
  ["F16", GGML_TYPE.F16],
  ["BF16", GGML_TYPE.BF16],
];

for (const [file, type] of CASES) {
  Deno.test(`quantizeGguf: F32 → ${file} equals llama-quantize --pure byte for byte`, async () => {
    assertSameBytes(
      quantizeGguf(f32, type),
      await read(`tiny-${file}.gguf`),
      file,
    );
  });
}

Deno.test("quantizeGguf: from F16 and from Q8_0 (decoded first) equals llama-quantize too", async () => {
  assertSameBytes(
    quantizeGguf(await read("tiny-F16.gguf"), GGML_TYPE.Q4_K),
    await read("tiny-F16-to-Q4_K_S.gguf"),
    "F16 → Q4_K",
  );
  assertSameBytes(
    quantizeGguf(await read("tiny-Q8_0.gguf"), GGML_TYPE.Q4_0),
    await read("tiny-Q8_0-to-Q4_0.gguf"),
    "Q8_0 → Q4_0",
  );
});

Deno.test("quantizeGguf: per-tensor types, shape fallbacks, and what stays", () => {
  const q = parseGguf(
    quantizeGguf(f32, GGML_TYPE.Q4_K, {
      tensorTypes: [[/ffn_down/, GGML_TYPE.Q8_0], ["output.", GGML_TYPE.Q6_K]],
    }),
  );
  const typeOf = (n: string) => q.tensor(n)!.typeName;
  assert.equal(typeOf("blk.0.ffn_down.weight"), "Q8_0");
  assert.equal(typeOf("output.weight"), "Q6_K");
  assert.equal(typeOf("blk.0.attn_q.weight"), "Q4_K");
  assert.equal(typeOf("blk.0.attn_norm.weight"), "F32");
  // 64-wide rows cannot hold Q4_K blocks: llama.cpp's fallback is Q5_0;
  // 48-wide ones fit no 32-block type: F16
  const small = writeGguf([["general.architecture", "llama"]], [
    {
      name: "a.weight",
      shape: [64, 2],
      type: GGML_TYPE.F32,
      data: new Uint8Array(512),
    },
    {
      name: "b.weight",
      shape: [48, 2],
      type: GGML_TYPE.F32,
      data: new Uint8Array(384),
    },
  ]);
  const s = parseGguf(quantizeGguf(small, GGML_TYPE.Q4_K));
  assert.deepEqual(s.tensors.map((t) => t.typeName), ["Q5_0", "F16"]);
  assert.throws(() => quantizeGguf(small, GGML_TYPE.IQ4_NL), ConfigError);
  assert.ok(ggufTensorIsQuantizable("token_embd.weight", [64, 32]));
  assert.ok(!ggufTensorIsQuantizable("blk.0.ffn_gate_inp.weight", [64, 8]));
  assert.ok(!ggufTensorIsQuantizable("blk.0.attn_q.bias", [64, 2]));
  assert.ok(!ggufTensorIsQuantizable("x.weight", [64, 1])); // one row: ggml_n_dims is 1
});
