/**
 * `tinyllm export`: writes a model (tinyllm archive, llama2.c checkpoint with
 * its tokenizer, or GGUF) as a llama-architecture GGUF file for llama.cpp,
 * ollama and the like, in one of the types `--type` names.
 *
 * @module
 */
import { parseFlags, UsageError } from "./common.ts";
import { writeFileAtomic } from "../files_fs.ts";
import {
  exportGguf,
  GGUF_EXPORT_TYPES,
  type GgufExportType,
} from "../io/gguf_export.ts";
import { loadModelFile } from "../io/load_fs.ts";
import { BpeTokenizer } from "../tokenizer/bpe.ts";

const USAGE =
  `usage: export --model M.tar.gz|M.bin|M.gguf [--tokenizer T.bin] --out M.gguf [--type ${
    GGUF_EXPORT_TYPES.join("|")
  }] [--name NAME]`;

/** Entry point: `tinyllm export [flags]`. */
export async function main(args: string[]): Promise<void> {
  const v = parseFlags(args, {
    model: { type: "string" },
    tokenizer: { type: "string" },
    out: { type: "string" },
    type: { type: "string", default: "f32" },
    name: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  if (typeof v.model !== "string") {
    throw new UsageError(`--model is required (${USAGE})`);
  }
  if (typeof v.out !== "string") {
    throw new UsageError(`--out is required (${USAGE})`);
  }
  const type = v.type as string;
  if (!(GGUF_EXPORT_TYPES as readonly string[]).includes(type)) {
    throw new UsageError(
      `--type must be one of ${GGUF_EXPORT_TYPES.join(", ")}, got "${type}"`,
    );
  }
  const loaded = await loadModelFile(v.model, {
    tokenizer: v.tokenizer as string | undefined,
  });
  const bytes = exportGguf(loaded.weights, loaded.tokenizer, {
    type: type as GgufExportType,
    name: (v.name as string | undefined) ?? "tinyllm",
  });
  await writeFileAtomic(v.out, bytes);
  console.log(
    `wrote ${v.out}: llama architecture, ${type}, ${
      (bytes.length / 1e6).toFixed(2)
    } MB`,
  );
  if (loaded.tokenizer instanceof BpeTokenizer) {
    console.log(
      "note: byte-level BPE is written as gpt2 with pre-tokenizer bloom; llama.cpp splits text at . , ! ? … ( ) | where tinyllm splits only at whitespace",
    );
  }
}
