/**
 * `tinyllm quantize`: converts a model archive (.tar.gz) or a llama2.c
 * checkpoint (.bin + tokenizer) to int8/int4, one of ggml's block types
 * (q8_0, q4_k, …: bit-identical to llama-quantize's reference quantizer;
 * `--group` means nothing to them), or back to fp32, following the policy
 * of `src/model/quantize.ts`, writes the result as a model archive
 * (atomically) and prints the sizes.
 *
 * @module
 */
import {
  baseName,
  readFileNamed,
  refuseOverwritingInput,
  writeFileAtomic,
} from "../files_fs.ts";
import { isGguf, parseGguf } from "../io/gguf.ts";
import { quantizeGguf } from "../io/gguf_quantize.ts";
import { loadModelFile, saveModelFile } from "../io/load_fs.ts";
import {
  modelByteSize,
  modelFp32ByteSize,
  quantizeModel,
} from "../model/quantize.ts";
import { modelTensors, tensorValue } from "../model/tensors.ts";
import { granularityToString, parseGranularity } from "../quant/granularity.ts";
import { WEIGHT_TYPES, weightType } from "../quant/table.ts";
import type { Granularity, WeightType } from "../quant/types.ts";
import { TinyLlmError } from "../errors.ts";
import { parseFlags, UsageError } from "./common.ts";

const USAGE =
  "usage: quantize --model M.tar.gz|M.bin [--tokenizer T.bin] --type int8|int4|fp32|q8_0|q4_0|q4_1|q5_0|q5_1|q4_k|q5_k|q6_k|f16|bf16 [--group 32|row|tensor] [--out OUT.tar.gz] [--fp32-embedding] [--classifier-type int8|int4|fp32 [--classifier-group G]] [--search-scales]";

/** `dist/model.tar.gz` + int4/32 → `dist/model-int4-g32.tar.gz`. */
function defaultOut(model: string, type: string, g: Granularity): string {
  if (model.endsWith(".gguf")) return model.replace(/\.gguf$/, `-${type}.gguf`);
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
  if (await startsWithGguf(model)) {
    await quantizeGgufFile(
      model,
      await readFileNamed(model, "model"),
      out,
      type,
      clsName,
    );
    return;
  }
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
      type.scales === "none" ? "" : `, granularity ${g}`
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

/** Whether the file at `path` starts with the GGUF magic (false if unreadable). */
async function startsWithGguf(path: string): Promise<boolean> {
  let f: Deno.FsFile | undefined;
  try {
    f = await Deno.open(path);
    const head = new Uint8Array(4);
    return (await f.read(head)) === 4 && isGguf(head);
  } catch {
    return false; // the loader reports what is wrong with the path
  } finally {
    f?.close();
  }
}

/**
 * A GGUF model in, a GGUF model out: every quantizable tensor in `type` (one
 * of ggml's), as `llama-quantize --pure` writes it; `--classifier-type` sets
 * `output.weight`'s type.
 */
async function quantizeGgufFile(
  model: string,
  bytes: Uint8Array,
  out: string,
  type: WeightType,
  clsName: string | undefined,
): Promise<void> {
  const t0 = performance.now();
  const ggmlOf = (t: WeightType, flag: string): number => {
    if (t.ggmlType === undefined) {
      throw new UsageError(
        `${flag} ${t.name}: a GGUF model takes one of ggml's types (${
          Object.values(WEIGHT_TYPES).filter((w) => w.ggmlType !== undefined)
            .map((w) => w.name).join(", ")
        })`,
      );
    }
    return t.ggmlType;
  };
  const target = ggmlOf(type, "--type");
  const tensorTypes: [string, number][] = clsName === undefined
    ? []
    : [["output.weight", ggmlOf(weightType(clsName), "--classifier-type")]];
  const result = quantizeGguf(bytes, target, { tensorTypes });
  await writeFileAtomic(out, result);
  const counts = new Map<string, number>();
  for (const t of parseGguf(result).tensors) {
    counts.set(t.typeName, (counts.get(t.typeName) ?? 0) + 1);
  }
  console.log(
    `quantize: ${model} → ${out} (${type.name}, ${
      ((performance.now() - t0) / 1000).toFixed(1)
    } s)`,
  );
  console.log(
    `  tensors: ${[...counts].map(([n, c]) => `${c} ${n}`).join(", ")}`,
  );
  console.log(`  file: ${mb(bytes.length)} → ${mb(result.length)}`);
}
