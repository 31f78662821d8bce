/**
 * `vms-generic-event`: an HTTP Generic Event in Nx Witness, Hanwha Wave or DW Spectrum (protocols.md §3.1,
 * specs/000 "VMS Generic Event"): `GET /api/createEvent?source=…&caption=…&description=…&timestamp=…&metadata=…`
 * on the VMS (port 7001, HTTP or HTTPS), one per decision. The VMS rules match source, caption and description
 * case-sensitively; `cameraRefs` puts the event on those cameras' timelines (so a bookmark can be made).
 * Authentication (digest, session bearer over HTTPS, basic) is nx-client.ts's, shared with `vms-bookmark`.
 * The VMS answers JSON with an `error` code: "0" (or no JSON body with a 2xx) is delivered; another code means
 * the VMS refused this event, so it is marked failed.
 */
import { type Static, Type } from "typebox";
import type { OutboxRow } from "../outbox/repo.js";
import { fill, placeholderHelp } from "../outbox/text.js";
import { deliverySettings, type Sender } from "../outbox/types.js";
import { NxClient, nxServerSettings } from "./nx-client.js";
import type { NetworkAction } from "./types.js";

export const kind = "network";

export const schema = Type.Object(
  {
    type: Type.Literal("vms-generic-event"),
    ...nxServerSettings("a VMS user allowed to create events"),
    method: Type.Union([Type.Literal("GET"), Type.Literal("POST")], {
      default: "GET",
      description: "the apidoc declares GET; POST with the same query string also works on some versions",
    }),
    source: Type.String({ maxLength: 200, default: "Portcullis", description: "the event's source" }),
    caption: Type.String({
      maxLength: 200,
      default: "{plate}",
      description: `short text; ${placeholderHelp}`,
    }),
    description: Type.String({
      maxLength: 1000,
      default: "{plate} {decision} on lane {lane} ({list}): {reason}",
      description: `long text; ${placeholderHelp}`,
    }),
    cameraRefs: Type.Record(Type.String(), Type.String({ minLength: 1, maxLength: 64 }), {
      default: {},
      description: "our camera id → the VMS camera id (uuid), so the event lands on that camera's timeline",
    }),
    ...deliverySettings,
  },
  { additionalProperties: false, description: "Nx Witness / Wave / DW Spectrum generic event (createEvent)" },
);

export type Config = Static<typeof schema>;

/** The createEvent parameters, fixed at decision time. */
interface Payload {
  timestamp: string;
  source: string;
  caption: string;
  description: string;
  metadata?: string;
}

export function network(config: Config): NetworkAction {
  return {
    compose: ({ event }) => {
      const ref = config.cameraRefs[event.cameraId];
      const payload: Payload = {
        timestamp: String(Date.parse(event.receivedAt)),
        source: config.source,
        caption: fill(config.caption, event),
        description: fill(config.description, event),
        ...(ref ? { metadata: JSON.stringify({ cameraRefs: [ref] }) } : {}),
      };
      return { payload };
    },
    sender: () => new GenericEventSender(config),
  };
}

class GenericEventSender implements Sender {
  private readonly client: NxClient;

  constructor(private readonly config: Config) {
    this.client = new NxClient(config);
  }

  async send(message: OutboxRow, signal: AbortSignal): Promise<void> {
    const payload = JSON.parse(message.payload) as Payload;
    const path = `/api/createEvent?${new URLSearchParams({ ...payload })}`;
    await this.client.send({ method: this.config.method, path }, "createEvent", signal);
  }
}
