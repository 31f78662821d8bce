import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { PRIORITY_LIMIT } from "../../domain/passes.js";
import { MAX_PLATE_LENGTH } from "../../domain/plate.js";
import {
  type EntryRecord,
  type ListRecord,
  MAX_CARD_NUMBER,
  MAX_DISTANCE_LIMIT,
} from "../../store/lists-repo.js";
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

const Priority = Type.Integer({
  minimum: 0,
  maximum: PRIORITY_LIMIT,
  description:
    "the highest-priority matching list decides; at equal priority block beats allow. Default by kind: block 100, allow 50, custom 10",
});

const MaxVisits = Type.Integer({
  minimum: 0,
  maximum: 1_000_000,
  description: "visitor pass (allow lists): allow decisions in all, then the entry stops matching",
});
const Lanes = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
  minItems: 1,
  maxItems: 64,
  description:
    "lane ids and lane group names (site file laneGroups) the entry is valid on; absent = every lane",
});
/** A card number as an integer, or as decimal digits (as panels and badge printers show it). */
const CardNumber = Type.Union(
  [Type.Integer({ minimum: 0, maximum: MAX_CARD_NUMBER }), Type.String({ pattern: "^[0-9]{1,15}$" })],
  { description: "the entry's Wiegand card number (action source entry-card)" },
);
const parseCard = (value: number | string | null | undefined): number | null | undefined =>
  typeof value === "string" ? Number(value) : value;

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
    priority: Type.Optional(Priority),
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
    priority: Type.Optional(
      Type.Union([Priority, Type.Null()], { description: "null = the kind's default" }),
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
    maxVisits: Type.Optional(Type.Union([MaxVisits, Type.Null()], { description: "null = unlimited" })),
    lanes: Type.Optional(Type.Union([Lanes, Type.Null()], { description: "null = every lane" })),
    cardNumber: Type.Optional(Type.Union([CardNumber, Type.Null()], { description: "null = none" })),
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
    maxVisits: Type.Optional(MaxVisits),
    lanes: Type.Optional(Lanes),
    cardNumber: Type.Optional(CardNumber),
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
        const { validFrom, validTo, cardNumber, ...rest } = req.body;
        const [entry] = ctx.lists.addEntries(
          req.params.id,
          [
            {
              ...rest,
              validFrom: validFrom ? Date.parse(validFrom) : null,
              validTo: validTo ? Date.parse(validTo) : null,
              cardNumber: parseCard(cardNumber),
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
          ...(rest.schedule || rest.maxVisits !== undefined || rest.lanes || cardNumber !== undefined
            ? {
                detail: {
                  ...(rest.schedule ? { schedule: rest.schedule } : {}),
                  ...(rest.maxVisits !== undefined ? { maxVisits: rest.maxVisits } : {}),
                  ...(rest.lanes ? { lanes: rest.lanes } : {}),
                  ...(cardNumber !== undefined ? { cardNumber: true } : {}),
                },
              }
            : {}),
        });
        return reply.code(201).send(entryView(created));
      },
    );

    app.patch(
      "/lists/:id/entries/:entryId",
      {
        schema: {
          summary: "Change an entry's description, validity, schedule or pass (null clears)",
          params: EntryParams,
          body: EntryChange,
          response: { 200: EntrySchema },
        },
      },
      async (req) => {
        const { validFrom, validTo, cardNumber, ...rest } = req.body;
        const entry = ctx.lists.updateEntry(req.params.id, req.params.entryId, {
          ...rest,
          validFrom: parseTime(validFrom),
          validTo: parseTime(validTo),
          cardNumber: parseCard(cardNumber),
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

    app.post(
      "/lists/:id/entries/:entryId/reset-visits",
      {
        schema: {
          summary: "Start an entry's visit count again at 0 (audited)",
          params: EntryParams,
          response: { 200: EntrySchema },
        },
      },
      async (req) => {
        // Commit visits still in flight first, so none lands on top of the reset.
        ctx.events.flush();
        const { before, entry } = ctx.lists.resetVisits(req.params.id, req.params.entryId);
        ctx.audit.record({
          at: ctx.clock.now(),
          actor: "admin",
          action: "entry.reset-visits",
          target: `list:${req.params.id}/entry:${entry.id}`,
          detail: { visitsUsed: before, maxVisits: entry.maxVisits },
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
