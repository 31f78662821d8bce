import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { toEventView } from "../../events.js";
import type { ApiContext } from "../context.js";
import { EventSchema } from "../schemas.js";

export const eventRoutes =
  (ctx: ApiContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      "/events",
      {
        schema: {
          summary: "Events, newest first; plate matches partially (normalised, e.g. 'B12' finds AB123CD)",
          querystring: Type.Object(
            {
              plate: Type.Optional(Type.String({ maxLength: 48 })),
              from: Type.Optional(Type.String({ format: "date-time" })),
              to: Type.Optional(Type.String({ format: "date-time" })),
              limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ items: Type.Array(EventSchema) }) },
        },
      },
      async (req) => {
        const { plate, from, to, limit } = req.query;
        // The same folding as plates get on the way in, but a fragment may be anything: no validation.
        const fragment = plate
          ?.normalize("NFC")
          .replace(/[\s\-._·:/]/gu, "")
          .toUpperCase();
        // Uncommitted decisions of this very moment are visible once the current batch commits.
        ctx.events.flush();
        const rows = ctx.events.search({
          plate: fragment || undefined,
          from: from ? Date.parse(from) : undefined,
          to: to ? Date.parse(to) : undefined,
          limit,
        });
        return { items: rows.map(toEventView) };
      },
    );
  };
