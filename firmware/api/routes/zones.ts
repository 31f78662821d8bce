/**
 * Zones: their settings (created, changed and deleted here; seeded once from the site file), occupancy and
 * who is inside. Plates are personal data: every route needs the admin token, and nothing here logs a plate.
 * Setting changes, manual resets and corrections are audited (the audit trail is in the database, not the log).
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { type ZoneConfig, ZoneSchema, ZoneSettingsSchema, zoneProblems } from "../../config/site.js";
import { ConfigError } from "../../config/validate.js";
import { MAX_PLATE_LENGTH, normalisePlate } from "../../domain/plate.js";
import { ConflictError, NotFoundError } from "../../store/lists-repo.js";
import type { ApiContext } from "../context.js";
import { Iso } from "../schemas.js";

const ZoneParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });
const PlateParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64 }),
  plate: Type.String({ minLength: 1, maxLength: MAX_PLATE_LENGTH * 3 }),
});

const ZoneView = Type.Object({
  name: Type.String(),
  count: Type.Integer({ description: "entries − exits of passages the barrier opened for, never below 0" }),
  capacity: Type.Union([Type.Integer(), Type.Null()]),
  full: Type.Boolean(),
  inside: Type.Integer({ description: "plates marked inside (anti-passback), not yet forgotten" }),
  antiPassback: Type.Union([Type.Literal("off"), Type.Literal("soft"), Type.Literal("hard")]),
  resetAfterMs: Type.Integer(),
  fullDenies: Type.Union([Type.Literal("visitors"), Type.Literal("all"), Type.Literal("none")]),
  countVisitorsOnly: Type.Boolean(),
  lanes: ZoneSettingsSchema.properties.lanes,
  loops: ZoneSettingsSchema.properties.loops,
});

const Reason = Type.Optional(
  Type.Object({ reason: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }),
);

export const zoneRoutes =
  (ctx: ApiContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    const audit = (zone: string, action: string, detail: object) =>
      ctx.audit.record({ at: ctx.clock.now(), actor: "admin", action, target: `zone:${zone}`, detail }).id;

    app.get(
      "/zones",
      {
        schema: {
          summary: "Every zone: occupancy, capacity and its presence policy",
          response: { 200: Type.Object({ items: Type.Array(ZoneView) }) },
        },
      },
      async () => ({ items: ctx.presence.views(ctx.clock.now()) }),
    );

    /** The zone's cross-references against the site's lanes and inputs and the other zones; 400 listing each. */
    const checked = (zone: ZoneConfig, source: string): ZoneConfig => {
      const others = ctx.presence.configs().filter((z) => z.name !== zone.name);
      const problems = zoneProblems(zone, "", others, {
        lanes: new Map(ctx.site.lanes.map((l) => [l.id, l])),
        inputs: new Set(ctx.site.inputs.map((i) => i.name)),
      });
      if (problems.length) throw new ConfigError(source, problems);
      return zone;
    };
    const changed = (name: string, action: string, from: ZoneConfig | null, to: ZoneConfig | null) => {
      const now = ctx.clock.now();
      if (to) ctx.presence.put(to, now);
      else ctx.presence.delete(name);
      return audit(name, action, { from, to });
    };

    app.get(
      "/zones/:name",
      {
        schema: {
          summary: "One zone: occupancy, capacity, its presence policy, lanes and loops",
          params: ZoneParams,
          response: { 200: ZoneView },
        },
      },
      async (req) => ctx.presence.zoneView(req.params.name, ctx.clock.now()),
    );

    app.post(
      "/zones",
      {
        schema: {
          summary: "Create a zone (audited); its lanes then track presence and occupancy from the next read",
          body: ZoneSchema,
          response: { 201: Type.Object({ zone: ZoneView, auditId: Type.Integer() }) },
        },
      },
      async (req, reply) => {
        if (ctx.presence.policy(req.body.name))
          throw new ConflictError(`zone '${req.body.name}' already exists; change it with PUT`);
        const zone = checked(req.body, "body");
        const auditId = changed(zone.name, "zone.create", null, zone);
        reply.code(201);
        return { zone: ctx.presence.zoneView(zone.name, ctx.clock.now()), auditId };
      },
    );

    app.put(
      "/zones/:name",
      {
        schema: {
          summary:
            "Change a zone's settings (audited); its count and the plates inside are kept, the next read uses the new settings",
          params: ZoneParams,
          body: ZoneSettingsSchema,
          response: { 200: Type.Object({ zone: ZoneView, auditId: Type.Integer() }) },
        },
      },
      async (req) => {
        const name = ctx.presence.zoneView(req.params.name, ctx.clock.now()).name;
        const before = ctx.presence.configs().find((z) => z.name === name) ?? null;
        const zone = checked({ name, ...req.body }, "body");
        const auditId = changed(name, "zone.update", before, zone);
        return { zone: ctx.presence.zoneView(name, ctx.clock.now()), auditId };
      },
    );

    app.delete(
      "/zones/:name",
      {
        schema: {
          summary: "Delete a zone with its count and presence (audited); its lanes no longer track presence",
          params: ZoneParams,
          response: { 200: Type.Object({ name: Type.String(), auditId: Type.Integer() }) },
        },
      },
      async (req) => {
        const name = ctx.presence.zoneView(req.params.name, ctx.clock.now()).name;
        const before = ctx.presence.configs().find((z) => z.name === name) ?? null;
        return { name, auditId: changed(name, "zone.delete", before, null) };
      },
    );

    app.get(
      "/zones/:name/presence",
      {
        schema: {
          summary: "Plates inside the zone (anti-passback state), oldest first",
          params: ZoneParams,
          querystring: Type.Object(
            { plate: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_PLATE_LENGTH * 3 })) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              zone: Type.String(),
              items: Type.Array(
                Type.Object({
                  plate: Type.String(),
                  enteredAt: Iso,
                  laneId: Type.Union([Type.String(), Type.Null()]),
                  forgottenAt: Iso,
                }),
              ),
            }),
          },
        },
      },
      async (req) => {
        const now = ctx.clock.now();
        const zone = ctx.presence.zoneView(req.params.name, now);
        const filter = req.query.plate ? normalisePlate(req.query.plate).normalised : undefined;
        return {
          zone: zone.name,
          items: ctx.presence.inside(zone.name, now, filter).map((r) => ({
            plate: r.plate,
            enteredAt: new Date(r.enteredAt).toISOString(),
            laneId: r.laneId,
            forgottenAt: new Date(r.enteredAt + zone.resetAfterMs).toISOString(),
          })),
        };
      },
    );

    app.post(
      "/zones/:name/presence/:plate/reset",
      {
        schema: {
          summary: "Forget one plate inside the zone (manual anti-passback reset; audited)",
          params: PlateParams,
          body: Reason,
          response: {
            200: Type.Object({
              zone: Type.String(),
              plate: Type.String(),
              enteredAt: Type.Union([Iso, Type.Null()]),
              auditId: Type.Integer(),
            }),
          },
        },
      },
      async (req) => {
        const now = ctx.clock.now();
        const plate = normalisePlate(req.params.plate).normalised;
        const zone = ctx.presence.zoneView(req.params.name, now).name;
        const enteredAt = ctx.presence.reset(zone, plate, now);
        if (enteredAt === null) throw new NotFoundError(`${plate} is not inside zone '${zone}'`);
        const auditId = audit(zone, "presence.reset", {
          plate,
          enteredAt: new Date(enteredAt).toISOString(),
          reason: req.body?.reason ?? null,
        });
        return { zone, plate, enteredAt: new Date(enteredAt).toISOString(), auditId };
      },
    );

    app.delete(
      "/zones/:name/presence",
      {
        schema: {
          summary: "Forget every plate inside the zone (manual anti-passback reset; audited)",
          params: ZoneParams,
          response: {
            200: Type.Object({ zone: Type.String(), removed: Type.Integer(), auditId: Type.Integer() }),
          },
        },
      },
      async (req) => {
        const now = ctx.clock.now();
        const zone = ctx.presence.zoneView(req.params.name, now).name;
        const removed = ctx.presence.clear(zone, now);
        return { zone, removed, auditId: audit(zone, "presence.reset-all", { removed }) };
      },
    );

    app.put(
      "/zones/:name/occupancy",
      {
        schema: {
          summary: "Correct the zone's occupancy count by hand (audited, announced live)",
          params: ZoneParams,
          body: Type.Object(
            {
              count: Type.Integer({ minimum: 0, maximum: 100_000 }),
              reason: Type.String({ minLength: 1, maxLength: 200 }),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ zone: ZoneView, from: Type.Integer(), auditId: Type.Integer() }) },
        },
      },
      async (req) => {
        const now = ctx.clock.now();
        const zone = ctx.presence.zoneView(req.params.name, now).name;
        const from = ctx.presence.setCount(zone, req.body.count, now);
        const auditId = audit(zone, "occupancy.correct", {
          from,
          to: req.body.count,
          reason: req.body.reason,
        });
        return { zone: ctx.presence.zoneView(zone, now), from, auditId };
      },
    );
  };
