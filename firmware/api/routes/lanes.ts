import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { Lane } from "../../lanes.js";
import { ConflictError, NotFoundError } from "../../store/lists-repo.js";
import type { ApiContext } from "../context.js";
import { BarrierSchema, LaneSchema } from "../schemas.js";

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const Body = Type.Optional(
  Type.Object({ reason: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }),
);

/** Hand commands on a lane's barrier: the barrier acts first, then the audit is written. */
export const laneRoutes =
  (ctx: ApiContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    const laneOf = (id: string): Lane => {
      const lane = ctx.lanes.get(id);
      if (!lane)
        throw new NotFoundError(`lane '${id}' does not exist; lanes: ${[...ctx.lanes.keys()].join(", ")}`);
      return lane;
    };
    const audit = (lane: Lane, action: string, reason: string | undefined, from: string, detail: object) =>
      ctx.audit.record({
        at: ctx.clock.now(),
        actor: "admin",
        action,
        target: `lane:${lane.id}`,
        detail: { reason: reason ?? null, from, ...detail },
      }).id;

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
          summary: "Open the lane's barrier by hand (always possible, also with a fault; always audited)",
          params: Params,
          body: Body,
          response: {
            200: Type.Object({
              lane: Type.String(),
              pulseMs: Type.Integer({ description: "relay pulse width; 0 on a serial-only lane" }),
              auditId: Type.Integer(),
              barrier: BarrierSchema,
            }),
          },
        },
      },
      async (req) => {
        const lane = laneOf(req.params.id);
        // Open first: the audit write must never delay or prevent a manual open.
        const pulseMs = lane.barrier.open();
        const auditId = audit(lane, "lane.open", req.body?.reason, req.ip, { pulseMs });
        req.log.info({ lane: lane.id, auditId }, "manual open");
        return { lane: lane.id, pulseMs, auditId, barrier: lane.barrier.view() };
      },
    );

    const Reply = Type.Object({ lane: Type.String(), auditId: Type.Integer(), barrier: BarrierSchema });

    app.post(
      "/lanes/:id/hold",
      {
        schema: {
          summary:
            "Hold the barrier open until released (the relay is re-asserted while the controller runs; audited). 409 without a relay to hold with",
          params: Params,
          body: Body,
          response: { 200: Reply },
        },
      },
      async (req) => {
        const lane = laneOf(req.params.id);
        if (!lane.barrier.canHold)
          throw new ConflictError(`lane '${lane.id}' has no barrierOutput or holdOutput to hold open with`);
        lane.barrier.hold();
        const auditId = audit(lane, "lane.hold", req.body?.reason, req.ip, {});
        return { lane: lane.id, auditId, barrier: lane.barrier.view() };
      },
    );

    app.post(
      "/lanes/:id/release",
      {
        schema: {
          summary: "Release a held barrier; it then closes as usual (by itself, or by autoClose). Audited",
          params: Params,
          body: Body,
          response: { 200: Reply },
        },
      },
      async (req) => {
        const lane = laneOf(req.params.id);
        lane.barrier.release();
        const auditId = audit(lane, "lane.release", req.body?.reason, req.ip, {});
        return { lane: lane.id, auditId, barrier: lane.barrier.view() };
      },
    );

    app.post(
      "/lanes/:id/close",
      {
        schema: {
          summary:
            "Close the barrier (releases a hold). Never while a vehicle is on the presence loop: the close then waits until it has passed (deferred: true). Audited. 409 without a close output or serial close",
          params: Params,
          body: Body,
          response: {
            200: Type.Object({
              lane: Type.String(),
              auditId: Type.Integer(),
              deferred: Type.Boolean({ description: "true: waiting for the vehicle to clear the loop" }),
              barrier: BarrierSchema,
            }),
          },
        },
      },
      async (req) => {
        const lane = laneOf(req.params.id);
        if (!lane.barrier.canClose)
          throw new ConflictError(
            `lane '${lane.id}' has no closeOutput or serial close command; its barrier closes by itself`,
          );
        const { deferred } = lane.barrier.close();
        const auditId = audit(lane, "lane.close", req.body?.reason, req.ip, { deferred });
        return { lane: lane.id, auditId, deferred, barrier: lane.barrier.view() };
      },
    );
  };
