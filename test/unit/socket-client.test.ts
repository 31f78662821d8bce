/**
 * The socket-client's messages read back by the VIVOTEK ingest side (framer + parser) in every format and
 * terminator; what compose stores; and sendTcp's delivery semantics against real loopback sockets.
 */
import { createServer, type Server, type Socket } from "node:net";
import { Compile } from "typebox/compile";
import { afterEach, describe, expect, it } from "vitest";
import { type Config, network, schema, socketMessage } from "../../firmware/actions/socket-client.js";
import { VIVOTEK_FORMATS } from "../../firmware/ingest/vivotek-document.js";
import { MessageFramer, type MessageKind } from "../../firmware/ingest/vivotek-framer.js";
import { parseVivotekJsonText, parseVivotekXml } from "../../firmware/ingest/vivotek-message.js";
import { sendTcp, TERMINATORS, type Terminator } from "../../firmware/outbox/tcp.js";
import { DeliveryError } from "../../firmware/outbox/types.js";
import { eventView } from "../helpers/event-view.js";
import { TINY_JPEG } from "../sim/hikvision-isapi.js";

const config = (over: Record<string, unknown> = {}): Config =>
  Compile(schema).Default({ type: "socket-client", host: "127.0.0.1", port: 17000, ...over }) as Config;

/** What a vivotek-socket camera makes of a byte stream: the framer finds documents, the parser reads them. */
function ingest(bytes: Buffer) {
  const docs: { kind: MessageKind; data: Buffer }[] = [];
  const problems: string[] = [];
  const framer = new MessageFramer(1 << 20, {
    message: (kind, data) => docs.push({ kind, data }),
    problem: (p) => problems.push(p),
  });
  framer.feed(bytes, 0);
  const reads = docs.map(({ kind, data }) =>
    kind === "xml"
      ? parseVivotekXml(data.toString("utf8"), "UTC")
      : parseVivotekJsonText(data.toString("utf8"), "UTC", "message"),
  );
  return { reads, problems };
}

function compose(c: Config, ctx: Partial<Parameters<ReturnType<typeof network>["compose"]>[0]> = {}) {
  const draft = network(c).compose({ event: eventView(), images: [], laterPictures: false, ...ctx });
  if (!draft) throw new Error("no message");
  // Stored as JSON, as the outbox does.
  return { ...draft, payload: JSON.parse(JSON.stringify(draft.payload)) };
}

describe("socket-client messages", () => {
  const terminators = Object.keys(TERMINATORS) as Terminator[];
  it.each(VIVOTEK_FORMATS.flatMap((f) => terminators.map((t) => [f, t] as const)))(
    "%s with terminator %s is read back by the vivotek-socket ingest, two in one stream",
    (format, terminator) => {
      const c = config({ format, terminator, timeZone: "Europe/Berlin" });
      const images = [{ kind: "plate" as const, ext: "jpg", data: TINY_JPEG }];
      const draft = compose(c, {
        event: eventView({ plate: "MÜPC1234", extras: { country: "DEU" } }),
        images,
      });
      const one = socketMessage(format, terminator, draft.payload, draft.attachment ?? null);
      expect(one.toString("utf8").endsWith(TERMINATORS[terminator])).toBe(true);
      const { reads, problems } = ingest(Buffer.concat([one, one]));
      expect(problems).toEqual([]);
      expect(reads).toHaveLength(2);
      // XML carries text only: numbers come back as their digits.
      const n = (v: number) => (format.startsWith("xml") ? String(v) : v);
      expect(reads[0]).toMatchObject({
        plate: { normalised: "MÜPC1234" },
        confidence: 94,
        direction: "in",
        cameraTime: Date.parse("2025-03-01T07:15:02.120Z"),
        cameraTimeRaw: "2025-03-01T08:15:02.120+01:00",
        extras: {
          readId: n(42),
          country: "DEU",
          lane: n(1),
          cameraListId: n(1),
          cameraListType: "Allow",
          cameraName: "cam1",
        },
      });
      // With image: the picture is a plate picture, as the sender had it; without: none.
      expect(reads[0]?.images).toEqual(
        format.endsWith("-image") ? [{ kind: "plate", ext: "jpg", data: TINY_JPEG }] : [],
      );
    },
  );

  it("compose: the picture as attachment (wanted kind, else any); held for a later picture; none for plain formats", () => {
    const full = { kind: "full" as const, ext: "jpg", data: TINY_JPEG };
    const withImage = compose(config({ format: "xml-image" }), { images: [full] });
    expect(withImage.attachment).toBe(TINY_JPEG);
    expect(withImage.payload.picture).toBe("full");
    const later = compose(config({ format: "json-image", image: "plate" }), { laterPictures: true });
    expect(later).toMatchObject({ awaitPicture: "plate", payload: { picture: "plate" } });
    expect(later.attachment).toBeUndefined();
    const plain = compose(config({ format: "json" }), { images: [full] });
    expect(plain.attachment).toBeUndefined();
    expect(plain.payload.picture).toBeUndefined();
    // An image format whose picture never came: the document goes without one.
    const doc = socketMessage("json-image", "none", later.payload, null).toString();
    expect(JSON.parse(doc)).not.toHaveProperty("plateimage");
    expect(JSON.parse(doc)).toMatchObject({ numberplate: "AB123CD", listid: 1, decision: "allow" });
  });

  it("not in a list: listid -1 and 'not in list', as the camera writes it; a non-numeric lane stays text", () => {
    const draft = compose(config({ format: "json" }), {
      event: eventView({ listId: null, listName: null, laneId: "north", direction: null, confidence: null }),
    });
    const doc = JSON.parse(socketMessage("json", "none", draft.payload, null).toString());
    expect(doc).toMatchObject({ listid: -1, listdescription: "not in list", lane: "north" });
    expect(doc).not.toHaveProperty("direction");
    expect(doc).not.toHaveProperty("confidence");
  });
});

describe("sendTcp", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });
  async function serve(onSocket: (s: Socket) => void): Promise<number> {
    const server = createServer(onSocket);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    return (server.address() as { port: number }).port;
  }
  const send = (port: number, lingerMs = 200) =>
    sendTcp({
      host: "127.0.0.1",
      port,
      bytes: Buffer.from("hello"),
      signal: AbortSignal.timeout(2000),
      lingerMs,
    });

  it("resolves once the peer closes after reading", async () => {
    let got = "";
    const port = await serve((s) => {
      s.on("data", (c) => {
        got += c;
      });
    });
    await send(port, 60_000);
    expect(got).toBe("hello");
  });

  it("resolves after lingerMs when the peer keeps the connection open; replies are ignored", async () => {
    const sockets: Socket[] = [];
    const server = createServer({ allowHalfOpen: true }, (s) => {
      sockets.push(s);
      s.write("echo 1 2 3\r\n");
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    await send((server.address() as { port: number }).port, 50);
    for (const s of sockets) s.destroy();
  });

  it("rejects, retryably, when refused, reset, or closed before the message", async () => {
    const refused = await serve(() => {});
    await new Promise((r) => servers.pop()?.close(r));
    await expect(send(refused)).rejects.toMatchObject({ name: "DeliveryError", permanent: false });
    await expect(send(refused)).rejects.toThrow(/ECONNREFUSED/);
    const reset = await serve((s) => s.resetAndDestroy());
    await expect(send(reset, 5000)).rejects.toBeInstanceOf(DeliveryError);
  });
});
