/**
 * Test helper: the GGUF fixtures of tests/testdata/gguf/ (provenance in its
 * README) as module imports, so the tests that compute on them need no
 * permission; every call returns a fresh copy.
 *
 * @module
 */
import f0 from "./testdata/gguf/ggml_vectors.gguf" with { type: "bytes" };
import f1 from "./testdata/gguf/quant/bf16.gguf" with { type: "bytes" };
import f2 from "./testdata/gguf/quant/f16.gguf" with { type: "bytes" };
import f3 from "./testdata/gguf/quant/iq4_nl.gguf" with { type: "bytes" };
import f4 from "./testdata/gguf/quant/q2_k.gguf" with { type: "bytes" };
import f5 from "./testdata/gguf/quant/q3_k.gguf" with { type: "bytes" };
import f6 from "./testdata/gguf/quant/q4_0.gguf" with { type: "bytes" };
import f7 from "./testdata/gguf/quant/q4_1.gguf" with { type: "bytes" };
import f8 from "./testdata/gguf/quant/q4_k.gguf" with { type: "bytes" };
import f9 from "./testdata/gguf/quant/q5_0.gguf" with { type: "bytes" };
import f10 from "./testdata/gguf/quant/q5_1.gguf" with { type: "bytes" };
import f11 from "./testdata/gguf/quant/q5_k.gguf" with { type: "bytes" };
import f12 from "./testdata/gguf/quant/q6_k.gguf" with { type: "bytes" };
import f13 from "./testdata/gguf/quant/q8_0.gguf" with { type: "bytes" };
import f14 from "./testdata/gguf/requantize/tiny-BF16.gguf" with {
  type: "bytes",
};
import f15 from "./testdata/gguf/requantize/tiny-F16-to-Q4_K_S.gguf" with {
  type: "bytes",
};
import f16 from "./testdata/gguf/requantize/tiny-F16.gguf" with {
  type: "bytes",
};
import f17 from "./testdata/gguf/requantize/tiny-Q4_0.gguf" with {
  type: "bytes",
};
import f18 from "./testdata/gguf/requantize/tiny-Q4_1.gguf" with {
  type: "bytes",
};
import f19 from "./testdata/gguf/requantize/tiny-Q4_K_S.gguf" with {
  type: "bytes",
};
import f20 from "./testdata/gguf/requantize/tiny-Q5_0.gguf" with {
  type: "bytes",
};
import f21 from "./testdata/gguf/requantize/tiny-Q5_1.gguf" with {
  type: "bytes",
};
import f22 from "./testdata/gguf/requantize/tiny-Q5_K_S.gguf" with {
  type: "bytes",
};
import f23 from "./testdata/gguf/requantize/tiny-Q6_K.gguf" with {
  type: "bytes",
};
import f24 from "./testdata/gguf/requantize/tiny-Q8_0-to-Q4_0.gguf" with {
  type: "bytes",
};
import f25 from "./testdata/gguf/requantize/tiny-Q8_0.gguf" with {
  type: "bytes",
};
import f26 from "./testdata/gguf/requantize/tiny-f32.gguf" with {
  type: "bytes",
};

const FILES: Record<string, Uint8Array> = {
  "ggml_vectors.gguf": f0,
  "quant/bf16.gguf": f1,
  "quant/f16.gguf": f2,
  "quant/iq4_nl.gguf": f3,
  "quant/q2_k.gguf": f4,
  "quant/q3_k.gguf": f5,
  "quant/q4_0.gguf": f6,
  "quant/q4_1.gguf": f7,
  "quant/q4_k.gguf": f8,
  "quant/q5_0.gguf": f9,
  "quant/q5_1.gguf": f10,
  "quant/q5_k.gguf": f11,
  "quant/q6_k.gguf": f12,
  "quant/q8_0.gguf": f13,
  "requantize/tiny-BF16.gguf": f14,
  "requantize/tiny-F16-to-Q4_K_S.gguf": f15,
  "requantize/tiny-F16.gguf": f16,
  "requantize/tiny-Q4_0.gguf": f17,
  "requantize/tiny-Q4_1.gguf": f18,
  "requantize/tiny-Q4_K_S.gguf": f19,
  "requantize/tiny-Q5_0.gguf": f20,
  "requantize/tiny-Q5_1.gguf": f21,
  "requantize/tiny-Q5_K_S.gguf": f22,
  "requantize/tiny-Q6_K.gguf": f23,
  "requantize/tiny-Q8_0-to-Q4_0.gguf": f24,
  "requantize/tiny-Q8_0.gguf": f25,
  "requantize/tiny-f32.gguf": f26,
};

/** The bytes of `tests/testdata/gguf/<path>` (a fresh copy). */
export function ggufFixture(path: string): Uint8Array<ArrayBuffer> {
  const bytes = FILES[path.replace(/^\.\/testdata\/gguf\//, "")];
  if (!bytes) {
    throw new Error(`no GGUF fixture ${path} in tests/gguf_fixtures.ts`);
  }
  return bytes.slice();
}
