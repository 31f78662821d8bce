/**
 * Schedules and holiday calendars: create, replace and delete them without a restart (decisions use the
 * change at once), see who uses each, and ask whether a schedule is active now (or at any time) and why.
 * Bodies are checked by the schedule module, which reports every problem with its path in one 400.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { explain, nextChange } from "../../domain/schedule.js";
import { NotFoundError } from "../../store/lists-repo.js";
import type { HolidayCalendarRecord, ScheduleRecord } from "../../store/schedules-repo.js";
import type { ApiContext } from "../context.js";
import { Iso } from "../schemas.js";

const NameParam = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });

const ScheduleView = Type.Object({
  name: Type.String(),
  windows: Type.Array(
    Type.Object({
      days: Type.Array(Type.Union([Type.String(), Type.Integer()])),
      from: Type.String(),
      to: Type.String(),
    }),
  ),
  holidays: Type.Array(Type.String(), {
    description: "holiday calendars whose dates override the weekly windows",
  }),
  usedBy: Type.Array(Type.String(), { description: "lists, entries and site actions bound to it" }),
  createdAt: Iso,
  updatedAt: Iso,
});

const CalendarView = Type.Object({
  name: Type.String(),
  dates: Type.Array(
    Type.Object({
      date: Type.String(),
      name: Type.Optional(Type.String()),
      windows: Type.Array(Type.Object({ from: Type.String(), to: Type.String() })),
    }),
  ),
  usedBy: Type.Array(Type.String(), { description: "schedules naming it" }),
  createdAt: Iso,
  updatedAt: Iso,
});

// Bodies are checked by the schedule module (scheduleProblems), not here: it names every problem at once,
// with its path and what to write instead ("'25:00' is not a time: hours run 00–23").
const ScheduleBody = Type.Record(Type.String(), Type.Unknown(), {
  description:
    'a schedule: { "name", "windows": [{ "days": ["mon", …] or 0–7, "from": "HH:MM", "to": "HH:MM" (24:00 = end of day; earlier than from = past midnight) }], "holidays": [calendar names] }',
});

const CalendarBody = Type.Record(Type.String(), Type.Unknown(), {
  description:
    'a holiday calendar: { "name", "dates": [{ "date": "YYYY-MM-DD", "name"?, "windows": [{ "from", "to" }] (none = closed all day) }] }',
});

const NowReply = Type.Object({
  name: Type.String(),
  at: Iso,
  timeZone: Type.String(),
  active: Type.Boolean(),
  why: Type.String({ description: "one sentence: the window or holiday that decided" }),
  explanation: Type.Unknown({ description: "by, local date/weekday/time, window or holiday" }),
  nextChange: Type.Union([Iso, Type.Null()], {
    description: "when it next turns the other way; null = never",
  }),
});

const iso = (ms: number): string => new Date(ms).toISOString();

export const scheduleRoutes =
  (ctx: ApiContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    const repo = ctx.schedules;
    const scheduleView = (s: ScheduleRecord) => ({
      name: s.name,
      windows: s.windows,
      holidays: s.holidays,
      usedBy: repo.scheduleUsers(s.name),
      createdAt: iso(s.createdAt),
      updatedAt: iso(s.updatedAt),
    });
    const calendarView = (c: HolidayCalendarRecord) => ({
      name: c.name,
      dates: c.dates,
      usedBy: repo.calendarUsers(c.name),
      createdAt: iso(c.createdAt),
      updatedAt: iso(c.updatedAt),
    });
    const audit = (action: string, target: string, detail?: unknown) =>
      ctx.audit.record({ at: ctx.clock.now(), actor: "admin", action, target, detail });

    // ─── Schedules ───────────────────────────────────────────────────────────────────────────────────────

    app.get(
      "/schedules",
      {
        schema: {
          summary: "Every schedule, with who uses it",
          response: { 200: Type.Object({ items: Type.Array(ScheduleView) }) },
        },
      },
      async () => ({ items: repo.schedules().map(scheduleView) }),
    );

    app.post(
      "/schedules",
      {
        schema: {
          summary: "Create a schedule (400 lists every problem with its path; 409 if the name is taken)",
          body: ScheduleBody,
          response: { 201: ScheduleView },
        },
      },
      async (req, reply) => {
        const created = repo.createSchedule(req.body, ctx.clock.now());
        audit("schedule.create", `schedule:${created.name}`, req.body);
        return reply.code(201).send(scheduleView(created));
      },
    );

    app.get(
      "/schedules/:name",
      { schema: { summary: "One schedule", params: NameParam, response: { 200: ScheduleView } } },
      async (req) => scheduleView(repo.schedule(req.params.name)),
    );

    app.put(
      "/schedules/:name",
      {
        schema: {
          summary: "Replace a schedule's windows and calendars (or create it); decisions use it at once",
          params: NameParam,
          body: ScheduleBody,
          response: { 200: ScheduleView, 201: ScheduleView },
        },
      },
      async (req, reply) => {
        const { record, created } = repo.putSchedule(req.params.name, req.body, ctx.clock.now());
        audit(created ? "schedule.create" : "schedule.update", `schedule:${record.name}`, req.body);
        return reply.code(created ? 201 : 200).send(scheduleView(record));
      },
    );

    app.delete(
      "/schedules/:name",
      {
        schema: {
          summary: "Delete a schedule (409 naming its users while a list, entry or action uses it)",
          params: NameParam,
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        repo.deleteSchedule(req.params.name);
        audit("schedule.delete", `schedule:${req.params.name}`);
        return reply.code(204).send(null);
      },
    );

    app.get(
      "/schedules/:name/now",
      {
        schema: {
          summary: "Whether the schedule is active now (or at `at`), why, and when that next changes",
          params: NameParam,
          querystring: Type.Object(
            { at: Type.Optional(Type.String({ format: "date-time", description: "default: now" })) },
            { additionalProperties: false },
          ),
          response: { 200: NowReply },
        },
      },
      async (req) => {
        const name = req.params.name;
        const book = ctx.lists.scheduleBook();
        const entry = book.byName.get(name);
        if (!entry) throw new NotFoundError(`schedule '${name}' does not exist`);
        const at = req.query.at ? Date.parse(req.query.at) : ctx.clock.now();
        const why = explain(entry.schedule, entry.holidays, at, book.timeZone);
        const next = nextChange(entry.schedule, entry.holidays, at, book.timeZone);
        return {
          name,
          at: iso(at),
          timeZone: book.timeZone,
          active: why.active,
          why: why.reason,
          explanation: why,
          nextChange: next === null ? null : iso(next),
        };
      },
    );

    // ─── Holiday calendars ───────────────────────────────────────────────────────────────────────────────

    app.get(
      "/holiday-calendars",
      {
        schema: {
          summary: "Every holiday calendar, with the schedules naming it",
          response: { 200: Type.Object({ items: Type.Array(CalendarView) }) },
        },
      },
      async () => ({ items: repo.calendars().map(calendarView) }),
    );

    app.post(
      "/holiday-calendars",
      {
        schema: {
          summary:
            "Create a holiday calendar (400 lists every problem with its path; 409 if the name is taken)",
          body: CalendarBody,
          response: { 201: CalendarView },
        },
      },
      async (req, reply) => {
        const created = repo.createCalendar(req.body, ctx.clock.now());
        audit("holiday-calendar.create", `holiday-calendar:${created.name}`, req.body);
        return reply.code(201).send(calendarView(created));
      },
    );

    app.get(
      "/holiday-calendars/:name",
      { schema: { summary: "One holiday calendar", params: NameParam, response: { 200: CalendarView } } },
      async (req) => calendarView(repo.calendar(req.params.name)),
    );

    app.put(
      "/holiday-calendars/:name",
      {
        schema: {
          summary: "Replace a holiday calendar's dates (or create it); schedules naming it use them at once",
          params: NameParam,
          body: CalendarBody,
          response: { 200: CalendarView, 201: CalendarView },
        },
      },
      async (req, reply) => {
        const { record, created } = repo.putCalendar(req.params.name, req.body, ctx.clock.now());
        audit(
          created ? "holiday-calendar.create" : "holiday-calendar.update",
          `holiday-calendar:${record.name}`,
          req.body,
        );
        return reply.code(created ? 201 : 200).send(calendarView(record));
      },
    );

    app.delete(
      "/holiday-calendars/:name",
      {
        schema: {
          summary: "Delete a holiday calendar (409 naming the schedules that use it)",
          params: NameParam,
          response: { 204: Type.Null() },
        },
      },
      async (req, reply) => {
        repo.deleteCalendar(req.params.name);
        audit("holiday-calendar.delete", `holiday-calendar:${req.params.name}`);
        return reply.code(204).send(null);
      },
    );
  };
