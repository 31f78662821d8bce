/**
 * Camera pushes: POST /api/v1/ingest/<protocol>. No admin token: the camera is identified by its secret or
 * its address; an unknown sender is refused and logged. The reply waits for the event's commit, so a camera
 * that retries on failure never loses a read; the relay has been driven long before.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { milesightGetParams, adapter as milesightHttp } from "../../ingest/milesight-http.js";
import { parseMultipart } from "../../ingest/multipart.js";
import { PUSH_ROUTES } from "../../ingest/registry.js";
import { IngestError, NotAPlateRead, type PushAdapter } from "../../ingest/types.js";
import type { ApiContext } from "../context.js";
import { ErrorReply } from "../schemas.js";

/** Vendors send images inline as base64: a few megabytes per read. */
const INGEST_BODY_LIMIT = 16 * 1024 * 1024;

declare module "fastify" {
  interface FastifyRequest {
    /** Monotonic ms when a camera push arrived (ingest routes only). */
    receivedMono: number;
  }
}

const IngestReply = Type.Object({
  status: Type.Union([
    Type.Literal("decided"),
    Type.Literal("pending"),
    Type.Literal("ignored"),
    Type.Literal("duplicate"),
  ]),
  eventId: Type.Optional(Type.Integer()),
  decision: Type.Optional(Type.Union([Type.Literal("allow"), Type.Literal("deny")])),
  reason: Type.String(),
});

function secretOf(req: FastifyRequest): string | null {
  const header = req.headers["x-camera-secret"];
  if (typeof header === "string" && header !== "") return header;
  const auth = req.headers.authorization;
  if (auth?.startsWith("Basic ")) {
    const decoded = Buffer.from(auth.slice(6), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon >= 0) return decoded.slice(colon + 1);
  }
  const query = req.query as Record<string, unknown> | undefined;
  return typeof query?.secret === "string" && query.secret !== "" ? query.secret : null;
}

export const ingestRoutes =
  (ctx: ApiContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    // Bodies cameras send besides JSON: XML documents (as text) and multipart documents with pictures.
    // Registered in this plugin only, so no other route accepts them.
    app.addContentTypeParser(["application/xml", "text/xml"], { parseAs: "string" }, (_req, body, done) =>
      done(null, body),
    );
    app.addContentTypeParser("multipart/form-data", (req, payload, done) => {
      parseMultipart(req.headers, payload).then(
        (body) => done(null, body),
        (err: IngestError) => done(Object.assign(err, { statusCode: 400 })),
      );
    });
    // A request decoration rather than a WeakMap keyed by request: a plain property store and load per push.
    app.decorateRequest("receivedMono", 0);
    app.addHook("onRequest", (req, _reply, done) => {
      req.receivedMono = performance.now();
      done();
    });

    /** Identify the camera, parse its read, decide; reply once the event is committed. */
    async function acceptPush(
      req: FastifyRequest,
      reply: FastifyReply,
      adapter: PushAdapter,
      body: unknown,
      secret: string | null,
    ) {
      const receivedMono = req.receivedMono;
      const hint =
        typeof body === "object" && body !== null && typeof (body as { camera?: unknown }).camera === "string"
          ? (body as { camera: string }).camera
          : null;
      const camera = ctx.cameras.identify({ secret, remoteAddress: req.ip, hint });
      if (!camera) {
        req.log.warn({ from: req.ip, protocol: adapter.protocol }, "push refused: unknown camera");
        return reply.code(401).send({
          statusCode: 401,
          error: "Unauthorized",
          message: "unknown camera: no enabled camera has this secret or source address",
        });
      }
      if (adapter.protocol !== "generic" && camera.protocol !== adapter.protocol) {
        const message = `camera '${camera.id}' is configured for ${camera.protocol}; post to /api/v1/ingest/${camera.protocol}`;
        ctx.cameras.noteError(camera.id, message);
        return reply.code(400).send({ statusCode: 400, error: "Bad Request", message });
      }
      let read: ReturnType<typeof adapter.parse>;
      try {
        read = adapter.parse(body, ctx.site.timeZone);
      } catch (err) {
        if (err instanceof NotAPlateRead)
          return reply.code(202).send({ status: "ignored", reason: err.message });
        if (err instanceof IngestError) {
          ctx.cameras.noteError(camera.id, `malformed read: ${err.message}`);
          return reply.code(400).send({ statusCode: 400, error: "Bad Request", message: err.message });
        }
        throw err;
      }
      ctx.cameras.noteRead(camera.id);
      const outcome = ctx.gate.handle({ read, camera, protocol: adapter.protocol, receivedMono });
      // Pending: the arrival is decided when its window closes (decideOn best-of or lost).
      if (outcome.status === "pending")
        return reply.code(202).send({ status: outcome.status, reason: outcome.reason });
      if (outcome.status !== "decided") return reply.send({ status: outcome.status, reason: outcome.reason });
      await outcome.stored;
      return reply.send({
        status: "decided",
        eventId: outcome.event.id,
        decision: outcome.event.decision,
        reason: outcome.event.reason,
      });
    }

    // Milesight's HTTP GET form appends `source=LPR&description=<plate>` to the configured URL — without a
    // '?' (specs/002) — so both `/ingest/milesight?source=…` and `/ingest/milesightsource=…` are accepted.
    app.get(
      "/ingest/milesight*",
      {
        schema: {
          summary: "Plate read by Milesight's HTTP GET form: ?source=LPR&description=<plate>",
          security: [],
          response: { 200: IngestReply, 202: IngestReply, 400: ErrorReply, 401: ErrorReply },
        },
      },
      (req, reply) => {
        const params = milesightGetParams(req.url);
        return acceptPush(req, reply, milesightHttp, params, params.get("secret") || secretOf(req));
      },
    );

    // Other cameras that can only call a URL send their read in the query string.
    for (const [segment, adapter] of PUSH_ROUTES) {
      if (!adapter.acceptsGet || adapter === milesightHttp) continue;
      app.get(
        `/ingest/${segment}`,
        {
          schema: {
            summary: `Plate read sent by a camera as a GET request (${adapter.protocol})`,
            security: [],
            response: { 200: IngestReply, 202: IngestReply, 400: ErrorReply, 401: ErrorReply },
          },
        },
        (req, reply) => {
          const query = req.url.includes("?") ? req.url.slice(req.url.indexOf("?") + 1) : "";
          const params = new URLSearchParams(query);
          return acceptPush(req, reply, adapter, params, params.get("secret") || secretOf(req));
        },
      );
    }

    for (const [segment, adapter] of PUSH_ROUTES) {
      app.post(
        `/ingest/${segment}`,
        {
          bodyLimit: INGEST_BODY_LIMIT,
          schema: {
            summary: `Plate read pushed by a camera (${adapter.protocol})`,
            security: [],
            body: Type.Unknown({ description: "the camera's JSON document" }),
            response: { 200: IngestReply, 202: IngestReply, 400: ErrorReply, 401: ErrorReply },
          },
        },
        (req, reply) => acceptPush(req, reply, adapter, req.body, secretOf(req)),
      );
    }
  };
