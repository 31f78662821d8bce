/**
 * The `mqtt-publish` action against a real MQTT broker on loopback (aedes): events and retained lane state,
 * Home Assistant discovery and availability (online, Last Will, clean stop), a broker that goes away and comes
 * back (every event once, in order), and refused credentials (the target is down, the password nowhere).
 */

import { describe, expect, it } from "vitest";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";
import { cleanupsAfterEach, until } from "../helpers/outbox.js";
import { pushMilesight } from "../sim/milesight-http.js";
import { MqttBroker, subscribe } from "../sim/mqtt-broker.js";

const FAST = { backoffMinMs: 20, backoffMaxMs: 150, timeoutMs: 2000 };
const PREFIX = "portcullis/1";
const PASSWORD = "wrong-s3cret-password";

const cleanups = cleanupsAfterEach();

async function broker(): Promise<MqttBroker> {
  const b = await new MqttBroker().up();
  cleanups.push(() => b.down());
  return b;
}

async function controllerWith(mqtt: Record<string, unknown>): Promise<TestController> {
  const tc = await startTestController({
    site: testSite({
      filters: { repeatWindowMs: 0 },
      actions: [
        { on: { result: "allow" }, do: { type: "barrier-open" } },
        { id: "ha", on: {}, do: { type: "mqtt-publish", ...FAST, ...mqtt } },
      ],
    }),
  });
  cleanups.push(
    () => tc.cleanup(),
    () => tc.stop(),
  );
  return tc;
}

async function push(tc: TestController, plates: readonly string[]): Promise<void> {
  for (const plate of plates) {
    const res = await pushMilesight(tc.url, { plate }, tc.cameraSecret);
    expect(res.body).toMatchObject({ status: "decided" });
  }
}

async function target(tc: TestController): Promise<any> {
  const { body } = await tc.api("/api/v1/outbox/targets");
  return body.items.find((t: { target: string }) => t.target === "ha");
}

const plates = (b: MqttBroker): string[] => b.on(`${PREFIX}/event`).map((p) => JSON.parse(p.payload).plate);

describe("mqtt-publish", () => {
  it("publishes the event and the retained lane state; Home Assistant finds the lane entities by itself", async () => {
    const b = await broker();
    const live = await subscribe(b.url, [`${PREFIX}/#`]);
    cleanups.push(() => live.close());
    const tc = await controllerWith({ url: b.url });
    await until("online", () => b.on(`${PREFIX}/status`).some((p) => p.payload === "online"));
    expect(b.on(`${PREFIX}/status`)[0]).toMatchObject({ clientId: "portcullis-1-ha", retain: true, qos: 1 });

    await push(tc, ["AB123CD"]);
    await until("the event arrived", () => live.messages.some((m) => m.topic === `${PREFIX}/event`));
    const event = JSON.parse(live.messages.find((m) => m.topic === `${PREFIX}/event`)?.payload ?? "");
    expect(event).toMatchObject({ plate: "AB123CD", decision: "allow", laneId: "1", cameraId: "cam1" });
    const [message] = (await tc.api(`/api/v1/events/${event.id}/outbox`)).body.items;
    expect(message).toMatchObject({ target: "ha", status: "sent", attempts: 1 });
    expect(b.on(`${PREFIX}/event`)).toEqual([expect.objectContaining({ qos: 1, retain: false })]);
    expect(b.on(`${PREFIX}/lane/1/last`)).toEqual([expect.objectContaining({ qos: 1, retain: true })]);
    expect((await target(tc)).state).toBe("up");

    // A subscriber arriving now (Home Assistant after a restart) gets the retained state and configs at once.
    const late = await subscribe(b.url, ["homeassistant/#", `${PREFIX}/#`]);
    cleanups.push(() => late.close());
    await until("the retained messages arrived", () => late.messages.length >= 4);
    const retained = new Map(late.messages.filter((m) => m.retain).map((m) => [m.topic, m.payload]));
    expect([...retained.keys()].sort()).toEqual([
      "homeassistant/sensor/portcullis_1/lane_1_last_decision/config",
      "homeassistant/sensor/portcullis_1/lane_1_last_plate/config",
      `${PREFIX}/lane/1/last`,
      `${PREFIX}/status`,
    ]);
    expect(retained.get(`${PREFIX}/status`)).toBe("online");
    expect(JSON.parse(retained.get(`${PREFIX}/lane/1/last`) ?? "")).toEqual(event);

    const plate = JSON.parse(
      retained.get("homeassistant/sensor/portcullis_1/lane_1_last_plate/config") ?? "",
    );
    const device = {
      identifiers: ["portcullis_1"],
      name: "Demo site",
      manufacturer: "Portcullis",
      model: "ANPR gate controller",
      sw_version: expect.any(String),
    };
    const availability = [
      { topic: `${PREFIX}/status`, payload_available: "online", payload_not_available: "offline" },
    ];
    expect(plate).toEqual({
      unique_id: "portcullis_1_lane_1_last_plate",
      name: "Lane 1 last plate",
      state_topic: `${PREFIX}/lane/1/last`,
      value_template: "{{ value_json.plate }}",
      json_attributes_topic: `${PREFIX}/lane/1/last`,
      json_attributes_template: expect.stringContaining("value_json.decision"),
      icon: expect.stringMatching(/^mdi:/),
      availability,
      device,
      origin: { name: "Portcullis", sw_version: expect.any(String) },
    });
    const decision = JSON.parse(
      retained.get("homeassistant/sensor/portcullis_1/lane_1_last_decision/config") ?? "",
    );
    expect(decision).toMatchObject({
      unique_id: "portcullis_1_lane_1_last_decision",
      value_template: "{{ value_json.decision }}",
      device_class: "enum",
      options: ["allow", "deny"],
      state_topic: `${PREFIX}/lane/1/last`,
      availability,
      device,
    });

    // The Last Will: a connection cut off says offline (retained); the controller comes back and says online.
    live.messages.length = 0;
    b.dropClients("portcullis-1-ha");
    await until("offline, then online again", () => {
      const status = live.messages.filter((m) => m.topic === `${PREFIX}/status`).map((m) => m.payload);
      return status.join() === "offline,online";
    });
    // A clean stop says offline too (a clean DISCONNECT sends no Will).
    await tc.stop();
    await until("offline after the stop", () => live.messages.at(-1)?.payload === "offline");
  });

  it("broker down, then up: every event published once, in order, and discovery published again", async () => {
    const b = await broker();
    const tc = await controllerWith({ url: b.url });
    await push(tc, ["AB123CD"]);
    await until("the first event", () => plates(b).length === 1);

    await b.down();
    await push(tc, ["QW100AA", "QW200BB", "XY999ZZ", "QW300CC"]);
    await until("the target is down", async () => (await target(tc))?.state === "down");
    const down = await target(tc);
    expect(down.pending).toBe(4);
    expect(down.lastError).toMatch(/^MQTT mqtt:\/\/127\.0\.0\.1:\d+: connection failed \(ECONNREFUSED\)$/);

    await b.up();
    await until("all five", () => plates(b).length === 5, 10_000);
    await until("nothing pending", async () => (await target(tc)).pending === 0);
    expect(plates(b)).toEqual(["AB123CD", "QW100AA", "QW200BB", "XY999ZZ", "QW300CC"]);
    expect((await target(tc)).state).toBe("up");
    // The restarted broker lost its retained messages: the reconnect announced them again.
    const fresh = await subscribe(b.url, ["homeassistant/#", `${PREFIX}/#`]);
    cleanups.push(() => fresh.close());
    await until("retained state and configs", () => fresh.messages.length >= 4);
    const retained = new Map(fresh.messages.map((m) => [m.topic, m.payload]));
    expect(retained.get(`${PREFIX}/status`)).toBe("online");
    expect(JSON.parse(retained.get(`${PREFIX}/lane/1/last`) ?? "").plate).toBe("QW300CC");
    expect(retained.has("homeassistant/sensor/portcullis_1/lane_1_last_plate/config")).toBe(true);
  });

  it("a connection lost while a PUBACK is awaited: the message is sent again by the outbox, once", async () => {
    const b = await broker();
    const tc = await controllerWith({ url: b.url });
    await until("online", () => b.on(`${PREFIX}/status`).length === 1);
    b.hold = (topic) => topic === `${PREFIX}/event`;
    await push(tc, ["AB123CD"]);
    await until("the broker holds the event", () => b.held.length === 1);
    b.dropClients("portcullis-1-ha");
    b.hold = null;
    await until("delivered", async () => (await target(tc))?.pending === 0);
    // The first attempt failed on the lost connection (not on its time limit); the second went through.
    expect((await target(tc)).lastError).toMatch(
      /connection lost before the broker acknowledged portcullis\/1\/event/,
    );
    expect(plates(b)).toEqual(["AB123CD"]);
    const [message] = (await tc.api("/api/v1/outbox?target=ha")).body.items;
    expect(message).toMatchObject({ status: "sent", attempts: 2 });
  });

  it("refused credentials: the target is down with the broker's reason, the password is in no error", async () => {
    const b = await broker();
    b.credentials = { username: "gate", password: "the-right-password" };
    const tc = await controllerWith({ url: b.url, username: "gate", password: PASSWORD });
    await push(tc, ["AB123CD"]);
    await until("the target is down", async () => (await target(tc))?.state === "down");
    const down = await target(tc);
    expect(down.lastError).toMatch(/broker refused the connection: Bad username or password \(CONNACK 4\)/);
    expect(JSON.stringify(down)).not.toContain(PASSWORD);
    const retrying = (await tc.api("/api/v1/outbox?target=ha")).body.items;
    expect(JSON.stringify(retrying)).not.toContain(PASSWORD);
    expect(b.refused.length).toBeGreaterThan(0);
    expect(plates(b)).toEqual([]);

    // The broker's password is changed to the one configured: the next attempt goes through.
    b.credentials = { username: "gate", password: PASSWORD };
    await until("delivered", () => plates(b).length === 1);
    await until("the target is up", async () => (await target(tc)).state === "up");
  });

  it("qos 0 and retain off: published at most once, the lane state not retained", async () => {
    const b = await broker();
    const tc = await controllerWith({ url: b.url, qos: 0, retain: false, homeAssistant: { enabled: false } });
    await push(tc, ["AB123CD"]);
    await until("the event", () => plates(b).length === 1);
    expect(b.on(`${PREFIX}/lane/1/last`)).toEqual([expect.objectContaining({ qos: 0, retain: false })]);
    expect(b.published.some((p) => p.topic.startsWith("homeassistant/"))).toBe(false);
  });
});
