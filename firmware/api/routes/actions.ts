/**
 * The site file's actions as the API sees them, and what it may change of each: enabled, and the schedule it
 * is bound to (firmware/actions/bindings.ts). What an action does stays in the site file; nothing here shows
 * an address or a credential. Changes apply to the next decision and are audited.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { ConfigError } from "../../config/validate.js";
import { NotFoundError } from "../../store/lists-repo.js";
import type { ApiContext } from "../context.js";

const ActionView = Type.Object({
  ref: Type.String({ description: "the action's id, else `<index>:<type>` (its place in the site file)" }),
  index: Type.Integer(),
  id: Type.Union([Type.String(), Type.Null()]),
  type: Type.String(),
  on: Type.Object({ result: Type.Optional(Type.String()), list: Type.Optional(Type.String()) }),
  lanes: Type.Union([Type.Array(Type.String()), Type.Null()], { description: "null: every lane" }),
  enabled: Type.Boolean(),
  schedule: Type.Union([Type.String(), Type.Null()], { description: "null: always in force" }),
});

const Change = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    schedule: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()], {
        description: "a schedule's name (site file or /api/v1/schedules), or null to unbind",
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const actionRoutes =
  (ctx: ApiContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      "/actions",
      {
        schema: {
          summary: "The site's actions: what each is bound to, whether enabled, its schedule",
          response: { 200: Type.Object({ items: Type.Array(ActionView) }) },
        },
      },
      async () => ({ items: ctx.actions.views() }),
    );

    app.patch(
      "/actions/:ref",
      {
        schema: {
          summary: "Enable or disable an action, or bind it to a schedule (null unbinds); audited",
          params: Type.Object({ ref: Type.String({ minLength: 1, maxLength: 80 }) }),
          body: Change,
          response: { 200: Type.Object({ action: ActionView, auditId: Type.Integer() }) },
        },
      },
      async (req) => {
        const { ref } = req.params;
        const current = ctx.actions.view(ref);
        if (!current)
          throw new NotFoundError(
            `action '${ref}' does not exist; actions: ${ctx.actions
              .views()
              .map((v) => `'${v.ref}'`)
              .join(", ")}`,
          );
        const { schedule = current.schedule, enabled = current.enabled } = req.body;
        if (schedule !== null && !ctx.schedules.has(schedule))
          throw new ConfigError("body", [`/schedule '${schedule}' is not a schedule`]);
        const to = { enabled, schedule };
        const from = ctx.actions.update(ref, to);
        const auditId = ctx.audit.record({
          at: ctx.clock.now(),
          actor: "admin",
          action: "action.update",
          target: `action:${ref}`,
          detail: { from, to },
        }).id;
        return { action: ctx.actions.view(ref) ?? current, auditId };
      },
    );
  };
