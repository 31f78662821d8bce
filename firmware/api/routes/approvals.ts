import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { ApprovalSettingsSchema } from "../../approvals.js";
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

/** Operator approval (firmware/approvals.ts): the rule, pending requests, and the operator's answer. */
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

    app.get(
      "/approval/settings",
      {
        schema: {
          summary:
            "The approval rule in force: the site file's `approval` at first start, afterwards as last set here",
          response: { 200: ApprovalSettingsSchema },
        },
      },
      async () => ctx.approvals.settings(),
    );

    app.put(
      "/approval/settings",
      {
        schema: {
          summary:
            "Replace the approval rule (omitted fields take their defaults); used for the next read, pending requests keep their expiry. Audited. 400 names the field: out of range, unknown lane, passList not an allow list",
          body: ApprovalSettingsSchema,
          response: { 200: ApprovalSettingsSchema },
        },
      },
      async (req) => {
        const before = ctx.approvals.configure(req.body);
        ctx.audit.record({
          at: ctx.clock.now(),
          actor: "admin",
          action: "approval.settings",
          target: "approval",
          detail: { before, after: req.body, from: req.ip },
        });
        return ctx.approvals.settings();
      },
    );
  };
