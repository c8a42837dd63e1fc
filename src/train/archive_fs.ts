/**
 * Saving and loading a training run: the model archive plus training.json
 * (settings, results, learning curve) and the optimizer state for --resume.
 *
 * @module
 */
import { writeFileAtomic } from "../cli/common.ts";
import type { Tokenizer } from "../tokenizer/types.ts";
import type { CurvePoint, Trainer, TrainerState } from "./trainer.ts";
import type { RunSettings } from "../cli/train.ts";

/** Final figures of a run. */
export interface RunResult {
  trainLoss: number;
  valLoss: number;
  valPerplexity: number;
  valTokens: number;
  tokensPerSec: number;
  backend: string;
  seconds: number;
}

/** What {@linkcode saveTrainingRun} writes. */
export interface SavedRun {
  settings: RunSettings;
  tokenizer: Tokenizer;
  trainer: Trainer;
  result: RunResult;
  curve: CurvePoint[];
}

/** Writes the run (temporary: training.json only, until the archive lands). */
export async function saveTrainingRun(
  path: string,
  run: SavedRun,
): Promise<void> {
  await writeFileAtomic(
    path.replace(/\.tar\.gz$/, "") + ".training.json",
    JSON.stringify(
      {
        ...run.settings,
        result: run.result,
        steps: run.trainer.step,
        curve: run.curve,
      },
      null,
      1,
    ),
  );
}

/** Loads a saved run for --resume. */
export function loadTrainingRun(
  _path: string,
): Promise<
  { settings: RunSettings; state: TrainerState; tokenizer: Tokenizer }
> {
  throw new Error("not yet");
}
