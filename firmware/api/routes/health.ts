import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { ApiContext } from "../context.js";

function memoryMb(): { rss: number; heapUsed: number; external: number } {
  const m = process.memoryUsage();
  const mb = (bytes: number): number => Math.round(bytes / 104_857.6) / 10;
  return { rss: mb(m.rss), heapUsed: mb(m.heapUsed), external: mb(m.external) };
}

export const healthRoutes =
  (ctx: ApiContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      "/health",
      {
        schema: {
          summary: "Liveness and basic state (no authentication)",
          security: [],
          response: {
            200: Type.Object({
              status: Type.Literal("ok"),
              version: Type.String(),
              uptimeS: Type.Number(),
              hal: Type.String(),
              site: Type.Object(
                { name: Type.String(), timeZone: Type.String() },
                { description: "the site's name and IANA time zone (the zone of the times in reasons)" },
              ),
              lanes: Type.Integer(),
              eventsPending: Type.Integer(),
              memoryMb: Type.Object({ rss: Type.Number(), heapUsed: Type.Number(), external: Type.Number() }),
            }),
          },
        },
      },
      async () => ({
        status: "ok" as const,
        version: ctx.version,
        uptimeS: Math.round((ctx.clock.now() - ctx.startedAt) / 100) / 10,
        hal: ctx.hal.driver,
        site: { name: ctx.site.name, timeZone: ctx.site.timeZone },
        lanes: ctx.lanes.size,
        eventsPending: ctx.events.pending,
        memoryMb: memoryMb(),
      }),
    );
  };
