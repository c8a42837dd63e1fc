/**
 * Training runs in model archives: what to save so `--resume` continues a
 * run exactly (parameters, AdamW moments, step, learning curve), and how to
 * get the trainer state back.
 *
 * @module
 */
import type { ModelArchive, ModelArchiveInput } from "../io/archive.ts";
import type { Tokenizer } from "../tokenizer/types.ts";
import { FormatError } from "../errors.ts";
import { paramLayout, paramsFromWeights } from "./params.ts";
import type { CurvePoint, Trainer, TrainerState } from "./trainer.ts";

/**
 * The archive input for a run: the trainer's weights, the tokenizer,
 * `training` (plus `steps`, `seconds` and the learning curve) as
 * training.json, and the optimizer state.
 *
 * @example
 * ```ts
 * import { checkpointInput, DEFAULT_HYPER, makeConfig, saveModelArchive,
 *   Trainer, WordTokenizer } from "@proj/tinyllm";
 * const tok = WordTokenizer.fromWords(["a", "b"], { maxSize: 2 });
 * const t = new Trainer(makeConfig({ dim: 8, hiddenDim: 16, nLayers: 1, nHeads: 2, vocabSize: tok.vocabSize, seqLen: 4 }),
 *   { ...DEFAULT_HYPER, seqLen: 4, batch: 2, steps: 1 });
 * const bytes = await saveModelArchive(checkpointInput(t, tok, { preset: "demo" }));
 * console.log(bytes.length > 0); // true
 * ```
 */
export function checkpointInput(
  trainer: Trainer,
  tokenizer: Tokenizer,
  training: Record<string, unknown>,
): ModelArchiveInput {
  return {
    weights: trainer.weights,
    tokenizer,
    training: {
      ...training,
      steps: trainer.step,
      trainingSeconds: trainer.seconds,
      curve: trainer.curve,
    },
    optimizer: {
      step: trainer.step,
      m: trainer.m,
      v: trainer.v,
    },
  };
}

/**
 * The trainer state saved by {@linkcode checkpointInput}, from a loaded
 * archive (fp32 weights and an optimizer state required).
 *
 * @example
 * ```ts
 * import { checkpointInput, DEFAULT_HYPER, loadModelArchive, makeConfig,
 *   resumeState, saveModelArchive, Trainer, WordTokenizer } from "@proj/tinyllm";
 * const tok = WordTokenizer.fromWords(["a", "b"], { maxSize: 2 });
 * const t = new Trainer(makeConfig({ dim: 8, hiddenDim: 16, nLayers: 1, nHeads: 2, vocabSize: tok.vocabSize, seqLen: 4 }),
 *   { ...DEFAULT_HYPER, seqLen: 4, batch: 2, steps: 1 });
 * const a = await loadModelArchive(await saveModelArchive(checkpointInput(t, tok, {})));
 * console.log(resumeState(a).params.length === t.params.length); // true
 * ```
 */
export function resumeState(
  archive: Pick<ModelArchive, "config" | "weights" | "optimizer"> & {
    training?: Record<string, unknown>;
  },
  name = "archive",
): TrainerState {
  const opt = archive.optimizer;
  if (!opt) {
    throw new FormatError(
      `${name}: no optimizer state (not saved by tinyllm train), cannot resume`,
    );
  }
  const layout = paramLayout(archive.config);
  if (opt.m.length !== layout.size || opt.v.length !== layout.size) {
    throw new FormatError(
      `${name}: optimizer state has ${opt.m.length} floats, the model has ${layout.size} parameters`,
    );
  }
  const training = archive.training ?? {};
  const curve = Array.isArray(training.curve)
    ? training.curve as CurvePoint[]
    : [];
  const seconds = Number(training.trainingSeconds ?? 0);
  return {
    step: opt.step,
    params: paramsFromWeights(layout, archive.weights),
    m: opt.m,
    v: opt.v,
    curve,
    seconds: Number.isFinite(seconds) ? seconds : 0,
  };
}
