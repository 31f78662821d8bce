/**
 * `socket-client` between two real controllers: the sender's outbox delivers each decision as a VIVOTEK
 * socket message to a second controller, which takes it on its own `vivotek-socket` camera and decides the
 * plate itself. The receiver goes down and comes back: every message arrives once, in order. A plain TCP
 * server checks the bytes on the wire (terminator, one connection per message).
 */

import { createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import { demoSite } from "../../firmware/config/site.js";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";
import { cleanupsAfterEach, outboxTarget, until } from "../helpers/outbox.js";
import { freePort } from "../sim/free-port.js";
import { TINY_JPEG } from "../sim/hikvision-isapi.js";
import { pushMilesight } from "../sim/milesight-http.js";
import { sha256 } from "../sim/peers.js";

const FAST = { backoffMinMs: 20, backoffMaxMs: 150, timeoutMs: 2000 };

const cleanups = cleanupsAfterEach();

async function sender(actions: unknown[]): Promise<TestController> {
  const tc = await startTestController({ site: testSite({ actions, filters: { repeatWindowMs: 0 } }) });
  cleanups.push(
    () => tc.cleanup(),
    () => tc.stop(),
  );
  return tc;
}

/** A second controller with a VIVOTEK Socket Client camera listening on `listenPort`. */
function receiverSite(listenPort: number) {
  return testSite({
    cameras: [
      { id: "viv1", protocol: "vivotek-socket", lane: "1", connection: { listenPort, host: "127.0.0.1" } },
    ],
    filters: { repeatWindowMs: 0, minConfidence: 0 },
    seedLists: demoSite().seedLists,
  });
}

async function listening(tc: TestController): Promise<void> {
  await until("the receiver listens", async () =>
    /^listening/.test((await tc.api("/api/v1/cameras/viv1")).body.status?.detail ?? ""),
  );
}

async function receivedPlates(tc: TestController): Promise<string[]> {
  const items = (await tc.api("/api/v1/events?limit=50")).body.items as { id: number; plate: string }[];
  return items.sort((a, b) => a.id - b.id).map((e) => e.plate);
}

describe("socket-client", () => {
  it("another controller takes json-image messages on a vivotek-socket camera and decides them; down then up: once, in order", async () => {
    const listenPort = await freePort();
    const site = receiverSite(listenPort);
    let receiver = await startTestController({ site });
    const dataDir = receiver.dataDir;
    cleanups.push(() => receiver.cleanup());
    cleanups.push(() => receiver.stop());
    await listening(receiver);
    const tc = await sender([
      {
        id: "peer-gate",
        on: {},
        do: {
          type: "socket-client",
          host: "127.0.0.1",
          port: listenPort,
          format: "json-image",
          image: "plate",
          ...FAST,
        },
      },
    ]);

    const pushed = await pushMilesight(
      tc.url,
      { plate: "MÜ-PC 1234", plateImage: TINY_JPEG },
      tc.cameraSecret,
    );
    const sentEvent = (await tc.api(`/api/v1/events/${pushed.body.eventId}`)).body;
    await until("the receiver decided it", async () => (await receivedPlates(receiver)).length === 1);
    const [event] = (await receiver.api("/api/v1/events")).body.items;
    expect(event).toMatchObject({
      plate: "MÜPC1234",
      decision: "allow",
      listName: "Allow",
      cameraId: "viv1",
      protocol: "vivotek-socket",
      extras: { readId: sentEvent.id, cameraName: "cam1", cameraListType: "Allow", lane: 1 },
    });
    expect(event.cameraTime).toBe(sentEvent.receivedAt);
    // The plate picture went inside the document and came out as the receiver's plate picture.
    await receiver.controller.snapshots.flush();
    const [image] = (await receiver.api(`/api/v1/events/${event.id}/images`)).body.items;
    expect(image.kind).toBe("plate");
    const bytes = Buffer.from(
      await (
        await fetch(receiver.url + image.url, { headers: { authorization: `Bearer ${receiver.token}` } })
      ).arrayBuffer(),
    );
    expect(sha256(bytes)).toBe(sha256(TINY_JPEG));
    const [sent] = (await tc.api("/api/v1/outbox?target=peer-gate")).body.items;
    expect(sent).toMatchObject({ status: "sent", attempts: 1, attachmentBytes: null });

    // The receiving controller goes down; the sender's decisions queue; it comes back on the same port.
    await receiver.stop();
    const plates = ["AB123CD", "XY999ZZ", "QW100AA", "KA777"];
    for (const plate of plates) await pushMilesight(tc.url, { plate }, tc.cameraSecret);
    await until("the target is down", async () => (await outboxTarget(tc, "peer-gate"))?.state === "down");
    expect((await outboxTarget(tc, "peer-gate")).pending).toBe(4);
    receiver = await startTestController({ site, dataDir });
    await until("all arrived", async () => (await receivedPlates(receiver)).length === 5, 10_000);
    expect(await receivedPlates(receiver)).toEqual(["MÜPC1234", ...plates]);
    const decisions = (await receiver.api("/api/v1/events")).body.items.map((e: any) => [
      e.plate,
      e.decision,
    ]);
    expect(Object.fromEntries(decisions)).toMatchObject({
      AB123CD: "allow",
      XY999ZZ: "deny",
      KA777: "allow",
    });
    await until("nothing pending", async () => (await outboxTarget(tc, "peer-gate")).pending === 0);
  });

  it("writes one document per connection with its terminator, UTF-8, then closes", async () => {
    const connections: Buffer[] = [];
    const server: Server = createServer((socket) => {
      const chunks: Buffer[] = [];
      socket.on("data", (c: Buffer) => chunks.push(c));
      socket.on("end", () => connections.push(Buffer.concat(chunks)));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as { port: number }).port;
    const tc = await sender([
      {
        id: "xml",
        on: {},
        do: { type: "socket-client", host: "127.0.0.1", port, format: "xml", terminator: "nul", ...FAST },
      },
    ]);
    await pushMilesight(tc.url, { plate: "MÜ-PC 1234" }, tc.cameraSecret);
    await pushMilesight(tc.url, { plate: "XY999ZZ" }, tc.cameraSecret);
    await until("two connections", () => connections.length === 2);
    const [first, second] = connections.map((c) => c.toString("utf8"));
    expect(first).toMatch(
      /^<\?xml version="1\.0" encoding="utf-8"\?>\r\n<lpr><id>\d+<\/id><numberplate>MÜPC1234<\/numberplate>/,
    );
    expect(first?.endsWith("</lpr>\0")).toBe(true);
    expect(first).toContain(
      "<listdescription>Allow</listdescription><decision>allow</decision><cameraname>cam1</cameraname>",
    );
    expect(second).toContain("<numberplate>XY999ZZ</numberplate>");
    expect(second).toContain("<decision>deny</decision>");
    expect(second).not.toContain("<image>");
  });
});
