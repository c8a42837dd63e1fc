/**
 * Loss curves out of an archive's `training.json`, whatever the exact field
 * names: any array of points with a step and a (train or val) loss.
 *
 * @module
 */

type Point = { step: number; loss: number; split: "train" | "val" };

function num(o: Record<string, unknown>, keys: string[]): number | null {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === "number" && Number.isFinite(v)) return v;
  }
  return null;
}

/** Extracts train/val loss points from a training record. */
export function trainingCurve(raw: Record<string, unknown>): Point[] {
  const points: Point[] = [];
  const visit = (v: unknown, hint: "train" | "val" | null) => {
    if (!Array.isArray(v)) return;
    for (const p of v) {
      if (p === null || typeof p !== "object") continue;
      const o = p as Record<string, unknown>;
      const step = num(o, ["step", "iter", "iteration"]);
      if (step === null) continue;
      const train = num(
        o,
        hint === "val" ? [] : ["trainLoss", "loss", "train"],
      );
      const val = num(
        o,
        hint === "train" ? [] : ["valLoss", "val", "validationLoss"],
      );
      if (train !== null) {
        points.push({ step, loss: train, split: hint ?? "train" });
      }
      if (val !== null && hint !== "train") {
        points.push({ step, loss: val, split: "val" });
      }
    }
  };
  for (const [k, v] of Object.entries(raw)) {
    const key = k.toLowerCase();
    const hint = key.includes("val")
      ? "val"
      : key.includes("train")
      ? "train"
      : null;
    visit(v, hint);
    if (v && typeof v === "object" && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) {
        const key2 = k2.toLowerCase();
        visit(
          v2,
          key2.includes("val")
            ? "val"
            : key2.includes("train")
            ? "train"
            : hint,
        );
      }
    }
  }
  // One point per (split, step).
  const seen = new Set<string>();
  return points.filter((p) => {
    const id = `${p.split}@${p.step}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  }).sort((a, b) => a.step - b.step);
}
