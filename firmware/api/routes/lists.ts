import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { MAX_PLATE_LENGTH } from "../../domain/plate.js";
import { type EntryRecord, type ListRecord, MAX_DISTANCE_LIMIT } from "../../store/lists-repo.js";
import type { ApiContext } from "../context.js";
import { EntrySchema, IdParam, ListSchema } from "../schemas.js";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const listView = (l: ListRecord) => ({ ...l, createdAt: new Date(l.createdAt).toISOString() });
const entryView = (e: EntryRecord) => ({
  ...e,
  validFrom: iso(e.validFrom),
  validTo: iso(e.validTo),
  createdAt: new Date(e.createdAt).toISOString(),
});

const NewList = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    kind: Type.Union([Type.Literal("allow"), Type.Literal("block"), Type.Literal("custom")]),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    maxDistance: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: MAX_DISTANCE_LIMIT,
        description:
          "fuzzy matching: largest weighted edit distance (OCR confusions cost 0.5); 0 = exact only",
      }),
    ),
  },
  { additionalProperties: false },
);

const NewEntry = Type.Object(
  {
    plate: Type.String({ minLength: 1, maxLength: MAX_PLATE_LENGTH * 3 }),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    validFrom: Type.Optional(Type.String({ format: "date-time" })),
    validTo: Type.Optional(Type.String({ format: "date-time" })),
  },
  { additionalProperties: false },
);

export const listRoutes =
  (ctx: ApiContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      "/lists",
      {
        schema: { summary: "Every list", response: { 200: Type.Object({ items: Type.Array(ListSchema) }) } },
      },
      async () => ({ items: ctx.lists.all().map(listView) }),
    );

    app.post(
      "/lists",
      { schema: { summary: "Create a list", body: NewList, response: { 201: ListSchema } } },
      async (req, reply) => {
        const list = ctx.lists.create(req.body, ctx.clock.now());
        ctx.audit.record({
          at: ctx.clock.now(),
          actor: "admin",
          action: "list.create",
          target: `list:${list.id}`,
          detail: req.body,
        });
        return reply.code(201).send(listView(list));
      },
    );

    app.get(
      "/lists/:id",
      { schema: { summary: "One list", params: IdParam, response: { 200: ListSchema } } },
      async (req) => listView(ctx.lists.get(req.params.id)),
    );

    app.get(
      "/lists/:id/entries",
      {
        schema: {
          summary: "Entries of a list, in id order (page with afterId)",
          params: IdParam,
          querystring: Type.Object(
            {
              afterId: Type.Integer({ minimum: 0, default: 0 }),
              limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ items: Type.Array(EntrySchema) }) },
        },
      },
      async (req) => ({ items: ctx.lists.entries(req.params.id, req.query).map(entryView) }),
    );

    app.post(
      "/lists/:id/entries",
      {
        schema: { summary: "Add an entry", params: IdParam, body: NewEntry, response: { 201: EntrySchema } },
      },
      async (req, reply) => {
        const { validFrom, validTo, ...rest } = req.body;
        const [entry] = ctx.lists.addEntries(
          req.params.id,
          [
            {
              ...rest,
              validFrom: validFrom ? Date.parse(validFrom) : null,
              validTo: validTo ? Date.parse(validTo) : null,
            },
          ],
          ctx.clock.now(),
        );
        const created = entry as EntryRecord;
        ctx.audit.record({
          at: ctx.clock.now(),
          actor: "admin",
          action: "entry.add",
          target: `list:${req.params.id}/entry:${created.id}`,
        });
        return reply.code(201).send(entryView(created));
      },
    );

    app.delete(
      "/lists/:id/entries/:entryId",
      {
        schema: {
          summary: "Remove an entry",
          params: Type.Object({ id: Type.Integer({ minimum: 1 }), entryId: Type.Integer({ minimum: 1 }) }),
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        ctx.lists.removeEntry(req.params.id, req.params.entryId);
        ctx.audit.record({
          at: ctx.clock.now(),
          actor: "admin",
          action: "entry.remove",
          target: `list:${req.params.id}/entry:${req.params.entryId}`,
        });
        return reply.code(204).send(null);
      },
    );
  };
