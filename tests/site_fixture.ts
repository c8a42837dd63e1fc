/**
 * Test helper: a small int4 (G32) model archive for the demo page, made with
 * the library from seeded random weights (no training needed).
 */
import { randomModelWeights } from "../src/model/build.ts";
import { quantizeModel } from "../src/model/quantize.ts";
import { saveModelArchive } from "../src/io/archive.ts";
import { WordTokenizer } from "../src/tokenizer/word.ts";
import { makeConfig } from "../src/model/config.ts";

const WORDS =
  "the a little girl boy dog cat ran saw big red ball park tree and was is happy sad day sun"
    .split(" ");

/** Writes `dir/model-int4.tar.gz` and returns its path. */
export async function demoModelForTest(dir: string): Promise<string> {
  const tokenizer = WordTokenizer.fromWords(WORDS, { maxSize: WORDS.length });
  const weights = randomModelWeights(
    makeConfig({
      dim: 64,
      hiddenDim: 128,
      nLayers: 2,
      nHeads: 4,
      vocabSize: tokenizer.vocabSize,
      seqLen: 64,
    }),
    7,
    0.5,
  );
  const path = `${dir}/model-int4.tar.gz`;
  await Deno.writeFile(
    path,
    await saveModelArchive({
      weights: quantizeModel(weights, "int4", 32),
      tokenizer,
      training: { note: "random weights for the site test" },
    }),
  );
  return path;
}
