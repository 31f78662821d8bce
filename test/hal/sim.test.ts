/** The sim driver against the HAL contract (hal/types.ts), through createHal() as the firmware uses it. */
import { describe, expect, it } from "vitest";
import { createHal, type IoTransition, type OutputConfig } from "../../hal/index.js";
import { laneConfig, ManualClock, nextTransition } from "./helpers.js";

/** Expected electrical level: coil energised = active XOR NC; level = energised XOR activeLow. */
const TRUTH_TABLE: Array<[activeLow: boolean, contact: "NO" | "NC", active: boolean, level: 0 | 1]> = [
  [false, "NO", false, 0],
  [false, "NO", true, 1],
  [false, "NC", false, 1],
  [false, "NC", true, 0],
  [true, "NO", false, 1],
  [true, "NO", true, 0],
  [true, "NC", false, 0],
  [true, "NC", true, 1],
];

describe("sim HAL: start-up", () => {
  it("opens every output at its safe level in one step, before anything else", async () => {
    const hal = createHal(laneConfig());
    const seen: IoTransition[] = [];
    hal.onTransition((t) => seen.push(t));
    expect(() => hal.level("lane1.barrier")).toThrow(/before start/);
    await hal.start();
    // The wire never showed any other level: the log holds only the opening level.
    expect(hal.levelLog("lane1.barrier")).toEqual([1]); // active-low NO, inactive → high
    expect(hal.levelLog("lane1.lamp")).toEqual([1]); // NC, inactive → coil energised → high
    expect(hal.levelLog("lane1.hold")).toEqual([1]); // safe state is active here
    expect(hal.output("lane1.barrier").active).toBe(false);
    expect(hal.output("lane1.hold").active).toBe(true);
    // Opening is not a transition; the first recorded transitions come from commands.
    expect(hal.history()).toEqual([]);
    expect(seen).toEqual([]);
    hal.output("lane1.barrier").activate();
    expect(hal.history().map((t) => [t.name, t.active])).toEqual([["lane1.barrier", true]]);
    await hal.stop();
  });

  it("reports idle sensors as inactive and lists the state of every pin", async () => {
    const clock = new ManualClock();
    const hal = createHal(laneConfig(), { clock });
    await hal.start();
    expect(hal.level("lane1.loop")).toBe(1); // active-low sensor, idle → high
    expect(hal.state()).toEqual([
      { name: "lane1.barrier", kind: "output", active: false, changedAt: clock.wallMs() },
      { name: "lane1.lamp", kind: "output", active: false, changedAt: clock.wallMs() },
      { name: "lane1.hold", kind: "output", active: true, changedAt: clock.wallMs() },
      { name: "lane1.loop", kind: "input", active: false, changedAt: clock.wallMs() },
      { name: "lane1.button", kind: "input", active: false, changedAt: clock.wallMs() },
    ]);
    await hal.stop();
  });

  it("rejects use before start and a second start", async () => {
    const hal = createHal(laneConfig());
    expect(() => hal.output("lane1.barrier")).toThrow(/before start/);
    expect(() => hal.state()).toThrow(/before start/);
    expect(() => hal.allSafe()).not.toThrow();
    await hal.start();
    await expect(hal.start()).rejects.toThrow(/start\(\) called while running/);
    await hal.stop();
  });
});

describe("sim HAL: logical ↔ electrical mapping", () => {
  it("drives outputs per the active-low / NO-NC truth table", async () => {
    const outputs: OutputConfig[] = TRUTH_TABLE.filter(([, , active]) => !active).map(
      ([activeLow, contact], i) => ({
        name: `out${i}`,
        pin: i,
        activeLow,
        contact,
        safeActive: false,
      }),
    );
    const hal = createHal({ driver: "sim", outputs, inputs: [] });
    await hal.start();
    for (const [activeLow, contact, active, level] of TRUTH_TABLE) {
      const config = outputs.find((o) => o.activeLow === activeLow && o.contact === contact);
      if (!config) throw new Error("table and outputs disagree");
      const output = hal.output(config.name);
      if (active) output.activate();
      else output.deactivate();
      expect({ activeLow, contact, active, level: hal.level(config.name) }).toEqual({
        activeLow,
        contact,
        active,
        level,
      });
    }
    await hal.stop();
  });

  it("maps input levels through activeLow", async () => {
    const hal = createHal({
      driver: "sim",
      outputs: [],
      inputs: [
        { name: "low", pin: 1, activeLow: true, debounceMs: 0 },
        { name: "high", pin: 2, activeLow: false, debounceMs: 0 },
      ],
    });
    await hal.start();
    hal.simulateInput("low", true);
    hal.simulateInput("high", true);
    expect([hal.level("low"), hal.input("low").active]).toEqual([0, true]);
    expect([hal.level("high"), hal.input("high").active]).toEqual([1, true]);
    hal.simulateInput("low", false);
    expect([hal.level("low"), hal.input("low").active]).toEqual([1, false]);
    await hal.stop();
  });
});

describe("sim HAL: outputs", () => {
  it("records no transition when the state does not change", async () => {
    const hal = createHal(laneConfig());
    await hal.start();
    const barrier = hal.output("lane1.barrier");
    barrier.activate();
    barrier.activate();
    barrier.deactivate();
    barrier.deactivate();
    expect(hal.history().map((t) => t.active)).toEqual([true, false]);
    await hal.stop();
  });

  it("records a pulse as on and off transitions at least the pulse width apart (real time)", async () => {
    const hal = createHal(laneConfig());
    await hal.start();
    const off = nextTransition(hal, (t) => t.name === "lane1.barrier" && !t.active);
    hal.output("lane1.barrier").pulse(40);
    expect(hal.level("lane1.barrier")).toBe(0);
    const end = await off;
    const [on, offT] = hal.history();
    expect(on).toMatchObject({ name: "lane1.barrier", kind: "output", active: true });
    expect(offT).toEqual(end);
    if (!on) throw new Error("missing on transition");
    expect(end.monoMs - on.monoMs).toBeGreaterThanOrEqual(40);
    expect(end.wallMs).toBeGreaterThanOrEqual(on.wallMs);
    expect(hal.level("lane1.barrier")).toBe(1);
    expect(hal.history()).toHaveLength(2);
    await hal.stop();
  });

  it("restarts a running pulse without an extra transition", async () => {
    const clock = new ManualClock();
    const hal = createHal(laneConfig(), { clock });
    await hal.start();
    const barrier = hal.output("lane1.barrier");
    barrier.pulse(100);
    clock.advance(60);
    barrier.pulse(100); // retrigger: contact stays made, ends 100 ms from now
    clock.advance(60);
    expect(barrier.active).toBe(true);
    expect(hal.history()).toHaveLength(1);
    clock.advance(40);
    expect(barrier.active).toBe(false);
    const [on, off] = hal.history();
    expect(hal.history().map((t) => t.active)).toEqual([true, false]);
    expect((off?.monoMs ?? 0) - (on?.monoMs ?? 0)).toBe(160);
    await hal.stop();
  });

  it("never cuts a pulse or a debounce short when timers fire early", async () => {
    const clock = new ManualClock(2);
    const hal = createHal(laneConfig(), { clock });
    await hal.start();
    hal.output("lane1.barrier").pulse(40);
    hal.simulateInput("lane1.loop", true);
    const start = clock.monoMs();
    clock.advance(39);
    expect(hal.history().map((t) => t.active)).toEqual([true]);
    clock.advance(100);
    expect(hal.history().map((t) => [t.name, t.active, t.monoMs - start])).toEqual([
      ["lane1.barrier", true, 0],
      ["lane1.barrier", false, 40],
      ["lane1.loop", true, 50],
    ]);
    await hal.stop();
  });

  it("deactivate cancels a pulse; activate latches it", async () => {
    const clock = new ManualClock();
    const hal = createHal(laneConfig(), { clock });
    await hal.start();
    const barrier = hal.output("lane1.barrier");
    barrier.pulse(100);
    barrier.deactivate();
    barrier.pulse(100);
    barrier.activate();
    clock.advance(500);
    expect(barrier.active).toBe(true);
    expect(hal.history().map((t) => t.active)).toEqual([true, false, true]);
    expect(clock.pendingTimers).toBe(0);
    await hal.stop();
  });

  it("blinks count pulses of onMs, onMs + offMs apart, and leaves nothing running", async () => {
    const clock = new ManualClock();
    const hal = createHal(laneConfig(), { clock });
    await hal.start();
    const lamp = hal.output("lane1.barrier");
    const start = clock.monoMs();
    lamp.blink(30, 70, 3);
    clock.advance(1_000);
    expect(hal.history().map((t) => [t.active, t.monoMs - start])).toEqual([
      [true, 0],
      [false, 30],
      [true, 100],
      [false, 130],
      [true, 200],
      [false, 230],
    ]);
    expect(clock.pendingTimers).toBe(0);
    await hal.stop();
  });

  it("any other command ends a blink: deactivate, pulse, a new blink, the safe state", async () => {
    const clock = new ManualClock();
    const hal = createHal(laneConfig(), { clock });
    await hal.start();
    const lamp = hal.output("lane1.barrier");
    lamp.blink(30, 70, 100);
    clock.advance(110); // second blink pulse is on
    lamp.deactivate();
    clock.advance(1_000);
    expect(hal.history().map((t) => t.active)).toEqual([true, false, true, false]);
    lamp.blink(30, 70, 100);
    clock.advance(10);
    lamp.pulse(500); // one long pulse instead
    clock.advance(2_000);
    expect(
      hal
        .history()
        .slice(4)
        .map((t) => t.active),
    ).toEqual([true, false]);
    lamp.blink(30, 70, 100);
    lamp.blink(10, 10, 2); // replaces the first blink
    clock.advance(1_000);
    expect(
      hal
        .history()
        .slice(6)
        .map((t) => t.active),
    ).toEqual([true, false, true, false]);
    lamp.blink(30, 70, 100);
    hal.allSafe();
    clock.advance(1_000);
    expect(lamp.active).toBe(false);
    expect(clock.pendingTimers).toBe(0);
    await hal.stop();
  });

  it("rejects blink timings and counts that make no sense, without a transition", async () => {
    const hal = createHal(laneConfig());
    await hal.start();
    const lamp = hal.output("lane1.barrier");
    for (const [on, off, count] of [
      [0, 10, 1],
      [10, -1, 1],
      [10, 10, 0],
      [10, 10, 1.5],
      [Number.NaN, 10, 1],
    ])
      expect(() => lamp.blink(on as number, off as number, count as number)).toThrow(RangeError);
    expect(hal.history()).toEqual([]);
    await hal.stop();
  });

  it("rejects pulse widths that are not finite and > 0, without a transition", async () => {
    const hal = createHal(laneConfig());
    await hal.start();
    const barrier = hal.output("lane1.barrier");
    for (const ms of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => barrier.pulse(ms)).toThrow(RangeError);
    }
    expect(hal.history()).toEqual([]);
    await hal.stop();
  });

  it("allSafe drives every output safe and cancels pulses", async () => {
    const clock = new ManualClock();
    const hal = createHal(laneConfig(), { clock });
    await hal.start();
    hal.output("lane1.barrier").activate();
    hal.output("lane1.lamp").pulse(1_000);
    hal.output("lane1.hold").deactivate();
    hal.allSafe();
    expect(hal.levels()).toMatchObject({ "lane1.barrier": 1, "lane1.lamp": 1, "lane1.hold": 1 });
    expect(hal.outputs().map((o) => [o.name, o.active])).toEqual([
      ["lane1.barrier", false],
      ["lane1.lamp", false],
      ["lane1.hold", true],
    ]);
    const recorded = hal.history().length;
    clock.advance(2_000);
    expect(hal.history()).toHaveLength(recorded); // the cancelled pulse does not fire later
    expect(recorded).toBe(6);
    await hal.stop();
  });
});

describe("sim HAL: inputs", () => {
  it("ignores a glitch shorter than the debounce and reports a stable change once", async () => {
    const clock = new ManualClock();
    const hal = createHal(laneConfig(), { clock });
    await hal.start();
    hal.simulateInput("lane1.loop", true);
    clock.advance(30);
    hal.simulateInput("lane1.loop", false);
    clock.advance(200);
    expect(hal.history()).toEqual([]);

    // Chatter restarts the stability window.
    hal.simulateInput("lane1.loop", true);
    clock.advance(40);
    hal.simulateInput("lane1.loop", false);
    hal.simulateInput("lane1.loop", true);
    clock.advance(49);
    expect(hal.history()).toEqual([]);
    expect(hal.input("lane1.loop").active).toBe(false);
    clock.advance(1);
    expect(hal.history()).toEqual([
      { name: "lane1.loop", kind: "input", active: true, monoMs: clock.monoMs(), wallMs: clock.wallMs() },
    ]);
    expect(hal.input("lane1.loop").active).toBe(true);
    expect(hal.input("lane1.loop").changedAt).toBe(clock.wallMs());
    clock.advance(1_000);
    expect(hal.history()).toHaveLength(1);
    await hal.stop();
  });

  it("reports a stable change after the debounce time (real time)", async () => {
    const hal = createHal(laneConfig());
    await hal.start();
    const event = nextTransition(hal, (t) => t.name === "lane1.loop");
    const changedAt = performance.now();
    hal.simulateInput("lane1.loop", true);
    const t = await event;
    expect(t.active).toBe(true);
    expect(t.monoMs - changedAt).toBeGreaterThanOrEqual(50);
    expect(hal.history()).toEqual([t]);
    await hal.stop();
  });

  it("reports synchronously when debounceMs is 0", async () => {
    const hal = createHal(laneConfig());
    await hal.start();
    hal.simulateInput("lane1.button", true);
    expect(hal.history().map((t) => [t.name, t.kind, t.active])).toEqual([["lane1.button", "input", true]]);
    hal.simulateInput("lane1.button", true); // same level again: not a change
    expect(hal.history()).toHaveLength(1);
    await hal.stop();
  });
});

describe("sim HAL: listeners", () => {
  it("keeps going when a listener throws, and reports the error", async () => {
    const errors: string[] = [];
    const hal = createHal(laneConfig(), { onError: (message) => errors.push(message) });
    const received: string[] = [];
    hal.onTransition(() => {
      throw new Error("listener bug");
    });
    const unsubscribe = hal.onTransition((t) => received.push(`${t.name}=${t.active}`));
    await hal.start();
    hal.output("lane1.barrier").activate();
    hal.simulateInput("lane1.button", true);
    expect(received).toEqual(["lane1.barrier=true", "lane1.button=true"]);
    expect(hal.level("lane1.barrier")).toBe(0);
    expect(errors).toEqual([
      'transition listener threw on "lane1.barrier"',
      'transition listener threw on "lane1.button"',
    ]);
    unsubscribe();
    hal.output("lane1.barrier").deactivate();
    expect(received).toHaveLength(2);
    await hal.stop();
  });
});

describe("sim HAL: names", () => {
  it("throws on unknown names, listing the known ones", async () => {
    const hal = createHal(laneConfig());
    await hal.start();
    expect(() => hal.output("lane2.barrier")).toThrow(
      'no output named "lane2.barrier"; outputs are: lane1.barrier, lane1.lamp, lane1.hold',
    );
    expect(() => hal.input("lane1.barrier")).toThrow('"lane1.barrier" is an output, not an input');
    expect(() => hal.simulateInput("lane9.loop", true)).toThrow("inputs are: lane1.loop, lane1.button");
    expect(() => hal.level("nope")).toThrow(/pins are: lane1\.barrier, .*lane1\.button/);
    await hal.stop();
  });
});

describe("sim HAL: stop", () => {
  it("leaves every output at its safe level and cancels pending work", async () => {
    const clock = new ManualClock();
    const hal = createHal(laneConfig(), { clock });
    await hal.start();
    hal.output("lane1.barrier").activate();
    hal.output("lane1.lamp").pulse(500);
    hal.output("lane1.hold").deactivate();
    hal.simulateInput("lane1.loop", true); // debounce pending
    await hal.stop();
    expect(hal.levels()).toEqual({
      "lane1.barrier": 1,
      "lane1.lamp": 1,
      "lane1.hold": 1,
      "lane1.loop": 0,
      "lane1.button": 0,
    });
    expect(clock.pendingTimers).toBe(0);
    expect(
      hal
        .history()
        .slice(-3)
        .map((t) => [t.name, t.active]),
    ).toEqual([
      ["lane1.barrier", false],
      ["lane1.lamp", false],
      ["lane1.hold", true],
    ]);
  });

  it("makes every method throw afterwards, except the never-throwing safe drives", async () => {
    const hal = createHal(laneConfig());
    await hal.start();
    const barrier = hal.output("lane1.barrier");
    const loop = hal.input("lane1.loop");
    await hal.stop();
    await hal.stop(); // idempotent
    expect(() => barrier.activate()).toThrow(/after the HAL was stopped/);
    expect(() => barrier.deactivate()).toThrow(/after the HAL was stopped/);
    expect(() => barrier.pulse(10)).toThrow(/after the HAL was stopped/);
    expect(() => barrier.active).toThrow(/after the HAL was stopped/);
    expect(() => loop.active).toThrow(/after the HAL was stopped/);
    expect(() => hal.output("lane1.barrier")).toThrow(/after stop\(\)/);
    expect(() => hal.inputs()).toThrow(/after stop\(\)/);
    expect(() => hal.state()).toThrow(/after stop\(\)/);
    expect(() => hal.simulateInput("lane1.loop", true)).toThrow(/after stop\(\)/);
    expect(() => barrier.toSafeState()).not.toThrow();
    expect(() => hal.allSafe()).not.toThrow();
    await expect(hal.start()).rejects.toThrow(/while stopped/);
  });
});

describe("sim recording bounds", () => {
  it("keeps only the most recent transitions on a long run", async () => {
    const { HISTORY_LIMIT } = await import("../../hal/drivers/sim.js");
    const hal = createHal({
      driver: "sim",
      outputs: [{ name: "o", pin: 1, activeLow: false, contact: "NO", safeActive: false }],
      inputs: [],
    });
    await hal.start();
    const out = hal.output("o");
    for (let i = 0; i < HISTORY_LIMIT + 10; i++) {
      out.activate();
      out.deactivate();
    }
    const history = hal.history();
    expect(history.length).toBeGreaterThanOrEqual(HISTORY_LIMIT);
    expect(history.length).toBeLessThan(2 * HISTORY_LIMIT);
    expect(history.at(-1)?.active).toBe(false);
    expect(hal.levelLog("o").length).toBeLessThan(2 * HISTORY_LIMIT);
    await hal.stop();
  });
});
