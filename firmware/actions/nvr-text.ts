/**
 * `nvr-text`: an NVR's text device channel (specs/001 "Send LP to NVR"): the text of each decision over TCP to
 * the NVR's port for that channel (7001 for CH 1, 7002 for CH 2 … by default), US-ASCII, framed by the start
 * string `<LPR>` and end string `</LPR>` the NVR's text device is set to — exactly those bytes, no line end.
 * One connection per message: connect, write, close. "Delivered" means the bytes were handed to the
 * NVR's TCP stack; the protocol has no acknowledgement.
 */
import { connect } from "node:net";
import { type Static, Type } from "typebox";
import type { OutboxRow } from "../outbox/repo.js";
import { fill, placeholderHelp, toAscii } from "../outbox/text.js";
import { DeliveryError, deliverySettings, type Sender } from "../outbox/types.js";
import type { NetworkAction } from "./types.js";

export const kind = "network";

export const START = "<LPR>";
export const END = "</LPR>";

export const schema = Type.Object(
  {
    type: Type.Literal("nvr-text"),
    host: Type.String({ minLength: 1, maxLength: 253, description: "the NVR's address" }),
    channel: Type.Integer({ minimum: 1, maximum: 64, default: 1, description: "the NVR's text channel" }),
    port: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 65_535, description: "default: 7000 + channel (CH 1 = 7001)" }),
    ),
    text: Type.String({
      minLength: 1,
      maxLength: 200,
      default: "{plate}",
      description: `what goes between <LPR> and </LPR>, folded to US-ASCII; ${placeholderHelp}`,
    }),
    ...deliverySettings,
  },
  { additionalProperties: false, description: "send the plate to an NVR text channel (TCP, <LPR>…</LPR>)" },
);

export type Config = Static<typeof schema>;

export function portOf(config: Config): number {
  return config.port ?? 7000 + config.channel;
}

export function network(config: Config): NetworkAction {
  return {
    // The frame is built at decision time: the stored message is exactly the bytes to send.
    compose: ({ event }) => ({ payload: { text: `${START}${toAscii(fill(config.text, event))}${END}` } }),
    sender: () => new NvrTextSender(config.host, portOf(config)),
  };
}

class NvrTextSender implements Sender {
  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  send(message: OutboxRow, signal: AbortSignal): Promise<void> {
    const { text } = JSON.parse(message.payload) as { text: string };
    const where = `${this.host}:${this.port}`;
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port, signal });
      socket.once("error", (err: NodeJS.ErrnoException) =>
        reject(new DeliveryError(`TCP ${where}: ${err.code ?? err.message}`)),
      );
      socket.once("connect", () =>
        socket.end(Buffer.from(text, "ascii"), () => {
          resolve();
          // Nothing is read from the NVR; do not wait for it to close its side.
          socket.destroy();
        }),
      );
    });
  }
}
