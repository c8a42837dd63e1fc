import assert from "node:assert/strict";
import { testNeeding } from "./permissions.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  qmatrixFromTensors,
  qmatrixTensors,
  tensorF32,
} from "../src/io/safetensors.ts";
import { weightType } from "../src/quant/table.ts";
import { FormatError, ShapeError } from "../src/errors.ts";

function sample(): Uint8Array<ArrayBuffer> {
  return encodeSafetensors({
    "b.f32": {
      shape: [2, 3],
      data: new Float32Array([1, -2.5, 3e-8, 4, 5, 0.1]),
    },
    "a.i8": { shape: [3], data: new Int8Array([-127, 0, 127]) },
    "c.u8": { shape: [1, 2], data: new Uint8Array([0, 255]) },
    "d.f64": { shape: [2], data: new Float64Array([Math.PI, -1e300]) },
    "e.i32": { shape: [1], data: new Int32Array([-123456789]) },
    "empty": { shape: [0, 4], data: new Float32Array(0) },
  }, { format: "tinyllm", note: "ünïcode" });
}

Deno.test("safetensors: byte layout by hand (header length, padding, offsets)", () => {
  const bytes = encodeSafetensors({
    x: { shape: [1], data: new Float32Array([1]) },
  });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.equal(n % 8, 0);
  assert.equal(
    header.trimEnd(),
    '{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
  );
  assert.deepEqual([...bytes.subarray(8 + n)], [0, 0, 0x80, 0x3f]);
  assert.equal(bytes.length, 8 + n + 4);
});

Deno.test("safetensors: round trip of every dtype and metadata", () => {
  const f = decodeSafetensors(sample());
  assert.deepEqual([...tensorF32(f, "b.f32")], [
    ...new Float32Array([1, -2.5, 3e-8, 4, 5, 0.1]),
  ]);
  assert.deepEqual(f.tensors.get("b.f32")!.shape, [2, 3]);
  assert.deepEqual([
    ...new Int8Array(f.tensors.get("a.i8")!.bytes.slice().buffer),
  ], [-127, 0, 127]);
  assert.deepEqual([...f.tensors.get("c.u8")!.bytes], [0, 255]);
  assert.deepEqual([
    ...new Float64Array(f.tensors.get("d.f64")!.bytes.slice().buffer),
  ], [Math.PI, -1e300]);
  assert.equal(f.tensors.get("empty")!.bytes.length, 0);
  assert.deepEqual(f.metadata, { format: "tinyllm", note: "ünïcode" });
  // wider dtypes first, so every tensor is aligned to its element size
  assert.deepEqual([...f.tensors.keys()].slice(0, 2), ["d.f64", "b.f32"]);
  // a misaligned copy of the file still decodes (values copied out)
  const shifted = new Uint8Array(sample().length + 1);
  shifted.set(sample(), 1);
  assert.equal(
    tensorF32(decodeSafetensors(shifted.subarray(1)), "b.f32")[1],
    -2.5,
  );
});

function withHeader(header: unknown, data: Uint8Array, pad = true): Uint8Array {
  let json = JSON.stringify(header);
  if (pad) json += " ".repeat((8 - (json.length % 8)) % 8);
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

Deno.test("safetensors: every kind of damage is a FormatError naming the tensor", () => {
  const err = (bytes: Uint8Array, re: RegExp) =>
    assert.throws(
      () => decodeSafetensors(bytes, "m.st"),
      (e: unknown) => e instanceof FormatError && re.test((e as Error).message),
    );
  const good = sample();
  err(good.subarray(0, 4), /m\.st: truncated/);
  err(good.subarray(0, 40), /header length \d+ runs past/);
  err(good.subarray(0, good.length - 3), /run past the \d+ data bytes/);
  const bad = good.slice();
  bad[9] = 0x7b; // "{{" is not JSON
  err(bad, /not valid JSON/);
  err(withHeader([1], new Uint8Array(0)), /not a JSON object/);
  const f4 = new Uint8Array(new Float32Array([1, 2]).buffer);
  err(
    withHeader({ w: { dtype: "BF16", shape: [2], data_offsets: [0, 8] } }, f4),
    /"w": unsupported dtype/,
  );
  err(
    withHeader({ w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, f4),
    /"w": F32 \[3\] needs 12 bytes/,
  );
  err(
    withHeader({ w: { dtype: "F32", shape: [-2], data_offsets: [0, 8] } }, f4),
    /"w": bad shape/,
  );
  err(
    withHeader({ w: { dtype: "F32", shape: [2], data_offsets: [8, 0] } }, f4),
    /"w": bad data_offsets/,
  );
  err(
    withHeader({
      a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      b: { dtype: "F32", shape: [1], data_offsets: [4, 8] },
    }, f4),
    /"b" overlaps|"a" overlaps/,
  );
  err(
    withHeader({ a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, f4),
    /hole of 4 bytes before tensor "a"/,
  );
  err(
    withHeader({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, f4),
    /4 bytes after the last tensor/,
  );
  err(
    withHeader({ __metadata__: { v: 1 } }, new Uint8Array(0)),
    /__metadata__\.v is not a string/,
  );
  for (const v of [NaN, Infinity, -Infinity]) {
    const nf = new Uint8Array(new Float32Array([1, v]).buffer);
    err(
      withHeader({ w: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, nf),
      /tensor "w" has a non-finite value at element 1/,
    );
  }
  // unpadded headers from other writers are fine
  assert.equal(
    decodeSafetensors(
      withHeader(
        { w: { dtype: "F32", shape: [2], data_offsets: [0, 8] } },
        f4,
        false,
      ),
    ).tensors.size,
    1,
  );
  assert.throws(
    () => encodeSafetensors({ w: { shape: [3], data: new Float32Array(2) } }),
    ShapeError,
  );
});

Deno.test("safetensors: quantized matrices (int8/int4, every granularity) round trip", () => {
  const rows = 4, cols = 64;
  const w = new Float32Array(rows * cols).map((_, i) =>
    Math.sin(i * 0.37) * (1 + (i % 5))
  );
  for (
    const [type, g] of [
      ["int8", "tensor"],
      ["int8", "row"],
      ["int8", 32],
      ["int4", 32],
      ["int4", "row"],
      ["int4", 16],
    ] as const
  ) {
    const m = weightType(type).quantize(w, rows, cols, g);
    const { tensors, metadata } = qmatrixTensors("layers.0.wq", m);
    const file = decodeSafetensors(encodeSafetensors(tensors, metadata));
    assert.equal(file.metadata["quant.layers.0.wq"], `${type}:${g}`);
    const st = file.tensors.get("layers.0.wq")!;
    assert.equal(st.dtype, type === "int8" ? "I8" : "U8");
    assert.deepEqual(
      st.shape,
      type === "int8" ? [rows, cols] : [rows, cols / 2],
    );
    const back = qmatrixFromTensors(file, "layers.0.wq", rows, cols);
    assert.equal(back.type, type);
    assert.equal(back.granularity, g);
    assert.deepEqual([
      ...new Uint8Array(
        back.data.buffer,
        back.data.byteOffset,
        back.data.byteLength,
      ),
    ], [
      ...new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength),
    ]);
    assert.deepEqual([...back.scales], [...m.scales]);
    assert.throws(
      () => qmatrixFromTensors(file, "layers.0.wq", rows, cols * 2),
      ShapeError,
    );
  }
  const fp = weightType("fp32").quantize(w, rows, cols, "tensor");
  const { tensors } = qmatrixTensors("x", fp);
  const file = decodeSafetensors(encodeSafetensors(tensors));
  assert.deepEqual([...qmatrixFromTensors(file, "x", rows, cols).data], [...w]);
  assert.throws(() => qmatrixFromTensors(file, "x", cols, rows), ShapeError);
  assert.throws(
    () => qmatrixFromTensors(file, "nope", rows, cols),
    FormatError,
  );
});

// An independent reader/writer written from the spec with Python's stdlib only.
const PY = `
import json, struct, sys, math
path, out = sys.argv[1], sys.argv[2]
b = open(path, "rb").read()
(n,) = struct.unpack("<Q", b[:8])
assert n % 8 == 0, "header not padded to 8"
h = json.loads(b[8:8 + n].decode("utf-8"))
data = b[8 + n:]
fmt = {"F32": ("f", 4), "F64": ("d", 8), "I8": ("b", 1), "U8": ("B", 1), "I32": ("i", 4)}
res = {"__metadata__": h.pop("__metadata__", {})}
covered = 0
for name, t in h.items():
    s, e = t["data_offsets"]
    c, size = fmt[t["dtype"]]
    count = 1
    for d in t["shape"]:
        count *= d
    assert e - s == count * size, name
    covered += e - s
    res[name] = list(struct.unpack("<%d%s" % (count, c), data[s:e]))
assert covered == len(data)
json.dump(res, open(out + ".json", "w"))
# write a file the way the reference writer does: sorted by dtype then name, header padded
tensors = {"w": ("F32", [2, 2], struct.pack("<4f", 1.5, -2, 0.25, 8)), "q": ("I8", [3], struct.pack("<3b", -127, 5, 127))}
hdr, off, blobs = {"__metadata__": {"k": "v"}}, 0, []
for name in ["w", "q"]:
    dt, shape, raw = tensors[name]
    hdr[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(raw)]}
    off += len(raw)
    blobs.append(raw)
hb = json.dumps(hdr, separators=(",", ":")).encode()
hb += b" " * ((8 - len(hb) % 8) % 8)
open(out + ".st", "wb").write(struct.pack("<Q", len(hb)) + hb + b"".join(blobs))
`;

const test = testNeeding(import.meta.url, "read", "write", "run:python3");

test({
  name:
    "safetensors: an independent Python (stdlib) reader agrees, and we read its file",
  ignore: !(() => {
    try {
      return new Deno.Command("python3", {
        args: ["--version"],
        stdout: "null",
        stderr: "null",
      }).outputSync().success;
    } catch {
      return false;
    }
  })(),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeFile(`${dir}/a.safetensors`, sample());
      await Deno.writeTextFile(`${dir}/check.py`, PY);
      const r = await new Deno.Command("python3", {
        args: [`${dir}/check.py`, `${dir}/a.safetensors`, `${dir}/out`],
      }).output();
      assert.ok(r.success, new TextDecoder().decode(r.stderr));
      const got = JSON.parse(await Deno.readTextFile(`${dir}/out.json`));
      assert.deepEqual(got.__metadata__, {
        format: "tinyllm",
        note: "ünïcode",
      });
      assert.deepEqual(got["b.f32"], [
        ...new Float32Array([1, -2.5, 3e-8, 4, 5, 0.1]),
      ]);
      assert.deepEqual(got["a.i8"], [-127, 0, 127]);
      assert.deepEqual(got["c.u8"], [0, 255]);
      assert.deepEqual(got["d.f64"], [Math.PI, -1e300]);
      assert.deepEqual(got["e.i32"], [-123456789]);
      const theirs = decodeSafetensors(await Deno.readFile(`${dir}/out.st`));
      assert.deepEqual([...tensorF32(theirs, "w")], [1.5, -2, 0.25, 8]);
      assert.deepEqual([
        ...new Int8Array(theirs.tensors.get("q")!.bytes.slice().buffer),
      ], [-127, 5, 127]);
      assert.deepEqual(theirs.metadata, { k: "v" });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("safetensors: random tensors round trip; random damage never escapes as a non-FormatError (property)", async () => {
  const fc = (await import("fast-check")).default;
  const tensorArb = fc.record({
    kind: fc.constantFrom("F32", "I8", "U8", "I32", "F64"),
    shape: fc.array(fc.integer({ min: 0, max: 4 }), {
      minLength: 0,
      maxLength: 3,
    }),
    seed: fc.integer(),
  });
  const make = (t: { kind: string; shape: number[]; seed: number }) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const vals = Array.from(
      { length: n },
      (_, i) => ((t.seed + i * 7919) % 251) - 125,
    );
    const data = t.kind === "F32"
      ? Float32Array.from(vals, (v) => v / 8)
      : t.kind === "F64"
      ? Float64Array.from(vals, (v) => v / 3)
      : t.kind === "I8"
      ? Int8Array.from(vals)
      : t.kind === "I32"
      ? Int32Array.from(vals, (v) => v * 100000)
      : Uint8Array.from(vals, (v) => v + 125);
    return { shape: t.shape, data };
  };
  fc.assert(
    fc.property(
      fc.dictionary(
        fc.oneof(
          fc.constantFrom("__proto__", "constructor", "layers.0.wq", "ü"),
          fc.string({ minLength: 1, maxLength: 8 }),
        ).filter((s) => s !== "__metadata__"),
        tensorArb,
        { maxKeys: 5 },
      ),
      fc.dictionary(
        fc.oneof(
          fc.constantFrom("__proto__", "toString"),
          fc.string({ maxLength: 6 }),
        ),
        fc.string({ maxLength: 6 }),
        { maxKeys: 3 },
      ),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        maxLength: 4,
      }),
      fc.nat(),
      (spec, meta, flips, cut) => {
        const inputs = Object.fromEntries(
          Object.entries(spec).map(([k, t]) => [k, make(t)]),
        );
        const bytes = encodeSafetensors(inputs, meta);
        const f = decodeSafetensors(bytes);
        assert.deepEqual(
          [...f.tensors.keys()].sort(),
          Object.keys(inputs).sort(),
        );
        for (const [k, t] of Object.entries(inputs)) {
          const got = f.tensors.get(k)!;
          assert.deepEqual(got.shape, t.shape);
          assert.deepEqual([...got.bytes], [...new Uint8Array(t.data.buffer)]);
        }
        assert.deepEqual(f.metadata, { ...meta });
        const damaged = bytes.slice(
          0,
          bytes.length - (cut % (bytes.length + 1)),
        );
        for (const [at, v] of flips) {
          if (damaged.length) damaged[at % damaged.length] = v;
        }
        try {
          decodeSafetensors(damaged);
        } catch (e) {
          if (!(e instanceof FormatError)) throw e;
        }
      },
    ),
    { numRuns: 300, seed: 3 },
  );
});
