/**
 * The site configuration: I/O pins, lanes, cameras, filters and actions. It is the single source of truth
 * for these: defaults, bounds and descriptions live in this schema, and unknown keys are rejected.
 * Lists and their entries live in the database and are managed through the API.
 */
import { type Static, Type } from "typebox";
import { ACTION_SCHEMA } from "../actions/registry.js";
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

const Lane = Type.Object(
  {
    id: Name,
    name: Type.String({ minLength: 1, maxLength: 64 }),
    barrierOutput: Type.String({ description: "output pulsed to open the barrier" }),
    presenceInput: Type.Optional(Type.String({ description: "vehicle presence (loop) input" })),
    openPulseMs: Type.Integer({
      minimum: 1,
      maximum: 60_000,
      default: 500,
      description: "barrier open pulse width",
    }),
  },
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

export const SiteSchema = Type.Object(
  {
    name: Type.String({ default: "Portcullis site" }),
    systemId: Type.String({
      pattern: "^[A-Za-z0-9_-]{1,32}$",
      default: "1",
      description: "this controller's system id (SID) in snapshot paths and exports",
    }),
    timeZone: Type.String({ default: "UTC" }),
    outputs: Type.Array(Output, { default: [] }),
    inputs: Type.Array(Input, { default: [] }),
    lanes: Type.Array(Lane, { default: [] }),
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
    actions: Type.Array(ACTION_SCHEMA, {
      default: [{ on: { result: "allow" }, do: { type: "barrier-open" } }],
      description: "what each decision drives; by default an allowed plate opens its lane's barrier",
    }),
    seedLists: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 64 }),
          kind: Type.Union([Type.Literal("allow"), Type.Literal("block"), Type.Literal("custom")]),
          plates: Type.Array(Type.String(), { default: [], description: "entries added with the list" }),
        },
        { additionalProperties: false },
      ),
      { default: [], description: "lists created at first start when the database has none" },
    ),
  },
  { additionalProperties: false },
);

export type SiteConfig = Static<typeof SiteSchema>;
export type CameraConfig = SiteConfig["cameras"][number];
export type LaneConfig = SiteConfig["lanes"][number];

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
    if (!outputs.has(lane.barrierOutput))
      problems.push(`/lanes/${i}/barrierOutput '${lane.barrierOutput}' is not among outputs`);
    if (lane.presenceInput !== undefined && !inputs.has(lane.presenceInput))
      problems.push(`/lanes/${i}/presenceInput '${lane.presenceInput}' is not among inputs`);
  }
  for (const [i, camera] of site.cameras.entries())
    problems.push(...cameraProblems(camera, `/cameras/${i}`, site.cameras.slice(0, i), lanes));
  for (const [i, action] of site.actions.entries()) {
    if ("output" in action.do && !outputs.has(action.do.output))
      problems.push(`/actions/${i}/do/output '${action.do.output}' is not among outputs`);
    for (const lane of action.lanes ?? [])
      if (!lanes.has(lane)) problems.push(`/actions/${i}/lanes '${lane}' is not among lanes`);
  }
  if (problems.length) throw new ConfigError(source, problems);
  return site;
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
