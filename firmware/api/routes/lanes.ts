import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { NotFoundError } from "../../store/lists-repo.js";
import type { ApiContext } from "../context.js";
import { LaneSchema } from "../schemas.js";

export const laneRoutes =
  (ctx: ApiContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      "/lanes",
      {
        schema: { summary: "Every lane", response: { 200: Type.Object({ items: Type.Array(LaneSchema) }) } },
      },
      async () => ({ items: [...ctx.lanes.values()].map((l) => l.toJSON()) }),
    );

    app.post(
      "/lanes/:id/open",
      {
        schema: {
          summary: "Open the lane's barrier by hand (always possible, always audited)",
          params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
          body: Type.Optional(
            Type.Object(
              { reason: Type.Optional(Type.String({ maxLength: 200 })) },
              { additionalProperties: false },
            ),
          ),
          response: {
            200: Type.Object({ lane: Type.String(), pulseMs: Type.Integer(), auditId: Type.Integer() }),
          },
        },
      },
      async (req) => {
        const lane = ctx.lanes.get(req.params.id);
        if (!lane)
          throw new NotFoundError(
            `lane '${req.params.id}' does not exist; lanes: ${[...ctx.lanes.keys()].join(", ")}`,
          );
        // Open first: the audit write must never delay or prevent a manual open.
        const pulseMs = lane.open();
        const audit = ctx.audit.record({
          at: ctx.clock.now(),
          actor: "admin",
          action: "lane.open",
          target: `lane:${lane.id}`,
          detail: { reason: req.body?.reason ?? null, from: req.ip, pulseMs },
        });
        req.log.info({ lane: lane.id, auditId: audit.id }, "manual open");
        return { lane: lane.id, pulseMs, auditId: audit.id };
      },
    );
  };
