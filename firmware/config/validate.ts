/** One way to validate any configuration or input against a TypeBox schema: all errors at once, with paths. */

import type { Static, TSchema } from "typebox";
import { Compile, type Validator } from "typebox/compile";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: ${problems.join("; ")}`);
  }
}

export interface Checker<T extends TSchema> {
  /** Apply defaults, then return the value typed, or throw ConfigError listing every problem. */
  parse(value: unknown, source: string): Static<T>;
}

export function checker<T extends TSchema>(schema: T): Checker<T> {
  const validator: Validator = Compile(schema);
  return {
    parse(value: unknown, source: string): Static<T> {
      const withDefaults = validator.Default(structuredClone(value));
      if (validator.Check(withDefaults)) return withDefaults as Static<T>;
      const problems = validator.Errors(withDefaults).map((e) => `${e.instancePath || "/"} ${e.message}`);
      throw new ConfigError(source, problems.length ? problems : ["is invalid"]);
    },
  };
}
