/**
 * `tinyllm quantize`: converts a model archive (.tar.gz) or a llama2.c
 * checkpoint (.bin + tokenizer) to int8/int4 (or back to fp32) following the
 * policy of `src/model/quantize.ts`, writes the result as a model archive
 * (atomically) and prints the sizes.
 *
 * @module
 */
import { baseName, refuseOverwritingInput } from "../files_fs.ts";
import { loadModelFile, saveModelFile } from "../io/load_fs.ts";
import {
  modelByteSize,
  modelFp32ByteSize,
  quantizeModel,
} from "../model/quantize.ts";
import { modelTensors, tensorValue } from "../model/tensors.ts";
import { granularityToString, parseGranularity } from "../quant/granularity.ts";
import { WEIGHT_TYPES, weightType } from "../quant/table.ts";
import type { Granularity } from "../quant/types.ts";
import { TinyLlmError } from "../errors.ts";
import { parseFlags, UsageError } from "./common.ts";

const USAGE =
  "usage: quantize --model M.tar.gz|M.bin [--tokenizer T.bin] --type int8|int4|fp32 [--group 32|row|tensor] [--out OUT.tar.gz] [--fp32-embedding] [--classifier-type int8|int4|fp32 [--classifier-group G]] [--search-scales]";

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
    // the default now (DEFAULT_QUANTIZATION); kept so old commands still run
    "quantize-embedding": { type: "boolean" },
    "fp32-embedding": { type: "boolean" },
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
  await refuseOverwritingInput(out, {
    "--model": model,
    "--tokenizer": v.tokenizer as string | undefined,
  });

  const t0 = performance.now();
  const src = await loadModelFile(model, {
    tokenizer: v.tokenizer as string | undefined,
  });
  const training = src.training ??
    { source: "llama2c", checkpoint: baseName(model) };
  if (v["fp32-embedding"] && v["quantize-embedding"]) {
    throw new UsageError(
      "--fp32-embedding conflicts with --quantize-embedding",
    );
  }
  const quantizeEmbedding = v["fp32-embedding"] !== true;
  const quantized = quantizeModel(src.weights, type.name, granularity, {
    quantizeEmbedding,
    classifierType: clsName,
    classifierGranularity: clsGranularity,
    scaleSearch: v["search-scales"] === true,
  });
  const written = await saveModelFile(out, {
    weights: quantized,
    tokenizer: src.tokenizer,
    training: {
      ...training,
      quantization: {
        type: type.name,
        granularity: granularityToString(granularity),
        quantizeEmbedding,
        classifier: `${quantized.classifier.weight.type}:${
          granularityToString(quantized.classifier.weight.granularity)
        }`,
        scaleSearch: v["search-scales"] === true,
        from: baseName(model),
      },
    },
  });
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
  for (const t of modelTensors(quantized.config)) {
    const m = tensorValue(quantized, t);
    if (
      t.spec.role === "linear" && t.layer !== null && m &&
      !(m instanceof Float32Array) && m.type !== "fp32" &&
      m.granularity !== granularity
    ) {
      fitted.add(`${m.cols} inputs → ${granularityToString(m.granularity)}`);
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
  console.log(`  archive: ${mb(written)} written`);
}
