/**
 * Request validation with TypeBox's compiled checkers instead of Ajv: the same JSON Schemas, compiled in a
 * fraction of the time (start-up matters on a gate controller). Defaults are applied to every part;
 * querystring, params and headers are also converted ("5" → 5) as Ajv's coercion did.
 */
import type { FastifySchemaCompiler } from "fastify";
import type { TSchema } from "typebox";
import { Compile } from "typebox/compile";

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const validator = Compile(schema);
  return (value) => {
    const defaulted = validator.Default(value);
    const prepared = httpPart === "body" ? defaulted : validator.Convert(defaulted);
    if (validator.Check(prepared)) return { value: prepared };
    return { error: validator.Errors(prepared).map((e) => ({ ...e, message: e.message })) };
  };
};

/** Replies are built by our own code from typed values: plain JSON.stringify, no per-route compile. */
export const serializerCompiler =
  () =>
  (data: unknown): string =>
    JSON.stringify(data);
