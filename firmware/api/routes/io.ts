import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { IoState } from "../../../hal/types.js";
import { ConflictError, NotFoundError } from "../../store/lists-repo.js";
import { isoTime } from "../../util/time.js";
import type { ApiContext } from "../context.js";
import { IoSchema } from "../schemas.js";

export function ioView(s: IoState): {
  name: string;
  kind: "input" | "output";
  state: "active" | "inactive";
  changedAt: string;
} {
  return {
    name: s.name,
    kind: s.kind,
    state: s.active ? "active" : "inactive",
    changedAt: isoTime(s.changedAt),
  };
}

export const ioRoutes =
  (ctx: ApiContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      "/io",
      {
        schema: {
          summary: "Every input and output",
          response: { 200: Type.Object({ items: Type.Array(IoSchema) }) },
        },
      },
      async () => ({ items: ctx.hal.state().map(ioView) }),
    );

    app.post(
      "/io/inputs/:name",
      {
        schema: {
          summary: "Drive a simulated input (sim HAL only)",
          params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) }),
          body: Type.Object({ active: Type.Boolean() }, { additionalProperties: false }),
          response: { 200: IoSchema },
        },
      },
      async (req) => {
        const simulate = ctx.hal.simulateInput;
        if (ctx.hal.driver !== "sim" || !simulate)
          throw new ConflictError("inputs can be driven through the API only with the sim HAL");
        const known = ctx.hal.state().find((s) => s.kind === "input" && s.name === req.params.name);
        if (!known) throw new NotFoundError(`input '${req.params.name}' does not exist`);
        simulate.call(ctx.hal, req.params.name, req.body.active);
        ctx.audit.record({
          at: ctx.clock.now(),
          actor: "admin",
          action: "io.simulate",
          target: `input:${req.params.name}`,
          detail: req.body,
        });
        return ioView(
          ctx.hal.state().find((s) => s.kind === "input" && s.name === req.params.name) as IoState,
        );
      },
    );
  };
