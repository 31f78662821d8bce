/** What `vms-bookmark` makes of a decision and sends, byte for byte; its schema's defaults; nx-client helpers. */
import { Compile } from "typebox/compile";
import { describe, expect, it } from "vitest";
import { nxAuthOf, vmsError } from "../../firmware/actions/nx-client.js";
import {
  type BookmarkPayload,
  bookmarkPayload,
  bookmarkRequest,
  type Config,
  schema,
} from "../../firmware/actions/vms-bookmark.js";
import { DeliveryError } from "../../firmware/outbox/types.js";
import { testSite } from "../helpers/controller.js";
import { eventView } from "../helpers/event-view.js";

const CAM = "3a4ad4ea-0000-4000-8000-000000000001";
const GUID = "6f1c2d3e-4a5b-4c6d-8e7f-001122334455";
const RECEIVED = Date.parse("2025-03-01T07:15:02.120Z");

const config = (over: Record<string, unknown> = {}): Config =>
  Compile(schema).Default({
    type: "vms-bookmark",
    host: "vms.lan",
    username: "gate",
    password: "pw",
    cameraRefs: { cam1: CAM },
    ...over,
  }) as Config;

describe("vms-bookmark settings", () => {
  it("defaults: REST, {plate}, ANPR/{decision}/{list} tags, 5 s before the read for 15 s, port 7001", () => {
    expect(config()).toMatchObject({
      api: "rest",
      port: 7001,
      https: false,
      verifyTls: true,
      name: "{plate}",
      description: "{plate} {decision} on lane {lane} ({list}): {reason}",
      tags: ["ANPR", "{decision}", "{list}"],
      preRollMs: 5000,
      durationMs: 15_000,
      timeSource: "received",
      backoffMinMs: 1000,
    });
    expect(config().auth).toBeUndefined();
    expect(nxAuthOf(config())).toBe("digest");
    expect(nxAuthOf(config({ https: true }))).toBe("session");
    expect(nxAuthOf(config({ https: true, auth: "digest" }))).toBe("digest");
  });

  it("the site file needs cameraRefs with at least one camera, and an id", () => {
    const action = { host: "vms.lan", username: "gate", password: "pw", type: "vms-bookmark" };
    expect(() => testSite({ actions: [{ id: "bm", on: {}, do: action }] })).toThrow();
    expect(() => testSite({ actions: [{ id: "bm", on: {}, do: { ...action, cameraRefs: {} } }] })).toThrow();
    expect(() => testSite({ actions: [{ on: {}, do: { ...action, cameraRefs: { cam1: CAM } } }] })).toThrow(
      /id is required on a vms-bookmark action/,
    );
    const site = testSite({ actions: [{ id: "bm", on: {}, do: { ...action, cameraRefs: { cam1: CAM } } }] });
    expect(site.actions[0]?.do).toMatchObject({ type: "vms-bookmark", api: "rest", durationMs: 15_000 });
  });
});

describe("vms-bookmark payload (decision time)", () => {
  it("fills the templates, drops empty and repeated tags, starts preRollMs before the received time", () => {
    expect(bookmarkPayload(config(), eventView(), GUID)).toEqual({
      cameraId: "cam1",
      name: "AB123CD",
      description: "AB123CD allow on lane 1 (Allow): on list Allow",
      tags: ["ANPR", "allow", "Allow"],
      startTimeMs: RECEIVED - 5000,
      durationMs: 15_000,
      guid: GUID,
    });
    const c = config({ tags: ["ANPR", "{list}", " {direction} ", "{decision}", "deny"], preRollMs: 0 });
    const p = bookmarkPayload(c, eventView({ decision: "deny", listName: null, direction: null }), GUID);
    expect(p.tags).toEqual(["ANPR", "deny"]);
    expect(p.startTimeMs).toBe(RECEIVED);
  });

  it("a fresh guid per bookmark", () => {
    const a = bookmarkPayload(config(), eventView());
    const b = bookmarkPayload(config(), eventView());
    expect(a.guid).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.guid).not.toBe(b.guid);
  });

  it("timeSource camera: the camera's time when it sent one, else the received time", () => {
    const c = config({ timeSource: "camera", preRollMs: 1000 });
    const withCameraTime = eventView({ cameraTime: "2025-03-01T07:15:01.500Z" });
    expect(bookmarkPayload(c, withCameraTime).startTimeMs).toBe(Date.parse("2025-03-01T07:15:00.500Z"));
    expect(bookmarkPayload(c, eventView()).startTimeMs).toBe(RECEIVED - 1000);
    expect(bookmarkPayload(config(), withCameraTime).startTimeMs).toBe(RECEIVED - 5000);
  });
});

describe("vms-bookmark request (send time)", () => {
  const payload: BookmarkPayload = {
    cameraId: "cam1",
    name: "AB123CD",
    description: "AB123CD allow & in",
    tags: ["ANPR", "allow", "Allow"],
    startTimeMs: 1_740_813_297_120,
    durationMs: 15_000,
    guid: GUID,
  };

  it("rest: POST /rest/v3/devices/{id}/bookmarks with the JSON body", () => {
    expect(bookmarkRequest(config(), payload)).toEqual({
      method: "POST",
      path: `/rest/v3/devices/${CAM}/bookmarks`,
      json:
        '{"name":"AB123CD","description":"AB123CD allow & in","startTimeMs":1740813297120,' +
        '"durationMs":15000,"tags":["ANPR","allow","Allow"]}',
    });
    const braced = bookmarkRequest(config({ cameraRefs: { cam1: `{${CAM}}` } }), payload);
    expect(braced.path).toBe(`/rest/v3/devices/%7B${CAM}%7D/bookmarks`);
  });

  it("legacy: GET /ec2/bookmarks/add with guid, both time names and one tag parameter per tag", () => {
    expect(bookmarkRequest(config({ api: "legacy" }), payload)).toEqual({
      method: "GET",
      path:
        `/ec2/bookmarks/add?guid=${GUID}&cameraId=${CAM}&name=AB123CD&description=AB123CD+allow+%26+in` +
        "&startTime=1740813297120&duration=15000&startTimeMs=1740813297120&durationMs=15000" +
        "&tag=ANPR&tag=allow&tag=Allow",
    });
  });

  it("a camera without a cameraRefs entry: a permanent DeliveryError naming the camera", () => {
    for (const cameraId of ["cam2", "toString", "__proto__"]) {
      let error: unknown;
      try {
        bookmarkRequest(config(), { ...payload, cameraId });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(DeliveryError);
      expect((error as DeliveryError).permanent).toBe(true);
      expect((error as DeliveryError).message).toBe(
        `camera '${cameraId}' has no entry in cameraRefs: add its VMS camera id, then retry this message`,
      );
    }
  });
});

describe("nx-client vmsError", () => {
  it("no body, a bookmark, or error 0 is success; another code is the VMS's refusal", () => {
    const body = (text: string) => ({ body: Buffer.from(text) });
    expect(vmsError(body(""))).toBeNull();
    expect(vmsError(body('{"id":"x","name":"AB123CD"}'))).toBeNull();
    expect(vmsError(body('{"error":"0","errorString":""}'))).toBeNull();
    expect(vmsError(body('{"error":2,"errorString":"Invalid parameter"}'))).toBe(
      "error 2: Invalid parameter",
    );
  });
});
