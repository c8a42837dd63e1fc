/**
 * The weight-type table: one row per type. Adding a type is one new file and
 * one entry here.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import { fp32 } from "./fp32.ts";
import type { WeightType } from "./types.ts";

/** Every weight type, keyed by name. */
export const WEIGHT_TYPES: Readonly<Record<string, WeightType>> = {
  fp32,
};

/**
 * Looks up a weight type by name, throwing a {@linkcode ConfigError} for an
 * unknown name.
 */
export function weightType(name: string): WeightType {
  const t = WEIGHT_TYPES[name];
  if (!t) {
    throw new ConfigError(
      `unknown weight type "${name}" (known: ${
        Object.keys(WEIGHT_TYPES).join(", ")
      })`,
    );
  }
  return t;
}
