/**
 * Test helper: the reference data in `tests/testdata/` (provenance and licence
 * in its README.md). Bytes and vectors arrive as module imports, so the tests
 * that only compute on them need no permission; every accessor returns a fresh
 * copy, so a test that corrupts bytes cannot disturb another. Tests that hand
 * a file to a subprocess use the paths.
 */
import { fileURLToPath } from "node:url";
import stories260K from "./testdata/stories260K.bin" with { type: "bytes" };
import tok512 from "./testdata/tok512.bin" with { type: "bytes" };
import tokenizer32k from "./testdata/tokenizer.bin" with { type: "bytes" };
import logitsF32 from "./testdata/runc/logits_once_upon_a_time_pos0-3.f32" with {
  type: "bytes",
};
import encodeVectors from "./testdata/runc/encode_vectors.json" with {
  type: "json",
};
import greedyOnce from "./testdata/runc/greedy_once_upon_a_time.json" with {
  type: "json",
};
import greedyLily from "./testdata/runc/greedy_lily_park.json" with {
  type: "json",
};
import greedyEmpty from "./testdata/runc/greedy_empty.json" with {
  type: "json",
};
import logitsJson from "./testdata/runc/logits_once_upon_a_time.json" with {
  type: "json",
};

/** A greedy run of llama2.c's run.c: `run stories260K.bin -z tok512.bin -t 0 -n 64 -i PROMPT`. */
export interface GreedyVector {
  name: string;
  prompt: string;
  steps: number;
  prompt_token_ids: number[];
  generated_token_ids: number[];
  all_token_ids: number[];
  stdout: string;
  generated_text: string;
}

/** One run.c `encode(text, bos=1, eos=0)` result. */
export interface EncodeCase {
  text: string;
  token_ids: number[];
  pieces: string[];
}

/** run.c's logits for "Once upon a time" at positions 0..3. */
export interface LogitsVector {
  prompt: string;
  prompt_token_ids: number[];
  positions: { pos: number; logits: number[] }[];
}

/** Absolute path of a file in tests/testdata/ (for subprocesses and CLI calls). */
export function testdataPath(name: string): string {
  return fileURLToPath(new URL(`./testdata/${name}`, import.meta.url));
}

/** Path of llama2.c's stories260K checkpoint. */
export const STORIES260K_PATH: string = testdataPath("stories260K.bin");
/** Path of its 512-token tokenizer. */
export const TOK512_PATH: string = testdataPath("tok512.bin");
/** Path of llama2.c's 32000-token `tokenizer.bin`. */
export const TOKENIZER32K_PATH: string = testdataPath("tokenizer.bin");

/** stories260K.bin's bytes (a fresh copy). */
export function stories260KBytes(): Uint8Array<ArrayBuffer> {
  return stories260K.slice();
}

/** tok512.bin's bytes (a fresh copy). */
export function tok512Bytes(): Uint8Array<ArrayBuffer> {
  return tok512.slice();
}

/** llama2.c's 32000-token tokenizer.bin (a fresh copy). */
export function tokenizer32kBytes(): Uint8Array<ArrayBuffer> {
  return tokenizer32k.slice();
}

/** run.c's logits at positions 0..3 of "Once upon a time", shape [4, 512]. */
export function runcLogitsF32(): Float32Array {
  return new Float32Array(logitsF32.slice().buffer);
}

/** run.c's logits as printed in JSON (exact float32 values). */
export function runcLogits(): LogitsVector {
  return structuredClone(logitsJson) as LogitsVector;
}

/** run.c's encodings of 11 strings with tok512. */
export function runcEncodeCases(): EncodeCase[] {
  return structuredClone(encodeVectors.cases) as EncodeCase[];
}

/** run.c's greedy 64-step runs, by prompt. */
export function runcGreedy(
  name: "once_upon_a_time" | "lily_park" | "empty",
): GreedyVector {
  const v = {
    once_upon_a_time: greedyOnce,
    lily_park: greedyLily,
    empty: greedyEmpty,
  }[name];
  return structuredClone(v) as GreedyVector;
}
