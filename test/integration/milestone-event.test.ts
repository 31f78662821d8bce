/**
 * `milestone-event` through a real controller and the outbox, against an emulated XProtect Event Server on
 * loopback (test/sim/milestone.ts): Analytics Events over HTTP on its own port (the document read back with
 * fast-xml-parser and checked field by field), Generic Events over TCP on another. Each server goes down and
 * comes back: every event is delivered once, in order.
 */

import { describe, expect, it } from "vitest";
import { CAMERA_KIND } from "../../firmware/actions/milestone-event.js";
import type { TestController } from "../helpers/controller.js";
import { cleanupsAfterEach, controllerWithActions, outboxTarget, pushAll, until } from "../helpers/outbox.js";
import { MilestoneAnalyticsPeer, MilestoneGenericPeer } from "../sim/milestone.js";

const FAST = { backoffMinMs: 20, backoffMaxMs: 150, timeoutMs: 2000 };
const PLATES = ["KA777", "XY999ZZ", "QW200BB", "QW300CC"];
/** The demo site's Allow list: other plates are denied. */
const decisionOf = (plate: string): string =>
  ["AB123CD", "MÜPC1234", "KA777"].includes(plate) ? "allow" : "deny";
const CAMERA_GUID = "3a4ad4ea-0000-4000-8000-000000000001";
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const cleanups = cleanupsAfterEach();

const controllerWith = (actions: unknown[], filters?: unknown): Promise<TestController> =>
  controllerWithActions(cleanups, actions, filters);

describe("milestone-event, analytics", () => {
  it("POSTs an AnalyticsEvent the Event Server takes; down then up: every event once, in order", async () => {
    const es = await new MilestoneAnalyticsPeer().up();
    cleanups.push(() => es.down());
    es.knownEvents = new Set(["ANPR allow", "ANPR deny"]);
    const tc = await controllerWith([
      { on: { result: "allow" }, do: { type: "barrier-open" } },
      {
        id: "xprotect",
        on: {},
        do: {
          type: "milestone-event",
          host: "127.0.0.1",
          port: es.port,
          cameraRefs: { cam1: CAMERA_GUID },
          location: "Gate {lane}",
          customTag: "portcullis",
          timeZone: "Europe/Berlin",
          ...FAST,
        },
      },
    ]);

    const [firstId] = await pushAll(tc, ["MÜ-PC 1234"]);
    await until("the Event Server got it", () => es.received.length === 1);
    const first = es.received[0];
    // HTTP as protocols.md §4.1 shows it; Content-Length in bytes (Ü is two), which the server checked.
    expect(first?.headers["content-type"]).toBe("text/xml; charset=utf-8");
    expect(first?.headers.connection).toBe("close");
    expect(Number(first?.headers["content-length"])).toBe(first?.bodyBytes);
    expect(first?.bodyBytes).toBeGreaterThan(first?.xml.length ?? 0);
    const event = (await tc.api(`/api/v1/events/${firstId}`)).body;
    const root = first?.doc.AnalyticsEvent;
    expect(root["@xmlns"]).toBe("urn:milestone-systems");
    expect(root["@xmlns:i"]).toBe("http://www.w3.org/2001/XMLSchema-instance");
    const header = root.EventHeader;
    expect(header.ID).toMatch(GUID);
    expect(header.Timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0[12]:00$/);
    expect(Date.parse(header.Timestamp)).toBe(Date.parse(event.receivedAt));
    expect(header).toMatchObject({
      Type: "ANPR allow",
      Message: "ANPR allow",
      CustomTag: "portcullis",
      Source: { FQID: { ObjectId: CAMERA_GUID, FolderType: "0", Kind: CAMERA_KIND } },
    });
    expect(Object.keys(header)).toEqual(["ID", "Timestamp", "Type", "Message", "CustomTag", "Source"]);
    expect(root.Description).toMatch(/^MÜPC1234 allow on lane 1 \(Allow\): /);
    expect(root.Location).toBe("Gate 1");
    expect(root.ObjectList.Object).toMatchObject({
      Name: "LicensePlate",
      Value: "MÜPC1234",
      AlarmTrigger: "true",
    });
    expect(root.Vendor).toEqual({ Name: "Portcullis" });
    expect(Object.keys(root).filter((k) => !k.startsWith("@"))).toEqual([
      "EventHeader",
      "Description",
      "Location",
      "ObjectList",
      "Vendor",
    ]);
    const [message] = (await tc.api(`/api/v1/events/${firstId}/outbox`)).body.items;
    expect(message).toMatchObject({ target: "xprotect", status: "sent", attempts: 1 });

    await es.down();
    await pushAll(tc, PLATES);
    // The barrier never waits for the Event Server.
    const allowed = (await tc.api("/api/v1/events?plate=KA777")).body.items[0];
    expect(allowed.relayAt).not.toBeNull();
    await until("the target is down", async () => (await outboxTarget(tc, "xprotect"))?.state === "down");
    expect((await outboxTarget(tc, "xprotect")).pending).toBe(4);
    expect((await outboxTarget(tc, "xprotect")).lastError).toMatch(/ECONNREFUSED/);
    await es.up();
    await until("all arrived", () => es.received.length === 5, 10_000);
    const values = es.received.map((r) => r.doc.AnalyticsEvent.ObjectList.Object.Value);
    expect(values).toEqual(["MÜPC1234", ...PLATES]);
    expect(es.received.map((r) => r.doc.AnalyticsEvent.EventHeader.Type)).toEqual([
      "ANPR allow",
      ...PLATES.map((p) => `ANPR ${decisionOf(p)}`),
    ]);
    expect(new Set(es.received.map((r) => r.doc.AnalyticsEvent.EventHeader.ID)).size).toBe(5);
    expect(es.refused).toEqual([]);
    await until("nothing pending", async () => (await outboxTarget(tc, "xprotect")).pending === 0);
    expect((await outboxTarget(tc, "xprotect")).state).toBe("up");
  });

  it("a camera by name; 403 (address not allowed) and 500 wait and retry; an unknown event name is still delivered", async () => {
    const es = await new MilestoneAnalyticsPeer().up();
    cleanups.push(() => es.down());
    es.allowed = new Set(["192.0.2.1"]);
    es.knownEvents = new Set(["Gate"]);
    const tc = await controllerWith([
      {
        id: "xp",
        on: {},
        do: {
          type: "milestone-event",
          host: "127.0.0.1",
          port: es.port,
          cameraRefs: { cam1: "192.168.1.50,2" },
          eventType: "Gate",
          message: "{plate} {decision}",
          description: "",
          ...FAST,
        },
      },
    ]);
    await pushAll(tc, ["AB123CD"]);
    await until("the target is down", async () => (await outboxTarget(tc, "xp"))?.state === "down");
    expect((await outboxTarget(tc, "xp")).lastError).toContain("HTTP 403");
    es.allowed = null;
    let failOnce = true;
    es.override = () => {
      if (!failOnce) return null;
      failOnce = false;
      return 500;
    };
    await until("delivered", () => es.received.length === 1, 10_000);
    expect(es.refused.map((r) => r.status)).toEqual(expect.arrayContaining([403, 500]));
    const root = es.received[0]?.doc.AnalyticsEvent;
    expect(root.EventHeader).toMatchObject({
      Type: "Gate",
      Message: "AB123CD allow",
      Source: { Name: "192.168.1.50,2" },
    });
    expect(root.EventHeader.Timestamp).toMatch(/\+00:00$/);
    expect(root.Description).toBeUndefined();
    // The server warns that no analytics event is named "AB123CD allow" (Message), but took it: sent, once.
    const [message] = (await tc.api("/api/v1/outbox?target=xp")).body.items;
    expect(message).toMatchObject({ status: "sent" });
    expect(message.attempts).toBeGreaterThanOrEqual(3);
  });

  it("a document the server refuses (400) is marked failed and the queue goes on", async () => {
    const es = await new MilestoneAnalyticsPeer().up();
    cleanups.push(() => es.down());
    const tc = await controllerWith([
      { id: "xp", on: {}, do: { type: "milestone-event", host: "127.0.0.1", port: es.port, ...FAST } },
    ]);
    es.override = (e) => (e.doc.AnalyticsEvent.ObjectList.Object.Value === "QW100AA" ? 400 : null);
    await pushAll(tc, ["AB123CD", "QW100AA", "QW200BB"]);
    await until("two delivered", () => es.received.length === 2);
    await until("nothing pending", async () => (await outboxTarget(tc, "xp")).pending === 0);
    const failed = (await tc.api("/api/v1/outbox?status=failed&target=xp")).body.items;
    expect(failed).toHaveLength(1);
    expect(failed[0].lastError).toContain("HTTP 400");
    expect(es.received.map((r) => r.doc.AnalyticsEvent.ObjectList.Object.Value)).toEqual([
      "AB123CD",
      "QW200BB",
    ]);
    // No source configured and none mapped: the header has none.
    expect(es.received[0]?.doc.AnalyticsEvent.EventHeader.Source).toBeUndefined();
  });
});

describe("milestone-event, generic", () => {
  it("sends an ASCII string per event and closes; down then up: once, in order", async () => {
    const es = await new MilestoneGenericPeer().up();
    cleanups.push(() => es.down());
    const tc = await controllerWith([
      {
        id: "xp-generic",
        on: {},
        do: {
          type: "milestone-event",
          mode: "generic",
          host: "127.0.0.1",
          port: es.port,
          cameraRefs: { cam1: "gate1" },
          text: "ANPR;{source};{plate};{decision}",
          ...FAST,
        },
      },
    ]);
    await pushAll(tc, ["MÜ-PC 1234"]);
    await until("the Event Server got it", () => es.received.length === 1);
    expect(es.received[0]).toBe("ANPR;gate1;MUPC1234;allow\r\n");
    const [sent] = (await tc.api("/api/v1/outbox?target=xp-generic")).body.items;
    expect(sent).toMatchObject({ status: "sent", attempts: 1 });

    await es.down();
    await pushAll(tc, PLATES);
    await until("the target is down", async () => (await outboxTarget(tc, "xp-generic"))?.state === "down");
    expect((await outboxTarget(tc, "xp-generic")).pending).toBe(4);
    await es.up();
    await until("all arrived", () => es.received.length === 5, 10_000);
    expect(es.received.slice(1)).toEqual(PLATES.map((p) => `ANPR;gate1;${p};${decisionOf(p)}\r\n`));
  });
});
