/**
 * The site configuration: I/O pins, lanes, cameras, filters and actions. It is the single source of truth
 * for these: defaults, bounds and descriptions live in this schema, and unknown keys are rejected.
 * Lists and their entries live in the database and are managed through the API.
 */
import { type Static, Type } from "typebox";
import { WIEGAND_DEFAULTS, WIEGAND_LIMITS, wiegandTimingProblems } from "../../hal/wiegand.js";
import { ACTION_SCHEMA, actionProblems } from "../actions/registry.js";
import { wiegandActionProblems } from "../actions/wiegand.js";
import { SerialBarrierSchema } from "../barrier/serial.js";
import {
  HolidayCalendarSchema,
  ScheduleSchema,
  scheduleProblems,
  timeZoneProblem,
} from "../domain/schedule.js";
import { cameraProblems } from "../ingest/registry.js";
import { ConfigError, checker } from "./validate.js";

const Name = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$" });

const Output = Type.Object(
  {
    name: Name,
    pin: Type.Integer({
      minimum: 0,
      maximum: 1023,
      description: "BCM GPIO number (onoff) or any unique number (sim)",
    }),
    activeLow: Type.Boolean({ default: false, description: "the pin energises the relay with a low level" }),
    contact: Type.Union([Type.Literal("NO"), Type.Literal("NC")], {
      default: "NO",
      description: "relay contact wired to the barrier",
    }),
    safeActive: Type.Boolean({ default: false, description: "logical state at boot and on exit" }),
  },
  { additionalProperties: false },
);

const Input = Type.Object(
  {
    name: Name,
    pin: Type.Integer({ minimum: 0, maximum: 1023 }),
    activeLow: Type.Boolean({ default: true, description: "dry contact pulling the pin low when active" }),
    debounceMs: Type.Integer({ minimum: 0, maximum: 10_000, default: 50 }),
  },
  { additionalProperties: false },
);

const Ms = (fallback: number, description: string, minimum = 1) =>
  Type.Integer({ minimum, maximum: 600_000, default: fallback, description });

/** A lane and its barrier (firmware/barrier/barrier.ts). Every output and input named here must exist. */
const Lane = Type.Object(
  {
    id: Name,
    name: Type.String({ minLength: 1, maxLength: 64 }),
    barrierOutput: Type.Optional(
      Type.String({ description: "output pulsed to open the barrier (needed unless `serial` opens it)" }),
    ),
    presenceInput: Type.Optional(
      Type.String({
        description: "vehicle presence (safety loop) input: no close is commanded while active",
      }),
    ),
    openPulseMs: Type.Integer({
      minimum: 1,
      maximum: 60_000,
      default: 500,
      description: "barrier open pulse width",
    }),
    closeOutput: Type.Optional(
      Type.String({ description: "output pulsed to close the barrier, where the barrier has a close input" }),
    ),
    closePulseMs: Ms(500, "barrier close pulse width"),
    holdOutput: Type.Optional(
      Type.String({
        description:
          "output wired to the barrier's 'hold open' input; default: hold keeps barrierOutput made",
      }),
    ),
    holdPulseMs: Ms(
      2000,
      "hold open is a pulse of this width re-asserted every third of it while the controller runs, so a dead process cannot leave the relay latched",
      30,
    ),
    openLimitInput: Type.Optional(
      Type.String({ description: "limit switch active when the arm is fully open" }),
    ),
    closedLimitInput: Type.Optional(
      Type.String({ description: "limit switch active when the arm is fully closed" }),
    ),
    buttonInput: Type.Optional(
      Type.String({ description: "manual open button (opens; audited as actor 'button')" }),
    ),
    autoClose: Type.Boolean({
      default: false,
      description:
        "close (closeOutput or serial close) once the vehicle has passed; off for barriers that close by themselves",
    }),
    closeDelayMs: Ms(1000, "a close waits this long after the presence loop cleared", 0),
    vehicleWaitMs: Ms(30_000, "an opened barrier waits this long for the vehicle it was opened for"),
    openTimeoutMs: Ms(
      8000,
      "fault when the open limit (or serial status) does not report open this long after an open",
    ),
    travelMs: Ms(
      4000,
      "without limit switches, the arm is assumed open/closed this long after it starts moving",
    ),
    serial: Type.Optional(SerialBarrierSchema),
  },
  { additionalProperties: false },
);

const Movement = Type.Union([Type.Literal("entry"), Type.Literal("exit")]);

/** A lane leading into and out of a zone. */
const ZoneLane = Type.Object(
  {
    lane: Type.String({ minLength: 1, description: "the lane's id" }),
    direction: Type.Union([Type.Literal("entry"), Type.Literal("exit"), Type.Literal("both")], {
      default: "both",
      description:
        "whether vehicles on this lane enter or leave the zone; `both`: the camera's role decides, else the read's direction",
    }),
    countBy: Type.Union([Type.Literal("decision"), Type.Literal("loop")], {
      default: "decision",
      description:
        "what changes the occupancy count: each passage the barrier opened for, or each vehicle that crossed the lane's presence loop (tailgaters counted, no-shows not); `loop` needs a presenceInput and direction entry or exit",
    }),
  },
  { additionalProperties: false },
);

/** A counting loop on its own (a free exit, a lane without a camera): every vehicle crossing it counts. */
const ZoneLoop = Type.Object(
  {
    input: Type.String({ minLength: 1, description: "the loop detector input (of `inputs`)" }),
    movement: Movement,
  },
  { additionalProperties: false },
);

/**
 * The settings of a zone (firmware/domain/presence.ts), without its name: what the API's PUT takes. Lanes and
 * loops are zero or more; a lane belongs to one zone at most.
 */
export const ZoneSettingsSchema = Type.Object(
  {
    capacity: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 100_000,
        description: "vehicles the zone holds; absent: unlimited",
      }),
    ),
    countVisitorsOnly: Type.Boolean({
      default: false,
      description: "count only plates not on an allow list (capacity then means visitor spaces)",
    }),
    antiPassback: Type.Union([Type.Literal("off"), Type.Literal("soft"), Type.Literal("hard")], {
      default: "off",
      description: "a second entry without an exit: soft = allow, flag and audit; hard = deny; off = ignore",
    }),
    resetAfterMs: Type.Integer({
      minimum: 1000,
      maximum: 31 * 86_400_000,
      default: 86_400_000,
      description:
        "a plate marked inside is forgotten this long after it entered (timed anti-passback reset)",
    }),
    fullDenies: Type.Union([Type.Literal("visitors"), Type.Literal("all"), Type.Literal("none")], {
      default: "visitors",
      description:
        "when the count reaches capacity, deny entries of plates not on an allow list, of all, or none",
    }),
    lanes: Type.Array(ZoneLane, {
      default: [],
      description: "lanes leading into and out of the zone: their decisions track presence and occupancy",
    }),
    loops: Type.Array(ZoneLoop, {
      default: [],
      description: "loop inputs that count vehicles into or out of the zone without a decision",
    }),
  },
  { additionalProperties: false },
);

const ZONE_NAME = Type.String({ minLength: 1, maxLength: 64, pattern: "^[^/?#%]+$" });

/** A zone: where presence (anti-passback) and occupancy are kept. */
export const ZoneSchema = Type.Object(
  { name: ZONE_NAME, ...ZoneSettingsSchema.properties },
  { additionalProperties: false },
);

/**
 * A camera. `protocol` names an adapter in firmware/ingest/registry.ts; a link protocol (the controller
 * connects to the camera or listens for it) takes its host, port, credentials and timings in `connection`,
 * checked against that adapter's own schema.
 */
export const CameraSchema = Type.Object(
  {
    id: Name,
    name: Type.Optional(Type.String({ maxLength: 64 })),
    protocol: Type.String({
      minLength: 1,
      description:
        "how the camera sends reads (see the README's camera table); every camera may also use the generic webhook",
    }),
    lane: Type.String(),
    role: Type.Union([Type.Literal("entry"), Type.Literal("exit"), Type.Literal("both")], {
      default: "both",
      description: "whether the camera watches vehicles entering, leaving, or both",
    }),
    channel: Type.Integer({
      minimum: 1,
      maximum: 99,
      default: 1,
      description: "channel number used in snapshot file names",
    }),
    addresses: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: "source IP addresses this camera pushes from",
    }),
    secret: Type.Optional(
      Type.String({
        minLength: 16,
        description: "per-camera secret: X-Camera-Secret header, basic auth password or ?secret=",
      }),
    ),
    connection: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: "link protocols only: host, port, credentials and timings, as the protocol defines",
      }),
    ),
    enabled: Type.Boolean({ default: true }),
  },
  { additionalProperties: false },
);

/** A Wiegand output (hal/wiegand.ts) on two of the site's outputs; `wiegand` actions name it. */
const WiegandDevice = Type.Object(
  {
    name: Name,
    d0: Type.String({
      description: "output of the D0 line (a pulse = the line pulled low = logical active)",
    }),
    d1: Type.String({ description: "output of the D1 line" }),
    pulseUs: Type.Integer({
      minimum: WIEGAND_LIMITS.pulseUs.min,
      maximum: WIEGAND_LIMITS.pulseUs.max,
      default: WIEGAND_DEFAULTS.pulseUs,
      description: "pulse width, µs (SIA: 20–100)",
    }),
    intervalUs: Type.Integer({
      minimum: WIEGAND_LIMITS.intervalUs.min,
      maximum: WIEGAND_LIMITS.intervalUs.max,
      default: WIEGAND_DEFAULTS.intervalUs,
      description: "start of one pulse to start of the next, µs (SIA: 200–20 000)",
    }),
    frameGapMs: Type.Integer({
      minimum: WIEGAND_LIMITS.frameGapMs.min,
      maximum: WIEGAND_LIMITS.frameGapMs.max,
      default: WIEGAND_DEFAULTS.frameGapMs,
      description: "minimum silence between two frames, ms",
    }),
  },
  { additionalProperties: false },
);

export const SiteSchema = Type.Object(
  {
    name: Type.String({ default: "Portcullis site" }),
    systemId: Type.String({
      pattern: "^[A-Za-z0-9_-]{1,32}$",
      default: "1",
      description: "this controller's system id (SID) in snapshot paths and exports",
    }),
    timeZone: Type.String({
      default: "UTC",
      description:
        "IANA time zone of the site (e.g. Europe/Amsterdam): schedules, picture paths and camera times without an offset",
    }),
    outputs: Type.Array(Output, { default: [] }),
    inputs: Type.Array(Input, { default: [] }),
    lanes: Type.Array(Lane, { default: [] }),
    laneGroups: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 64 }),
          lanes: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: "lane ids" }),
        },
        { additionalProperties: false },
      ),
      {
        default: [],
        description: "named groups of lanes: a list entry's `lanes` may name a group instead of its lanes",
      },
    ),
    zones: Type.Array(ZoneSchema, {
      default: [],
      description: "zones with presence (anti-passback) and occupancy; lanes name their zone",
    }),
    cameras: Type.Array(CameraSchema, {
      default: [],
      description: "cameras at first start; afterwards managed through /api/v1/cameras",
    }),
    filters: Type.Object(
      {
        repeatWindowMs: Type.Integer({
          minimum: 0,
          maximum: 3_600_000,
          default: 10_000,
          description:
            "reads of the same vehicle on a lane with gaps shorter than this are one arrival and one decision",
        }),
        decideOn: Type.Union([Type.Literal("first"), Type.Literal("best-of"), Type.Literal("lost")], {
          default: "first",
          description:
            "decide on the first read, the best read within bestOfWindowMs, or when the camera reports the vehicle lost",
        }),
        bestOfWindowMs: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
        bestOfCount: Type.Integer({
          minimum: 1,
          maximum: 100,
          default: 3,
          description: "decide early at this many reads",
        }),
        lostTimeoutMs: Type.Integer({
          minimum: 1,
          maximum: 60_000,
          default: 5000,
          description: "decideOn lost: decide anyway this long after the first read",
        }),
        minConfidence: Type.Number({
          minimum: 0,
          maximum: 100,
          default: 0,
          description: "reads below are ignored",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    approval: Type.Object(
      {
        when: Type.Array(Type.Union([Type.Literal("not-in-list"), Type.Literal("fuzzy")]), {
          default: [],
          uniqueItems: true,
          description:
            "ask the operator instead of deciding: not-in-list = plates on no list in force; fuzzy = an allow decided by a fuzzy match. Empty (default): never ask",
        }),
        lanes: Type.Optional(
          Type.Array(Type.String({ minLength: 1 }), {
            description: "only on these lanes (default: every lane)",
          }),
        ),
        timeoutMs: Type.Integer({
          minimum: 100,
          maximum: 3_600_000,
          default: 60_000,
          description: "an unanswered request is resolved with onTimeout after this long",
        }),
        onTimeout: Type.Union([Type.Literal("deny"), Type.Literal("allow")], {
          default: "deny",
          description: "the outcome of an unanswered request (allow opens the barrier)",
        }),
        passList: Type.Optional(
          Type.String({
            minLength: 1,
            description: "name of the allow list 'approve and add a pass' adds the plate to",
          }),
        ),
        passHours: Type.Number({
          minimum: 0.25,
          maximum: 8760,
          default: 8,
          description: "default validity of such a pass, hours",
        }),
      },
      {
        additionalProperties: false,
        default: {},
        description: "operator approval: which reads wait for the operator (panel, live socket, API)",
      },
    ),
    actions: Type.Array(ACTION_SCHEMA, {
      default: [{ on: { result: "allow" }, do: { type: "barrier-open" } }],
      description: "what each decision drives; by default an allowed plate opens its lane's barrier",
    }),
    wiegand: Type.Array(WiegandDevice, { default: [], description: "Wiegand outputs to access panels" }),
    seedLists: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 64 }),
          kind: Type.Union([Type.Literal("allow"), Type.Literal("block"), Type.Literal("custom")]),
          plates: Type.Array(Type.String(), { default: [], description: "entries added with the list" }),
          schedule: Type.Optional(
            Type.String({
              description: "the list is in force only while this schedule (of `schedules`) is active",
            }),
          ),
        },
        { additionalProperties: false },
      ),
      { default: [], description: "lists created at first start when the database has none" },
    ),
    holidayCalendars: Type.Array(HolidayCalendarSchema, {
      default: [],
      description:
        "holiday calendars created at the first start with them; afterwards managed through /api/v1/holiday-calendars",
    }),
    schedules: Type.Array(ScheduleSchema, {
      default: [],
      description:
        "schedules (weekly windows in the site's time zone, holiday calendars on top) created at the first start with them; afterwards managed through /api/v1/schedules",
    }),
  },
  { additionalProperties: false },
);

export type SiteConfig = Static<typeof SiteSchema>;
export type CameraConfig = SiteConfig["cameras"][number];
export type LaneConfig = SiteConfig["lanes"][number];
export type ZoneConfig = SiteConfig["zones"][number];
export type ApprovalConfig = SiteConfig["approval"];

const siteChecker = checker(SiteSchema);

/** Validate a site config, including the cross-references a schema cannot express. */
export function parseSite(value: unknown, source: string): SiteConfig {
  const site = siteChecker.parse(value, source);
  const problems: string[] = [];
  const outputs = new Set(site.outputs.map((o) => o.name));
  const inputs = new Set(site.inputs.map((i) => i.name));
  const lanes = new Set<string>();
  for (const [i, lane] of site.lanes.entries()) {
    if (lanes.has(lane.id)) problems.push(`/lanes/${i}/id '${lane.id}' is used twice`);
    lanes.add(lane.id);
    problems.push(...laneProblems(lane, `/lanes/${i}`, outputs, inputs));
  }
  for (const [i, zone] of site.zones.entries())
    problems.push(
      ...zoneProblems(zone, `/zones/${i}`, site.zones.slice(0, i), {
        lanes: new Map(site.lanes.map((l) => [l.id, l])),
        inputs,
      }),
    );
  problems.push(...laneGroupProblems(site, lanes));
  for (const [i, camera] of site.cameras.entries())
    problems.push(...cameraProblems(camera, `/cameras/${i}`, site.cameras.slice(0, i), lanes));
  for (const [i, action] of site.actions.entries()) {
    if ("output" in action.do && !outputs.has(action.do.output))
      problems.push(`/actions/${i}/do/output '${action.do.output}' is not among outputs`);
    for (const lane of action.lanes ?? [])
      if (!lanes.has(lane)) problems.push(`/actions/${i}/lanes '${lane}' is not among lanes`);
  }
  problems.push(...actionProblems(site.actions));
  for (const lane of site.approval.lanes ?? [])
    if (!lanes.has(lane)) problems.push(`/approval/lanes '${lane}' is not among lanes`);
  problems.push(...siteScheduleProblems(site));
  problems.push(...wiegandProblems(site));
  if (problems.length) throw new ConfigError(source, problems);
  return site;
}

/**
 * A zone's cross-references (every problem, with its path): a name not used by `others`, known lanes each in
 * one zone only, known inputs, and what counting by loop needs. The API checks a zone it is given the same way.
 */
export function zoneProblems(
  zone: ZoneConfig,
  path: string,
  others: readonly ZoneConfig[],
  site: { lanes: ReadonlyMap<string, LaneConfig>; inputs: ReadonlySet<string> },
): string[] {
  const problems: string[] = [];
  if (others.some((z) => z.name === zone.name)) problems.push(`${path}/name '${zone.name}' is used twice`);
  const countsByLoop = zone.loops.length > 0 || zone.lanes.some((l) => l.countBy === "loop");
  if (countsByLoop && zone.countVisitorsOnly)
    problems.push(
      `${path}/countVisitorsOnly cannot be used with loop counting: a loop cannot tell a visitor`,
    );
  const seen = new Set<string>();
  for (const [j, entry] of zone.lanes.entries()) {
    const at = `${path}/lanes/${j}/lane '${entry.lane}'`;
    const lane = site.lanes.get(entry.lane);
    if (!lane) {
      problems.push(`${at} is not among lanes`);
      continue;
    }
    if (seen.has(entry.lane)) problems.push(`${at} is listed twice`);
    seen.add(entry.lane);
    const owner = others.find((z) => z.lanes.some((l) => l.lane === entry.lane));
    if (owner) problems.push(`${at} already belongs to zone '${owner.name}'`);
    if (entry.countBy === "loop") {
      if (lane.presenceInput === undefined)
        problems.push(`${path}/lanes/${j}/countBy 'loop' needs a presenceInput on lane '${entry.lane}'`);
      if (entry.direction === "both")
        problems.push(`${path}/lanes/${j}/countBy 'loop' needs direction 'entry' or 'exit'`);
    }
  }
  for (const [j, loop] of zone.loops.entries())
    if (!site.inputs.has(loop.input))
      problems.push(`${path}/loops/${j}/input '${loop.input}' is not among inputs`);
  return problems;
}

/** Lane groups: unique names that are not also lane ids (an entry's `lanes` names either), known lanes. */
function laneGroupProblems(site: SiteConfig, lanes: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const [i, group] of site.laneGroups.entries()) {
    const path = `/laneGroups/${i}`;
    if (names.has(group.name)) problems.push(`${path}/name '${group.name}' is used twice`);
    if (lanes.has(group.name)) problems.push(`${path}/name '${group.name}' is also a lane id`);
    names.add(group.name);
    for (const [j, lane] of group.lanes.entries())
      if (!lanes.has(lane)) problems.push(`${path}/lanes/${j} '${lane}' is not among lanes`);
  }
  return problems;
}

/**
 * The time zone, the seed schedules and calendars (every problem, with its path in the site file), and seed
 * lists naming a seed schedule. An action's schedule may also live in the database: checked at start.
 */
function siteScheduleProblems(site: SiteConfig): string[] {
  const zone = timeZoneProblem(site.timeZone, "/timeZone");
  const problems = zone ? [zone] : [];
  problems.push(...scheduleProblems({ holidayCalendars: site.holidayCalendars, schedules: site.schedules }));
  const names = new Set(site.schedules.map((s) => s.name.trim()));
  for (const [i, seed] of site.seedLists.entries())
    if (seed.schedule !== undefined && !names.has(seed.schedule))
      problems.push(`/seedLists/${i}/schedule '${seed.schedule}' is not among schedules`);
  return problems;
}

/** A lane's cross-references and combinations: named I/O exists, one role per pin, and what autoClose needs. */
function laneProblems(lane: LaneConfig, path: string, outputs: Set<string>, inputs: Set<string>): string[] {
  const problems: string[] = [];
  const check = (keys: readonly (keyof LaneConfig)[], known: Set<string>, kind: string) => {
    const seen = new Map<string, string>();
    for (const key of keys) {
      const name = lane[key] as string | undefined;
      if (name === undefined) continue;
      if (!known.has(name)) problems.push(`${path}/${key} '${name}' is not among ${kind}`);
      const other = seen.get(name);
      if (other) problems.push(`${path}/${key} '${name}' is already the lane's ${other}`);
      seen.set(name, key);
    }
  };
  check(["barrierOutput", "closeOutput", "holdOutput"], outputs, "outputs");
  check(["presenceInput", "openLimitInput", "closedLimitInput", "buttonInput"], inputs, "inputs");
  if (lane.barrierOutput === undefined && lane.serial === undefined)
    problems.push(`${path} needs a barrierOutput or a serial barrier controller to open with`);
  if (lane.autoClose) {
    if (lane.closeOutput === undefined && lane.serial?.close === undefined)
      problems.push(`${path}/autoClose needs a closeOutput or a serial close command`);
    if (lane.presenceInput === undefined)
      problems.push(`${path}/autoClose needs a presenceInput (it closes after the vehicle has passed)`);
  }
  return problems;
}

/**
 * The embedded demo site `npm start` runs when no site file is given: lane 1 with a barrier relay and a
 * presence loop, one camera accepting pushes from this machine, an Allow and a Block list.
 */
export function demoSite(): SiteConfig {
  return parseSite(
    {
      name: "Demo site",
      outputs: [{ name: "lane1.barrier", pin: 17 }],
      inputs: [{ name: "lane1.presence", pin: 27 }],
      lanes: [{ id: "1", name: "Lane 1", barrierOutput: "lane1.barrier", presenceInput: "lane1.presence" }],
      cameras: [
        {
          id: "cam1",
          name: "Entry camera",
          protocol: "milesight-http",
          lane: "1",
          addresses: ["127.0.0.1", "::1"],
        },
      ],
      seedLists: [
        { name: "Allow", kind: "allow", plates: ["AB123CD", "MÜ-PC 1234", "KA 777"] },
        { name: "Block", kind: "block", plates: ["XY999ZZ"] },
      ],
    },
    "demo site",
  );
}

/** Wiegand devices: lines among the outputs (idle when safe), one device per line; actions name a device. */
function wiegandProblems(site: SiteConfig): string[] {
  const problems: string[] = [];
  const devices = new Set<string>();
  const lines = new Map<string, string>();
  for (const [i, device] of site.wiegand.entries()) {
    const path = `/wiegand/${i}`;
    if (devices.has(device.name)) problems.push(`${path}/name '${device.name}' is used twice`);
    devices.add(device.name);
    for (const key of ["d0", "d1"] as const) {
      const name = device[key];
      const output = site.outputs.find((o) => o.name === name);
      if (!output) problems.push(`${path}/${key} '${name}' is not among outputs`);
      else if (output.safeActive) problems.push(`${path}/${key} '${name}' must have safeActive false (idle)`);
      const user = lines.get(name);
      if (user) problems.push(`${path}/${key} '${name}' is already ${user}`);
      lines.set(name, `${key} of Wiegand device '${device.name}'`);
    }
    problems.push(...wiegandTimingProblems(device.name, device).map((p) => `${path}: ${p}`));
  }
  for (const [i, action] of site.actions.entries()) {
    if (action.do.type !== "wiegand") continue;
    if (!devices.has(action.do.device))
      problems.push(`/actions/${i}/do/device '${action.do.device}' is not among wiegand devices`);
    problems.push(...wiegandActionProblems(action.do, `/actions/${i}/do`));
  }
  return problems;
}
