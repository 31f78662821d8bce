/**
 * `vms-bookmark`: a bookmark on a camera's timeline in Nx Witness, Hanwha Wave or DW Spectrum
 * (protocols.md §3.2; specs/001 "Integrations - Wave VMS": every read as a browsable, searchable bookmark).
 * One bookmark per decision, on the VMS camera `cameraRefs` maps the read's camera to, from `preRollMs` before
 * the read for `durationMs` in all.
 * - `api: "rest"` (default): `POST /rest/v3/devices/{cameraId}/bookmarks` with JSON
 *   `{"name","description","startTimeMs","durationMs","tags":[…]}` (CORROBORATED).
 * - `api: "legacy"`: `GET /ec2/bookmarks/add?guid=…&cameraId=…&name=…&description=…&startTime=…&duration=…`
 *   `&startTimeMs=…&durationMs=…&tag=…` (apidoc VERIFIED for startTime/duration; newer clients send
 *   startTimeMs/durationMs; which one a version reads is UNVERIFIED, so both are sent).
 * Authentication is the generic event's (nx-client.ts). The bookmark's text, times, tags and guid are fixed at
 * decision time; the VMS camera is looked up at send time, so a read from a camera without a `cameraRefs`
 * entry fails for good with a reason naming the camera, and a retry after the entry is added delivers it.
 */
import { randomUUID } from "node:crypto";
import { type Static, Type } from "typebox";
import type { EventView } from "../events.js";
import type { OutboxRow } from "../outbox/repo.js";
import { fill, placeholderHelp } from "../outbox/text.js";
import { DeliveryError, deliverySettings, type Sender } from "../outbox/types.js";
import { NxClient, type NxRequest, nxServerSettings } from "./nx-client.js";
import type { NetworkAction } from "./types.js";

export const kind = "network";

export const schema = Type.Object(
  {
    type: Type.Literal("vms-bookmark"),
    ...nxServerSettings("a VMS user allowed to edit bookmarks on the mapped cameras"),
    api: Type.Union([Type.Literal("rest"), Type.Literal("legacy")], {
      default: "rest",
      description:
        "rest: POST /rest/v3/devices/{id}/bookmarks (Nx 5.0+); legacy: GET /ec2/bookmarks/add (older servers)",
    }),
    name: Type.String({
      minLength: 1,
      maxLength: 200,
      default: "{plate}",
      description: `the bookmark's name; ${placeholderHelp}`,
    }),
    description: Type.String({
      maxLength: 1000,
      default: "{plate} {decision} on lane {lane} ({list}): {reason}",
      description: `the bookmark's description; ${placeholderHelp}`,
    }),
    tags: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
      maxItems: 20,
      default: ["ANPR", "{decision}", "{list}"],
      description: `tag templates; ${placeholderHelp}; a tag that comes out empty is left out`,
    }),
    preRollMs: Type.Integer({
      minimum: 0,
      maximum: 600_000,
      default: 5000,
      description: "the bookmark starts this long before the read",
    }),
    durationMs: Type.Integer({
      minimum: 1000,
      maximum: 3_600_000,
      default: 15_000,
      description: "the bookmark's whole length, pre-roll included",
    }),
    timeSource: Type.Union([Type.Literal("received"), Type.Literal("camera")], {
      default: "received",
      description:
        "the read's time: when the controller received it (its clock), or the camera's own time when the camera sent one",
    }),
    cameraRefs: Type.Record(Type.String(), Type.String({ minLength: 1, maxLength: 64 }), {
      minProperties: 1,
      description:
        "our camera id → the VMS camera id (uuid); a read from a camera not listed here fails with a reason",
    }),
    ...deliverySettings,
  },
  {
    additionalProperties: false,
    description: "Nx Witness / Wave / DW Spectrum bookmark on a camera's timeline",
  },
);

export type Config = Static<typeof schema>;

/** The bookmark, fixed at decision time. The VMS camera is resolved from `cameraId` when it is sent. */
export interface BookmarkPayload {
  /** Our camera id (the read's). */
  cameraId: string;
  name: string;
  description: string;
  tags: string[];
  startTimeMs: number;
  durationMs: number;
  /** The legacy API's bookmark id: one per bookmark, the same on every attempt. */
  guid: string;
}

/** What a decision becomes: the filled texts and tags, and the bookmark's span around the read's time. */
export function bookmarkPayload(
  config: Config,
  event: EventView,
  guid: string = randomUUID(),
): BookmarkPayload {
  const at =
    config.timeSource === "camera" && event.cameraTime !== null
      ? Date.parse(event.cameraTime)
      : Date.parse(event.receivedAt);
  const tags = [...new Set(config.tags.map((t) => fill(t, event).trim()).filter((t) => t !== ""))];
  return {
    cameraId: event.cameraId,
    name: fill(config.name, event),
    description: fill(config.description, event),
    tags,
    startTimeMs: at - config.preRollMs,
    durationMs: config.durationMs,
    guid,
  };
}

/**
 * The request that creates the bookmark. Throws a permanent DeliveryError when the read's camera has no
 * `cameraRefs` entry.
 */
export function bookmarkRequest(
  config: Pick<Config, "api" | "cameraRefs">,
  payload: BookmarkPayload,
): NxRequest {
  const ref = Object.hasOwn(config.cameraRefs, payload.cameraId)
    ? config.cameraRefs[payload.cameraId]
    : undefined;
  if (!ref)
    throw new DeliveryError(
      `camera '${payload.cameraId}' has no entry in cameraRefs: add its VMS camera id, then retry this message`,
      true,
    );
  if (config.api === "rest")
    return {
      method: "POST",
      path: `/rest/v3/devices/${encodeURIComponent(ref)}/bookmarks`,
      json: JSON.stringify({
        name: payload.name,
        description: payload.description,
        startTimeMs: payload.startTimeMs,
        durationMs: payload.durationMs,
        tags: payload.tags,
      }),
    };
  const query = new URLSearchParams({
    guid: payload.guid,
    cameraId: ref,
    name: payload.name,
    description: payload.description,
    startTime: String(payload.startTimeMs),
    duration: String(payload.durationMs),
    startTimeMs: String(payload.startTimeMs),
    durationMs: String(payload.durationMs),
  });
  for (const tag of payload.tags) query.append("tag", tag);
  return { method: "GET", path: `/ec2/bookmarks/add?${query}` };
}

export function network(config: Config): NetworkAction {
  return {
    compose: ({ event }) => ({ payload: bookmarkPayload(config, event) }),
    sender: () => new BookmarkSender(config),
  };
}

class BookmarkSender implements Sender {
  private readonly client: NxClient;

  constructor(private readonly config: Config) {
    this.client = new NxClient(config);
  }

  async send(message: OutboxRow, signal: AbortSignal): Promise<void> {
    const request = bookmarkRequest(this.config, JSON.parse(message.payload) as BookmarkPayload);
    await this.client.send(request, "bookmark", signal);
  }

  async stop(): Promise<void> {
    this.client.close();
  }
}
