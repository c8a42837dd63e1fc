/**
 * `tinyllm convert`: turns a llama2.c checkpoint (`.bin` + `tokenizer.bin`)
 * into a tinyllm model archive (`.tar.gz`), written atomically. The weights
 * are copied bit for bit; the tokenizer is stored as `tokenizer.json`.
 *
 * @module
 */
import { baseName } from "../files_fs.ts";
import { loadModelFile, saveModelFile } from "../io/load_fs.ts";
import { parseFlags, UsageError } from "./common.ts";

const USAGE = "usage: convert --model M.bin --tokenizer T.bin --out M.tar.gz";

/**
 * Runs `convert` with its flags.
 *
 * @example
 * ```ts ignore
 * await main(["--model", "stories260K.bin", "--tokenizer", "tok512.bin", "--out", "stories260K.tar.gz"]);
 * ```
 */
export async function main(args: string[]): Promise<void> {
  const v = parseFlags(args, {
    model: { type: "string" },
    tokenizer: { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  for (const f of ["model", "tokenizer", "out"]) {
    if (typeof v[f] !== "string") {
      throw new UsageError(`--${f} is required (${USAGE})`);
    }
  }
  const modelPath = v.model as string, tokPath = v.tokenizer as string;
  const out = v.out as string;
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
