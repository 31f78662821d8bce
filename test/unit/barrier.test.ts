/**
 * The barrier state machine on injected time: the real Barrier over the sim HAL, both on a ManualClock, so
 * every delay is exact and each test tries to make a safety rule fail.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Barrier, type BarrierEvent, type BarrierSettings } from "../../firmware/barrier/barrier.js";
import { demoSite, parseSite } from "../../firmware/config/site.js";
import type { ConfigError } from "../../firmware/config/validate.js";
import { createHal, type SimHal } from "../../hal/index.js";
import { ManualClock } from "../hal/helpers.js";

const SETTINGS: BarrierSettings = {
  openPulseMs: 500,
  closePulseMs: 400,
  holdPulseMs: 900,
  closeDelayMs: 1000,
  vehicleWaitMs: 20_000,
  openTimeoutMs: 5000,
  travelMs: 3000,
  autoClose: true,
};

interface Rig {
  hal: SimHal;
  clock: ManualClock;
  barrier: Barrier;
  events: BarrierEvent[];
  /** Whether the open relay was made when each of `events` was reported (same index). */
  openMadeAtEvent: boolean[];
  /** Output transitions to active, by name, in order. */
  ons(name: string): number[];
}

let rigs: Rig[] = [];

async function rig(
  opts: {
    settings?: Partial<BarrierSettings>;
    limits?: boolean;
    close?: boolean;
    barrierClock?: ManualClock;
  } = {},
): Promise<Rig> {
  const clock = new ManualClock();
  const hal = createHal(
    {
      driver: "sim",
      outputs: [
        { name: "open", pin: 1, activeLow: false, contact: "NO", safeActive: false },
        { name: "close", pin: 2, activeLow: false, contact: "NO", safeActive: false },
      ],
      inputs: [
        { name: "loop", pin: 10, activeLow: true, debounceMs: 0 },
        { name: "up", pin: 11, activeLow: true, debounceMs: 0 },
        { name: "down", pin: 12, activeLow: true, debounceMs: 0 },
      ],
    },
    { clock },
  );
  await hal.start();
  const events: BarrierEvent[] = [];
  const openMadeAtEvent: boolean[] = [];
  const barrier = new Barrier(
    { ...SETTINGS, ...opts.settings },
    {
      openOutput: hal.output("open"),
      closeOutput: opts.close === false ? null : hal.output("close"),
      holdOutput: null,
      presence: hal.input("loop"),
      openLimit: opts.limits ? hal.input("up") : null,
      closedLimit: opts.limits ? hal.input("down") : null,
      button: null,
      serial: null,
      onTransition: (l) => hal.onTransition(l),
    },
    opts.barrierClock ?? clock,
    (e) => {
      events.push(e);
      openMadeAtEvent.push(hal.output("open").active);
    },
  );
  barrier.start();
  const r: Rig = {
    hal,
    clock,
    barrier,
    events,
    openMadeAtEvent,
    ons: (name) =>
      hal
        .history()
        .filter((t) => t.name === name && t.active)
        .map((t) => t.monoMs),
  };
  rigs.push(r);
  return r;
}

afterEach(async () => {
  for (const r of rigs) {
    r.barrier.stop();
    await r.hal.stop();
  }
  rigs = [];
});

const state = (r: Rig) => r.barrier.view().state;

describe("barrier state machine", () => {
  it("without limit switches: opening, then open after travelMs; closes after the vehicle passed", async () => {
    const r = await rig();
    expect(state(r)).toBe("unknown");
    expect(r.barrier.open()).toBe(500);
    expect(state(r)).toBe("opening");
    r.clock.advance(2999);
    expect(state(r)).toBe("opening");
    r.clock.advance(1);
    expect(state(r)).toBe("open");
    r.hal.simulateInput("loop", true);
    r.clock.advance(5000);
    expect(r.ons("close")).toHaveLength(0); // a vehicle on the loop: no close, however long
    r.hal.simulateInput("loop", false);
    const cleared = r.clock.monoMs();
    r.clock.advance(999);
    expect(r.ons("close")).toHaveLength(0);
    r.clock.advance(1);
    expect(r.ons("close")).toEqual([cleared + 1000]);
    expect(state(r)).toBe("closing");
    r.clock.advance(3000);
    expect(state(r)).toBe("closed");
    expect(r.events.filter((e) => e.kind === "state").map((e) => e.kind === "state" && e.view.state)).toEqual(
      ["unknown", "opening", "open", "closing", "closed"],
    );
  });

  it("a vehicle arriving during the close delay cancels the close; it closes after that vehicle", async () => {
    const r = await rig();
    r.barrier.open();
    r.hal.simulateInput("loop", true);
    r.hal.simulateInput("loop", false);
    r.clock.advance(600);
    r.hal.simulateInput("loop", true); // tailgater on the loop before the delay ran out
    r.clock.advance(10_000);
    expect(r.ons("close")).toHaveLength(0);
    r.hal.simulateInput("loop", false);
    r.clock.advance(1000);
    expect(r.ons("close")).toHaveLength(1);
  });

  it("presence while closing re-opens at once (same instant) and closes again after the vehicle", async () => {
    const r = await rig();
    r.barrier.open();
    r.hal.simulateInput("loop", true);
    r.hal.simulateInput("loop", false);
    r.clock.advance(1000);
    expect(state(r)).toBe("closing");
    r.clock.advance(100);
    r.hal.simulateInput("loop", true);
    const arrived = r.clock.monoMs();
    expect(r.ons("open").at(-1)).toBe(arrived);
    expect(r.hal.output("close").active).toBe(false); // interlock: close pulse cut when opening
    expect(state(r)).toBe("opening");
    r.hal.simulateInput("loop", false);
    r.clock.advance(1000);
    expect(r.ons("close")).toHaveLength(2);
  });

  it("keeps open for a following allowed vehicle, and closes once both have passed", async () => {
    const r = await rig();
    r.barrier.open(); // car A
    r.hal.simulateInput("loop", true);
    r.barrier.open(); // car B allowed while A is on the loop
    r.hal.simulateInput("loop", false); // A passed
    r.clock.advance(5000);
    expect(r.ons("close")).toHaveLength(0);
    expect(r.barrier.view().expected).toBe(1);
    r.hal.simulateInput("loop", true);
    r.hal.simulateInput("loop", false); // B passed
    r.clock.advance(1000);
    expect(r.ons("close")).toHaveLength(1);
  });

  it("an allowed decision during the close delay or while closing keeps it open", async () => {
    const r = await rig();
    r.barrier.open();
    r.hal.simulateInput("loop", true);
    r.hal.simulateInput("loop", false);
    r.clock.advance(500);
    r.barrier.open(); // next car decided while the close delay runs
    r.clock.advance(5000);
    expect(r.ons("close")).toHaveLength(0);
    r.clock.advance(16_000); // the car never came: vehicleWaitMs ran out, then the close delay
    expect(r.ons("close")).toHaveLength(1);
    r.clock.advance(100);
    const decided = r.clock.monoMs();
    r.barrier.open(); // decided while closing
    expect(r.ons("open").at(-1)).toBe(decided);
    expect(state(r)).toBe("opening");
  });

  it("open limit not reached within openTimeoutMs is a fault, cleared when it reports open", async () => {
    const r = await rig({ limits: true });
    r.hal.simulateInput("down", true);
    expect(state(r)).toBe("closed");
    r.barrier.open();
    r.hal.simulateInput("down", false);
    r.clock.advance(4999);
    expect(state(r)).toBe("opening");
    r.clock.advance(1);
    expect(r.barrier.view()).toMatchObject({
      state: "fault",
      position: "opening",
      fault: { code: "open-timeout" },
    });
    r.barrier.open(); // manual open is still possible with a fault
    expect(r.ons("open")).toHaveLength(2);
    r.hal.simulateInput("up", true);
    expect(r.barrier.view()).toMatchObject({ state: "open", fault: null });
    expect(r.events.filter((e) => e.kind !== "state").map((e) => e.kind)).toEqual(["fault", "fault-cleared"]);
  });

  it("closed limit while a vehicle is on the loop: fault and re-open; cleared when the loop clears", async () => {
    const r = await rig({ limits: true, settings: { autoClose: false } });
    r.hal.simulateInput("up", true);
    r.hal.simulateInput("loop", true);
    const reportedBefore = r.events.length;
    r.hal.simulateInput("up", false); // the barrier comes down by itself…
    const leaving = r.clock.monoMs();
    expect(r.ons("open")).toEqual([leaving]); // …and is re-opened at once: a vehicle is there
    // The relay acts before anything is reported (the reports become audit rows and live messages).
    expect(r.openMadeAtEvent.slice(reportedBefore)).not.toContain(false);
    r.clock.advance(600); // the re-open pulse has ended
    const reportedBeforeDown = r.events.length;
    r.hal.simulateInput("down", true); // it went down anyway
    expect(r.barrier.view().fault?.code).toBe("closed-on-vehicle");
    expect(r.ons("open")).toHaveLength(2);
    expect(r.events.slice(reportedBeforeDown).map((e) => e.kind)).toContain("fault");
    expect(r.openMadeAtEvent.slice(reportedBeforeDown)).not.toContain(false);
    r.hal.simulateInput("loop", false);
    expect(r.barrier.view().fault).toBeNull();
  });

  it("both limit switches active is a wiring fault", async () => {
    const r = await rig({ limits: true });
    r.hal.simulateInput("up", true);
    r.hal.simulateInput("down", true);
    expect(r.barrier.view().fault?.code).toBe("limits-both");
    r.hal.simulateInput("up", false);
    expect(r.barrier.view()).toMatchObject({ state: "closed", fault: null });
  });

  it("hold is re-asserted while the barrier's timers run: the relay stays made with no gap", async () => {
    const r = await rig();
    r.barrier.hold();
    r.clock.advance(60_000);
    expect(r.hal.output("open").active).toBe(true);
    expect(r.hal.history().filter((t) => t.name === "open")).toHaveLength(1);
    expect(state(r)).toBe("held");
    r.hal.simulateInput("loop", true);
    r.hal.simulateInput("loop", false);
    r.clock.advance(10_000);
    expect(r.ons("close")).toHaveLength(0); // held: no auto-close
    r.barrier.release();
    expect(r.hal.output("open").active).toBe(false);
    r.clock.advance(1000);
    expect(r.ons("close")).toHaveLength(1); // released: closes as autoClose says
  });

  it("a hold nobody re-asserts drops within holdPulseMs (a dead process cannot leave it latched)", async () => {
    // The barrier runs on a clock that stops (its process died); the relay's own pulse timer still runs.
    const dead = new ManualClock();
    const r = await rig({ barrierClock: dead });
    r.barrier.hold();
    const held = r.clock.monoMs();
    r.clock.advance(899);
    expect(r.hal.output("open").active).toBe(true);
    r.clock.advance(1);
    expect(r.hal.output("open").active).toBe(false);
    const off = r.hal.history().find((t) => t.name === "open" && !t.active);
    expect(off?.monoMs).toBe(held + 900);
  });

  it("close is deferred while a vehicle is present, never issued early, and not at all after a new open", async () => {
    const r = await rig({ settings: { autoClose: false } });
    r.hal.simulateInput("loop", true);
    expect(r.barrier.close()).toEqual({ deferred: true });
    expect(r.barrier.view().closePending).toBe(true);
    r.clock.advance(60_000);
    expect(r.ons("close")).toHaveLength(0);
    r.hal.simulateInput("loop", false);
    r.clock.advance(1000);
    expect(r.ons("close")).toHaveLength(1);
    // A pending close is cancelled by an open.
    r.hal.simulateInput("loop", true);
    r.barrier.close();
    r.barrier.open();
    r.hal.simulateInput("loop", false);
    r.clock.advance(30_000);
    expect(r.ons("close")).toHaveLength(1);
  });

  it("a barrier without close output cannot be closed and never auto-closes", async () => {
    const r = await rig({ close: false });
    expect(() => r.barrier.close()).toThrow(/no close output/);
    r.barrier.open();
    r.hal.simulateInput("loop", true);
    r.hal.simulateInput("loop", false);
    r.clock.advance(60_000);
    expect(r.hal.history().filter((t) => t.name === "close")).toHaveLength(0);
    expect(state(r)).toBe("closed"); // assumed: it closed by itself after the vehicle (travelMs)
  });
});

describe("lane config", () => {
  const base = {
    outputs: [
      { name: "b", pin: 1 },
      { name: "c", pin: 2 },
    ],
    inputs: [
      { name: "loop", pin: 3 },
      { name: "up", pin: 4 },
    ],
  };
  const problems = (lane: Record<string, unknown>): string[] => {
    try {
      parseSite({ ...base, lanes: [{ id: "1", name: "L", ...lane }] }, "site.json");
      return [];
    } catch (err) {
      return (err as ConfigError).problems;
    }
  };

  it("applies the documented defaults and keeps the demo site valid", () => {
    const lane = parseSite({ ...base, lanes: [{ id: "1", name: "L", barrierOutput: "b" }] }, "x").lanes[0];
    expect(lane).toMatchObject({ openPulseMs: 500, autoClose: false, closeDelayMs: 1000, holdPulseMs: 2000 });
    expect(demoSite().lanes[0]).toMatchObject({
      barrierOutput: "lane1.barrier",
      presenceInput: "lane1.presence",
    });
  });

  it("names every unknown, reused or missing piece at once", () => {
    expect(
      problems({ barrierOutput: "b", closeOutput: "nope", openLimitInput: "loop", presenceInput: "loop" }),
    ).toEqual([
      "/lanes/0/closeOutput 'nope' is not among outputs",
      "/lanes/0/openLimitInput 'loop' is already the lane's presenceInput",
    ]);
    expect(problems({ autoClose: true })).toEqual([
      "/lanes/0 needs a barrierOutput or a serial barrier controller to open with",
      "/lanes/0/autoClose needs a closeOutput or a serial close command",
      "/lanes/0/autoClose needs a presenceInput (it closes after the vehicle has passed)",
    ]);
    expect(problems({ serial: { path: "/dev/ttyUSB0", open: { send: "EB ?? 43" } } })).toEqual([
      '/lanes/0/serial/open/send must match pattern "^[0-9A-Fa-f]{2}( ?[0-9A-Fa-f]{2})*$"',
    ]);
    expect(problems({ serial: { path: "/dev/ttyUSB0", checksum: "md5", open: { send: "EB" } } })[0]).toMatch(
      /^\/lanes\/0\/serial\/checksum /,
    );
  });
});
