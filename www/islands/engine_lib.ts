/**
 * The demo engine backed by tinyllm itself: fetch the archive, load it from
 * bytes, and stream generated text.
 *
 * @module
 */
import type { DemoEngine } from "./engine.ts";

/** Engine that runs the library in the page. */
export const libraryEngine: DemoEngine = {
  load(_url: string) {
    return Promise.reject(
      new Error("model loading is not wired in yet (library pending)"),
    );
  },
};
