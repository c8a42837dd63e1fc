/**
 * `tinyllm convert`: turns a llama2.c checkpoint (`.bin` + `tokenizer.bin`)
 * into a tinyllm model archive (`.tar.gz`), written atomically. The weights
 * are copied bit for bit; the tokenizer is stored as `tokenizer.json`.
 * `--to llama2c-q80` writes llama2.c's own int8 format instead (version 2,
 * what `runq.c` reads) from a checkpoint or an archive.
 *
 * @module
 */
import { isGzip } from "../bytes.ts";
import {
  baseName,
  readFileNamed,
  refuseOverwritingInput,
  writeFileAtomic,
} from "../files_fs.ts";
import { loadModelFile, saveModelFile } from "../io/load_fs.ts";
import { loadModelArchive } from "../io/archive.ts";
import { parseLlama2cCheckpoint } from "../io/llama2c.ts";
import {
  encodeLlama2cQ80,
  isLlama2cQ80,
  llama2cQ80GroupSize,
} from "../io/llama2c_q80.ts";
import type { ModelWeights } from "../model/weights.ts";
import { numberFlag, parseFlags, UsageError } from "./common.ts";

const USAGE = `usage: convert --model M.bin --tokenizer T.bin --out M.tar.gz
       convert --to llama2c-q80 --model M.bin|M.tar.gz --out M-q80.bin [--group 64]
  --to archive        (default) llama2.c checkpoint → tinyllm archive
  --to llama2c-q80    llama2.c "version 2" int8 checkpoint for llama2.c's runq.c
                      (groups of --group weights, lowered to a power of two
                      dividing dim and hidden_dim)`;

/** The fp32 (or quantized) weights of a llama2.c checkpoint or an archive. */
async function loadWeights(path: string): Promise<ModelWeights> {
  const bytes = await readFileNamed(path, "model");
  const name = baseName(path);
  if (isGzip(bytes)) return (await loadModelArchive(bytes, { name })).weights;
  if (isLlama2cQ80(bytes)) {
    throw new UsageError(`${name} is already a llama2.c version 2 checkpoint`);
  }
  return parseLlama2cCheckpoint(bytes, name);
}

/**
 * Runs `convert` with its flags.
 *
 * @example
 * ```ts ignore
 * await main(["--model", "stories260K.bin", "--tokenizer", "tok512.bin", "--out", "stories260K.tar.gz"]);
 * await main(["--to", "llama2c-q80", "--model", "stories15M.bin", "--out", "stories15M-q80.bin"]);
 * ```
 */
export async function main(args: string[]): Promise<void> {
  const v = parseFlags(args, {
    model: { type: "string" },
    tokenizer: { type: "string" },
    out: { type: "string" },
    to: { type: "string", default: "archive" },
    group: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  const to = v.to as string;
  if (to !== "archive" && to !== "llama2c-q80") {
    throw new UsageError(
      `--to must be archive or llama2c-q80, got "${to}" (${
        USAGE.split("\n")[0]
      })`,
    );
  }
  const required = to === "archive" ? ["model", "tokenizer", "out"] : [
    "model",
    "out",
  ];
  for (const f of required) {
    if (typeof v[f] !== "string") {
      throw new UsageError(`--${f} is required (${USAGE.split("\n")[0]})`);
    }
  }
  if (to === "llama2c-q80") return await toQ80(v);
  if (v.group !== undefined) {
    throw new UsageError("--group applies only with --to llama2c-q80");
  }
  const modelPath = v.model as string, tokPath = v.tokenizer as string;
  const out = v.out as string;
  await refuseOverwritingInput(out, {
    "--model": modelPath,
    "--tokenizer": tokPath,
  });
  const m = await loadModelFile(modelPath, { tokenizer: tokPath });
  if (m.source !== "llama2c") {
    throw new UsageError(
      `${baseName(modelPath)} is already a tinyllm archive`,
    );
  }
  const inBytes = (await Deno.stat(modelPath)).size +
    (await Deno.stat(tokPath)).size;
  const size = await saveModelFile(out, {
    weights: m.weights,
    tokenizer: m.tokenizer,
    training: {
      source: "llama2.c",
      converted_from: {
        model: baseName(modelPath),
        tokenizer: baseName(tokPath),
      },
    },
  });
  const c = m.config;
  console.log(
    `converted ${
      baseName(modelPath)
    } (dim ${c.dim}, ${c.nLayers} layers, ${c.nHeads} heads, ${c.nKvHeads} kv heads, vocab ${c.vocabSize}, seq_len ${c.seqLen})`,
  );
  console.log(
    `  ${out}: ${size} bytes (inputs: ${inBytes} bytes)`,
  );
}

async function toQ80(v: Record<string, unknown>): Promise<void> {
  if (v.tokenizer !== undefined) {
    throw new UsageError(
      "--tokenizer is not used with --to llama2c-q80 (runq.c takes its tokenizer.bin with -z)",
    );
  }
  const modelPath = v.model as string, out = v.out as string;
  await refuseOverwritingInput(out, { "--model": modelPath });
  const requested = numberFlag(v, "group", 64, {
    integer: true,
    min: 1,
    max: 1 << 20,
  });
  const weights = await loadWeights(modelPath);
  const c = weights.config;
  const gs = llama2cQ80GroupSize(c, requested);
  const bytes = encodeLlama2cQ80(weights, requested);
  await writeFileAtomic(out, bytes);
  console.log(
    `converted ${baseName(modelPath)} to llama2.c version 2 (Q8_0, group ${gs}${
      gs < requested
        ? `: ${requested} does not divide dim ${c.dim} and hidden_dim ${c.hiddenDim}`
        : ""
    })`,
  );
  console.log(`  ${out}: ${bytes.length} bytes`);
}
