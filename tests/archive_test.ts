import assert from "node:assert/strict";
import { createTar } from "nanotar";
import {
  gzipBytes,
  loadModelArchive,
  readArchiveMembers,
  saveModelArchive,
} from "../src/io/archive.ts";
import { randomModelWeights } from "../src/model/build.ts";
import { createRunState, forwardToken } from "../src/model/decode.ts";
import { KvCacheFp32 } from "../src/kv/caches.ts";
import { makeConfig, type ModelConfig } from "../src/model/config.ts";
import type { ModelWeights } from "../src/model/weights.ts";
import { weightType } from "../src/quant/table.ts";
import { linearOf } from "../src/model/build.ts";
import { paramLayout } from "../src/train/params.ts";
import { WordTokenizer } from "../src/tokenizer/word.ts";
import { BpeTokenizer } from "../src/tokenizer/bpe.ts";
import { FormatError, ShapeError } from "../src/errors.ts";
import { testNeeding } from "./permissions.ts";

const test = testNeeding(import.meta.url, "read", "write", "run:tar");

const tokenizer = WordTokenizer.fromWords("the cat sat on the mat".split(" "), {
  maxSize: 20,
});
const base: ModelConfig = makeConfig({
  dim: 16,
  hiddenDim: 24,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: tokenizer.vocabSize,
  seqLen: 12,
});

function logitsOf(w: ModelWeights, tokens: number[]): Float32Array[] {
  const s = createRunState(w.config);
  const cache = new KvCacheFp32(w.config);
  return tokens.map((t, pos) => forwardToken(w, s, cache, t, pos).slice());
}

function floats(w: ModelWeights): Float32Array[] {
  const out: Float32Array[] = [
    w.tokenEmbedding.data as Float32Array,
    w.rmsFinal,
  ];
  if (w.positionEmbedding) out.push(w.positionEmbedding);
  for (const l of w.layers) {
    out.push(l.rmsAtt, l.rmsFfn);
    for (const m of [l.wq, l.wk, l.wv, l.wo, l.w1, l.w2, l.w3]) {
      out.push(m.weight.data as Float32Array);
    }
  }
  out.push(w.classifier.weight.data as Float32Array);
  return out;
}

Deno.test("archive: save → load gives bit-identical weights, identical logits, same tokenizer and training", async () => {
  for (
    const cfg of [
      base,
      { ...base, positional: "learned", sharedClassifier: false, nKvHeads: 4 },
    ] as ModelConfig[]
  ) {
    const w = randomModelWeights(cfg, 7, 0.3);
    const training = {
      preset: "test",
      steps: 3,
      loss: [7.1, 6.9],
      nested: { lr: 1e-3 },
    };
    const bytes = await saveModelArchive({ weights: w, tokenizer, training });
    const back = await loadModelArchive(bytes, { name: "t.tar.gz" });
    assert.deepEqual(back.config, cfg);
    assert.deepEqual(back.training, training);
    assert.equal(back.optimizer, undefined);
    const a = floats(w), b = floats(back.weights);
    assert.equal(a.length, b.length);
    for (let i = 0; i < a.length; i++) {
      assert.deepEqual(
        new Uint32Array(b[i].slice().buffer),
        new Uint32Array(a[i].slice().buffer),
      );
    }
    assert.equal(
      back.weights.classifier.weight === back.weights.tokenEmbedding,
      cfg.sharedClassifier,
    );
    assert.deepEqual(
      back.tokenizer.encode("the mat dog"),
      tokenizer.encode("the mat dog"),
    );
    const toks = [2, 4, 5, 6, 7, 1];
    assert.deepEqual(logitsOf(back.weights, toks), logitsOf(w, toks));
  }
});

test("archive: reproducible bytes, sorted members, GNU tar reads it", async () => {
  const w = randomModelWeights(base, 3);
  const bpe = BpeTokenizer.train("the cat sat on the mat ".repeat(30), 270);
  const cfg = { ...base, vocabSize: bpe.vocabSize };
  const wb = randomModelWeights(cfg, 3);
  const layout = paramLayout(cfg);
  const opt = {
    step: 42,
    m: new Float32Array(layout.size).fill(0.5),
    v: new Float32Array(layout.size).fill(0.25),
  };
  const one = await saveModelArchive({
    weights: wb,
    tokenizer: bpe,
    training: { a: 1 },
    optimizer: opt,
  });
  const two = await saveModelArchive({
    weights: wb,
    tokenizer: bpe,
    training: { a: 1 },
    optimizer: opt,
  });
  assert.deepEqual(one, two);
  assert.notDeepEqual(
    one,
    await saveModelArchive({ weights: w, tokenizer, training: { a: 1 } }),
  );
  const back = await loadModelArchive(one);
  assert.equal(back.optimizer!.step, 42);
  assert.deepEqual(back.optimizer!.m, opt.m);
  assert.deepEqual(back.optimizer!.v, opt.v);
  assert.equal(back.tokenizer.kind, "bpe");
  assert.deepEqual(back.tokenizer.encode("the mat ✓"), bpe.encode("the mat ✓"));
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/m.tar.gz`, one);
    const list = await new Deno.Command("tar", {
      args: ["tzf", `${dir}/m.tar.gz`],
    }).output();
    assert.ok(list.success);
    assert.deepEqual(new TextDecoder().decode(list.stdout).trim().split("\n"), [
      "config.json",
      "model.safetensors",
      "optimizer.safetensors",
      "tokenizer.json",
      "training.json",
    ]);
    const x = await new Deno.Command("tar", {
      args: ["xzf", `${dir}/m.tar.gz`, "-C", dir],
    }).output();
    assert.ok(x.success, new TextDecoder().decode(x.stderr));
    const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    assert.equal(config.format_version, 1);
    assert.equal(config.dim, 16);
    const st = await Deno.readFile(`${dir}/model.safetensors`);
    assert.equal(
      (await readArchiveMembers(one)).get("model.safetensors")!.length,
      st.length,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("archive: quantized weights (int8 row, int4 G=8) round trip exactly", async () => {
  const w = randomModelWeights(base, 5);
  for (const [type, g] of [["int8", "row"], ["int4", 8]] as const) {
    const t = weightType(type);
    const q = (m: { weight: { data: unknown; rows: number; cols: number } }) =>
      linearOf(
        t.quantize(
          m.weight.data as Float32Array,
          m.weight.rows,
          m.weight.cols,
          g,
        ),
      );
    const qw: ModelWeights = {
      ...w,
      layers: w.layers.map((l) => ({
        ...l,
        wq: q(l.wq),
        wk: q(l.wk),
        wv: q(l.wv),
        wo: q(l.wo),
        w1: q(l.w1),
        w2: q(l.w2),
        w3: q(l.w3),
      })),
      classifier: q(w.classifier),
    };
    const bytes = await saveModelArchive({ weights: qw, tokenizer });
    const members = await readArchiveMembers(bytes);
    const back = await loadModelArchive(bytes);
    assert.equal(back.weights.layers[1].w2.weight.type, type);
    assert.equal(back.weights.layers[1].w2.weight.granularity, g);
    assert.equal(back.weights.classifier.weight.type, type);
    assert.equal(back.weights.tokenEmbedding.type, "fp32");
    const toks = [2, 4, 5];
    assert.deepEqual(logitsOf(back.weights, toks), logitsOf(qw, toks));
    // The tensor data holds exactly the packed bytes of the scheme: int8 one
    // byte a weight + one f32 scale a row; int4 half a byte + one f32 scale
    // per group of 8. Embedding and norms stay f32.
    const fp = await saveModelArchive({ weights: w, tokenizer });
    const c = base;
    const kvDim = c.dim / c.nHeads * c.nKvHeads;
    const matrices = [
      ...Array(c.nLayers).fill([
        [c.dim, c.dim],
        [kvDim, c.dim],
        [kvDim, c.dim],
        [c.dim, c.dim],
        [c.hiddenDim, c.dim],
        [c.dim, c.hiddenDim],
        [c.hiddenDim, c.dim],
      ]).flat(),
      [c.vocabSize, c.dim],
    ] as [number, number][];
    const packed = (rows: number, cols: number) =>
      type === "int8"
        ? rows * cols + 4 * rows
        : rows * cols / 2 + rows * cols / 2;
    const f32Rest = 4 * (c.vocabSize * c.dim + (2 * c.nLayers + 1) * c.dim);
    // (the fp32 model's classifier is its embedding, stored once)
    const f32Bytes = f32Rest +
      matrices.slice(0, -1).reduce((n, [r, k]) => n + 4 * r * k, 0);
    const qBytes = f32Rest +
      matrices.reduce((n, [r, k]) => n + packed(r, k), 0);
    const dataBytes = (st: Uint8Array) => {
      const headerLength = Number(
        new DataView(st.buffer, st.byteOffset).getBigUint64(0, true),
      );
      return st.length - 8 - headerLength;
    };
    assert.equal(
      dataBytes((await readArchiveMembers(fp)).get("model.safetensors")!),
      f32Bytes,
      "fp32 payload",
    );
    assert.equal(
      dataBytes(members.get("model.safetensors")!),
      qBytes,
      `${type} payload`,
    );
  }
});

function rebuild(members: Map<string, Uint8Array>): Promise<Uint8Array> {
  return gzipBytes(
    createTar([...members].map(([name, data]) => ({ name, data }))),
  );
}

Deno.test("archive: damage is reported with the member (and tensor) named", async () => {
  const w = randomModelWeights(base, 9);
  const good = await saveModelArchive({ weights: w, tokenizer, training: {} });
  const members = await readArchiveMembers(good);
  const rejects = async (
    bytes: Uint8Array,
    cls: typeof FormatError | typeof ShapeError,
    re: RegExp,
  ) => {
    await assert.rejects(
      loadModelArchive(bytes, { name: "m.tar.gz" }),
      (e: unknown) => {
        assert.ok(
          e instanceof cls,
          `${(e as Error).name}: ${(e as Error).message}`,
        );
        assert.match((e as Error).message, re);
        return true;
      },
    );
  };
  await rejects(
    good.subarray(0, good.length - 20),
    FormatError,
    /m\.tar\.gz: not a complete gzip file/,
  );
  await rejects(
    new TextEncoder().encode("hello"),
    FormatError,
    /not a complete gzip file/,
  );
  for (
    const m of [
      "config.json",
      "tokenizer.json",
      "model.safetensors",
      "training.json",
    ]
  ) {
    const less = new Map(members);
    less.delete(m);
    await rejects(
      await rebuild(less),
      FormatError,
      new RegExp(`missing member ${m.replace(".", "\\.")}`),
    );
  }
  const withMember = (name: string, data: Uint8Array | string) => {
    const copy = new Map(members);
    copy.set(
      name,
      typeof data === "string" ? new TextEncoder().encode(data) : data,
    );
    return rebuild(copy);
  };
  const cfg = JSON.parse(new TextDecoder().decode(members.get("config.json")));
  await rejects(
    await withMember(
      "config.json",
      JSON.stringify({ ...cfg, format_version: 99 }),
    ),
    FormatError,
    /config\.json: unknown format_version 99/,
  );
  await rejects(
    await withMember("config.json", JSON.stringify({ ...cfg, nHeads: 3 })),
    FormatError,
    /config\.json: nHeads \(3\) must divide dim/,
  );
  await rejects(
    await withMember("config.json", "{"),
    FormatError,
    /config\.json is not valid JSON/,
  );
  await rejects(
    await withMember("config.json", JSON.stringify({ ...cfg, hiddenDim: 32 })),
    ShapeError,
    /model\.safetensors: tensor "layers\.0\.w1" is \[24,16\], expected \[32, 16\]/,
  );
  await rejects(
    await withMember("config.json", JSON.stringify({ ...cfg, nLayers: 1 })),
    FormatError,
    /unexpected tensor "layers\.1\./,
  );
  await rejects(
    await withMember("config.json", JSON.stringify({ ...cfg, nLayers: 3 })),
    FormatError,
    /missing tensor "layers\.2\./,
  );
  await rejects(
    await withMember("config.json", JSON.stringify({ ...cfg, vocabSize: 5 })),
    ShapeError,
    /tok_embeddings/,
  );
  await rejects(
    await withMember("tokenizer.json", '{"kind":"zzz"}'),
    FormatError,
    /tokenizer\.json: unknown tokenizer kind "zzz"/,
  );
  const st = members.get("model.safetensors")!;
  await rejects(
    await withMember("model.safetensors", st.subarray(0, st.length - 8)),
    FormatError,
    /model\.safetensors: .*run past/,
  );
  // a NaN in one weight
  const bad = randomModelWeights(base, 9);
  (bad.layers[1].wv.weight.data as Float32Array)[3] = NaN;
  await rejects(
    await saveModelArchive({ weights: bad, tokenizer }),
    FormatError,
    /model\.safetensors: tensor "layers\.1\.wv" has a non-finite value at element 3/,
  );
  await assert.rejects(
    saveModelArchive({
      weights: randomModelWeights({ ...base, vocabSize: 5 }, 1),
      tokenizer,
    }),
    ShapeError,
  );
  // optimizer state of the wrong size
  await assert.rejects(
    (async () =>
      loadModelArchive(
        await saveModelArchive({
          weights: w,
          tokenizer,
          optimizer: {
            step: 1,
            m: new Float32Array(3),
            v: new Float32Array(3),
          },
        }),
      ))(),
    /optimizer\.safetensors: m has 3 and v 3 values, the model has \d+ parameters/,
  );
});

Deno.test("archive: a shared classifier is stored once; a distinct one is kept as output", async () => {
  const w = randomModelWeights(base, 11);
  const copy = {
    ...w.tokenEmbedding,
    data: (w.tokenEmbedding.data as Float32Array).slice(),
  };
  const sameBytes = await saveModelArchive({
    weights: { ...w, classifier: linearOf(copy) },
    tokenizer,
  });
  assert.deepEqual(
    sameBytes,
    await saveModelArchive({ weights: w, tokenizer }),
  );
  const q = weightType("int8").quantize(copy.data, copy.rows, copy.cols, "row");
  const distinct = await saveModelArchive({
    weights: { ...w, classifier: linearOf(q) },
    tokenizer,
  });
  const st = (await readArchiveMembers(distinct)).get("model.safetensors")!;
  assert.ok(
    new TextDecoder().decode(st.subarray(0, 4000)).includes('"output"'),
  );
  const back = await loadModelArchive(distinct);
  assert.equal(back.weights.classifier.weight.type, "int8");
  assert.equal(back.weights.tokenEmbedding.type, "fp32");
});

Deno.test("archive: any truncation or corrupted byte is a FormatError", async () => {
  const good = await saveModelArchive({
    weights: randomModelWeights(base, 2),
    tokenizer,
  });
  const cuts = Array.from(
    { length: 25 },
    (_, i) => Math.floor((good.length * i) / 25),
  );
  for (const cut of cuts) {
    await assert.rejects(
      loadModelArchive(good.subarray(0, cut)),
      FormatError,
      `cut at ${cut}`,
    );
  }
  for (let i = 0; i < 25; i++) {
    const bad = good.slice();
    const at = 10 + Math.floor(((good.length - 18) * i) / 25); // inside the deflate stream
    bad[at] ^= 0x5a;
    await assert.rejects(
      loadModelArchive(bad),
      FormatError,
      `byte ${at} flipped`,
    );
  }
});
