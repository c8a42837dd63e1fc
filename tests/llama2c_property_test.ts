// Property tests: random and truncated bytes fed to both llama2.c loaders
// always end in a TinyLlmError (never a RangeError, a hang or a success that
// should not be).
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseLlama2cCheckpoint } from "../src/io/llama2c.ts";
import { parseLlama2cTokenizer } from "../src/tokenizer/llama2c.ts";
import { TinyLlmError } from "../src/errors.ts";

import { stories260KBytes, tok512Bytes } from "./reference.ts";

const model = stories260KBytes();
const tok = tok512Bytes();

function typedErrorOrOk(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch (e) {
    if (e instanceof TinyLlmError) return true;
    throw e;
  }
}

Deno.test("property: random bytes → checkpoint parser throws a TinyLlmError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (b) => {
      assert.throws(() => parseLlama2cCheckpoint(b), TinyLlmError);
    }),
    { numRuns: 500, seed: 1 },
  );
});

Deno.test("property: header of random int32s → TinyLlmError before any allocation", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), {
        minLength: 7,
        maxLength: 7,
      }),
      fc.nat(64),
      (h, extra) => {
        const b = new Uint8Array(28 + extra * 4);
        new Int32Array(b.buffer, 0, 7).set(h);
        assert.throws(() => parseLlama2cCheckpoint(b), TinyLlmError);
      },
    ),
    { numRuns: 500, seed: 2 },
  );
});

Deno.test("property: truncated or extended checkpoint → FormatError", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: model.length + 64 }), (n) => {
      if (n === model.length) return;
      const b = new Uint8Array(n);
      b.set(model.subarray(0, Math.min(n, model.length)));
      assert.throws(() => parseLlama2cCheckpoint(b), TinyLlmError);
    }),
    { numRuns: 200, seed: 3 },
  );
});

Deno.test("property: random bytes → tokenizer parser throws a TinyLlmError or gives a consistent tokenizer", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (b) => {
      assert.ok(typedErrorOrOk(() => {
        const t = parseLlama2cTokenizer(b, { vocabSize: 512 });
        assert.equal(t.vocabSize, 512); // only a real 512-token file gets here
      }));
    }),
    { numRuns: 500, seed: 4 },
  );
});

Deno.test("property: truncated tokenizer → TinyLlmError naming a token; random edits never RangeError", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: tok.length - 1 }), (n) => {
      assert.throws(
        () => parseLlama2cTokenizer(tok.subarray(0, n), { vocabSize: 512 }),
        TinyLlmError,
      );
    }),
    { numRuns: 300, seed: 5 },
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(tok.length - 1), fc.nat(255)), {
        minLength: 1,
        maxLength: 8,
      }),
      (edits) => {
        const b = tok.slice();
        for (const [i, v] of edits) b[i] = v;
        assert.ok(typedErrorOrOk(() => {
          const t = parseLlama2cTokenizer(b);
          // a parsed tokenizer must encode and decode without crashing
          t.decode(t.encode("Once upon a time, 日本"));
        }));
      },
    ),
    { numRuns: 300, seed: 6 },
  );
});
