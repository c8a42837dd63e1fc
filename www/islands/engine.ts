/**
 * The demo's view of the library: load a model archive from a URL, then
 * stream text pieces. Kept as a small interface so the island stays plain UI.
 *
 * @module
 */

/** Options for one generation. */
export interface DemoGenerateOptions {
  maxTokens: number;
  temperature: number;
  seed: number;
}

/** A loaded model that generates text pieces. */
export interface LoadedDemoModel {
  /** One line describing the model (shape, weight type, bytes). */
  describe: string;
  /** Streams the text pieces that follow `prompt`. */
  generate(prompt: string, opts: DemoGenerateOptions): AsyncIterable<string>;
}

/** Loads a model archive from a URL, or a model file the user picked. */
export interface DemoEngine {
  load(url: string): Promise<LoadedDemoModel>;
  /** Loads a model from its bytes (a `.gguf` or `.tar.gz` the user chose). */
  loadBytes(bytes: Uint8Array, name: string): Promise<LoadedDemoModel>;
}
