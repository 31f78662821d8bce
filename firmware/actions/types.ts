/** What an action sees when it runs: the decision, the lane it was made on, and the hardware. */
import type { DigitalOutput } from "../../hal/types.js";
import type { Decision } from "../domain/decide.js";
import type { EventView } from "../events.js";
import type { ReadImage } from "../ingest/types.js";
import type { Lane } from "../lanes.js";
import type { MessageDraft, Sender } from "../outbox/types.js";
import type { Logger } from "../util/log.js";

export interface ActionContext {
  decision: Decision;
  lane: Lane;
  output(name: string): DigitalOutput;
}

/** Hardware actions run synchronously on the decision path; they must not wait on disk or network. */
export type ActionRunner = (ctx: ActionContext) => void;

/**
 * What a network action sees at decision time: the event as the API shows it, and the read's pictures
 * (`laterPictures`: more are still arriving, see PlateRead.laterImages).
 */
export interface NetworkContext {
  event: EventView;
  images: readonly ReadImage[];
  laterPictures: boolean;
}

/**
 * What a network action may know of the site besides its own settings: its outbox target id, the system id,
 * the site's name and the lanes it fires on (an MQTT broker announces these to Home Assistant).
 */
export interface NetworkSite {
  targetId: string;
  systemId: string;
  name: string;
  lanes: readonly { id: string; name: string }[];
  /** The firmware version, when known. */
  version?: string | undefined;
}

/**
 * A network action never acts at decision time: it turns the decision into an outbox message (or null for
 * none), synchronously and cheaply; a sender built from the same settings delivers it later (firmware/outbox).
 */
export interface NetworkAction {
  compose(ctx: NetworkContext): MessageDraft | null;
  sender(log: Logger): Sender;
}
