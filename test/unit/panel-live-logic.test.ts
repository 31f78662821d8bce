/** The panel's pure live logic: parsing socket frames defensively, merging camera state, camera colours. */
import { describe, expect, it } from "vitest";
import {
  applyCameraList,
  applyCameraStatus,
  applyHelloCameras,
  cameraRate,
  cameraState,
  cameraTone,
  PUSH_IDLE_MS,
  parseMessage,
  RECENT_ERROR_MS,
  showableImages,
  worstTone,
} from "../../ui/src/lib/live-logic.js";
import type { Camera, CameraItem, CameraStatus } from "../../ui/src/lib/types.js";

const NOW = Date.parse("2026-11-21T12:00:00.000Z");
const iso = (msAgo: number) => new Date(NOW - msAgo).toISOString();

function status(fields: Partial<CameraStatus> = {}): CameraStatus {
  return {
    id: "cam1",
    protocol: "milesight-http",
    transport: "push",
    state: "idle",
    detail: null,
    since: iso(3_600_000),
    lastReadAt: null,
    reads: 0,
    readsPerMinute: 0,
    errors: 0,
    lastError: null,
    ...fields,
  };
}

const camera = (fields: Partial<CameraStatus> = {}, info: Partial<Camera> = {}): Camera => ({
  id: fields.id ?? "cam1",
  name: "Entry camera",
  lane: "1",
  status: status(fields),
  ...info,
});

const frame = (msg: unknown) => JSON.stringify(msg);

describe("parseMessage: camera status", () => {
  it("reads a camera message and keeps only the status fields", () => {
    const s = status({ state: "receiving", lastReadAt: iso(2000), reads: 3, readsPerMinute: 3 });
    const msg = parseMessage(frame({ type: "camera", camera: { ...s, secret: "never-kept" } }));
    expect(msg).toEqual({ type: "camera", camera: s });
  });

  it("keeps a last error", () => {
    const s = status({ errors: 1, lastError: { at: iso(1000), message: "malformed read: body.plate" } });
    expect(parseMessage(frame({ type: "camera", camera: s }))).toEqual({ type: "camera", camera: s });
  });

  it.each([
    ["no camera", { type: "camera" }],
    ["camera not an object", { type: "camera", camera: "cam1" }],
    ["id missing", { type: "camera", camera: { ...status(), id: undefined } }],
    ["unknown state", { type: "camera", camera: status({ state: "exploded" as never }) }],
    ["unknown transport", { type: "camera", camera: status({ transport: "carrier-pigeon" as never }) }],
    ["reads negative", { type: "camera", camera: status({ reads: -1 }) }],
    ["reads/min not a number", { type: "camera", camera: status({ readsPerMinute: "3" as never }) }],
    ["lastReadAt a number", { type: "camera", camera: status({ lastReadAt: 5 as never }) }],
    ["lastError without message", { type: "camera", camera: status({ lastError: { at: iso(0) } as never }) }],
    ["since missing", { type: "camera", camera: { ...status(), since: undefined } }],
  ])("ignores a camera message with %s", (_, msg) => {
    expect(parseMessage(frame(msg))).toBeNull();
  });

  it("ignores frames that are not JSON objects, and unknown message types", () => {
    expect(parseMessage("{not json")).toBeNull();
    expect(parseMessage(frame(null))).toBeNull();
    expect(parseMessage(frame([{ type: "camera", camera: status() }]))).toBeNull();
    expect(parseMessage(frame({ type: "cameras", cameras: [status()] }))).toBeNull();
    expect(parseMessage(new ArrayBuffer(4))).toBeNull();
  });

  it("takes the cameras of a hello, dropping malformed ones", () => {
    const good = status({ id: "cam1" });
    const msg = parseMessage(
      frame({ type: "hello", lanes: [], io: [], cameras: [good, { id: "cam2" }, 7, null] }),
    );
    expect(msg).toEqual({ type: "hello", lanes: [], io: [], cameras: [good] });
  });

  it("tells a hello without cameras (older controller) from one with none", () => {
    expect(parseMessage(frame({ type: "hello", lanes: [], io: [] }))).toMatchObject({ cameras: null });
    expect(parseMessage(frame({ type: "hello", lanes: [], io: [], cameras: "x" }))).toMatchObject({
      cameras: null,
    });
    expect(parseMessage(frame({ type: "hello", lanes: [], io: [], cameras: [] }))).toMatchObject({
      cameras: [],
    });
  });
});

describe("camera list merging", () => {
  it("replaces a known camera's status and keeps its name and lane", () => {
    const next = status({ state: "receiving", reads: 1, lastReadAt: iso(0) });
    expect(applyCameraStatus([camera()], next)).toEqual([
      { id: "cam1", name: "Entry camera", lane: "1", status: next },
    ]);
  });

  it("adds a camera first seen on the socket, without a lane until the REST list names it", () => {
    const added = status({ id: "cam2", protocol: "generic" });
    const list = applyCameraStatus([camera()], added);
    expect(list.map((c) => [c.id, c.lane])).toEqual([
      ["cam1", "1"],
      ["cam2", null],
    ]);
  });

  it("takes the hello's cameras as the whole set, keeping what is known about each", () => {
    const list = applyHelloCameras(
      [camera({ id: "gone" }), camera({ id: "cam1" })],
      [status({ id: "cam1", state: "receiving" }), status({ id: "new" })],
    );
    expect(list.map((c) => [c.id, c.name, c.lane, c.status.state])).toEqual([
      ["cam1", "Entry camera", "1", "receiving"],
      ["new", null, null, "idle"],
    ]);
  });

  const item = (
    id: string,
    fields: Partial<CameraStatus> = {},
    extra: Partial<CameraItem> = {},
  ): CameraItem => ({
    id,
    protocol: "generic",
    lane: "2",
    enabled: true,
    status: status({ id, ...fields }),
    ...extra,
  });

  it("uses the REST list as it is before the socket has greeted", () => {
    const list = applyCameraList([], [item("a", {}, { name: "Gate A" }), item("b")], false);
    expect(list.map((c) => [c.id, c.name, c.lane])).toEqual([
      ["a", "Gate A", "2"],
      ["b", null, "2"],
    ]);
  });

  it("after the hello, takes only names and lanes from the REST list: the socket's status is fresher", () => {
    const current = [camera({ id: "a", state: "receiving", reads: 9 }, { name: null, lane: null })];
    const list = applyCameraList(
      current,
      [item("a", { state: "idle", reads: 2 }, { name: "Gate A" }), item("b")],
      true,
    );
    expect(list).toEqual([{ ...current[0], name: "Gate A", lane: "2" }]);
  });
});

describe("camera colour and figures as of now", () => {
  it("is green while connected or receiving", () => {
    expect(cameraTone(status({ transport: "link", state: "connected" }), NOW)).toBe("ok");
    expect(cameraTone(status({ state: "receiving", lastReadAt: iso(10_000) }), NOW)).toBe("ok");
  });

  it("is amber while connecting or idle", () => {
    expect(cameraTone(status({ transport: "link", state: "connecting" }), NOW)).toBe("warn");
    expect(cameraTone(status({ state: "idle" }), NOW)).toBe("warn");
  });

  it("is red when disconnected, or after a recent error even while receiving", () => {
    expect(cameraTone(status({ transport: "link", state: "disconnected" }), NOW)).toBe("bad");
    const recent = { at: iso(RECENT_ERROR_MS - 1000), message: "malformed read" };
    expect(cameraTone(status({ state: "receiving", lastReadAt: iso(0), lastError: recent }), NOW)).toBe(
      "bad",
    );
    const old = { at: iso(RECENT_ERROR_MS + 1000), message: "malformed read" };
    expect(cameraTone(status({ state: "receiving", lastReadAt: iso(0), lastError: old }), NOW)).toBe("ok");
  });

  it("is grey when disabled, whatever else it says", () => {
    const error = { at: iso(0), message: "not started: lane 9 does not exist" };
    expect(cameraTone(status({ state: "disabled", lastError: error }), NOW)).toBe("off");
  });

  it("shows a push camera idle once it has been quiet as long as the controller's idle limit", () => {
    expect(cameraState(status({ state: "receiving", lastReadAt: iso(PUSH_IDLE_MS - 1000) }), NOW)).toBe(
      "receiving",
    );
    expect(cameraState(status({ state: "receiving", lastReadAt: iso(PUSH_IDLE_MS) }), NOW)).toBe("idle");
    // A link camera's state is the link's: no reads for a while does not change it.
    expect(
      cameraState(status({ transport: "link", state: "connected", lastReadAt: iso(PUSH_IDLE_MS * 2) }), NOW),
    ).toBe("connected");
  });

  it("counts no reads per minute a minute after the last read", () => {
    expect(cameraRate(status({ readsPerMinute: 4, lastReadAt: iso(59_000) }), NOW)).toBe(4);
    expect(cameraRate(status({ readsPerMinute: 4, lastReadAt: iso(60_000) }), NOW)).toBe(0);
    expect(cameraRate(status({ readsPerMinute: 4, lastReadAt: null }), NOW)).toBe(0);
  });

  it("summarises the cameras by the worst colour, ignoring disabled ones", () => {
    expect(worstTone([], NOW)).toBe("off");
    const ok = camera({ id: "a", state: "receiving", lastReadAt: iso(0) });
    const idle = camera({ id: "b", state: "idle" });
    const off = camera({ id: "c", state: "disabled" });
    const down = camera({ id: "d", transport: "link", state: "disconnected" });
    expect(worstTone([ok, off], NOW)).toBe("ok");
    expect(worstTone([ok, idle, off], NOW)).toBe("warn");
    expect(worstTone([down, ok, idle], NOW)).toBe("bad");
  });
});

describe("showableImages", () => {
  const img = (id: number, kind: string, url = `/api/v1/events/1/images/${id}`) => ({
    id,
    kind,
    bytes: 10,
    url,
  });

  it("puts the plate crop first, then the full frame, then evidence", () => {
    const items = [img(1, "full"), img(2, "evidence"), img(3, "plate")];
    expect(showableImages(items).map((i) => i.kind)).toEqual(["plate", "full", "evidence"]);
  });

  it("drops kinds it cannot label and addresses outside the API", () => {
    const items = [
      img(1, "thermal"),
      img(2, "full", "https://elsewhere.example/x.jpg"),
      null,
      img(3, "full"),
    ];
    expect(showableImages(items).map((i) => i.id)).toEqual([3]);
  });
});
