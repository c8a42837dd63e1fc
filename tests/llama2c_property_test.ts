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

const TYPED_ARRAYS = [
  "Int8Array",
  "Uint8Array",
  "Uint8ClampedArray",
  "Int16Array",
  "Uint16Array",
  "Int32Array",
  "Uint32Array",
  "Float32Array",
  "Float64Array",
  "BigInt64Array",
  "BigUint64Array",
] as const;

/**
 * Bytes of fresh typed-array or ArrayBuffer storage created while `f` runs
 * (views of existing buffers cost nothing): the global constructors and
 * `slice` are wrapped for the duration of the call.
 */
function allocatedBytesDuring(f: () => void): number {
  const g = globalThis as unknown as Record<string, unknown>;
  const OriginalArrayBuffer = ArrayBuffer;
  const saved = new Map<string, unknown>();
  // deno-lint-ignore no-explicit-any
  const typedProto = Object.getPrototypeOf(Uint8Array.prototype) as any;
  const slice = typedProto.slice;
  let bytes = 0;
  for (const name of [...TYPED_ARRAYS, "ArrayBuffer"]) {
    const C = g[name] as new (...a: unknown[]) => object;
    saved.set(name, C);
    g[name] = new Proxy(C, {
      construct(target, args) {
        const made = Reflect.construct(target, args) as
          | ArrayBuffer
          | ArrayBufferView;
        if (made instanceof OriginalArrayBuffer) bytes += made.byteLength;
        else if (!(args[0] instanceof OriginalArrayBuffer)) {
          bytes += made.byteLength;
        }
        return made;
      },
    });
  }
  typedProto.slice = function (this: Uint8Array, ...a: number[]) {
    const r = slice.apply(this, a);
    bytes += r.byteLength;
    return r;
  };
  try {
    f();
  } finally {
    for (const [name, C] of saved) g[name] = C;
    typedProto.slice = slice;
  }
  return bytes;
}

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
        const allocated = allocatedBytesDuring(() =>
          assert.throws(() => parseLlama2cCheckpoint(b), TinyLlmError)
        );
        assert.equal(allocated, 0, `header ${h}: ${allocated} bytes`);
      },
    ),
    { numRuns: 500, seed: 2 },
  );
  // the spy sees allocations: an unaligned valid checkpoint is copied once
  const unaligned = new Uint8Array(model.length + 1).subarray(1);
  unaligned.set(model);
  assert.ok(
    allocatedBytesDuring(() => parseLlama2cCheckpoint(unaligned)) >=
      model.length - 28,
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
