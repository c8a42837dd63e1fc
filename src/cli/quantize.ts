/**
 * `tinyllm quantize`: converts a model archive (.tar.gz) or a llama2.c
 * checkpoint (.bin + tokenizer) to int8/int4 (or back to fp32) following the
 * policy of `src/quant/policy.ts`, writes the result as a model archive
 * (atomically) and prints the sizes.
 *
 * @module
 */
import { loadModelArchive, saveModelArchive } from "../io/archive.ts";
import { parseLlama2cCheckpoint } from "../io/llama2c.ts";
import type { ModelWeights } from "../model/weights.ts";
import { granularityToString, parseGranularity } from "../quant/granularity.ts";
import {
  modelByteSize,
  modelFp32ByteSize,
  quantizeModel,
} from "../quant/policy.ts";
import { WEIGHT_TYPES, weightType } from "../quant/table.ts";
import type { Granularity } from "../quant/types.ts";
import { parseLlama2cTokenizer } from "../tokenizer/llama2c.ts";
import type { Tokenizer } from "../tokenizer/types.ts";
import { TinyLlmError } from "../errors.ts";
import {
  parseFlags,
  readFileNamed,
  UsageError,
  writeFileAtomic,
} from "./common.ts";

const USAGE =
  "usage: quantize --model M.tar.gz|M.bin [--tokenizer T.bin] --type int8|int4|fp32 [--group 32|row|tensor] [--out OUT.tar.gz] [--quantize-embedding] [--classifier-type int8|int4|fp32 [--classifier-group G]] [--search-scales]";

function baseName(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

interface Source {
  weights: ModelWeights;
  tokenizer: Tokenizer;
  training: Record<string, unknown>;
}

async function loadSource(
  modelPath: string,
  tokenizerPath: string | undefined,
): Promise<Source> {
  const bytes = await readFileNamed(modelPath, "model");
  if (isGzip(bytes)) {
    const a = await loadModelArchive(bytes, {
      name: baseName(modelPath),
      backend: "js",
    });
    return { weights: a.weights, tokenizer: a.tokenizer, training: a.training };
  }
  if (tokenizerPath === undefined) {
    throw new UsageError(
      "--tokenizer is required with a llama2.c .bin model",
    );
  }
  const weights = parseLlama2cCheckpoint(bytes, baseName(modelPath));
  const tokenizer = parseLlama2cTokenizer(
    await readFileNamed(tokenizerPath, "tokenizer"),
    { vocabSize: weights.config.vocabSize, name: baseName(tokenizerPath) },
  );
  return {
    weights,
    tokenizer,
    training: { source: "llama2c", checkpoint: baseName(modelPath) },
  };
}

/** `dist/model.tar.gz` + int4/32 → `dist/model-int4-g32.tar.gz`. */
function defaultOut(model: string, type: string, g: Granularity): string {
  const stem = model.replace(/(\.tar\.gz|\.tgz|\.bin)$/, "");
  const suffix = typeof g === "number" ? `g${g}` : g;
  return `${stem}-${type}${type === "fp32" ? "" : `-${suffix}`}.tar.gz`;
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(2)} MB`;
}

/**
 * Runs `quantize` with command-line flags; prints what it wrote.
 *
 * @example
 * ```ts ignore
 * import { main } from "./quantize.ts";
 * await main(["--model", "dist/model.tar.gz", "--type", "int4", "--group", "32"]);
 * ```
 */
export async function main(args: string[]): Promise<void> {
  const v = parseFlags(args, {
    model: { type: "string" },
    tokenizer: { type: "string" },
    type: { type: "string" },
    group: { type: "string" },
    out: { type: "string" },
    "quantize-embedding": { type: "boolean" },
    "classifier-type": { type: "string" },
    "classifier-group": { type: "string" },
    "search-scales": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  const model = v.model as string | undefined;
  if (!model) throw new UsageError(`--model is required (${USAGE})`);
  const typeName = v.type as string | undefined;
  if (!typeName) {
    throw new UsageError(
      `--type is required: ${Object.keys(WEIGHT_TYPES).join(", ")}`,
    );
  }
  let type;
  try {
    type = weightType(typeName);
  } catch (e) {
    if (e instanceof TinyLlmError) {
      throw new UsageError(`--type: ${e.message}`);
    }
    throw e;
  }
  let granularity: Granularity;
  try {
    granularity = v.group === undefined
      ? type.defaultGranularity ?? "tensor"
      : parseGranularity(v.group as string);
  } catch (e) {
    if (e instanceof TinyLlmError) {
      throw new UsageError(`--group: ${e.message}`);
    }
    throw e;
  }
  const clsName = v["classifier-type"] as string | undefined;
  if (clsName !== undefined && !(clsName in WEIGHT_TYPES)) {
    throw new UsageError(
      `--classifier-type: unknown weight type "${clsName}" (known: ${
        Object.keys(WEIGHT_TYPES).join(", ")
      })`,
    );
  }
  if (v["classifier-group"] !== undefined && clsName === undefined) {
    throw new UsageError("--classifier-group needs --classifier-type");
  }
  let clsGranularity: Granularity | undefined;
  try {
    clsGranularity = v["classifier-group"] === undefined
      ? undefined
      : parseGranularity(v["classifier-group"] as string);
  } catch (e) {
    if (e instanceof TinyLlmError) {
      throw new UsageError(`--classifier-group: ${e.message}`);
    }
    throw e;
  }
  const out = (v.out as string | undefined) ??
    defaultOut(model, type.name, granularity);
  if (out === model) {
    throw new UsageError(`--out must differ from --model (${model})`);
  }

  const t0 = performance.now();
  const src = await loadSource(model, v.tokenizer as string | undefined);
  const quantized = quantizeModel(src.weights, type.name, granularity, {
    quantizeEmbedding: v["quantize-embedding"] === true,
    backend: "js",
    classifierType: clsName,
    classifierGranularity: clsGranularity,
    scaleSearch: v["search-scales"] === true,
  });
  const bytes = await saveModelArchive({
    weights: quantized,
    tokenizer: src.tokenizer,
    training: {
      ...src.training,
      quantization: {
        type: type.name,
        granularity: granularityToString(granularity),
        quantizeEmbedding: v["quantize-embedding"] === true,
        classifier: `${quantized.classifier.weight.type}:${
          granularityToString(quantized.classifier.weight.granularity)
        }`,
        scaleSearch: v["search-scales"] === true,
        from: baseName(model),
      },
    },
  });
  await writeFileAtomic(out, bytes);
  const fp32Bytes = modelFp32ByteSize(quantized);
  const srcBytes = modelByteSize(src.weights);
  const qBytes = modelByteSize(quantized);
  const g = granularityToString(granularity);
  console.log(
    `quantize: ${model} → ${out} (${type.name}${
      type.name === "fp32" ? "" : `, granularity ${g}`
    }${
      clsName === undefined
        ? ""
        : `, classifier ${quantized.classifier.weight.type}:${
          granularityToString(quantized.classifier.weight.granularity)
        }`
    }, ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  // Group sizes that did not fit a matrix were raised for it (fitGranularity).
  const fitted = new Set<string>();
  for (const l of quantized.layers) {
    for (const lin of [l.wq, l.wk, l.wv, l.wo, l.w1, l.w2, l.w3]) {
      if (
        lin.weight.type !== "fp32" && lin.weight.granularity !== granularity
      ) {
        fitted.add(
          `${lin.weight.cols} inputs → ${
            granularityToString(lin.weight.granularity)
          }`,
        );
      }
    }
  }
  if (fitted.size > 0) {
    console.log(
      `  group size raised where ${g} does not fit: ${[...fitted].join(", ")}`,
    );
  }
  if (srcBytes !== fp32Bytes) {
    console.log(`  source weights:    ${mb(srcBytes)} (already quantized)`);
  }
  console.log(
    `  weights: fp32 ${mb(fp32Bytes)} → ${type.name} ${mb(qBytes)} (${
      (fp32Bytes / qBytes).toFixed(2)
    }x smaller; ${fp32Bytes} → ${qBytes} bytes)`,
  );
  console.log(`  archive: ${mb(bytes.length)} written`);
}
