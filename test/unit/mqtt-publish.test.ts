/** The `mqtt-publish` action's schema (through the site parser), its topics and its Home Assistant configs. */
import { describe, expect, it } from "vitest";
import {
  type Config,
  clientIdOf,
  discoveryConfigs,
  network,
  topicsOf,
} from "../../firmware/actions/mqtt-publish.js";
import type { NetworkSite } from "../../firmware/actions/types.js";
import { ConfigError } from "../../firmware/config/validate.js";
import type { EventView } from "../../firmware/events.js";
import { testSite } from "../helpers/controller.js";

const SITE: NetworkSite = {
  targetId: "ha",
  systemId: "north-gate",
  name: "North gate",
  lanes: [
    { id: "in", name: "Entry" },
    { id: "out.2", name: "Exit 2" },
  ],
};

/** The action's `do` as the site parser leaves it (defaults filled in). */
function parsed(mqtt: Record<string, unknown>): Config {
  const site = testSite({ actions: [{ id: "ha", on: {}, do: { type: "mqtt-publish", ...mqtt } }] });
  return site.actions[0]?.do as Config;
}

function problemsOf(mqtt: Record<string, unknown>, id: string | null = "ha"): string[] {
  try {
    testSite({ actions: [{ ...(id ? { id } : {}), on: {}, do: { type: "mqtt-publish", ...mqtt } }] });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("mqtt-publish schema", () => {
  it("fills the defaults", () => {
    expect(parsed({ url: "mqtt://broker.lan" })).toEqual({
      type: "mqtt-publish",
      url: "mqtt://broker.lan",
      qos: 1,
      retain: true,
      verifyTls: true,
      homeAssistant: { enabled: true, discoveryPrefix: "homeassistant" },
      backoffMinMs: 1000,
      backoffMaxMs: 300_000,
      timeoutMs: 10_000,
    });
  });

  it("takes every setting", () => {
    const config = {
      url: "mqtts://broker.lan:8883",
      username: "gate",
      password: "pw",
      clientId: "gate-1",
      topicPrefix: "site/gates/north",
      qos: 0,
      retain: false,
      verifyTls: false,
      homeAssistant: { enabled: false, discoveryPrefix: "ha" },
      expireAfterMs: 60_000,
    };
    expect(parsed(config)).toMatchObject(config);
  });

  it.each([
    [{ url: "http://broker.lan" }, "/actions/0/do"],
    [{ url: "mqtt://user:pw@broker.lan" }, "/actions/0/do"],
    [{ url: "mqtt://broker.lan/path" }, "/actions/0/do"],
    [{ url: "mqtt://b", qos: 2 }, "/actions/0/do"],
    [{ url: "mqtt://b", topicPrefix: "a/#" }, "/actions/0/do"],
    [{ url: "mqtt://b", topicPrefix: "/a" }, "/actions/0/do"],
    [{ url: "mqtt://b", topicPrefix: "a//b" }, "/actions/0/do"],
    [{ url: "mqtt://b", homeAssistant: { discoveryPrefix: "ha/+" } }, "/actions/0/do"],
    [{ url: "mqtt://b", homeAssistant: { colour: "red" } }, "/actions/0/do"],
    [{ url: "mqtt://b", clientId: "has space" }, "/actions/0/do"],
    [{ url: "mqtt://b", color: "red" }, "/actions/0/do"],
  ])("refuses %j", (mqtt, path) => {
    const problems = problemsOf(mqtt);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.some((p) => p.startsWith(path))).toBe(true);
  });

  it("needs an id, like every network action", () => {
    expect(problemsOf({ url: "mqtt://b" }, null)).toContain(
      "/actions/0/id is required on a mqtt-publish action (its outbox target id)",
    );
  });
});

describe("mqtt-publish topics", () => {
  const config = parsed({ url: "mqtt://b" });

  it("derive from the system id and the action id by default", () => {
    const topics = topicsOf(config, SITE);
    expect(topics.prefix).toBe("portcullis/north-gate");
    expect(topics.event).toBe("portcullis/north-gate/event");
    expect(topics.status).toBe("portcullis/north-gate/status");
    expect(topics.laneLast("in")).toBe("portcullis/north-gate/lane/in/last");
    expect(clientIdOf(config, SITE)).toBe("portcullis-north-gate-ha");
  });

  it("follow topicPrefix and clientId when set", () => {
    const custom = parsed({ url: "mqtt://b", topicPrefix: "site/gate", clientId: "gate-1" });
    expect(topicsOf(custom, SITE).laneLast("in")).toBe("site/gate/lane/in/last");
    expect(clientIdOf(custom, SITE)).toBe("gate-1");
  });

  it("compose stores the lane and the event view, nothing else (addresses are read at send time)", () => {
    const event = { id: 7, plate: "AB123CD", laneId: "in", decision: "allow" } as EventView;
    const draft = network(config, SITE).compose({ event, images: [], laterPictures: false });
    expect(draft).toEqual({ payload: { lane: "in", json: JSON.stringify(event) } });
  });
});

describe("Home Assistant discovery", () => {
  it("two sensors per lane, under the controller's device, with availability", () => {
    const configs = discoveryConfigs(parsed({ url: "mqtt://b" }), { ...SITE, version: "1.2.3" });
    expect(configs.map((c) => c.topic)).toEqual([
      "homeassistant/sensor/portcullis_north-gate/lane_in_last_plate/config",
      "homeassistant/sensor/portcullis_north-gate/lane_in_last_decision/config",
      "homeassistant/sensor/portcullis_north-gate/lane_out_2_last_plate/config",
      "homeassistant/sensor/portcullis_north-gate/lane_out_2_last_decision/config",
    ]);
    // Topic levels and unique ids keep to what Home Assistant allows.
    for (const c of configs) expect(c.topic.split("/").slice(2, 4).join("")).toMatch(/^[A-Za-z0-9_-]+$/);
    const [plate, decision] = configs.slice(2).map((c) => c.payload);
    expect(plate).toMatchObject({
      unique_id: "portcullis_north-gate_lane_out_2_last_plate",
      name: "Exit 2 last plate",
      state_topic: "portcullis/north-gate/lane/out.2/last",
      value_template: "{{ value_json.plate }}",
      json_attributes_topic: "portcullis/north-gate/lane/out.2/last",
      availability: [
        {
          topic: "portcullis/north-gate/status",
          payload_available: "online",
          payload_not_available: "offline",
        },
      ],
      device: {
        identifiers: ["portcullis_north-gate"],
        name: "North gate",
        manufacturer: "Portcullis",
        sw_version: "1.2.3",
      },
      origin: { name: "Portcullis", sw_version: "1.2.3" },
    });
    expect(decision).toMatchObject({
      unique_id: "portcullis_north-gate_lane_out_2_last_decision",
      value_template: "{{ value_json.decision }}",
      device_class: "enum",
      options: ["allow", "deny"],
    });
    expect(new Set(configs.map((c) => c.payload.unique_id)).size).toBe(4);
  });

  it("follows the discovery prefix, and publishes nothing when disabled", () => {
    const custom = parsed({ url: "mqtt://b", homeAssistant: { discoveryPrefix: "ha/disc" } });
    expect(discoveryConfigs(custom, SITE)[0]?.topic).toBe(
      "ha/disc/sensor/portcullis_north-gate/lane_in_last_plate/config",
    );
    expect(discoveryConfigs(parsed({ url: "mqtt://b", homeAssistant: { enabled: false } }), SITE)).toEqual(
      [],
    );
  });
});
