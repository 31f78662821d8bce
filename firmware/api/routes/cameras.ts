/**
 * Cameras: create, change and remove them without a restart; each with its live status. Secrets and
 * passwords are write-only: replies say which are set, never what they are.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { CameraStatus } from "../../cameras/manager.js";
import type { CameraConfig } from "../../config/site.js";
import type { ApiContext } from "../context.js";

/** Keys under `connection` that hold credentials. */
const SECRET_KEYS = new Set(["password", "secret", "token"]);

const CameraId = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

const StatusSchema = Type.Object({
  id: Type.String(),
  protocol: Type.String(),
  transport: Type.Union([Type.Literal("push"), Type.Literal("link")]),
  state: Type.String({
    description:
      "push: idle or receiving (a read within 5 min); link: connecting, connected or disconnected; or disabled",
  }),
  detail: Type.Union([Type.String(), Type.Null()]),
  since: Type.String({ format: "date-time" }),
  lastReadAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  reads: Type.Integer(),
  readsPerMinute: Type.Integer(),
  errors: Type.Integer(),
  lastError: Type.Union([
    Type.Object({ at: Type.String({ format: "date-time" }), message: Type.String() }),
    Type.Null(),
  ]),
});

const CameraView = Type.Object({
  id: Type.String(),
  name: Type.Optional(Type.String()),
  protocol: Type.String(),
  lane: Type.String(),
  role: Type.String(),
  channel: Type.Integer(),
  addresses: Type.Array(Type.String()),
  connection: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  enabled: Type.Boolean(),
  secretsSet: Type.Array(Type.String(), {
    description: "credentials that are set (values are never returned)",
  }),
  status: StatusSchema,
});

const CameraBody = Type.Record(Type.String(), Type.Unknown(), {
  description:
    "a camera: id, name, protocol, lane, role (entry|exit|both), channel, addresses, secret, connection {host, port, username, password, …}, enabled",
});

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function statusView(status: CameraStatus) {
  return {
    ...status,
    since: new Date(status.since).toISOString(),
    lastReadAt: iso(status.lastReadAt),
    lastError: status.lastError && {
      at: new Date(status.lastError.at).toISOString(),
      message: status.lastError.message,
    },
  };
}

function cameraView(camera: CameraConfig, status: CameraStatus) {
  const { secret, connection, ...rest } = camera;
  const secretsSet = secret === undefined ? [] : ["secret"];
  let shown: Record<string, unknown> | undefined;
  if (connection) {
    shown = {};
    for (const [key, value] of Object.entries(connection))
      if (SECRET_KEYS.has(key)) secretsSet.push(`connection.${key}`);
      else shown[key] = value;
  }
  return { ...rest, ...(shown ? { connection: shown } : {}), secretsSet, status: statusView(status) };
}

/** What an audit entry may say about a camera change: the fields changed, never their secret values. */
function changedFields(body: Record<string, unknown>): string[] {
  return Object.entries(body).flatMap(([key, value]) =>
    key === "connection" && typeof value === "object" && value !== null
      ? Object.keys(value).map((k) => `connection.${k}`)
      : [key],
  );
}

export const cameraRoutes =
  (ctx: ApiContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    const view = (id: string) => cameraView(ctx.cameras.get(id), ctx.cameras.status(id));
    const audit = (action: string, id: string, fields: string[] | null, from: string) =>
      ctx.audit.record({
        at: ctx.clock.now(),
        actor: "admin",
        action,
        target: `camera:${id}`,
        detail: { fields, from },
      });

    app.get(
      "/cameras",
      {
        schema: {
          summary: "Every camera with its live status",
          response: { 200: Type.Object({ items: Type.Array(CameraView) }) },
        },
      },
      async () => ({ items: ctx.cameras.list().map((c) => view(c.id)) }),
    );

    app.get(
      "/cameras/:id",
      {
        schema: {
          summary: "One camera with its live status",
          params: CameraId,
          response: { 200: CameraView },
        },
      },
      async (req) => view(req.params.id),
    );

    app.post(
      "/cameras",
      {
        schema: {
          summary: "Add a camera; a link protocol's connection opens at once",
          body: CameraBody,
          response: { 201: CameraView },
        },
      },
      async (req, reply) => {
        const camera = ctx.cameras.create(req.body);
        audit("camera.create", camera.id, changedFields(req.body), req.ip);
        return reply.code(201).send(view(camera.id));
      },
    );

    app.patch(
      "/cameras/:id",
      {
        schema: {
          summary: "Change a camera: fields given replace, `connection` merges; its link reopens",
          params: CameraId,
          body: CameraBody,
          response: { 200: CameraView },
        },
      },
      async (req) => {
        await ctx.cameras.update(req.params.id, req.body);
        audit("camera.update", req.params.id, changedFields(req.body), req.ip);
        return view(req.params.id);
      },
    );

    app.delete(
      "/cameras/:id",
      {
        schema: {
          summary: "Remove a camera and close its link",
          params: CameraId,
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        await ctx.cameras.remove(req.params.id);
        audit("camera.delete", req.params.id, null, req.ip);
        return reply.code(204).send(null);
      },
    );

    app.get(
      "/cameras/:id/events",
      {
        schema: {
          summary: "The camera's latest events that are not plate reads (counting, parking, list events…)",
          params: CameraId,
          querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) }),
          response: {
            200: Type.Object({
              items: Type.Array(
                Type.Object({
                  id: Type.Integer(),
                  at: Type.String({ format: "date-time" }),
                  kind: Type.String(),
                  data: Type.Record(Type.String(), Type.Unknown()),
                }),
              ),
            }),
          },
        },
      },
      async (req) => {
        ctx.cameras.get(req.params.id);
        return {
          items: ctx.cameras
            .events(req.params.id, req.query.limit)
            .map((e) => ({ id: e.id, at: new Date(e.at).toISOString(), kind: e.kind, data: e.data })),
        };
      },
    );
  };
