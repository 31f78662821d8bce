import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { toEventView } from "../../events.js";
import { NotFoundError } from "../../store/lists-repo.js";
import type { ApiContext } from "../context.js";
import { EventSchema, IdParam } from "../schemas.js";

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
        return { items: rows.map((row) => toEventView(row)) };
      },
    );

    app.get(
      "/events/:id",
      {
        schema: {
          summary: "One event with the explanation of its decision",
          params: IdParam,
          response: { 200: EventSchema },
        },
      },
      async (req) => {
        ctx.events.flush();
        const row = ctx.events.get(req.params.id);
        if (!row) throw new NotFoundError(`event ${req.params.id} does not exist`);
        return toEventView(row);
      },
    );

    app.get(
      "/events/:id/images",
      {
        schema: {
          summary:
            "The event's stored pictures (plate crop, full frame, evidence); written up to 30 s after it",
          params: IdParam,
          response: {
            200: Type.Object({
              items: Type.Array(
                Type.Object({
                  id: Type.Integer(),
                  kind: Type.String(),
                  bytes: Type.Integer(),
                  path: Type.String({ description: "under the data directory's snapshots folder" }),
                  url: Type.String(),
                }),
              ),
            }),
          },
        },
      },
      async (req) => ({
        items: ctx.snapshots.imagesOf(req.params.id).map((image) => ({
          id: image.id,
          kind: image.kind,
          bytes: image.bytes,
          path: image.path,
          url: `/api/v1/events/${image.eventId}/images/${image.id}`,
        })),
      }),
    );

    app.get(
      "/events/:id/images/:imageId",
      {
        schema: {
          summary: "One stored picture's bytes",
          params: Type.Object({ id: Type.Integer({ minimum: 1 }), imageId: Type.Integer({ minimum: 1 }) }),
        },
      },
      async (req, reply) => {
        const image = ctx.snapshots.imagesOf(req.params.id).find((i) => i.id === req.params.imageId);
        if (!image) throw new NotFoundError(`event ${req.params.id} has no picture ${req.params.imageId}`);
        const type = image.path.endsWith(".png") ? "image/png" : "image/jpeg";
        return reply
          .type(type)
          .header("cache-control", "private, max-age=86400")
          .send(await ctx.snapshots.read(image));
      },
    );
  };
