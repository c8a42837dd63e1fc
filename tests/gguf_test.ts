// GGUF reader/writer against files llama.cpp made (tests/testdata/gguf), an
// independent reading of them by gguf-py (gguf_py_summary.json), round trips,
// and malformed input.
import assert from "node:assert/strict";
import fc from "fast-check";
import { ConfigError, FormatError, ShapeError } from "../src/errors.ts";
import {
  GGML_TYPE,
  ggmlByteLength,
  ggmlTypeId,
  ggmlTypeInfo,
  ggufArray,
  ggufBool,
  ggufNumber,
  ggufNumberArray,
  ggufString,
  ggufStringArray,
  type GgufTensorInput,
  type GgufValue,
  type GgufValueTypeName,
  isGguf,
  parseGguf,
  writeGguf,
} from "../src/io/gguf.ts";

import summaryJson from "./testdata/gguf/gguf_py_summary.json" with {
  type: "json",
};
import f0 from "./testdata/gguf/models/stories260K-q4_0.gguf" with {
  type: "bytes",
};
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
import f14 from "./testdata/gguf/vocab/ggml-vocab-llama-spm.gguf" with {
  type: "bytes",
};

interface SummaryKv {
  key: string;
  type: string;
  value?: unknown;
  elem?: string;
  length?: number;
  head?: unknown[];
  tail?: unknown[];
  sha256?: string;
}
interface SummaryFile {
  alignment: number;
  dataOffset: number;
  kv: SummaryKv[];
  tensors: {
    name: string;
    shape: number[];
    type: number;
    typeName: string;
    offset: number;
    byteLength: number;
  }[];
}
// The fixtures arrive as module imports: these tests need no permission.
const summary = summaryJson as unknown as Record<string, SummaryFile> & {
  ggml_types: Record<string, [number, number, number]>;
};
const fixtureNames = Object.keys(summary).filter((k) => k.endsWith(".gguf"));
const fixtures = new Map<string, Uint8Array>([
  ["models/stories260K-q4_0.gguf", f0],
  ["quant/bf16.gguf", f1],
  ["quant/f16.gguf", f2],
  ["quant/iq4_nl.gguf", f3],
  ["quant/q2_k.gguf", f4],
  ["quant/q3_k.gguf", f5],
  ["quant/q4_0.gguf", f6],
  ["quant/q4_1.gguf", f7],
  ["quant/q4_k.gguf", f8],
  ["quant/q5_0.gguf", f9],
  ["quant/q5_1.gguf", f10],
  ["quant/q5_k.gguf", f11],
  ["quant/q6_k.gguf", f12],
  ["quant/q8_0.gguf", f13],
  ["vocab/ggml-vocab-llama-spm.gguf", f14],
]);
assert.deepEqual([...fixtures.keys()].sort(), fixtureNames.sort());

async function sha256(bytes: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", bytes.slice());
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** JSON-comparable form of a metadata scalar (64-bit ints as gguf-py wrote them). */
function plain(v: unknown): unknown {
  if (typeof v === "bigint") {
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : String(v);
  }
  return v;
}

Deno.test("gguf: every fixture reads as gguf-py reads it", async () => {
  assert.ok(fixtureNames.length >= 15);
  for (const name of fixtureNames) {
    const bytes = fixtures.get(name)!;
    const want = summary[name];
    const f = parseGguf(bytes);
    assert.equal(f.version, 3, name);
    assert.equal(f.alignment, want.alignment, name);
    if (want.tensors.length > 0) assert.equal(f.dataOffset, want.dataOffset);
    assert.deepEqual([...f.metadata.keys()], want.kv.map((k) => k.key), name);
    for (const kv of want.kv) {
      const v = f.metadata.get(kv.key)!;
      const where = `${name} ${kv.key}`;
      if (kv.type !== "array") {
        assert.equal(f.types.get(kv.key), kv.type, where);
        assert.deepEqual(plain(v), kv.value, where);
        continue;
      }
      assert.equal(f.types.get(kv.key), kv.elem, where);
      const arr = v as ArrayLike<unknown>;
      assert.equal(arr.length, kv.length, where);
      const items = Array.from(arr, plain);
      assert.deepEqual(items.slice(0, 3), kv.head, where);
      assert.deepEqual(items.length ? items.slice(-3) : [], kv.tail, where);
      let hashed: Uint8Array;
      if (kv.elem === "string") {
        const enc = new TextEncoder();
        const parts = (v as string[]).map((s) => enc.encode(s + "\0"));
        hashed = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let o = 0;
        for (const p of parts) hashed.set(p, (o += p.length) - p.length);
      } else {
        const t = v as Uint8Array;
        hashed = new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
      }
      assert.equal(await sha256(hashed), kv.sha256, where);
    }
    assert.deepEqual(
      f.tensors.map(({ data: _, ...t }) => t),
      want.tensors,
      name,
    );
    for (const t of f.tensors) {
      // a view into the input, not a copy
      assert.equal(t.data.buffer, bytes.buffer);
      assert.equal(t.data.byteOffset, bytes.byteOffset + t.offset);
      assert.equal(f.tensor(t.name), t);
    }
    assert.equal(f.tensor("no such tensor"), undefined);
  }
});

Deno.test("gguf: write(parse(file)) reproduces each llama.cpp/gguf-py file byte for byte", () => {
  for (const name of fixtureNames) {
    const bytes = fixtures.get(name)!;
    const f = parseGguf(bytes);
    const out = writeGguf(f.metadata, f.tensors, { types: f.types });
    assert.equal(out.length, bytes.length, name);
    assert.ok(out.every((b, i) => b === bytes[i]), name);
  }
});

Deno.test("gguf: the ggml type table agrees with gguf-py's (Q8_1: ggml-common.h)", () => {
  for (
    const [name, [id, blockSize, typeSize]] of Object.entries(
      summary.ggml_types,
    )
  ) {
    const info = ggmlTypeInfo(id);
    assert.equal(info.name, name);
    assert.equal(info.blockSize, blockSize, name);
    // gguf-py still has Q8_1's old f32 d/s (40 bytes); ggml's block_q8_1 is
    // two halves and 32 quants (static_assert in ggml-common.h): 36
    assert.equal(info.typeSize, name === "Q8_1" ? 36 : typeSize, name);
    assert.equal(ggmlTypeId(name.toLowerCase()), id);
    assert.equal((GGML_TYPE as Record<string, number>)[name], id);
  }
  assert.equal(
    Object.keys(GGML_TYPE).length,
    Object.keys(summary.ggml_types).length,
  );
  assert.throws(() => ggmlTypeInfo(4), FormatError); // removed Q4_2
  assert.throws(() => ggmlTypeId("q4_2"), ConfigError);
  assert.equal(ggmlByteLength(GGML_TYPE.Q4_K, [512, 3]), 2 * 144 * 3);
  assert.equal(ggmlByteLength(GGML_TYPE.F16, [5, 0]), 0);
  assert.throws(
    () => ggmlByteLength(GGML_TYPE.Q8_0, [48, 2]),
    /not a multiple of its block size 32/,
  );
});

Deno.test("gguf: typed getters read the fixture and name the key on failure", () => {
  const f = parseGguf(fixtures.get("models/stories260K-q4_0.gguf")!);
  assert.equal(ggufString(f, "general.architecture"), "llama");
  assert.equal(ggufNumber(f, "llama.block_count"), 5);
  assert.equal(ggufNumber(f, "llama.rope.freq_base", 10000), 10000);
  assert.equal(ggufString(f, "tokenizer.ggml.pre", "default"), "default");
  assert.equal(ggufStringArray(f, "tokenizer.ggml.tokens")[1], "<s>");
  const scores = ggufNumberArray(f, "tokenizer.ggml.scores");
  assert.ok(scores instanceof Float32Array && scores.length === 512);
  assert.ok(ggufArray(f, "tokenizer.ggml.token_type") instanceof Int32Array);
  assert.throws(() => ggufString(f, "llama.block_count"), {
    name: "FormatError",
    message: `gguf: key "llama.block_count" is uint32, expected a string`,
  });
  assert.throws(
    () => ggufNumber(f, "general.name"),
    /key "general.name" is string, expected a number/,
  );
  assert.throws(() => ggufNumber(f, "nope"), {
    message: `gguf: key "nope" is missing`,
  });
  assert.throws(
    () => ggufStringArray(f, "tokenizer.ggml.scores"),
    /array of float32, expected an array of strings/,
  );
  assert.throws(() => ggufNumberArray(f, "tokenizer.ggml.tokens"), FormatError);
  assert.throws(() => ggufBool(f, "general.name"), FormatError);
  assert.equal(ggufBool(f, "tokenizer.ggml.add_bos_token", true), true);
  const spm = parseGguf(fixtures.get("vocab/ggml-vocab-llama-spm.gguf")!);
  assert.equal(ggufBool(spm, "tokenizer.ggml.add_bos_token"), true);
  // the BOM token survives decoding
  assert.ok(ggufStringArray(spm, "tokenizer.ggml.tokens").includes("\uFEFF"));

  const big = parseGguf(
    writeGguf([["a", 1n << 60n], ["b", new BigInt64Array([-3n])], [
      "c",
      new BigUint64Array([1n << 63n]),
    ]], []),
  );
  assert.throws(() => ggufNumber(big, "a"), /too large/);
  assert.deepEqual(ggufNumberArray(big, "b"), new Float64Array([-3]));
  assert.throws(
    () => ggufNumberArray(big, "c"),
    /"c"\[0\] is 9223372036854775808/,
  );
});

Deno.test("gguf: isGguf checks the magic", () => {
  assert.ok(isGguf(fixtures.get("quant/q8_0.gguf")!));
  assert.ok(!isGguf(new TextEncoder().encode("GGU")));
  assert.ok(!isGguf(new TextEncoder().encode("GGML....")));
});

// ---------------------------------------------------------------------------
// writer → reader round trips

const SCALAR_TYPES: GgufValueTypeName[] = [
  "uint8",
  "int8",
  "uint16",
  "int16",
  "uint32",
  "int32",
  "float32",
  "bool",
  "string",
  "uint64",
  "int64",
  "float64",
];

function scalarArb(t: GgufValueTypeName): fc.Arbitrary<GgufValue> {
  switch (t) {
    case "uint8":
      return fc.integer({ min: 0, max: 255 });
    case "int8":
      return fc.integer({ min: -128, max: 127 });
    case "uint16":
      return fc.integer({ min: 0, max: 0xffff });
    case "int16":
      return fc.integer({ min: -0x8000, max: 0x7fff });
    case "uint32":
      return fc.integer({ min: 0, max: 0xffffffff });
    case "int32":
      return fc.integer({ min: -0x80000000, max: 0x7fffffff });
    case "float32":
      return fc.float({ noNaN: true });
    case "float64":
      return fc.double({ noNaN: true });
    case "bool":
      return fc.boolean();
    case "string":
      return fc.string({ unit: "grapheme", maxLength: 80 });
    case "uint64":
      return fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    default:
      return fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
  }
}

const TYPED: Partial<
  Record<GgufValueTypeName, (xs: GgufValue[]) => GgufValue>
> = {
  uint8: (xs) => Uint8Array.from(xs as number[]),
  int8: (xs) => Int8Array.from(xs as number[]),
  uint16: (xs) => Uint16Array.from(xs as number[]),
  int16: (xs) => Int16Array.from(xs as number[]),
  uint32: (xs) => Uint32Array.from(xs as number[]),
  int32: (xs) => Int32Array.from(xs as number[]),
  float32: (xs) => Float32Array.from(xs as number[]),
  float64: (xs) => Float64Array.from(xs as number[]),
  uint64: (xs) => BigUint64Array.from(xs as bigint[]),
  int64: (xs) => BigInt64Array.from(xs as bigint[]),
};

/** An array value as the reader returns it (typed arrays for numbers). */
function arrayArb(
  depth: number,
): fc.Arbitrary<{ elem: GgufValueTypeName; value: GgufValue }> {
  const flat = fc.constantFrom(...SCALAR_TYPES).chain((t) =>
    fc.array(scalarArb(t), { maxLength: 12 }).map((xs) => ({
      elem: t,
      value: TYPED[t] ? TYPED[t]!(xs) : xs as GgufValue,
    }))
  );
  if (depth === 0) return flat;
  return fc.oneof(
    { weight: 4, arbitrary: flat },
    {
      weight: 1,
      arbitrary: fc.array(arrayArb(depth - 1), { minLength: 1, maxLength: 3 })
        // an empty inner string/bool array reads back the same but writes
        // with the default element type; keep inner arrays unambiguous
        .filter((xs) =>
          xs.every((x) =>
            (x.value as ArrayLike<unknown>).length > 0 ||
            TYPED[x.elem] !== undefined
          )
        )
        .map((xs) => ({
          elem: "array" as GgufValueTypeName,
          value: xs.map((x) => x.value),
        })),
    },
  );
}

const entryArb = fc.oneof(
  fc.constantFrom(...SCALAR_TYPES).chain((t) =>
    scalarArb(t).map((value) => ({ elem: t, value }))
  ),
  arrayArb(2),
);

const TENSOR_TYPES = [
  GGML_TYPE.F32,
  GGML_TYPE.F16,
  GGML_TYPE.BF16,
  GGML_TYPE.Q8_0,
  GGML_TYPE.Q4_0,
  GGML_TYPE.Q4_K,
  GGML_TYPE.Q6_K,
  GGML_TYPE.I8,
];
const tensorArb = fc.record({
  type: fc.constantFrom(...TENSOR_TYPES),
  blocks: fc.integer({ min: 0, max: 3 }),
  rest: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
  seed: fc.integer(),
});

Deno.test("gguf: parse(write(x)) == x for any metadata and tensors (property)", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(fc.string({ maxLength: 20 }), entryArb), {
        selector: ([k]) => k,
        maxLength: 8,
      }).filter((es) => es.every(([k]) => k !== "general.alignment")),
      fc.uniqueArray(fc.tuple(fc.string({ maxLength: 12 }), tensorArb), {
        selector: ([k]) => k,
        maxLength: 4,
      }),
      fc.constantFrom(1, 8, 32, 64, 4096),
      fc.constantFrom(2 as const, 3 as const),
      (entries, tensorSpecs, alignment, version) => {
        const types = new Map(entries.map(([k, e]) => [k, e.elem]));
        const metadata = entries.map(([k, e]) =>
          [k, e.value] as [string, GgufValue]
        );
        const tensors: GgufTensorInput[] = tensorSpecs.map(([name, s]) => {
          const shape = [s.blocks * ggmlTypeInfo(s.type).blockSize, ...s.rest];
          const data = new Uint8Array(ggmlByteLength(s.type, shape));
          for (let i = 0; i < data.length; i++) {
            data[i] = (s.seed + i * 131) & 255;
          }
          return { name, shape, type: s.type, data };
        });
        const bytes = writeGguf(metadata, tensors, {
          types,
          alignment,
          version,
        });
        const f = parseGguf(bytes);
        assert.equal(f.version, version);
        assert.equal(f.alignment, alignment);
        const expected = new Map(metadata);
        const expectedTypes = new Map(types);
        if (alignment !== 32) {
          expected.set("general.alignment", alignment);
          expectedTypes.set("general.alignment", "uint32");
        }
        assert.deepEqual(f.metadata, expected);
        assert.deepEqual(f.types, expectedTypes);
        assert.equal(f.tensors.length, tensors.length);
        f.tensors.forEach((t, i) => {
          assert.equal(t.name, tensors[i].name);
          assert.deepEqual(t.shape, tensors[i].shape);
          assert.equal(t.type, tensors[i].type);
          assert.deepEqual(t.data, tensors[i].data);
          assert.equal(t.offset % alignment, 0);
        });
        // and the writer is a function of what the reader returns
        assert.deepEqual(
          writeGguf(f.metadata, f.tensors, { types: f.types, version }),
          bytes,
        );
      },
    ),
    { numRuns: 300, seed: 11 },
  );
});

Deno.test("gguf: writer infers value types from JS values", () => {
  const f = parseGguf(writeGguf(
    [
      ["u", 5],
      ["neg", -5],
      ["big", 2 ** 40],
      ["frac", 0.5],
      ["huge", 1e300],
      ["b", true],
      ["s", "x"],
      ["n", -1n],
      ["p", 1n],
      ["ints", [1, 2, 3]],
      ["negs", [-1, 2]],
      ["floats", [0.5, 1]],
      ["empty", []],
      ["strs", ["a", "b"]],
      ["bools", [true, false]],
      ["nested", [["a"], new Uint8Array([1])]],
    ],
    [],
  ));
  assert.deepEqual(Object.fromEntries(f.types), {
    u: "uint32",
    neg: "int32",
    big: "uint64",
    frac: "float32",
    huge: "float64",
    b: "bool",
    s: "string",
    n: "int64",
    p: "uint64",
    ints: "uint32",
    negs: "int32",
    floats: "float32",
    empty: "string",
    strs: "string",
    bools: "bool",
    nested: "array",
  });
  assert.equal(f.metadata.get("big"), 2n ** 40n);
  assert.deepEqual(f.metadata.get("ints"), new Uint32Array([1, 2, 3]));
  assert.deepEqual(f.metadata.get("nested"), [["a"], new Uint8Array([1])]);
  // a type given for a plain number array converts it
  const g = parseGguf(
    writeGguf([["x", [1, 2]]], [], { types: new Map([["x", "int16"]]) }),
  );
  assert.deepEqual(g.metadata.get("x"), new Int16Array([1, 2]));
});

Deno.test("gguf: numeric arrays are views when aligned, copies when not", () => {
  // the key length moves the array payload off 4-byte alignment
  for (const key of ["k", "kk", "kkk", "kkkk"]) {
    const bytes = writeGguf([[key, new Float32Array([1.5, -2])]], []);
    const v = parseGguf(bytes).metadata.get(key) as Float32Array;
    assert.deepEqual(v, new Float32Array([1.5, -2]));
    const payload = 4 + 4 + 16 + 8 + key.length + 4 + 4 + 8;
    assert.equal(v.buffer === bytes.buffer, payload % 4 === 0, key);
  }
  // an input that is itself a view at an odd offset
  const inner = writeGguf([["k", new Float64Array([3.25])]], []);
  const outer = new Uint8Array(inner.length + 1);
  outer.set(inner, 1);
  assert.deepEqual(
    parseGguf(outer.subarray(1)).metadata.get("k"),
    new Float64Array([3.25]),
  );
});

Deno.test("gguf: writer rejects bad input with typed errors naming the key or tensor", () => {
  const t = (
    name: string,
    shape: number[],
    type: number,
    n: number,
  ): GgufTensorInput => ({
    name,
    shape,
    type,
    data: new Uint8Array(n),
  });
  assert.throws(() => writeGguf([], [t("w", [32, 2], GGML_TYPE.Q8_0, 67)]), {
    name: "ShapeError",
    message: `gguf: tensor "w" [32,2] Q8_0 needs 68 bytes, data has 67`,
  });
  assert.throws(
    () => writeGguf([], [t("w", [16], GGML_TYPE.Q4_0, 9)]),
    ShapeError,
  );
  assert.throws(
    () => writeGguf([], [t("w", [1, 1, 1, 1, 1], GGML_TYPE.F32, 4)]),
    ShapeError,
  );
  assert.throws(
    () => writeGguf([], [t("w", [1], 99, 4)]),
    /tensor "w" \[1\] has unknown ggml type id 99/,
  );
  assert.throws(
    () => writeGguf([], [t("w", [1], 0, 4), t("w", [1], 0, 4)]),
    ConfigError,
  );
  assert.throws(
    () => writeGguf([], [t("x".repeat(64), [1], 0, 4)]),
    /64 bytes or longer/,
  );
  assert.throws(
    () => writeGguf([["k", 300]], [], { types: new Map([["k", "uint8"]]) }),
    {
      name: "ConfigError",
      message: `gguf: key "k": 300 is not a valid uint8`,
    },
  );
  assert.throws(
    () =>
      writeGguf([["k", [1, 2.5]]], [], { types: new Map([["k", "int32"]]) }),
    /key "k"\[1\]: 2.5 is not a valid int32/,
  );
  assert.throws(
    () => writeGguf([["k", "s"]], [], { types: new Map([["k", "bool"]]) }),
    ConfigError,
  );
  assert.throws(
    () => writeGguf([["k", 1]], [], { types: new Map([["k", "array"]]) }),
    ConfigError,
  );
  assert.throws(
    () =>
      writeGguf([["k", 1]], [], {
        types: new Map([["k", "u8" as GgufValueTypeName]]),
      }),
    /unknown value type "u8"/,
  );
  assert.throws(() => writeGguf([["k", [1, "a"]]], []), /mixes value kinds/);
  assert.throws(() => writeGguf([["k", 1], ["k", 2]], []), ConfigError);
  assert.throws(() => writeGguf([], [], { alignment: 24 }), /not a power of 2/);
  assert.throws(
    () => writeGguf([["general.alignment", 64]], [], { alignment: 32 }),
    /disagrees/,
  );
  assert.throws(() => writeGguf([["k", 1n << 64n]], []), ConfigError);
  // general.alignment in the metadata sets the alignment
  const f = parseGguf(
    writeGguf([["general.alignment", 64]], [
      t("a", [1], 0, 4),
      t("b", [1], 0, 4),
    ]),
  );
  assert.equal(f.alignment, 64);
  assert.equal(f.tensors[1].offset - f.tensors[0].offset, 64);
});

// ---------------------------------------------------------------------------
// malformed input

/** Minimal hand-rolled little-endian encoder, independent of writeGguf. */
class Raw {
  parts: number[] = [];
  u8(...v: number[]): this {
    this.parts.push(...v);
    return this;
  }
  u32(v: number): this {
    for (let i = 0; i < 4; i++) this.parts.push((v >>> (8 * i)) & 255);
    return this;
  }
  u64(v: bigint | number): this {
    const b = BigInt(v);
    for (let i = 0n; i < 8n; i++) {
      this.parts.push(Number((b >> (8n * i)) & 255n));
    }
    return this;
  }
  str(s: string | number[]): this {
    const b = typeof s === "string" ? [...new TextEncoder().encode(s)] : s;
    return this.u64(b.length).u8(...b);
  }
  header(nTensors: number | bigint, nKv: number | bigint, version = 3): this {
    return this.u8(0x47, 0x47, 0x55, 0x46).u32(version).u64(nTensors).u64(nKv);
  }
  pad(to: number): this {
    while (this.parts.length % to) this.parts.push(0);
    return this;
  }
  bytes(): Uint8Array {
    return new Uint8Array(this.parts);
  }
}

function rejects(bytes: Uint8Array, message: RegExp): void {
  assert.throws(() => parseGguf(bytes), (e: unknown) => {
    assert.ok(e instanceof FormatError, `not a FormatError: ${e}`);
    assert.match(e.message, message);
    return true;
  });
}

Deno.test("gguf: malformed headers, values and tensor infos are FormatErrors naming the place", () => {
  rejects(new TextEncoder().encode("GGML\x03\0\0\0"), /not a GGUF file/);
  rejects(new Raw().header(0, 0, 1).bytes(), /version 1 is not supported/);
  rejects(new Raw().header(0, 0, 0x03000000).bytes(), /big-endian/);
  rejects(new Raw().header(0, 0).bytes().subarray(0, 12), /tensor count/);
  rejects(
    new Raw().header(1n << 62n, 0).bytes(),
    /tensor count is 4611686018427387904/,
  );
  rejects(
    new Raw().header(0, 0xffffffffn).bytes(),
    /metadata count is 4294967295/,
  );
  rejects(
    new Raw().header(0, 1).u64(1n << 60n).u64(0).bytes(),
    /metadata entry 0: key: string length is/,
  );
  rejects(
    new Raw().header(0, 1).str("k").u32(13).bytes(),
    /key "k": unknown value type 13/,
  );
  rejects(
    new Raw().header(0, 1).str("k").u32(8).u64(99).u8(65).bytes(),
    /key "k": string length is 99/,
  );
  rejects(
    new Raw().header(0, 1).str("k").u32(9).u32(6).u64(1n << 40n).bytes(),
    /key "k": array length is 1099511627776/,
  );
  rejects(
    new Raw().header(0, 1).str("k").u32(9).u32(8).u64(2).str("a").u64(5)
      .bytes(),
    /key "k"\[1\]: string length is 5/,
  );
  rejects(
    new Raw().header(0, 1).str("k").u32(9).u32(6).u64(3).u32(0).bytes(),
    /key "k": array length is 3, more than the 1/,
  );
  rejects(
    new Raw().header(0, 1).str("k").u32(7).u8(2).bytes(),
    /key "k": bool byte is 2/,
  );
  rejects(
    new Raw().header(0, 1).str("k").u32(4).u8(1, 2).bytes(),
    /key "k": needs 4 bytes/,
  );
  rejects(
    new Raw().header(0, 2).str("k").u32(0).u8(1).str("k").u32(0).u8(1).bytes(),
    /key "k" appears twice/,
  );
  rejects(
    new Raw().header(0, 1).str("general.alignment").u32(4).u32(24).bytes(),
    /"general.alignment" is 24, not a power of 2/,
  );
  rejects(
    new Raw().header(0, 1).str("general.alignment").u32(10).u64(32).bytes(),
    /"general.alignment" is uint64, expected uint32/,
  );
  rejects(
    new Raw().header(0, 1).str("k").u32(9).u32(9).u64(1).u32(8).u64(0).bytes(),
    /key "k"\[0\]: is string, the array holds arrays/,
  );
  const nested = new Raw().header(0, 1).str("k").u32(9);
  for (let i = 0; i < 9; i++) nested.u32(9).u64(1).u32(9);
  nested.u32(0).u64(0);
  rejects(nested.bytes(), /nested more than 8 deep/);

  const tensor = (
    name: string,
    dims: (number | bigint)[],
    type: number,
    offset: number | bigint,
    dataBytes = 64,
  ) => {
    const r = new Raw().header(1, 0).str(name).u32(dims.length);
    for (const d of dims) r.u64(d);
    return r.u32(type).u64(offset).pad(32).u8(...new Array(dataBytes).fill(0))
      .bytes();
  };
  assert.equal(
    parseGguf(tensor("w", [16], GGML_TYPE.F32, 0)).tensors[0].byteLength,
    64,
  );
  rejects(tensor("w", [1, 1, 1, 1, 1], 0, 0), /tensor "w" has 5 dimensions/);
  rejects(
    tensor("w", [16], 4, 0),
    /tensor "w" \[16\] has unknown ggml type id 4/,
  );
  rejects(
    tensor("w", [16], GGML_TYPE.Q8_0, 0),
    /tensor "w" \[16\] is Q8_0 with rows of 16, not a multiple of its block size 32/,
  );
  rejects(
    tensor("w", [17], GGML_TYPE.F32, 0),
    /tensor "w": 68 bytes at data offset 0 run past the end/,
  );
  rejects(
    tensor("w", [4], GGML_TYPE.F32, 8),
    /tensor "w": data offset 8 is not a multiple of the alignment 32/,
  );
  rejects(
    tensor("w", [4], GGML_TYPE.F32, 1n << 63n),
    /tensor "w": 16 bytes at data offset 9223372036854775808 run past/,
  );
  rejects(
    tensor("w", [1n << 62n, 1n << 62n], GGML_TYPE.F32, 0),
    /tensor "w" has dimension 0 of 4611686018427387904/,
  );
  rejects(
    tensor("w", [1n << 30n, 1n << 30n], GGML_TYPE.F32, 0),
    /tensor "w" \[1073741824,1073741824\] has too many elements|is too large/,
  );
  rejects(
    tensor("w", [4], GGML_TYPE.F32, 0).subarray(0, 60),
    /data section starts at 64, past the end/,
  );
  const two = new Raw().header(2, 0);
  for (let i = 0; i < 2; i++) two.str("w").u32(1).u64(4).u32(0).u64(0);
  rejects(
    two.pad(32).u8(...new Array(32).fill(0)).bytes(),
    /tensor "w" appears twice/,
  );
});

Deno.test("gguf: short strings decode exactly as TextDecoder does, malformed UTF-8 included (property)", () => {
  const td = new TextDecoder("utf-8", { ignoreBOM: true });
  // bytes biased towards UTF-8 lead and continuation bytes
  const byte = fc.oneof(
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0x80, max: 0xbf }),
    fc.constantFrom(0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xc0, 0xc1),
  );
  fc.assert(
    fc.property(fc.array(byte, { maxLength: 70, size: "max" }), (bs) => {
      const bytes = new Raw().header(0, 1).str("k").u32(8).str(bs).bytes();
      assert.equal(
        parseGguf(bytes).metadata.get("k"),
        td.decode(new Uint8Array(bs)),
      );
    }),
    { numRuns: 2000, seed: 5 },
  );
});

Deno.test("gguf: every truncation of a real file is a FormatError or an intact prefix", () => {
  const full = fixtures.get("quant/q4_0.gguf")!;
  const f = parseGguf(full);
  const last = f.tensors[f.tensors.length - 1];
  const dataEnd = last.offset + last.byteLength;
  // every prefix of the header, then a stride through the data
  const cuts: number[] = [];
  for (let n = 0; n < f.dataOffset + 8; n++) cuts.push(n);
  for (let n = f.dataOffset; n <= full.length; n += 997) cuts.push(n);
  cuts.push(dataEnd - 1, dataEnd, full.length - 1);
  for (const n of cuts) {
    const prefix = full.subarray(0, n);
    if (n >= dataEnd) {
      assert.equal(parseGguf(prefix).tensors.length, 3); // only padding is gone
    } else {
      assert.throws(() => parseGguf(prefix), FormatError, `prefix ${n}`);
    }
  }
});

Deno.test("gguf: flipped bytes and absurd counts/offsets give FormatErrors, never other errors (fuzz)", () => {
  const base = writeGguf(
    [
      ["general.architecture", "llama"],
      ["llama.block_count", 2],
      ["tokenizer.ggml.tokens", ["<unk>", "<s>", "a", "bc"]],
      ["tokenizer.ggml.scores", new Float32Array([0, 0, -1, -2])],
      ["nested", [new Int16Array([1, 2]), ["x"]]],
      ["flag", true],
      ["big", 7n],
    ],
    [
      {
        name: "a",
        shape: [32, 2],
        type: GGML_TYPE.Q8_0,
        data: new Uint8Array(68),
      },
      { name: "b", shape: [4], type: GGML_TYPE.F32, data: new Uint8Array(16) },
    ],
  );
  const real = fixtures.get("models/stories260K-q4_0.gguf")!;
  const realHeader = real.subarray(0, parseGguf(real).dataOffset);
  const u64s = fc.constantFrom(
    0xffffffffffffffffn,
    1n << 63n,
    1n << 53n,
    (1n << 53n) - 1n,
    1n << 32n,
    0xffffffffn,
    0x7fffffffn,
    1000000n,
    0n,
    1n,
  );
  const mutation = fc.oneof(
    fc.record({
      kind: fc.constant("flip" as const),
      at: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 }),
    }),
    fc.record({ kind: fc.constant("u64" as const), at: fc.nat(), value: u64s }),
    fc.record({
      kind: fc.constant("u32" as const),
      at: fc.nat(),
      value: fc.constantFrom(0, 1, 9, 12, 13, 4, 0xffffffff, 0x80000000),
    }),
    fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
  );
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      (useReal, muts) => {
        let bytes = (useReal ? realHeader : base).slice();
        for (const m of muts) {
          const at = m.at % bytes.length;
          if (m.kind === "flip") bytes[at] ^= 1 << m.bit;
          else if (m.kind === "cut") bytes = bytes.slice(0, at);
          else if (m.kind === "u32" && at + 4 <= bytes.length) {
            new DataView(bytes.buffer).setUint32(at, m.value, true);
          } else if (m.kind === "u64" && at + 8 <= bytes.length) {
            new DataView(bytes.buffer).setBigUint64(at, m.value, true);
          }
        }
        try {
          const f = parseGguf(bytes);
          for (const t of f.tensors) {
            assert.ok(
              t.offset + t.byteLength <= bytes.length,
            );
          }
        } catch (e) {
          if (!(e instanceof FormatError)) throw e;
        }
      },
    ),
    { numRuns: 3000, seed: 3 },
  );
});
