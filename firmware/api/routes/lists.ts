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
    schedule: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: "a schedule's name: the list's entries match only while it is active",
      }),
    ),
  },
  { additionalProperties: false },
);

const ListChange = Type.Object(
  {
    description: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
    maxDistance: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_DISTANCE_LIMIT })),
    schedule: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()], {
        description: "a schedule's name, or null to unbind",
      }),
    ),
  },
  { additionalProperties: false },
);

const EntryChange = Type.Object(
  {
    description: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
    validFrom: Type.Optional(Type.Union([Type.String({ format: "date-time" }), Type.Null()])),
    validTo: Type.Optional(Type.Union([Type.String({ format: "date-time" }), Type.Null()])),
    schedule: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()], {
        description: "a schedule's name, or null to unbind",
      }),
    ),
  },
  { additionalProperties: false },
);

const EntryParams = Type.Object({ id: Type.Integer({ minimum: 1 }), entryId: Type.Integer({ minimum: 1 }) });

/** An ISO time from a body: undefined stays (not given), null clears. */
const parseTime = (value: string | null | undefined): number | null | undefined =>
  value == null ? value : Date.parse(value);

const NewEntry = Type.Object(
  {
    plate: Type.String({ minLength: 1, maxLength: MAX_PLATE_LENGTH * 3 }),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    validFrom: Type.Optional(Type.String({ format: "date-time" })),
    validTo: Type.Optional(Type.String({ format: "date-time" })),
    schedule: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: "a schedule's name: the entry matches only while it is active (and its list's, if any)",
      }),
    ),
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

    app.patch(
      "/lists/:id",
      {
        schema: {
          summary: "Change a list's description, fuzzy distance or schedule (null unbinds)",
          params: IdParam,
          body: ListChange,
          response: { 200: ListSchema },
        },
      },
      async (req) => {
        const list = ctx.lists.update(req.params.id, req.body);
        ctx.audit.record({
          at: ctx.clock.now(),
          actor: "admin",
          action: "list.update",
          target: `list:${list.id}`,
          detail: req.body,
        });
        return listView(list);
      },
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
          ...(rest.schedule ? { detail: { schedule: rest.schedule } } : {}),
        });
        return reply.code(201).send(entryView(created));
      },
    );

    app.patch(
      "/lists/:id/entries/:entryId",
      {
        schema: {
          summary: "Change an entry's description, validity or schedule (null clears)",
          params: EntryParams,
          body: EntryChange,
          response: { 200: EntrySchema },
        },
      },
      async (req) => {
        const { validFrom, validTo, ...rest } = req.body;
        const entry = ctx.lists.updateEntry(req.params.id, req.params.entryId, {
          ...rest,
          validFrom: parseTime(validFrom),
          validTo: parseTime(validTo),
        });
        ctx.audit.record({
          at: ctx.clock.now(),
          actor: "admin",
          action: "entry.update",
          target: `list:${req.params.id}/entry:${entry.id}`,
          detail: { fields: Object.keys(req.body) },
        });
        return entryView(entry);
      },
    );

    app.delete(
      "/lists/:id/entries/:entryId",
      {
        schema: {
          summary: "Remove an entry",
          params: EntryParams,
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
