/**
 * The training loop: seeded init and batches, sequence forward, model
 * backward, global-norm clipping, AdamW with warmup + cosine schedule,
 * validation every K steps, and a recorded learning curve. The loop reports
 * progress through callbacks, so the CLI can draw a progress bar and a
 * benchmark can stay quiet.
 *
 * @module
 */
import type { ModelConfig } from "../model/config.ts";
import type { ModelWeights } from "../model/weights.ts";
import {
  type Activations,
  createActivations,
  sequenceForward,
} from "../model/sequence.ts";
import { ConfigError, InputError } from "../errors.ts";
import { jsTrainKernels, type TrainKernels } from "../tensor/train_kernels.ts";
import {
  initParams,
  type ParamLayout,
  paramLayout,
  type ParamViews,
  paramViews,
  weightsFromParams,
} from "./params.ts";
import {
  type BackwardState,
  createBackwardState,
  modelBackward,
} from "./backward.ts";
import { adamwStep, clipGradNorm, learningRate } from "./optim.ts";
import { evenWindow, sampleBatch, stepRng } from "./data.ts";

/** Optimisation and schedule hyper-parameters. */
export interface TrainHyper {
  /** Sequences per step. */
  batch: number;
  /** Positions per sequence (≤ config.seqLen). */
  seqLen: number;
  /** Total optimizer steps. */
  steps: number;
  /** Peak learning rate. */
  lr: number;
  /** Linear warmup steps. */
  warmup: number;
  /** Floor of the cosine decay. */
  minLr: number;
  /** Decoupled AdamW weight decay (matrices only; not norms/embeddings). */
  weightDecay: number;
  /** Max global gradient norm (0 = no clipping). */
  clip: number;
  /** AdamW β₁. */
  beta1: number;
  /** AdamW β₂. */
  beta2: number;
  /** AdamW ε. */
  eps: number;
  /** Validate every this many steps (and at the end); 0 = only at the end. */
  evalEvery: number;
  /** Validation batches (of `batch` windows spread evenly over val). */
  evalBatches: number;
  /** Seed of initialisation and batch sampling. */
  seed: number;
  /** Standard deviation of the initial weights. */
  initStd: number;
}

/** Sensible defaults for everything but the model shape. */
export const DEFAULT_HYPER: TrainHyper = {
  batch: 8,
  seqLen: 64,
  steps: 100,
  lr: 1e-3,
  warmup: 10,
  minLr: 1e-4,
  weightDecay: 0.1,
  clip: 1,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  evalEvery: 0,
  evalBatches: 4,
  seed: 1337,
  initStd: 0.02,
};

/** One point of the learning curve. */
export interface CurvePoint {
  /** Steps completed (1-based). */
  step: number;
  /** Training loss of this step's batch (before the update). */
  trainLoss: number;
  /** Validation loss, when measured at this step. */
  valLoss: number | null;
  /** Learning rate used for this step. */
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Training throughput so far (tokens per second, excluding validation). */
  tokensPerSec: number;
}

/** What the progress callback receives after every step. */
export interface StepInfo extends CurvePoint {
  /** Total steps of the run. */
  steps: number;
  /** Seconds spent training so far (validation excluded). */
  seconds: number;
}

/** Saved state of a run, enough to resume it exactly. */
export interface TrainerState {
  /** Steps completed. */
  step: number;
  /** Parameters (flat, layout order). */
  params: Float32Array;
  /** AdamW first moments. */
  m: Float32Array;
  /** AdamW second moments. */
  v: Float32Array;
  /** Learning curve so far. */
  curve: CurvePoint[];
  /** Training seconds so far. */
  seconds: number;
}

/** Result of {@linkcode Trainer.run}. */
export interface TrainResult {
  /** Mean training loss over the last min(10, steps) steps. */
  trainLoss: number;
  /** Final validation loss (NaN without validation data). */
  valLoss: number;
  /** Training tokens per second. */
  tokensPerSec: number;
  /** The whole learning curve. */
  curve: CurvePoint[];
}

/**
 * A training run: owns the flat parameter, gradient and moment buffers and
 * the preallocated activations.
 *
 * @example Train a tiny model on a repeating sequence
 * ```ts
 * import { DEFAULT_HYPER, makeConfig, Trainer } from "@proj/tinyllm";
 * const cfg = makeConfig({ dim: 16, hiddenDim: 32, nLayers: 1, nHeads: 2, vocabSize: 5, seqLen: 8 });
 * const data = Int32Array.from({ length: 200 }, (_, i) => i % 5);
 * const t = new Trainer(cfg, { ...DEFAULT_HYPER, seqLen: 8, batch: 4, steps: 30, lr: 1e-2 });
 * const r = await t.run(data, data);
 * console.log(r.valLoss < Math.log(5)); // true
 * ```
 */
export class Trainer {
  /** Model shape. */
  readonly config: ModelConfig;
  /** Hyper-parameters. */
  readonly hyper: TrainHyper;
  /** Matmul kernels in use. */
  readonly kernels: TrainKernels;
  /** Where each tensor lives in the flat buffers. */
  readonly layout: ParamLayout;
  /** Parameters. */
  readonly params: Float32Array;
  /** Gradients (same layout). */
  readonly grads: Float32Array;
  /** AdamW first moments. */
  readonly m: Float32Array;
  /** AdamW second moments. */
  readonly v: Float32Array;
  /** Named views of the parameters. */
  readonly paramViews: ParamViews;
  /** Named views of the gradients. */
  readonly gradViews: ParamViews;
  /** The model, as views of the parameters. */
  readonly weights: ModelWeights;
  /** Steps completed. */
  step = 0;
  /** Learning curve so far. */
  curve: CurvePoint[] = [];
  /** Training seconds so far (validation excluded). */
  seconds = 0;
  #acts: Activations;
  #back: BackwardState;
  #tokens: Int32Array;
  #targets: Int32Array;

  /**
   * Creates a run from a seeded initialisation, or from a saved state.
   * @param config model shape
   * @param hyper optimisation settings
   * @param kernels matmul implementation (default: pure TypeScript)
   * @param resume state saved by {@linkcode Trainer.state}
   */
  constructor(
    config: ModelConfig,
    hyper: TrainHyper,
    kernels: TrainKernels = jsTrainKernels,
    resume?: TrainerState,
  ) {
    if (hyper.seqLen > config.seqLen) {
      throw new ConfigError(
        `seqLen ${hyper.seqLen} exceeds the model's seqLen ${config.seqLen}`,
      );
    }
    for (const k of ["batch", "seqLen", "steps"] as const) {
      if (!Number.isInteger(hyper[k]) || hyper[k] < 1) {
        throw new ConfigError(
          `${k} must be a positive integer, got ${hyper[k]}`,
        );
      }
    }
    this.config = config;
    this.hyper = hyper;
    this.kernels = kernels;
    this.layout = paramLayout(config);
    const size = this.layout.size;
    if (resume) {
      for (const k of ["params", "m", "v"] as const) {
        if (resume[k].length !== size) {
          throw new ConfigError(
            `resume: ${k} has ${
              resume[k].length
            } floats, the config needs ${size}`,
          );
        }
      }
      this.params = resume.params;
      this.m = resume.m;
      this.v = resume.v;
      this.step = resume.step;
      this.curve = resume.curve.slice();
      this.seconds = resume.seconds;
    } else {
      this.params = initParams(this.layout, hyper.seed, hyper.initStd);
      this.m = new Float32Array(size);
      this.v = new Float32Array(size);
    }
    this.grads = new Float32Array(size);
    this.paramViews = paramViews(this.layout, this.params);
    this.gradViews = paramViews(this.layout, this.grads);
    this.weights = weightsFromParams(config, this.paramViews, kernels);
    this.#acts = createActivations(config, hyper.batch, hyper.seqLen);
    this.#back = createBackwardState(config, hyper.batch, hyper.seqLen);
    const n = hyper.batch * hyper.seqLen;
    this.#tokens = new Int32Array(n);
    this.#targets = new Int32Array(n);
  }

  /** The state to save for `--resume` (shares the buffers, no copy). */
  state(): TrainerState {
    return {
      step: this.step,
      params: this.params,
      m: this.m,
      v: this.v,
      curve: this.curve,
      seconds: this.seconds,
    };
  }

  /**
   * One optimizer step on a seeded random batch of `train`; returns the
   * batch loss, the learning rate and the gradient norm.
   */
  trainStep(
    train: Int32Array,
  ): { loss: number; lr: number; gradNorm: number } {
    const h = this.hyper;
    sampleBatch(
      train,
      h.batch,
      h.seqLen,
      stepRng(h.seed, this.step),
      this.#tokens,
      this.#targets,
    );
    const loss = sequenceForward(
      this.weights,
      this.#acts,
      this.#tokens,
      this.#targets,
      { keepLogits: false },
    );
    if (!Number.isFinite(loss)) {
      throw new InputError(
        `training diverged: loss ${loss} at step ${this.step}`,
      );
    }
    this.grads.fill(0);
    modelBackward(
      this.paramViews,
      this.gradViews,
      this.#acts,
      this.#back,
      this.#tokens,
      this.#targets,
      this.kernels,
    );
    const gradNorm = clipGradNorm(this.grads, h.clip);
    const lr = learningRate(this.step, h);
    this.step++;
    adamwStep(
      this.layout,
      this.params,
      this.grads,
      this.m,
      this.v,
      this.step,
      lr,
      h,
    );
    return { loss, lr, gradNorm };
  }

  /**
   * Mean loss over `evalBatches × batch` windows spread evenly over `val`
   * (the same windows every time).
   */
  evaluate(val: Int32Array): number {
    const h = this.hyper;
    if (val.length < h.seqLen + 1) return NaN;
    const count = h.evalBatches * h.batch;
    let total = 0;
    for (let e = 0; e < h.evalBatches; e++) {
      for (let b = 0; b < h.batch; b++) {
        evenWindow(
          val,
          e * h.batch + b,
          count,
          h.seqLen,
          this.#tokens,
          this.#targets,
          b * h.seqLen,
        );
      }
      total += sequenceForward(
        this.weights,
        this.#acts,
        this.#tokens,
        this.#targets,
        { keepLogits: false },
      );
    }
    return total / h.evalBatches;
  }

  /**
   * Trains from the current step to `hyper.steps`, validating every
   * `evalEvery` steps and at the end. `onStep` is called after every step
   * (awaited, so a progress bar can redraw). `stopAt` ends the call early
   * (after that many steps in all) without changing the schedule, as an
   * interrupted run would; a later `run` continues it.
   */
  async run(
    train: Int32Array,
    val: Int32Array,
    onStep?: (info: StepInfo) => void | Promise<void>,
    stopAt: number = this.hyper.steps,
  ): Promise<TrainResult> {
    const h = this.hyper;
    const tokensPerStep = h.batch * h.seqLen;
    const startStep = this.step;
    let valLoss = NaN;
    const end = Math.min(stopAt, h.steps);
    while (this.step < end) {
      const t0 = performance.now();
      const { loss, lr, gradNorm } = this.trainStep(train);
      this.seconds += (performance.now() - t0) / 1000;
      const done = this.step;
      const isEval = (h.evalEvery > 0 && done % h.evalEvery === 0) ||
        done === h.steps;
      const point: CurvePoint = {
        step: done,
        trainLoss: loss,
        valLoss: null,
        lr,
        gradNorm,
        tokensPerSec: (done * tokensPerStep) / Math.max(this.seconds, 1e-9),
      };
      if (isEval) {
        valLoss = this.evaluate(val);
        point.valLoss = Number.isFinite(valLoss) ? valLoss : null;
      }
      this.curve.push(point);
      if (onStep) {
        await onStep({ ...point, steps: h.steps, seconds: this.seconds });
      }
    }
    if (startStep >= end || end < h.steps) valLoss = this.evaluate(val);
    const last = this.curve.slice(-Math.min(10, this.curve.length));
    return {
      trainLoss: last.reduce((s, p) => s + p.trainLoss, 0) /
        Math.max(1, last.length),
      valLoss,
      tokensPerSec: (this.step * tokensPerStep) / Math.max(this.seconds, 1e-9),
      curve: this.curve,
    };
  }
}
