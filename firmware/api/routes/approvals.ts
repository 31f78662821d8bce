import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { ApiContext } from "../context.js";

const Approval = Type.Object({
  id: Type.Integer({ description: "the request's id: its event's id" }),
  lane: Type.String(),
  plate: Type.String(),
  reason: Type.String({ description: "why the operator is asked" }),
  eventId: Type.Integer(),
  askedAt: Type.String({ format: "date-time" }),
  expiresAt: Type.String({ format: "date-time", description: "then onTimeout applies" }),
  passHours: Type.Union([Type.Number(), Type.Null()], {
    description: "default hours of approve-pass; null: no approval.passList, approve-pass is not offered",
  }),
});

const Answer = Type.Object(
  {
    outcome: Type.Union([Type.Literal("approve"), Type.Literal("approve-pass"), Type.Literal("deny")]),
    hours: Type.Optional(
      Type.Number({
        minimum: 0.25,
        maximum: 8760,
        description: "approve-pass: the pass's validity (default approval.passHours)",
      }),
    ),
    reason: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

/** Operator approval requests (firmware/approvals.ts): pending ones, and the operator's answer. */
export const approvalRoutes =
  (ctx: ApiContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      "/approvals",
      {
        schema: {
          summary: "Pending operator approval requests, oldest first",
          response: { 200: Type.Object({ items: Type.Array(Approval) }) },
        },
      },
      async () => ({ items: ctx.approvals.pending() }),
    );

    app.post(
      "/approvals/:id",
      {
        schema: {
          summary:
            "Answer a request: approve (the barrier opens as by hand), approve-pass (and the plate gets a pass on approval.passList), or deny. Audited. 404 unknown, 409 already resolved or no pass list",
          params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
          body: Answer,
          response: {
            200: Type.Object({
              id: Type.Integer(),
              outcome: Type.String(),
              by: Type.String(),
              auditId: Type.Integer(),
              pulseMs: Type.Union([Type.Integer(), Type.Null()]),
              pass: Type.Union([
                Type.Object({
                  listId: Type.Integer(),
                  entryId: Type.Integer(),
                  validTo: Type.String({ format: "date-time" }),
                }),
                Type.Null(),
              ]),
            }),
          },
        },
      },
      async (req) => {
        const result = ctx.approvals.resolve(req.params.id, req.body, "admin", req.ip);
        req.log.info({ approval: result.id, outcome: result.outcome, auditId: result.auditId }, "approval");
        return result;
      },
    );
  };
