/**
 * Seeded batch sampling: random windows of `seqLen + 1` tokens, one per
 * batch row (inputs are the first `seqLen`, targets the next token of each).
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { Rng } from "../random.ts";

/**
 * The generator for step `step` of a run seeded with `seed`: each step has
 * its own stream, so a resumed run samples exactly the batches an
 * uninterrupted one would.
 *
 * @example
 * ```ts
 * import { stepRng } from "@proj/tinyllm/train";
 * console.log(stepRng(1, 5).next() === stepRng(1, 5).next()); // true
 * ```
 */
export function stepRng(seed: number, step: number): Rng {
  return new Rng(
    (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b)) | 0,
  );
}

/**
 * Fills `tokens`/`targets` (`[batch, seqLen]`) with `batch` random windows
 * of `data`.
 *
 * @example
 * ```ts
 * import { Rng } from "@proj/tinyllm";
 * import { sampleBatch } from "@proj/tinyllm/train";
 * const data = Int32Array.from({ length: 100 }, (_, i) => i);
 * const x = new Int32Array(8), y = new Int32Array(8);
 * sampleBatch(data, 2, 4, new Rng(1), x, y);
 * console.log(y[0] === x[0] + 1); // true
 * ```
 */
export function sampleBatch(
  data: Int32Array,
  batch: number,
  seqLen: number,
  rng: Rng,
  tokens: Int32Array,
  targets: Int32Array,
): void {
  const span = data.length - seqLen;
  if (span < 1) {
    throw new InputError(
      `training data has ${data.length} tokens; seqLen ${seqLen} needs at least ${
        seqLen + 1
      }`,
    );
  }
  for (let b = 0; b < batch; b++) {
    const s = rng.int(span);
    for (let t = 0; t < seqLen; t++) {
      tokens[b * seqLen + t] = data[s + t];
      targets[b * seqLen + t] = data[s + t + 1];
    }
  }
}

/**
 * Fills `tokens`/`targets` with window `index` of `count` windows spread
 * evenly over `data` (deterministic, for validation).
 *
 * @example
 * ```ts
 * import { evenWindow } from "@proj/tinyllm/train";
 * const data = Int32Array.from({ length: 10 }, (_, i) => i);
 * const x = new Int32Array(3), y = new Int32Array(3);
 * evenWindow(data, 1, 2, 3, x, y); // the last of 2 windows
 * console.log(x, y); // [6, 7, 8] [7, 8, 9]
 * ```
 */
export function evenWindow(
  data: Int32Array,
  index: number,
  count: number,
  seqLen: number,
  tokens: Int32Array,
  targets: Int32Array,
  offset = 0,
): void {
  const span = data.length - seqLen - 1;
  const s = count > 1 ? Math.floor((index * span) / (count - 1)) : 0;
  for (let t = 0; t < seqLen; t++) {
    tokens[offset + t] = data[s + t];
    targets[offset + t] = data[s + t + 1];
  }
}
