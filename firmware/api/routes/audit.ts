import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { ApiContext } from "../context.js";
import { Iso } from "../schemas.js";

export const auditRoutes =
  (ctx: ApiContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      "/audit",
      {
        schema: {
          summary: "Audit trail, newest first",
          querystring: Type.Object(
            { limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              items: Type.Array(
                Type.Object({
                  id: Type.Integer(),
                  at: Iso,
                  actor: Type.String(),
                  action: Type.String(),
                  target: Type.Union([Type.String(), Type.Null()]),
                  detail: Type.Unknown(),
                }),
              ),
            }),
          },
        },
      },
      async (req) => ({
        items: ctx.audit.recent(req.query.limit).map((row) => ({
          ...row,
          at: new Date(row.at).toISOString(),
          detail: row.detail === null ? null : JSON.parse(row.detail),
        })),
      }),
    );
  };
