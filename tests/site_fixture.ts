/**
 * Test helper: a small int4 model archive for the demo page, made in memory
 * with seeded weights (no training needed), or null while the library cannot
 * save archives yet.
 */
export function demoModelForTest(_dir: string): Promise<string | null> {
  return Promise.resolve(null);
}
