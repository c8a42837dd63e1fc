/**
 * `tinyllm tokenize`: the tokenizer of a GGUF file, as llama.cpp runs it.
 * Reads UTF-8 text on stdin and prints its ids on one line, space-separated
 * (llama.cpp's `add_special=false, parse_special=false` unless asked), or
 * with `--decode` reads ids and prints their text.
 *
 * @module
 */
import { parseFlags, UsageError } from "./common.ts";
import { readFileNamed } from "../files_fs.ts";
import { parseGguf } from "../io/gguf.ts";
import { tokenizerFromGguf } from "../tokenizer/gguf_tokenizer.ts";

const FLAGS = {
  model: { type: "string" },
  "add-special": { type: "boolean" },
  "parse-special": { type: "boolean" },
  decode: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const HELP =
  `usage: tinyllm tokenize --model M.gguf [--add-special] [--parse-special] [--decode] < input
  Encodes UTF-8 text from stdin with the GGUF file's tokenizer and prints the
  ids on one line, space-separated. By default no BOS/EOS is added and special
  tokens in the text are not parsed (llama.cpp's add_special=false,
  parse_special=false); the flags turn those on.
  --decode reads whitespace-separated ids instead and prints their text
  (llama_detokenize; --add-special drops a leading BOS / trailing EOS,
  --parse-special renders control tokens).`;

async function readStdin(): Promise<Uint8Array> {
  return new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
}

/** Entry point: `tinyllm tokenize [flags]`. */
export async function main(args: string[]): Promise<void> {
  const v = parseFlags(args, FLAGS);
  if (v.help) {
    console.log(HELP);
    return;
  }
  if (typeof v.model !== "string") throw new UsageError("--model is required");
  const bytes = await readFileNamed(v.model, "model");
  const tok = tokenizerFromGguf(parseGguf(bytes).metadata);
  const input = await readStdin();
  const out = Deno.stdout;
  const write = (b: Uint8Array) => {
    for (let off = 0; off < b.length;) off += out.writeSync(b.subarray(off));
  };
  if (v.decode) {
    const words = new TextDecoder().decode(input).split(/\s+/).filter((w) => w);
    const ids = words.map((w) => {
      if (!/^\d+$/.test(w)) {
        throw new UsageError(`--decode: "${w}" is not a token id`);
      }
      return Number(w);
    });
    write(tok.decodeBytes(ids, {
      removeSpecial: v["add-special"] === true,
      unparseSpecial: v["parse-special"] === true,
    }));
    return;
  }
  const ids = tok.encodeBytes(input, {
    addSpecial: v["add-special"] === true,
    parseSpecial: v["parse-special"] === true,
  });
  write(new TextEncoder().encode(ids.join(" ") + "\n"));
}
