/**
 * The panel's pure live logic: parsing socket frames defensively, merging camera, barrier, outbox and zone
 * state, their colours.
 */
import { describe, expect, it } from "vitest";
import {
  applyBarrier,
  applyBarrierView,
  applyCameraList,
  applyCameraStatus,
  applyHelloCameras,
  applyOutboxTarget,
  applyZoneCount,
  applyZoneUpdate,
  BARRIER_TEXT,
  barrierOf,
  barrierTone,
  cameraRate,
  cameraState,
  cameraTone,
  lanesOf,
  outboxAlert,
  outboxTargetsOf,
  outboxTone,
  PUSH_IDLE_MS,
  parseMessage,
  putZone,
  RECENT_ERROR_MS,
  removeZone,
  replayZoneUpdates,
  showableImages,
  worstOf,
  worstTone,
  zonesOf,
} from "../../ui/src/lib/live-logic.js";
import type {
  Barrier,
  Camera,
  CameraItem,
  CameraStatus,
  Lane,
  OutboxTarget,
  Zone,
  ZoneUpdate,
} from "../../ui/src/lib/types.js";

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

// ---- barriers --------------------------------------------------------------------------------------

function barrier(fields: Partial<Barrier> = {}): Barrier {
  return {
    state: "closed",
    position: "closed",
    fault: null,
    since: iso(60_000),
    closePending: false,
    expected: 0,
    canClose: true,
    canHold: true,
    ...fields,
  };
}

/** A lane as GET /lanes sends it, with the fields the panel does not use. */
const apiLane = (fields: Record<string, unknown> = {}) => ({
  id: "1",
  name: "Lane 1",
  barrierOutput: "lane1.barrier",
  presenceInput: "lane1.presence",
  openPulseMs: 500,
  closeOutput: "lane1.close",
  holdOutput: null,
  openLimitInput: null,
  closedLimitInput: null,
  buttonInput: null,
  serialPath: null,
  autoClose: false,
  closeDelayMs: 1000,
  barrier: barrier(),
  ...fields,
});

const lane = (fields: Partial<Barrier> = {}, info: Partial<Lane> = {}): Lane => ({
  id: "1",
  name: "Lane 1",
  barrierOutput: "lane1.barrier",
  presenceInput: "lane1.presence",
  serialPath: null,
  barrier: barrier(fields),
  ...info,
});

const update = (fields: Record<string, unknown> = {}) => ({
  type: "barrier",
  lane: "1",
  state: "opening",
  position: "opening",
  since: iso(0),
  ...fields,
});

describe("lanes and their barriers", () => {
  it("keeps only the fields the panel uses from GET /lanes and the hello", () => {
    expect(lanesOf([apiLane()])).toEqual([lane()]);
    const hello = parseMessage(frame({ type: "hello", lanes: [apiLane()], io: [], cameras: [] }));
    expect(hello).toMatchObject({ type: "hello", lanes: [lane()] });
  });

  it("renders a serial-only lane: no barrier output, its serial device, no hold", () => {
    const serial = apiLane({
      id: "2",
      barrierOutput: null,
      presenceInput: null,
      serialPath: "/dev/ttyUSB0",
      barrier: barrier({ state: "unknown", position: "unknown", canHold: false, canClose: false }),
    });
    expect(lanesOf([serial])).toEqual([
      lane(
        { state: "unknown", position: "unknown", canHold: false, canClose: false },
        { id: "2", barrierOutput: null, presenceInput: null, serialPath: "/dev/ttyUSB0" },
      ),
    ]);
  });

  it("keeps a lane whose barrier it cannot read (an older controller), without one", () => {
    const lanes = lanesOf([
      apiLane({ barrier: undefined }),
      apiLane({ id: "2", barrier: { state: "levitating", since: iso(0) } }),
      apiLane({ id: "3", barrier: { state: "open" } }),
    ]);
    expect(lanes.map((l) => [l.id, l.barrier])).toEqual([
      ["1", null],
      ["2", null],
      ["3", null],
    ]);
  });

  it("drops lanes without an id or a name, and non-arrays", () => {
    expect(lanesOf([apiLane({ id: "" }), apiLane({ name: 5 }), null, "1", apiLane({ id: "4" })])).toEqual([
      lane({}, { id: "4" }),
    ]);
    expect(lanesOf({ items: [] })).toEqual([]);
  });

  it("never offers a command the controller did not say it can do", () => {
    const b = barrierOf({ state: "open", since: iso(0), canClose: "yes", canHold: 1 });
    expect(b).toMatchObject({ canClose: false, canHold: false, closePending: false, expected: 0 });
    expect(b?.position).toBe("open");
  });

  it("keeps the fault's text, and the fault state even when the fault itself is malformed", () => {
    const fault = { code: "open-timeout", message: "did not report open within 8000 ms", since: iso(0) };
    expect(barrierOf({ ...barrier({ state: "fault", position: "opening" }), fault })).toMatchObject({
      state: "fault",
      position: "opening",
      fault,
    });
    expect(barrierOf({ ...barrier({ state: "fault" }), fault: { code: 7 } })).toMatchObject({
      state: "fault",
      fault: null,
    });
  });
});

describe("parseMessage: barrier", () => {
  it("reads a barrier message, with and without a fault", () => {
    expect(parseMessage(frame(update()))).toEqual({ ...update(), fault: null });
    const fault = { code: "serial", message: "serial open: no reply", since: iso(0) };
    expect(parseMessage(frame(update({ state: "fault", position: "open", fault })))).toEqual({
      ...update({ state: "fault", position: "open" }),
      fault,
    });
  });

  it("takes the position from the state when it is missing or unknown to the panel", () => {
    expect(parseMessage(frame(update({ state: "closing", position: undefined })))).toMatchObject({
      position: "closing",
    });
    expect(parseMessage(frame(update({ state: "fault", position: "sideways" })))).toMatchObject({
      position: "unknown",
    });
  });

  it.each([
    ["no lane", update({ lane: undefined })],
    ["lane a number", update({ lane: 1 })],
    ["unknown state", update({ state: "ajar" })],
    ["no since", update({ since: undefined })],
  ])("ignores a barrier message with %s", (_, msg) => {
    expect(parseMessage(frame(msg))).toBeNull();
  });
});

describe("barrier updates", () => {
  const apply = (lanes: readonly Lane[], fields: Record<string, unknown>) => {
    const msg = parseMessage(frame(update(fields)));
    if (msg?.type !== "barrier") throw new Error("not a barrier message");
    return applyBarrier(lanes, msg);
  };

  it("follows the lane's state and keeps what the message does not carry", () => {
    const next = apply([lane({ canHold: false, expected: 1 })], { state: "open", position: "open" });
    expect(next[0]?.barrier).toEqual(
      barrier({ state: "open", position: "open", since: iso(0), canHold: false, expected: 1 }),
    );
  });

  it("ignores a message older than what it shows, and one for another lane", () => {
    const lanes = [lane({ state: "open", position: "open", since: iso(0) })];
    expect(apply(lanes, { state: "opening", since: iso(5000) })).toBe(lanes);
    expect(apply(lanes, { lane: "9" })).toBe(lanes);
  });

  it("keeps a waiting close until the close has started, or a hold cancelled it", () => {
    const waiting = [lane({ state: "open", position: "open", closePending: true, since: iso(5000) })];
    expect(apply(waiting, { state: "fault", since: iso(4000) })[0]?.barrier?.closePending).toBe(true);
    expect(apply(waiting, { state: "closing", since: iso(4000) })[0]?.barrier?.closePending).toBe(false);
    expect(apply(waiting, { state: "held", since: iso(4000) })[0]?.barrier?.closePending).toBe(false);
  });

  it("shows a fault's text and drops it when the fault clears", () => {
    const fault = {
      code: "closed-on-vehicle",
      message: "closed while a vehicle was on the loop",
      since: iso(1),
    };
    const faulted = apply([lane()], { state: "fault", position: "closed", fault, since: iso(1) });
    expect(faulted[0]?.barrier).toMatchObject({ state: "fault", fault });
    expect(apply(faulted, { state: "opening", since: iso(0) })[0]?.barrier?.fault).toBeNull();
  });

  it("takes a command's reply whole (closePending included), unless the socket already told a newer state", () => {
    const lanes = [lane({ state: "open", position: "open", since: iso(2000) })];
    const deferred = barrier({ state: "open", position: "open", since: iso(2000), closePending: true });
    expect(applyBarrierView(lanes, "1", deferred)[0]?.barrier).toEqual(deferred);

    const newer = [lane({ state: "closing", position: "closing", since: iso(0) })];
    const stale = barrier({ state: "open", since: iso(2000), closePending: true, canHold: false });
    expect(applyBarrierView(newer, "1", stale)[0]?.barrier).toEqual(
      barrier({ state: "closing", position: "closing", since: iso(0), canHold: false }),
    );
    expect(applyBarrierView(lanes, "1", { nonsense: true })).toBe(lanes);
    expect(applyBarrierView(lanes, "9", deferred)).toBe(lanes);
  });

  it("labels and colours every state", () => {
    expect(Object.keys(BARRIER_TEXT).sort()).toEqual(
      ["closed", "closing", "fault", "held", "open", "opening", "unknown"].sort(),
    );
    expect(BARRIER_TEXT.held).toBe("Held open");
    expect(
      (["closed", "opening", "open", "held", "closing", "fault", "unknown"] as const).map(barrierTone),
    ).toEqual(["closed", "open", "open", "open", "moving", "fault", "unknown"]);
  });
});

// ---- outbox ----------------------------------------------------------------------------------------

function target(fields: Partial<OutboxTarget> = {}): OutboxTarget {
  return {
    target: "crm",
    type: "http-webhook",
    state: "up",
    pending: 0,
    oldestPendingAgeMs: null,
    lastError: null,
    lastErrorAt: null,
    lastSentAt: iso(10_000),
    nextAttemptAt: null,
    ...fields,
  };
}

describe("outbox targets", () => {
  const down = target({
    state: "down",
    pending: 1,
    oldestPendingAgeMs: 1200,
    lastError: "connect ECONNREFUSED 127.0.0.1:9",
    lastErrorAt: iso(1000),
    nextAttemptAt: iso(-2000),
  });

  it("reads an outbox message", () => {
    expect(parseMessage(frame({ type: "outbox", target: down }))).toEqual({ type: "outbox", target: down });
  });

  it.each([
    ["no target", { type: "outbox" }],
    ["no id", { type: "outbox", target: { ...down, target: "" } }],
    ["pending missing", { type: "outbox", target: { ...down, pending: undefined } }],
    ["pending negative", { type: "outbox", target: { ...down, pending: -1 } }],
  ])("ignores an outbox message with %s", (_, msg) => {
    expect(parseMessage(frame(msg))).toBeNull();
  });

  it("reads a state it does not know as unknown, and odd optional fields as absent", () => {
    const msg = parseMessage(
      frame({ type: "outbox", target: { target: "nvr", pending: 2, state: "paused", lastError: 5 } }),
    );
    expect(msg).toEqual({
      type: "outbox",
      target: target({ target: "nvr", type: null, state: "unknown", pending: 2, lastSentAt: null }),
    });
  });

  it("takes GET /outbox/targets sorted, drops malformed items, and replaces or adds from messages", () => {
    const list = outboxTargetsOf([target({ target: "nvr" }), { target: 5 }, target({ target: "crm" })]);
    expect(list.map((t) => t.target)).toEqual(["crm", "nvr"]);
    expect(outboxTargetsOf(null)).toEqual([]);
    const next = applyOutboxTarget(list, down);
    expect(next.map((t) => [t.target, t.state])).toEqual([
      ["crm", "down"],
      ["nvr", "up"],
    ]);
    expect(applyOutboxTarget(next, target({ target: "bms" })).map((t) => t.target)).toEqual([
      "bms",
      "crm",
      "nvr",
    ]);
  });

  it("colours a target: red down, green up, amber waiting without an answer, grey idle", () => {
    expect(outboxTone(down)).toBe("bad");
    expect(outboxTone(target())).toBe("ok");
    expect(outboxTone(target({ state: "unknown", pending: 3 }))).toBe("warn");
    expect(outboxTone(target({ state: "unconfigured", pending: 1 }))).toBe("warn");
    expect(outboxTone(target({ state: "unknown" }))).toBe("off");
    expect(worstOf([outboxTone(target()), outboxTone(down)])).toBe("bad");
    expect(worstOf([])).toBe("off");
  });

  it("raises the alert only for targets that are down with messages waiting", () => {
    expect(outboxAlert([target(), target({ target: "x", state: "down", pending: 0 })])).toEqual({
      targets: 0,
      pending: 0,
    });
    expect(
      outboxAlert([down, target({ target: "nvr", state: "down", pending: 4 }), target({ pending: 9 })]),
    ).toEqual({ targets: 2, pending: 5 });
  });
});

describe("zones: live over the socket", () => {
  const zone = (fields: Partial<Zone> = {}): Zone => ({
    name: "Car park",
    count: 0,
    capacity: 2,
    full: false,
    inside: 0,
    antiPassback: "hard",
    resetAfterMs: 86_400_000,
    fullDenies: "visitors",
    countVisitorsOnly: false,
    ...fields,
  });
  const yard = zone({ name: "Yard", capacity: null, antiPassback: "off" });
  /** As the controller sends a zone (GET /zones/{name}, `zone` messages): with its lanes and loops. */
  const wire = (z: Zone) => ({
    ...z,
    lanes: [{ lane: "1", direction: "entry", countBy: "decision" }],
    loops: [],
  });
  const names = (zones: readonly Zone[]) => zones.map((z) => z.name);

  it("reads an occupancy message with the plates inside and whether the zone is full", () => {
    expect(
      parseMessage(
        frame({ type: "occupancy", zone: "Car park", count: 2, capacity: 2, full: true, inside: 1 }),
      ),
    ).toEqual({ type: "occupancy", zone: "Car park", count: 2, capacity: 2, full: true, inside: 1 });
    // Without `full` it is worked out; without `inside` the panel keeps what it has (null).
    expect(parseMessage(frame({ type: "occupancy", zone: "Yard", count: 7, capacity: null }))).toEqual({
      type: "occupancy",
      zone: "Yard",
      count: 7,
      capacity: null,
      full: false,
      inside: null,
    });
    expect(parseMessage(frame({ type: "occupancy", zone: "Car park", count: 3, capacity: 3 }))).toMatchObject(
      {
        full: true,
      },
    );
  });

  it("reads a zone message as the zone's fields the panel uses, and a zone-removed message", () => {
    const msg = parseMessage(frame({ type: "zone", zone: wire(zone({ count: 1, inside: 1 })) }));
    expect(msg).toEqual({ type: "zone", zone: zone({ count: 1, inside: 1 }) });
    expect(parseMessage(frame({ type: "zone-removed", zone: "Yard" }))).toEqual({
      type: "zone-removed",
      zone: "Yard",
    });
  });

  it.each([
    ["occupancy without a zone", { type: "occupancy", count: 1, capacity: 2 }],
    ["occupancy with a negative count", { type: "occupancy", zone: "Car park", count: -1, capacity: 2 }],
    ["zone without a body", { type: "zone" }],
    ["zone without a name", { type: "zone", zone: { ...wire(zone()), name: "" } }],
    ["zone without a count", { type: "zone", zone: { ...wire(zone()), count: "3" } }],
    ["zone-removed without a name", { type: "zone-removed", zone: "" }],
    ["zone-removed naming an object", { type: "zone-removed", zone: { name: "Yard" } }],
  ])("ignores a message: %s", (_, msg) => {
    expect(parseMessage(frame(msg))).toBeNull();
  });

  it("takes the hello's zones with their plates inside, malformed items dropped", () => {
    const msg = parseMessage(
      frame({
        type: "hello",
        lanes: [],
        io: [],
        zones: [
          { zone: "Car park", count: 1, capacity: 2, full: false, inside: 1 },
          { zone: "", count: 1 },
          { zone: "Yard", count: 4, capacity: null, full: false, inside: 0 },
        ],
      }),
    );
    expect(msg?.type === "hello" && msg.zones).toEqual([
      { zone: "Car park", count: 1, capacity: 2, full: false, inside: 1 },
      { zone: "Yard", count: 4, capacity: null, full: false, inside: 0 },
    ]);
  });

  it("applies a count: count, capacity, full and plates inside; unknown zones and no-ops return the same list", () => {
    const list = [zone(), yard];
    const next = applyZoneCount(list, { zone: "Car park", count: 2, capacity: 2, full: true, inside: 2 });
    expect(next).toEqual([zone({ count: 2, full: true, inside: 2 }), yard]);
    expect(next[1]).toBe(yard);
    // The controller's `full` is taken as it is (e.g. a capacity of 0).
    expect(
      applyZoneCount(list, { zone: "Car park", count: 0, capacity: 0, full: true, inside: 0 })[0],
    ).toEqual(zone({ capacity: 0, full: true }));
    // No `inside` in the update: the zone keeps its own.
    expect(
      applyZoneCount([zone({ inside: 3 })], {
        zone: "Car park",
        count: 1,
        capacity: 2,
        full: false,
        inside: null,
      }),
    ).toEqual([zone({ count: 1, inside: 3 })]);
    expect(applyZoneCount(list, { zone: "Gone", count: 1, capacity: null, full: false, inside: 0 })).toBe(
      list,
    );
    expect(applyZoneCount(list, { zone: "Car park", count: 0, capacity: 2, full: false, inside: 0 })).toBe(
      list,
    );
    expect(applyZoneCount(list, { zone: "Car park", count: 0, capacity: 2, full: false, inside: null })).toBe(
      list,
    );
  });

  it("replaces a changed zone where it is, adds a new one last, and removes a deleted one", () => {
    const list = [zone(), yard];
    const bigger = zone({ capacity: 5, antiPassback: "soft", inside: 1 });
    expect(putZone(list, bigger)).toEqual([bigger, yard]);
    const visitors = zone({ name: "Visitors", capacity: 10 });
    expect(names(putZone(list, visitors))).toEqual(["Car park", "Yard", "Visitors"]);
    expect(names(removeZone(list, "Car park"))).toEqual(["Yard"]);
    expect(removeZone(list, "Gone")).toBe(list);
  });

  it("takes the hello's zones as the whole set: one it does not name went, the others take its counts", () => {
    const list = [zone(), yard, zone({ name: "Old" })];
    const next = applyZoneUpdate(list, {
      type: "zones",
      zones: [
        { zone: "Car park", count: 1, capacity: 2, full: false, inside: 1 },
        { zone: "Yard", count: 0, capacity: null, full: false, inside: 0 },
        { zone: "New", count: 3, capacity: null, full: false, inside: 0 },
      ],
    });
    // "New" has no settings yet: it waits for GET /zones (replayZoneUpdates reports it missing).
    expect(next).toEqual([zone({ count: 1, inside: 1 }), yard]);
    expect(next[1]).toBe(yard);
  });

  it("applies each message type, and a count of an unknown zone changes nothing", () => {
    const list = [zone(), yard];
    const steps: ZoneUpdate[] = [
      { type: "zone", zone: zone({ name: "Visitors", capacity: 3 }) },
      { type: "occupancy", zone: "Visitors", count: 3, capacity: 3, full: true, inside: 3 },
      { type: "zone", zone: zone({ name: "Visitors", capacity: 4, count: 3, inside: 3 }) },
      { type: "zone-removed", zone: "Yard" },
      { type: "occupancy", zone: "Gone", count: 9, capacity: null, full: false, inside: 0 },
    ];
    let zones: readonly Zone[] = list;
    for (const step of steps) zones = applyZoneUpdate(zones, step);
    expect(zones).toEqual([zone(), zone({ name: "Visitors", capacity: 4, count: 3, inside: 3 })]);
  });

  describe("updates received while GET /zones was under way", () => {
    const entered: ZoneUpdate = {
      type: "occupancy",
      zone: "Car park",
      count: 1,
      capacity: 2,
      full: false,
      inside: 1,
    };
    const second: ZoneUpdate = { ...entered, count: 2, full: true, inside: 2 };

    it("lay over a reply that predates them, and leave one that already has them as it is", () => {
      const older = zonesOf([wire(zone()), wire(yard)]);
      expect(replayZoneUpdates(older, [entered, second])).toEqual({
        zones: [zone({ count: 2, full: true, inside: 2 }), yard],
        missing: [],
      });
      // The reply was made after both: replaying them ends at the same state.
      const newer = zonesOf([wire(zone({ count: 2, full: true, inside: 2 })), wire(yard)]);
      expect(replayZoneUpdates(newer, [entered, second]).zones).toEqual(newer);
      // Made between them: the last one wins.
      const between = zonesOf([wire(zone({ count: 1, inside: 1 })), wire(yard)]);
      expect(replayZoneUpdates(between, [entered, second]).zones).toEqual(newer);
    });

    it("add a zone created after the reply and drop one deleted after it, whichever the reply has", () => {
      const visitors = zone({ name: "Visitors", capacity: 1 });
      const updates: ZoneUpdate[] = [
        { type: "zone", zone: visitors },
        { type: "zone-removed", zone: "Yard" },
      ];
      const before = zonesOf([wire(zone()), wire(yard)]);
      const after = zonesOf([wire(zone()), wire(visitors)]);
      for (const reply of [before, after])
        expect(replayZoneUpdates(reply, updates)).toEqual({ zones: [zone(), visitors], missing: [] });
    });

    it("report a zone the socket names that neither the reply nor a zone message gave settings for", () => {
      const reply = zonesOf([wire(zone())]);
      const hello: ZoneUpdate = {
        type: "zones",
        zones: [
          { zone: "Car park", count: 0, capacity: 2, full: false, inside: 0 },
          { zone: "Yard", count: 0, capacity: null, full: false, inside: 0 },
        ],
      };
      expect(replayZoneUpdates(reply, [hello])).toEqual({ zones: [zone()], missing: ["Yard"] });
      expect(replayZoneUpdates(reply, [hello, { type: "zone-removed", zone: "Yard" }]).missing).toEqual([]);
      expect(replayZoneUpdates(reply, [hello, { type: "zone", zone: yard }])).toEqual({
        zones: [zone(), yard],
        missing: [],
      });
      expect(replayZoneUpdates(reply, [{ ...entered, zone: "Staff" }]).missing).toEqual(["Staff"]);
      expect(replayZoneUpdates(reply, [entered, second]).missing).toEqual([]);
    });
  });
});
