/**
 * Validation of HalConfig. Collects every problem and throws one Error listing them all, each naming the
 * offending item, so an installer fixes a pin map in one pass.
 */
import type { HalConfig } from "./types.js";

const TOP_KEYS = ["driver", "outputs", "inputs", "sysfsRoot", "gpiochipLabel"];
const OUTPUT_KEYS = ["name", "pin", "activeLow", "contact", "safeActive"];
const INPUT_KEYS = ["name", "pin", "activeLow", "debounceMs"];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Throws an Error listing every problem; returns the config unchanged (typed) when it is valid. */
export function validateHalConfig(config: unknown, drivers: readonly string[]): HalConfig {
  const problems: string[] = [];
  if (!isRecord(config)) throw new Error("HAL config: expected an object");

  for (const key of Object.keys(config)) {
    if (!TOP_KEYS.includes(key)) problems.push(`unknown key "${key}" (valid keys: ${TOP_KEYS.join(", ")})`);
  }
  if (typeof config.driver !== "string" || !drivers.includes(config.driver)) {
    problems.push(`driver ${JSON.stringify(config.driver)} is not one of: ${drivers.join(", ")}`);
  }
  for (const key of ["sysfsRoot", "gpiochipLabel"]) {
    const value = config[key];
    if (value !== undefined && (typeof value !== "string" || value === "")) {
      problems.push(`${key} must be a non-empty string when given`);
    }
  }

  const names = new Map<string, string>(); // name → where it was first seen
  const pins = new Map<number, string>();
  /** Checks what outputs and inputs share; returns the item and its label for the kind-specific checks. */
  const checkItem = (
    item: unknown,
    where: string,
    keys: string[],
  ): [Record<string, unknown>, string] | [] => {
    if (!isRecord(item)) {
      problems.push(`${where}: expected an object`);
      return [];
    }
    const label = typeof item.name === "string" && item.name !== "" ? `${where} "${item.name}"` : where;
    for (const key of Object.keys(item)) {
      if (!keys.includes(key))
        problems.push(`${label}: unknown key "${key}" (valid keys: ${keys.join(", ")})`);
    }
    if (typeof item.name !== "string" || item.name.trim() === "") {
      problems.push(`${label}: name must be a non-empty string`);
    } else if (names.has(item.name)) {
      problems.push(`${label}: duplicate name, already used by ${names.get(item.name)}`);
    } else {
      names.set(item.name, label);
    }
    if (typeof item.pin !== "number" || !Number.isInteger(item.pin) || item.pin < 0) {
      problems.push(`${label}: pin must be an integer >= 0, got ${JSON.stringify(item.pin)}`);
    } else if (pins.has(item.pin)) {
      problems.push(`${label}: pin ${item.pin} is already used by ${pins.get(item.pin)}`);
    } else {
      pins.set(item.pin, label);
    }
    if (typeof item.activeLow !== "boolean") problems.push(`${label}: activeLow must be true or false`);
    return [item, label];
  };

  const list = (key: "outputs" | "inputs"): unknown[] => {
    const value = config[key];
    if (Array.isArray(value)) return value;
    problems.push(`${key} must be an array`);
    return [];
  };

  list("outputs").forEach((raw, i) => {
    const [item, label] = checkItem(raw, `outputs[${i}]`, OUTPUT_KEYS);
    if (!item) return;
    if (item.contact !== "NO" && item.contact !== "NC") {
      problems.push(`${label}: contact must be "NO" or "NC", got ${JSON.stringify(item.contact)}`);
    }
    if (typeof item.safeActive !== "boolean") problems.push(`${label}: safeActive must be true or false`);
  });
  list("inputs").forEach((raw, i) => {
    const [item, label] = checkItem(raw, `inputs[${i}]`, INPUT_KEYS);
    if (!item) return;
    const ms = item.debounceMs;
    if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
      problems.push(`${label}: debounceMs must be a finite number >= 0, got ${JSON.stringify(ms)}`);
    }
  });

  if (problems.length > 0) {
    throw new Error(`invalid HAL config:\n  - ${problems.join("\n  - ")}`);
  }
  return config as unknown as HalConfig;
}
