/**
 * A real MQTT broker on loopback (aedes over node:net) for the `mqtt-publish` action's tests. It can go down
 * and come back on the same port as a broker restarted without persistence (retained messages and sessions are
 * gone), cut its clients off without stopping (so it publishes their Last Wills), and check credentials.
 * `published` records every PUBLISH a client made, across restarts; `subscribe` is a real MQTT.js subscriber.
 */
import { createServer, type Server, type Socket } from "node:net";
import { Aedes, type AuthenticateError } from "aedes";
import { connectAsync, type MqttClient } from "mqtt";

export interface ReceivedPublish {
  clientId: string;
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

export class MqttBroker {
  port = 0;
  readonly published: ReceivedPublish[] = [];
  /** CONNECTs refused for their credentials, by client id. */
  readonly refused: string[] = [];
  /** When set, only these credentials are accepted (anything goes otherwise). */
  credentials: { username: string; password: string } | null = null;
  /** While set, PUBLISHes on matching topics are held: never taken, never acknowledged (a PUBACK that never comes). */
  hold: ((topic: string) => boolean) | null = null;
  /** Topics of the PUBLISHes held so far. */
  readonly held: string[] = [];
  private broker: Aedes | null = null;
  private server: Server | null = null;
  private readonly sockets = new Map<Socket, { id: string }>();

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async up(): Promise<this> {
    const broker = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        const want = this.credentials;
        if (!want || (username === want.username && password?.toString() === want.password))
          return done(null, true);
        this.refused.push(client.id);
        const err = new Error("bad username or password") as AuthenticateError;
        err.returnCode = 4;
        done(err, null);
      },
      authorizePublish: (_client, packet, callback) => {
        if (!this.hold?.(packet.topic)) return callback(null);
        this.held.push(packet.topic);
      },
    });
    broker.on("publish", (packet, client) => {
      if (!client) return;
      this.published.push({
        clientId: client.id,
        topic: packet.topic,
        payload: Buffer.from(packet.payload).toString("utf8"),
        qos: packet.qos,
        retain: packet.retain,
      });
    });
    const server = createServer((socket) => {
      this.sockets.set(socket, broker.handle(socket));
      socket.once("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.broker = broker;
    this.server = server;
    return this;
  }

  /** Cut a client's connection (every client's by default) without a DISCONNECT: the broker publishes its Last Will. */
  dropClients(clientId?: string): void {
    for (const [socket, client] of this.sockets)
      if (clientId === undefined || client.id === clientId) socket.destroy();
  }

  /** Stop: refuse connections, cut open ones, forget retained messages and sessions. */
  async down(): Promise<void> {
    const { server, broker } = this;
    this.server = null;
    this.broker = null;
    if (!server || !broker) return;
    this.dropClients();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => broker.close(() => resolve()));
  }

  /** What a client published on one topic, in order. */
  on(topic: string): ReceivedPublish[] {
    return this.published.filter((p) => p.topic === topic);
  }
}

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

/** A real subscriber: every message on `filters` (retained ones arrive first, flagged `retain`). */
export async function subscribe(
  url: string,
  filters: string[],
): Promise<{ client: MqttClient; messages: Received[]; close(): Promise<void> }> {
  const client = await connectAsync(url, {
    reconnectPeriod: 100,
    clientId: `sub-${process.pid}-${Date.now()}`,
  });
  const messages: Received[] = [];
  client.on("message", (topic, payload, packet) =>
    messages.push({ topic, payload: payload.toString("utf8"), retain: packet.retain }),
  );
  await client.subscribeAsync(filters, { qos: 1 });
  return { client, messages, close: () => client.endAsync(true) };
}
