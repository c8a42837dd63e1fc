// Bad numbers are typed errors naming the field or tensor: absurd config
// values, sizes that cannot be allocated, NaN or huge weights in every
// loader, NaN tokenizer scores, coerced BPE merges, wrong API arguments.
import assert from "node:assert/strict";
import fc from "fast-check";
import { ConfigError, FormatError, InputError } from "../src/errors.ts";
import {
  makeConfig,
  type ModelConfig,
  validateConfig,
} from "../src/model/config.ts";
import { randomModelWeights } from "../src/model/build.ts";
import { createActivations } from "../src/model/sequence.ts";
import { createRunState } from "../src/model/decode.ts";
import { createKvCache } from "../src/kv/create.ts";
import { DEFAULT_HYPER, Trainer } from "../src/train/trainer.ts";
import { trainKernels } from "../src/tensor/train_kernels.ts";
import { encodeLlama2cCheckpoint } from "../src/io/llama2c.ts";
import { encodeLlama2cQ80 } from "../src/io/llama2c_q80.ts";
import {
  gzipBytes,
  readArchiveMembers,
  saveModelArchive,
} from "../src/io/archive.ts";
import { loadModel } from "../src/io/load.ts";
import { createTar } from "nanotar";
import { quantizeModel } from "../src/model/quantize.ts";
import { BpeTokenizer } from "../src/tokenizer/bpe.ts";
import {
  Llama2cTokenizer,
  parseLlama2cTokenizer,
} from "../src/tokenizer/llama2c.ts";
import { tokenizerFromJSON } from "../src/tokenizer/json.ts";
import { WordTokenizer } from "../src/tokenizer/word.ts";
import { generate, generateText } from "../src/generate/generate.ts";
import { perplexity } from "../src/eval/perplexity.ts";
import { tok512Bytes } from "./reference.ts";

const typed = (C: typeof ConfigError, re: RegExp) => (e: unknown) =>
  e instanceof C && re.test((e as Error).message);

// vocab 512: tok512.bin is its tokenizer
const small = makeConfig({
  dim: 16,
  hiddenDim: 32,
  nLayers: 2,
  nHeads: 2,
  vocabSize: 512,
  seqLen: 16,
});

Deno.test("config: absurd sizes and constants are ConfigErrors naming the field", () => {
  const cases: [Partial<ModelConfig>, RegExp][] = [
    [{ nLayers: 1 << 20 }, /^nLayers = 1048576 is larger than/],
    [{ seqLen: 2 ** 28 }, /^seqLen = 268435456 is larger than/],
    [{ vocabSize: 2 ** 30 }, /^vocabSize = /],
    [{ normEps: 1e30 }, /^normEps must be in \(0, 0\.1\]/],
    [{ normEps: NaN }, /^normEps/],
    [{ ropeTheta: 1e-30 }, /^ropeTheta must be in \[1, 1e9\]/],
    [
      { dim: 65536, hiddenDim: 262144, nHeads: 64, nLayers: 1000 },
      /parameters .* more than/,
    ],
  ];
  for (const [patch, re] of cases) {
    assert.throws(
      () => validateConfig({ ...small, ...patch }),
      typed(ConfigError, re),
      JSON.stringify(patch),
    );
  }
  // before any allocation: the shape is refused at once
  assert.throws(
    () => randomModelWeights({ ...small, nLayers: 1 << 20 }, 1),
    typed(ConfigError, /nLayers/),
  );
});

Deno.test("allocations: sizes no engine can hold are ConfigErrors naming what and how much", () => {
  assert.throws(
    () => createKvCache("ring:99999999999", small),
    typed(
      ConfigError,
      /^a KV cache of 99999999999 positions would need [\d.]+ GiB, more than the 8\.0 GiB allowed$/,
    ),
  );
  assert.throws(
    () => createKvCache("fp32", small, 2 ** 40),
    typed(ConfigError, /KV cache of 1099511627776 positions/),
  );
  assert.throws(
    () => createActivations(small, 1e9, 16),
    typed(ConfigError, /^activations for 1000000000 × 16 tokens would need/),
  );
  const big = makeConfig({ ...small, seqLen: 1 << 20 });
  assert.throws(
    () => createActivations(big, 8, 1 << 20),
    typed(ConfigError, /activations for 8 × 1048576 tokens/),
  );
  assert.ok(createRunState(big).att.length === 1 << 20); // fine: O(seqLen)
  assert.throws(
    () =>
      new Trainer(
        small,
        { ...DEFAULT_HYPER, batch: 1e9, seqLen: 16 },
        trainKernels("js"),
      ),
    typed(ConfigError, /would need/),
  );
});

function damaged(patch: (w: ReturnType<typeof randomModelWeights>) => void) {
  const w = randomModelWeights(small, 3);
  patch(w);
  return w;
}

Deno.test("loaders: NaN, Infinity or |w| > 65504 in any tensor is a FormatError naming it", async () => {
  const tok = parseLlama2cTokenizer(tok512Bytes());
  const cases: [
    string,
    (w: ReturnType<typeof randomModelWeights>) => void,
    RegExp,
  ][] = [
    [
      "NaN gain",
      (w) => (w.layers[1].rmsFfn[2] = NaN),
      /tensor layers\.1\.ffn_norm element 2 is NaN/,
    ],
    [
      "huge weight",
      (w) => ((w.layers[0].wq.weight.data as Float32Array)[5] = 3e38),
      /tensor layers\.0\.wq element 5 is 3\.0+\d*e\+38/,
    ],
    [
      "-huge embedding",
      (w) => ((w.tokenEmbedding.data as Float32Array)[7] = -3e38),
      /tensor tok_embeddings element 7 is -3\.0+\d*e\+38/,
    ],
    [
      "Infinity",
      (w) => (w.rmsFinal[0] = Infinity),
      /tensor norm element 0 is Infinity/,
    ],
  ];
  for (const [what, patch, re] of cases) {
    // llama2.c checkpoint (no validation of its own floats)
    const bin = encodeLlama2cCheckpoint(damaged(patch));
    await assert.rejects(
      loadModel(bin, { name: "m.bin", tokenizer: tok512Bytes() }),
      typed(FormatError, new RegExp(`^m\\.bin: ${re.source}`)),
      `llama2c: ${what}`,
    );
    // tinyllm archive: non-finite values are refused by safetensors, huge
    // ones by the loader's check
    const archive = await saveModelArchive({
      weights: damaged(patch),
      tokenizer: tok,
    }).catch((e) => {
      // the writer refuses non-finite values itself
      assert.ok(
        e instanceof FormatError || e instanceof ConfigError,
        String(e),
      );
      return null;
    });
    if (archive) {
      await assert.rejects(
        loadModel(archive, { name: "m.tar.gz" }),
        (e) => e instanceof FormatError && /m\.tar\.gz: /.test(e.message),
        `archive: ${what}`,
      );
    }
  }
  // quantized: a huge scale
  const q = quantizeModel(randomModelWeights(small, 4), "int8", "row");
  (q.layers[0].w2.weight.scales as Float32Array)[1] = 1e30;
  await assert.rejects(
    loadModel(await saveModelArchive({ weights: q, tokenizer: tok }), {
      name: "q.tar.gz",
    }),
    typed(
      FormatError,
      /q\.tar\.gz: tensor layers\.0\.w2 scales element 1 is 1\.0+\d*e\+30/,
    ),
  );
  // llama2.c version 2 (Q8_0) checks its own scales
  const q80 = encodeLlama2cQ80(randomModelWeights(small, 5), 8);
  new DataView(q80.buffer).setFloat32(256 + 4, NaN, true);
  await assert.rejects(
    loadModel(q80, { name: "q80.bin", tokenizer: tok512Bytes() }),
    typed(FormatError, /q80\.bin: rms_att\[1\] = NaN/),
  );
});

Deno.test("archives: a config.json with absurd values is refused naming the field", async () => {
  const tok = WordTokenizer.fromWords(["a", "b"], { maxSize: 2 });
  const good = await readArchiveMembers(
    await saveModelArchive({
      weights: randomModelWeights({ ...small, vocabSize: tok.vocabSize }, 1),
      tokenizer: tok,
    }),
  );
  for (
    const [patch, re] of [
      [{ seqLen: 2 ** 28 }, /seqLen = 268435456/],
      [{ normEps: 1e30 }, /normEps/],
      [{ ropeTheta: 1e-30 }, /ropeTheta/],
    ] as const
  ) {
    const config = JSON.parse(
      new TextDecoder().decode(good.get("config.json")),
    );
    const members = new Map(good);
    members.set(
      "config.json",
      new TextEncoder().encode(JSON.stringify({ ...config, ...patch })),
    );
    const bytes = await gzipBytes(
      createTar([...members].map(([name, data]) => ({ name, data }))),
    );
    await assert.rejects(
      loadModel(bytes, { name: "c.tar.gz" }),
      (e) =>
        (e instanceof FormatError || e instanceof ConfigError) &&
        re.test(e.message),
      JSON.stringify(patch),
    );
  }
});

Deno.test("tokenizers: NaN scores and merges that are not token ids are FormatErrors", () => {
  const enc = new TextEncoder();
  const pieces = ["<unk>", "<s>", "</s>", " ", "a"].map((p) => enc.encode(p));
  assert.throws(
    () => new Llama2cTokenizer(pieces, new Float32Array([0, 0, 0, NaN, -1])),
    typed(FormatError, /score of token 3 is NaN/),
  );
  const good = new Llama2cTokenizer(pieces, new Float32Array(5)).toJSON();
  const bad = structuredClone(good) as Record<string, unknown>;
  const scores = new Float32Array([0, 0, 0, 0, NaN]);
  bad.scores = btoa(String.fromCharCode(...new Uint8Array(scores.buffer)));
  assert.throws(
    () => tokenizerFromJSON(bad),
    typed(FormatError, /score of token 4 is NaN/),
  );
  for (const merge of [1.5, "97", 2 ** 32 + 97, -1, null]) {
    assert.throws(
      () => new BpeTokenizer([97, merge as number]),
      typed(FormatError, /^bpe tokenizer: merges\[1\] = .* is not a token id$/),
      String(merge),
    );
  }
  assert.throws(
    () => tokenizerFromJSON({ kind: "bpe", merges: [97, "98"] }),
    FormatError,
  );
  assert.equal(new BpeTokenizer([97, 98]).vocabSize, 259);
});

Deno.test("API: quantizeModel refuses granularities that are not group sizes; generate checks its arguments", async () => {
  const w = randomModelWeights(small, 2);
  for (const g of [1.5, 0, -32, NaN, "32" as unknown as number]) {
    assert.throws(
      () => quantizeModel(w, "int4", g),
      typed(ConfigError, /granularity must be "tensor", "row" or a group size/),
      String(g),
    );
  }
  assert.throws(
    () => quantizeModel(null as never, "int8"),
    typed(ConfigError, /weights must be ModelWeights, got null/),
  );
  const tok = WordTokenizer.fromWords("a b c d e f g h".split(" "), {
    maxSize: 8,
  });
  const wordConfig = { ...small, vocabSize: tok.vocabSize };
  const model = randomModelWeights(wordConfig, 2);
  const first = (g: AsyncGenerator<unknown>) => g.next();
  await assert.rejects(
    first(generate(null as never, tok, "a")),
    typed(InputError, /^generate: model must be ModelWeights, got null$/),
  );
  await assert.rejects(
    first(generate(model, {} as never, "a")),
    typed(InputError, /tokenizer must be a Tokenizer, got object/),
  );
  await assert.rejects(
    first(generate(model, tok, 42 as never)),
    typed(InputError, /prompt must be a string, got number/),
  );
  // non-finite logits (weights damaged after loading) stop generation
  const broken = randomModelWeights(wordConfig, 2);
  broken.rmsFinal.fill(NaN);
  await assert.rejects(
    generateText(broken, tok, "a", { maxTokens: 3 }),
    typed(InputError, /non-finite logit .* its weights are damaged/),
  );
  assert.throws(
    () => perplexity(broken, [1, 2, 3, 4, 5]),
    typed(InputError, /non-finite log-likelihood/),
  );
});

Deno.test("property: any single NaN or |w| > 65504 in a llama2.c checkpoint is refused, naming a tensor", async () => {
  const base = encodeLlama2cCheckpoint(randomModelWeights(small, 9));
  const floats = (base.length - 28) / 4;
  // the legacy freq_cis tables (unused) sit before the classifier; skip them
  await fc.assert(
    fc.asyncProperty(
      fc.nat(floats - 1),
      fc.constantFrom(NaN, Infinity, -3e38, 1e5),
      async (i, v) => {
        const b = base.slice();
        new DataView(b.buffer).setFloat32(28 + 4 * i, v, true);
        try {
          await loadModel(b, { name: "p.bin", tokenizer: tok512Bytes() });
          return true; // it hit the unused freq_cis tables
        } catch (e) {
          return e instanceof FormatError &&
            /p\.bin: tensor \S+ element \d+ is/.test(e.message);
        }
      },
    ),
    { numRuns: 100, seed: 4 },
  );
});

Deno.test("GGUF tokenizer: a NaN score is a FormatError naming the token", async () => {
  const { GgufTokenizer } = await import("../src/tokenizer/gguf_tokenizer.ts");
  const good = {
    model: "llama",
    tokens: ["<unk>", "<s>", "</s>", "▁", "h", "i", "▁h", "▁hi"],
    scores: [0, 0, 0, -1, -2, -3, -4, -5],
  };
  assert.equal(new GgufTokenizer(good as never).vocabSize, 8);
  assert.throws(
    () =>
      new GgufTokenizer(
        { ...good, scores: [0, 0, 0, -1, NaN, -3, -4, -5] } as never,
      ),
    typed(FormatError, /tokenizer\.ggml\.scores\[4\] is NaN/),
  );
});
