/**
 * The HTTP application, built without listening (tests use it as is). Order: error handling,
 * then documentation, then routes, then the panel.
 */
import { existsSync } from "node:fs";
import fastifyStatic from "@fastify/static";
import fastifySwagger from "@fastify/swagger";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  LogController,
} from "fastify";
import { ConfigError } from "../config/validate.js";
import { PlateError } from "../domain/plate.js";
import { ConflictError, NotFoundError } from "../store/lists-repo.js";
import type { Logger } from "../util/log.js";
import { bearerToken } from "./auth.js";
import type { ApiContext } from "./context.js";
import { actionRoutes } from "./routes/actions.js";
import { approvalRoutes } from "./routes/approvals.js";
import { auditRoutes } from "./routes/audit.js";
import { cameraRoutes } from "./routes/cameras.js";
import { decideRoutes } from "./routes/decide.js";
import { eventRoutes } from "./routes/events.js";
import { healthRoutes } from "./routes/health.js";
import { ingestRoutes } from "./routes/ingest.js";
import { ioRoutes } from "./routes/io.js";
import { laneRoutes } from "./routes/lanes.js";
import { listRoutes } from "./routes/lists.js";
import { outboxRoutes } from "./routes/outbox.js";
import { scheduleRoutes } from "./routes/schedules.js";
import { zoneRoutes } from "./routes/zones.js";
import { serializerCompiler, validatorCompiler } from "./validation.js";

export type App = FastifyInstance;

export async function buildApp(ctx: ApiContext, log: Logger): Promise<App> {
  const app = Fastify({
    loggerInstance: log.child({ module: "api" }) as FastifyBaseLogger,
    // Request lines would carry query strings (a camera's ?secret=) and plates: we log our own summaries.
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger: with request logging off its only binding (a request id) would pair with
    // nothing, and building one costs every camera push an allocation.
    childLoggerFactory: (logger) => logger,
    bodyLimit: 1024 * 1024,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation) {
      const where = err.validationContext ?? "request";
      return reply.code(400).send({
        statusCode: 400,
        error: "Bad Request",
        message: `${where}${err.message.slice(where.length)}`,
      });
    }
    const mapped = mapDomainError(err);
    if (mapped)
      return reply.code(mapped).send({
        statusCode: mapped,
        error: statusText(mapped),
        message: err.message,
        // A definition's problems one by one, each starting with its JSON path (also joined in `message`).
        ...(err instanceof ConfigError ? { problems: err.problems } : {}),
      });
    const code = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (code >= 500) {
      req.log.error({ err, url: req.routeOptions.url }, "request failed");
      return reply.code(code).send({
        statusCode: code,
        error: statusText(code),
        message: "internal error; see the controller log",
      });
    }
    return reply.code(code).send({ statusCode: code, error: statusText(code), message: err.message });
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: "Portcullis API", version: ctx.version, description: "ANPR gate controller" },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
  });
  app.get("/api/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  // Public: probes and cameras have no admin token (a camera is identified by its own secret or address).
  await app.register(healthRoutes(ctx), { prefix: "/api/v1" });
  await app.register(ingestRoutes(ctx), { prefix: "/api/v1" });
  // Every other /api/v1 route is registered in this scope, whose hook demands the admin token: a route is
  // protected by where it is declared, so no spelling of a path can slip past, and camera pushes never
  // run the check.
  await app.register(
    async (admin) => {
      admin.addHook("onRequest", (req, reply, done) => {
        if (ctx.checkToken(bearerToken(req.headers.authorization))) return done();
        reply.code(401).header("www-authenticate", 'Bearer realm="portcullis"').send({
          statusCode: 401,
          error: "Unauthorized",
          message: "a valid admin bearer token is required",
        });
      });
      for (const routes of [
        listRoutes,
        eventRoutes,
        laneRoutes,
        ioRoutes,
        auditRoutes,
        cameraRoutes,
        outboxRoutes,
        decideRoutes,
        scheduleRoutes,
        actionRoutes,
        zoneRoutes,
        approvalRoutes,
      ])
        await admin.register(routes(ctx));
    },
    { prefix: "/api/v1" },
  );

  if (ctx.uiDir && existsSync(ctx.uiDir)) await app.register(fastifyStatic, { root: ctx.uiDir, prefix: "/" });
  else
    app.get("/", { schema: { hide: true } }, async (_req, reply) =>
      reply
        .type("text/plain")
        .send("Portcullis is running; the panel has not been built (npm run build:ui).\n"),
    );

  return app;
}

function mapDomainError(err: Error): number | null {
  if (err instanceof NotFoundError) return 404;
  if (err instanceof ConfigError) return 400;
  if (err instanceof ConflictError) return 409;
  if (err instanceof PlateError || err instanceof RangeError) return 400;
  return null;
}

function statusText(code: number): string {
  return (
    {
      400: "Bad Request",
      401: "Unauthorized",
      404: "Not Found",
      409: "Conflict",
      413: "Payload Too Large",
      415: "Unsupported Media Type",
      422: "Unprocessable Entity",
    }[code] ?? (code >= 500 ? "Internal Server Error" : "Error")
  );
}
