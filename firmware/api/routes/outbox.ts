/** The outbox: messages of network actions, their targets' state, a manual retry, an event's messages. */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { type Static, Type } from "typebox";
import type { OutboxSummary } from "../../outbox/repo.js";
import { ConflictError, NotFoundError } from "../../store/lists-repo.js";
import type { ApiContext } from "../context.js";
import { IdParam, Iso, NullableIso } from "../schemas.js";

const NullableString = Type.Union([Type.String(), Type.Null()]);
const Status = Type.Union([
  Type.Literal("pending"),
  Type.Literal("failed-retrying"),
  Type.Literal("sent"),
  Type.Literal("failed"),
  Type.Literal("expired"),
]);

export const OutboxMessageSchema = Type.Object({
  id: Type.Integer(),
  target: Type.String(),
  eventId: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Iso,
  status: Status,
  attempts: Type.Integer(),
  lastAttemptAt: NullableIso,
  lastError: NullableString,
  nextAttemptAt: NullableIso,
  sentAt: NullableIso,
  payload: Type.Unknown({ description: "what the action sends, as stored (no credentials)" }),
  attachmentBytes: Type.Union([Type.Integer(), Type.Null()]),
});

const TargetSchema = Type.Object({
  target: Type.String(),
  type: NullableString,
  state: Type.Union([
    Type.Literal("unknown"),
    Type.Literal("up"),
    Type.Literal("down"),
    Type.Literal("unconfigured"),
  ]),
  pending: Type.Integer({ description: "messages not yet delivered (pending and failed-retrying)" }),
  oldestPendingAgeMs: Type.Union([Type.Integer(), Type.Null()]),
  lastError: NullableString,
  lastErrorAt: NullableIso,
  lastSentAt: NullableIso,
  nextAttemptAt: NullableIso,
});

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function view(m: OutboxSummary): Static<typeof OutboxMessageSchema> {
  const undelivered = m.status === "pending" || m.status === "failed-retrying";
  return {
    id: m.id,
    target: m.target,
    eventId: m.eventId,
    createdAt: new Date(m.createdAt).toISOString(),
    status: m.status,
    attempts: m.attempts,
    lastAttemptAt: iso(m.lastAttemptAt),
    lastError: m.lastError,
    nextAttemptAt: undelivered ? iso(m.nextAttemptAt) : null,
    sentAt: iso(m.sentAt),
    payload: JSON.parse(m.payload),
    attachmentBytes: m.attachmentBytes,
  };
}

export const outboxRoutes =
  (ctx: ApiContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      "/outbox",
      {
        schema: {
          summary: "Outbox messages, newest first (beforeId pages on)",
          querystring: Type.Object(
            {
              status: Type.Optional(Status),
              target: Type.Optional(Type.String({ maxLength: 64 })),
              beforeId: Type.Optional(Type.Integer({ minimum: 1 })),
              limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ items: Type.Array(OutboxMessageSchema) }) },
        },
      },
      async (req) => {
        ctx.events.flush();
        return { items: ctx.outboxRepo.list(req.query).map(view) };
      },
    );

    app.get(
      "/outbox/targets",
      {
        schema: {
          summary: "Every outbox target: backlog, oldest undelivered message, last error, up or down",
          response: { 200: Type.Object({ items: Type.Array(TargetSchema) }) },
        },
      },
      async () => ({ items: ctx.outbox.targets() }),
    );

    app.post(
      "/outbox/:id/retry",
      {
        schema: {
          summary:
            "Send a failed, expired or backing-off message again now (audited); it keeps its place in order",
          params: IdParam,
          response: { 200: Type.Object({ message: OutboxMessageSchema, auditId: Type.Integer() }) },
        },
      },
      async (req) => {
        const before = ctx.outboxRepo.get(req.params.id);
        if (!before) throw new NotFoundError(`outbox message ${req.params.id} does not exist`);
        if (!ctx.outbox.retry(before.id))
          throw new ConflictError(
            `outbox message ${before.id} is ${before.status}; only failed, expired or failed-retrying ones are retried`,
          );
        const audit = ctx.audit.record({
          at: ctx.clock.now(),
          actor: "admin",
          action: "outbox.retry",
          target: `outbox:${before.id}`,
          detail: { target: before.target, was: before.status, lastError: before.lastError, from: req.ip },
        });
        const after = ctx.outboxRepo.get(before.id) ?? before;
        return { message: view(after), auditId: audit.id };
      },
    );

    app.get(
      "/events/:id/outbox",
      {
        schema: {
          summary: "The event's outbox messages: what its network actions sent, or are still sending",
          params: IdParam,
          response: { 200: Type.Object({ items: Type.Array(OutboxMessageSchema) }) },
        },
      },
      async (req) => {
        ctx.events.flush();
        return { items: ctx.outboxRepo.byEvent(req.params.id).map(view) };
      },
    );
  };
