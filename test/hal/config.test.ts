/** createHal() config validation: every problem reported at once, each naming the offending item. */
import { describe, expect, it } from "vitest";
import { createHal, type HalConfig } from "../../hal/index.js";
import { laneConfig } from "./helpers.js";

function problemsOf(config: unknown): string {
  try {
    createHal(config as HalConfig);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("createHal accepted an invalid config");
}

describe("createHal config validation", () => {
  it("accepts a valid config without opening anything", () => {
    const hal = createHal(laneConfig());
    expect(hal.driver).toBe("sim");
    expect(() => hal.state()).toThrow(/before start/);
  });

  it("rejects an unknown driver, listing the valid ones", () => {
    expect(() => createHal({ ...laneConfig(), driver: "pigpio" } as unknown as HalConfig)).toThrow(
      'unknown HAL driver "pigpio"; valid drivers: sim, onoff',
    );
  });

  it("names duplicate names and pins, across outputs and inputs", () => {
    const config = laneConfig();
    config.inputs.push({ name: "lane1.barrier", pin: 40, activeLow: false, debounceMs: 0 });
    config.outputs.push({ name: "lane1.siren", pin: 22, activeLow: false, contact: "NO", safeActive: false });
    const message = problemsOf(config);
    expect(message).toContain(
      'inputs[2] "lane1.barrier": duplicate name, already used by outputs[0] "lane1.barrier"',
    );
    expect(message).toContain('inputs[0] "lane1.loop": pin 22 is already used by outputs[3] "lane1.siren"');
  });

  it("reports every bad field at once", () => {
    const message = problemsOf({
      driver: "sim",
      sysfsroot: "/tmp",
      outputs: [
        { name: "", pin: -1, activeLow: "yes", contact: "NX", safeActive: 0 },
        { name: "ok", pin: 1.5, activeLow: true, contact: "NO", safeActive: false, boot: 1 },
      ],
      inputs: [
        { name: "loop", pin: 2, activeLow: true, debounceMs: -50 },
        { name: "edge", pin: 3, activeLow: true, debounceMs: Number.NaN },
        "loop2",
      ],
    });
    for (const expected of [
      'unknown key "sysfsroot"',
      "outputs[0]: name must be a non-empty string",
      "outputs[0]: pin must be an integer >= 0, got -1",
      "outputs[0]: activeLow must be true or false",
      'outputs[0]: contact must be "NO" or "NC", got "NX"',
      "outputs[0]: safeActive must be true or false",
      'outputs[1] "ok": unknown key "boot"',
      'outputs[1] "ok": pin must be an integer >= 0, got 1.5',
      'inputs[0] "loop": debounceMs must be a finite number >= 0, got -50',
      'inputs[1] "edge": debounceMs must be a finite number >= 0',
      "inputs[2]: expected an object",
    ]) {
      expect(message).toContain(expected);
    }
  });

  it("requires the output and input lists", () => {
    const message = problemsOf({ driver: "onoff" });
    expect(message).toContain("outputs must be an array");
    expect(message).toContain("inputs must be an array");
  });
});
