/** Property: whatever the firmware does to the outputs, the recorded history is coherent and allSafe wins. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { outputLevel } from "../../hal/gpio.js";
import { createHal, type OutputConfig } from "../../hal/index.js";
import { ManualClock } from "./helpers.js";

const OUTPUTS: OutputConfig[] = [
  { name: "a", pin: 1, activeLow: true, contact: "NO", safeActive: false },
  { name: "b", pin: 2, activeLow: false, contact: "NC", safeActive: false },
  { name: "c", pin: 3, activeLow: true, contact: "NC", safeActive: true },
];

type Op =
  | { op: "activate" | "deactivate"; out: number }
  | { op: "pulse"; out: number; ms: number }
  | { op: "allSafe" }
  | { op: "advance"; ms: number };

const out = fc.integer({ min: 0, max: OUTPUTS.length - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom("activate" as const, "deactivate" as const), out }),
  fc.record({ op: fc.constant("pulse" as const), out, ms: fc.integer({ min: 1, max: 300 }) }),
  fc.record({ op: fc.constant("allSafe" as const) }),
  fc.record({ op: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 400 }) }),
);

describe("sim HAL property", () => {
  it("history alternates per output, time never runs backwards, and allSafe always ends safe", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { maxLength: 60 }),
        fc.integer({ min: 0, max: 2 }),
        async (ops, earlyMs) => {
          const clock = new ManualClock(earlyMs);
          const hal = createHal({ driver: "sim", outputs: OUTPUTS, inputs: [] }, { clock });
          await hal.start();
          const allSafeNow = (): void => {
            for (const config of OUTPUTS) {
              expect(hal.output(config.name).active).toBe(config.safeActive);
              expect(hal.level(config.name)).toBe(outputLevel(config, config.safeActive));
            }
          };
          for (const step of ops) {
            if (step.op === "advance") clock.advance(step.ms);
            else if (step.op === "allSafe") {
              hal.allSafe();
              allSafeNow();
            } else {
              const output = hal.output(OUTPUTS[step.out]?.name ?? "");
              if (step.op === "pulse") output.pulse(step.ms);
              else output[step.op]();
            }
          }
          clock.advance(1_000); // let every pulse end

          const history = hal.history();
          for (let i = 1; i < history.length; i++) {
            expect(history[i]?.monoMs).toBeGreaterThanOrEqual(history[i - 1]?.monoMs ?? 0);
          }
          for (const config of OUTPUTS) {
            const states = history.filter((t) => t.name === config.name).map((t) => t.active);
            // Starts from the safe state, so the first transition leaves it; then strictly alternates.
            let expected = !config.safeActive;
            for (const active of states) {
              expect(active).toBe(expected);
              expected = !expected;
            }
            // The device, the wire and the history agree.
            const current = states.at(-1) ?? config.safeActive;
            expect(hal.output(config.name).active).toBe(current);
            expect(hal.level(config.name)).toBe(outputLevel(config, current));
          }
          hal.allSafe();
          allSafeNow();
          await hal.stop();
          expect(clock.pendingTimers).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
