/**
 * Typed errors thrown by the library. Every failure the library reports on bad
 * input is a {@linkcode TinyLlmError}, so callers (and the CLI) can tell bad
 * input apart from bugs and print one clear line.
 *
 * @module
 */

/** What kind of problem an error reports. */
export type TinyLlmErrorCode =
  /** Bytes that are not the expected file format (foreign, truncated, inconsistent header). */
  | "format"
  /** Tensor or config shapes that disagree with each other. */
  | "shape"
  /** Invalid configuration or option values. */
  | "config"
  /** Invalid user input at run time (prompt too long, NaN in weights, unknown token id). */
  | "input";

/**
 * Base class of every error the library throws on purpose.
 *
 * @example Telling library errors apart
 * ```ts
 * import { FormatError, TinyLlmError } from "@proj/tinyllm";
 * try {
 *   throw new FormatError("checkpoint: file is 3 bytes, header needs 28");
 * } catch (e) {
 *   if (e instanceof TinyLlmError) console.error(`${e.code}: ${e.message}`);
 * }
 * ```
 */
export class TinyLlmError extends Error {
  /** The kind of problem. */
  readonly code: TinyLlmErrorCode;
  /**
   * Creates an error of the given kind.
   * @param code kind of problem
   * @param message one line naming the problem and where it is
   */
  constructor(code: TinyLlmErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = "TinyLlmError";
  }
}

/**
 * Bytes are not in the expected format: foreign, truncated, or with a header
 * whose sizes disagree with the data.
 *
 * @example
 * ```ts
 * import { FormatError } from "@proj/tinyllm";
 * const e = new FormatError("tokenizer.bin: truncated at token 12");
 * console.log(e.code); // "format"
 * ```
 */
export class FormatError extends TinyLlmError {
  /**
   * Creates the error.
   * @param message one line naming the file/member and the problem
   */
  constructor(message: string) {
    super("format", message);
    this.name = "FormatError";
  }
}

/**
 * Shapes disagree (a tensor's shape does not match the config, a tokenizer's
 * size does not match the model's vocabulary, ...).
 *
 * @example
 * ```ts
 * import { ShapeError } from "@proj/tinyllm";
 * const e = new ShapeError("wq: expected [64, 64], got [64, 32]");
 * console.log(e.code); // "shape"
 * ```
 */
export class ShapeError extends TinyLlmError {
  /**
   * Creates the error.
   * @param message one line naming the tensor and both shapes
   */
  constructor(message: string) {
    super("shape", message);
    this.name = "ShapeError";
  }
}

/**
 * An option or configuration value is invalid.
 *
 * @example
 * ```ts
 * import { ConfigError } from "@proj/tinyllm";
 * const e = new ConfigError("nKvHeads (3) must divide nHeads (8)");
 * console.log(e.code); // "config"
 * ```
 */
export class ConfigError extends TinyLlmError {
  /**
   * Creates the error.
   * @param message one line naming the option and why it is invalid
   */
  constructor(message: string) {
    super("config", message);
    this.name = "ConfigError";
  }
}

/**
 * Run-time input is invalid: a prompt longer than the context, a token id
 * outside the vocabulary, non-finite numbers.
 *
 * @example
 * ```ts
 * import { InputError } from "@proj/tinyllm";
 * const e = new InputError("prompt is 600 tokens, seq_len is 512");
 * console.log(e.code); // "input"
 * ```
 */
export class InputError extends TinyLlmError {
  /**
   * Creates the error.
   * @param message one line naming the input and the problem
   */
  constructor(message: string) {
    super("input", message);
    this.name = "InputError";
  }
}
