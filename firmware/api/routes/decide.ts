/**
 * Dry run: what would happen to a plate on a lane at a time, and why — without acting, storing or touching
 * any vehicle's arrival. For installers checking a list or an action, and integrators testing a rule.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { actionApplies } from "../../actions/registry.js";
import { MAX_PLATE_LENGTH, normalisePlate } from "../../domain/plate.js";
import { withPresence } from "../../domain/presence.js";
import { scheduleState, scheduleWhy } from "../../domain/schedule-book.js";
import { explain } from "../../gate.js";
import { NotFoundError } from "../../store/lists-repo.js";
import type { ApiContext } from "../context.js";

const DryRun = Type.Object(
  {
    plate: Type.String({ minLength: 1, maxLength: MAX_PLATE_LENGTH * 3 }),
    lane: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "default: the first lane" })),
    at: Type.Optional(Type.String({ format: "date-time", description: "default: now" })),
    direction: Type.Optional(
      Type.Union([Type.Literal("entry"), Type.Literal("exit")], {
        description:
          "the movement on a lane whose own direction is `both` (stands for the camera's role or the read's direction)",
      }),
    ),
  },
  { additionalProperties: false },
);

const DryRunReply = Type.Object({
  plate: Type.String({ description: "normalised" }),
  lane: Type.String(),
  at: Type.String({ format: "date-time" }),
  decision: Type.Union([Type.Literal("allow"), Type.Literal("deny")]),
  reason: Type.String(),
  explanation: Type.Unknown({
    description:
      "as stored with an event; `presence` shows the zone check and its effect, never applied here",
  }),
  askOperator: Type.Boolean({
    description:
      "the approval rule would ask the operator: the event waits, no action runs until the answer (`actions` is then empty)",
  }),
  actions: Type.Array(Type.Object({ index: Type.Integer(), type: Type.String() }), {
    description: "the site's actions that would run, by their position in the site file",
  }),
  outsideSchedule: Type.Array(
    Type.Object({ index: Type.Integer(), type: Type.String(), schedule: Type.String(), why: Type.String() }),
    { description: "the site's actions that would run but for their schedule, and why it is not active" },
  ),
});

export const decideRoutes =
  (ctx: ApiContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.post(
      "/decide",
      {
        schema: {
          summary: "What would happen to this plate on this lane at this time, and why (acts on nothing)",
          body: DryRun,
          response: { 200: DryRunReply },
        },
      },
      async (req) => {
        const plate = normalisePlate(req.body.plate).normalised;
        const laneId = req.body.lane ?? [...ctx.lanes.keys()][0];
        if (laneId === undefined || !ctx.lanes.has(laneId))
          throw new NotFoundError(
            `lane '${req.body.lane}' does not exist; lanes: ${[...ctx.lanes.keys()].join(", ")}`,
          );
        const at = req.body.at ? Date.parse(req.body.at) : ctx.clock.now();
        const book = ctx.lists.scheduleBook();
        // Never useVisit: a dry run does not use a pass's visit.
        const listDecision = ctx.lists.decide(plate, at, book, { lane: laneId });
        // The zone check on a snapshot: what the passage would do, without changing presence or occupancy.
        const check =
          ctx.presence?.check(laneId, plate, req.body.direction, null, listDecision.result === "allow", at) ??
          null;
        const decision = withPresence(listDecision, check);
        // As the gate: a vetoed passage is never asked about; an asked one runs no action until answered.
        const askOperator = !check?.veto && ctx.approvals.applies(decision, laneId);
        const applies = (action: (typeof ctx.site.actions)[number]) =>
          !askOperator && actionApplies(action, decision, laneId, book, check?.veto != null);
        return {
          plate,
          lane: laneId,
          at: new Date(at).toISOString(),
          decision: decision.result,
          reason: decision.reason,
          explanation: explain(decision, check ? { ...check, applied: false } : null),
          askOperator,
          actions: ctx.site.actions.flatMap((action, index) =>
            applies(action) ? [{ index, type: action.do.type }] : [],
          ),
          outsideSchedule: ctx.site.actions.flatMap((action, index) => {
            if (action.schedule === undefined || applies(action)) return [];
            if (!applies({ ...action, schedule: undefined })) return [];
            const state = scheduleState(book, action.schedule, at, false);
            return [{ index, type: action.do.type, schedule: action.schedule, why: scheduleWhy(state) }];
          }),
        };
      },
    );
  };
