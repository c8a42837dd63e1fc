// `tinyllm quantize` end to end on stories260K: the written archive loads
// back with the requested weight types, and bad flags are one-line errors.
import assert from "node:assert/strict";
import { loadModelArchive } from "../src/io/archive.ts";
import { parseLlama2cCheckpoint } from "../src/io/llama2c.ts";
import { main } from "../src/cli/quantize.ts";
import { UsageError } from "../src/cli/common.ts";
import { ConfigError, InputError } from "../src/errors.ts";
import { modelByteSize, quantizeModel } from "../src/model/quantize.ts";
import { WEIGHT_TYPES } from "../src/quant/table.ts";

import {
  STORIES260K_PATH as model,
  stories260KBytes,
  TOK512_PATH as tokenizer,
} from "./reference.ts";
import { testNeeding } from "./permissions.ts";

const test = testNeeding(import.meta.url, "read", "write");

test("quantize CLI: llama2.c .bin → int4 archive → int8 archive", async () => {
  const dir = await Deno.makeTempDir();
  const log = console.log;
  const lines: string[] = [];
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    const out4 = `${dir}/m-int4.tar.gz`;
    await main([
      "--model",
      model,
      "--tokenizer",
      tokenizer,
      "--type",
      "int4",
      "--group",
      "32",
      "--out",
      out4,
    ]);
    const a4 = await loadModelArchive(await Deno.readFile(out4));
    const src = parseLlama2cCheckpoint(stories260KBytes());
    const expected = quantizeModel(src, "int4", 32);
    assert.equal(a4.weights.layers[0].wq.weight.type, "int4");
    assert.equal(a4.weights.layers[0].w2.weight.granularity, 86); // 172 inputs
    assert.equal(a4.weights.tokenEmbedding.type, "int4"); // shared classifier
    assert.equal(a4.weights.rmsFinal.length, 64);
    assert.deepEqual(
      WEIGHT_TYPES.int4.dequantize(a4.weights.layers[4].w1.weight),
      WEIGHT_TYPES.int4.dequantize(expected.layers[4].w1.weight),
    );
    assert.equal(modelByteSize(a4.weights), modelByteSize(expected));
    assert.ok(
      lines.some((l) => /fp32 1\.04 MB → int4 0\.16 MB/.test(l)),
      lines.join("\n"),
    );
    // an archive quantizes too (default granularity for int8: per row)
    const out8 = `${dir}/m-int8.tar.gz`;
    await main(["--model", out4, "--type", "int8", "--out", out8]);
    const a8 = await loadModelArchive(await Deno.readFile(out8));
    assert.equal(a8.weights.layers[1].wo.weight.type, "int8");
    assert.equal(a8.weights.layers[1].wo.weight.granularity, "row");
    assert.equal(
      a8.training.quantization && typeof a8.training.quantization,
      "object",
    );
  } finally {
    console.log = log;
    await Deno.remove(dir, { recursive: true });
  }
});

test("quantize CLI: bad flags are UsageErrors", async () => {
  await assert.rejects(() => main(["--type", "int8"]), UsageError);
  await assert.rejects(() => main(["--model", model]), UsageError);
  await assert.rejects(
    () => main(["--model", model, "--type", "int5"]),
    (e: Error) =>
      e instanceof UsageError && /unknown weight type/.test(e.message),
  );
  await assert.rejects(
    () => main(["--model", model, "--type", "int8", "--group", "zero"]),
    (e: Error) => e instanceof UsageError && /--group/.test(e.message),
  );
  await assert.rejects(
    () => main(["--model", model, "--type", "int8"]),
    (e: Error) =>
      e instanceof ConfigError && /tokenizer is required/.test(e.message),
  );
  await assert.rejects(
    () => main(["--model", "/nonexistent/m.bin", "--type", "int8"]),
    InputError,
  );
});
