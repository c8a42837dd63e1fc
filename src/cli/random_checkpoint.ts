/**
 * `tinyllm random-checkpoint`: writes a seeded random-weight llama2.c
 * checkpoint of a given shape (weights N(0, 0.02²), RMSNorm gains 1), for
 * benchmarks: speed depends only on shape.
 *
 * `--shape 15M` is stories15M's shape (dim 288, hidden 768, 6 layers, 6/6
 * heads, vocab 32000, seq 256); `--shape 42M` and `--shape 260K` likewise;
 * `--dim --hidden --layers --heads --kv-heads --vocab --seq-len` override.
 *
 * @module
 */
import { numberFlag, parseFlags, UsageError } from "./common.ts";
import { writeFileAtomic } from "../files_fs.ts";
import { encodeLlama2cCheckpoint } from "../io/llama2c.ts";
import { randomModelWeights } from "../model/build.ts";
import { makeConfig, type ModelConfig } from "../model/config.ts";
import { LLAMA2C_SHAPES } from "../model/shapes.ts";

const SHAPES: Readonly<Record<string, ModelConfig>> = LLAMA2C_SHAPES;

const USAGE =
  `usage: random-checkpoint --out R.bin [--shape 15M|42M|260K] [--seed S]
  [--dim N] [--hidden N] [--layers N] [--heads N] [--kv-heads N] [--vocab N]
  [--seq-len N] [--unshared-classifier]
  Writes a seeded random-weight llama2.c checkpoint of that shape (weights
  N(0, 0.02²), RMSNorm gains 1), for benchmarks: speed depends only on shape.`;

/**
 * Runs `random-checkpoint` with command-line flags.
 *
 * @example
 * ```ts ignore
 * import { main } from "./random_checkpoint.ts";
 * await main(["--shape", "15M", "--out", "out/random15M.bin", "--seed", "1"]);
 * ```
 */
export async function main(args: string[]): Promise<void> {
  const v = parseFlags(args, {
    shape: { type: "string" },
    dim: { type: "string" },
    hidden: { type: "string" },
    layers: { type: "string" },
    heads: { type: "string" },
    "kv-heads": { type: "string" },
    vocab: { type: "string" },
    "seq-len": { type: "string" },
    "unshared-classifier": { type: "boolean", default: false },
    seed: { type: "string" },
    out: { type: "string" },
  }, USAGE);
  if (typeof v.out !== "string") {
    throw new UsageError(
      `--out is required, the .bin file to write (${
        USAGE.split("\n")[0]
      } …; see --help)`,
    );
  }
  const shapeName = (v.shape ?? "15M") as string;
  const base = SHAPES[shapeName];
  if (!base) {
    throw new UsageError(
      `--shape must be one of ${
        Object.keys(SHAPES).join(", ")
      }, got "${shapeName}"`,
    );
  }
  const int = (name: string, fallback: number) =>
    numberFlag(v, name, fallback, { integer: true, min: 1, max: 1 << 20 });
  const dim = int("dim", base.dim);
  const heads = int("heads", base.nHeads);
  const config: ModelConfig = makeConfig({
    dim,
    hiddenDim: int(
      "hidden",
      v.dim ? Math.round((dim * 8) / 3) : base.hiddenDim,
    ),
    nLayers: int("layers", base.nLayers),
    nHeads: heads,
    nKvHeads: int("kv-heads", v.heads ? heads : base.nKvHeads),
    vocabSize: int("vocab", base.vocabSize),
    seqLen: int("seq-len", base.seqLen),
    sharedClassifier: !v["unshared-classifier"],
  });
  const seed = numberFlag(v, "seed", 1, { integer: true });
  const bytes = encodeLlama2cCheckpoint(randomModelWeights(config, seed));
  await writeFileAtomic(v.out, bytes);
  console.error(
    `wrote ${v.out}: ${bytes.length} bytes (dim ${config.dim}, hidden ${config.hiddenDim}, ${config.nLayers} layers, ${config.nHeads}/${config.nKvHeads} heads, vocab ${config.vocabSize}, seq ${config.seqLen})`,
  );
}
