import { describe, expect, it } from "vitest";
import { parseBootConfig } from "../../firmware/config/boot.js";
import { demoSite, parseSite } from "../../firmware/config/site.js";
import { ConfigError } from "../../firmware/config/validate.js";

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("site configuration", () => {
  it("the demo site is valid and complete", () => {
    const site = demoSite();
    expect(site.lanes).toHaveLength(1);
    expect(site.filters).toEqual({
      repeatWindowMs: 10_000,
      minConfidence: 0,
      decideOn: "first",
      bestOfWindowMs: 1000,
      bestOfCount: 3,
      lostTimeoutMs: 5000,
    });
    expect(site.actions).toEqual([{ on: { result: "allow" }, do: { type: "barrier-open" }, enabled: true }]);
    expect(site.outputs[0]).toMatchObject({ activeLow: false, contact: "NO", safeActive: false });
  });

  it("reports every problem at once, with its path", () => {
    const problems = problemsOf(() =>
      parseSite(
        {
          outputs: [{ name: "gate", pin: -1, colour: "red" }],
          lanes: [{ id: "1", name: "L", barrierOutput: "nope" }],
          filters: { repeatWindowMs: -5 },
        },
        "site.json",
      ),
    );
    expect(problems.some((p) => p.startsWith("/outputs/0/pin"))).toBe(true);
    expect(problems.some((p) => p.includes("colour") || p.startsWith("/outputs/0"))).toBe(true);
    expect(problems.some((p) => p.startsWith("/filters/repeatWindowMs"))).toBe(true);
  });

  it("checks cross-references: lanes → outputs, cameras → lanes, attributable cameras", () => {
    const problems = problemsOf(() =>
      parseSite(
        {
          outputs: [{ name: "gate", pin: 1 }],
          lanes: [{ id: "1", name: "L", barrierOutput: "gate", presenceInput: "loop" }],
          cameras: [
            { id: "c1", protocol: "generic", lane: "2" },
            { id: "c1", protocol: "generic", lane: "1", addresses: ["10.0.0.9"] },
            { id: "c3", protocol: "generic", lane: "1", addresses: ["10.0.0.8"], connection: { port: 1 } },
            { id: "c4", protocol: "no-such-vendor", lane: "1" },
          ],
        },
        "site.json",
      ),
    );
    expect(problems).toEqual([
      "/lanes/0/presenceInput 'loop' is not among inputs",
      "/cameras/0/lane '2' is not among lanes (1)",
      "/cameras/0/addresses is empty and there is no secret: no read could be attributed to it",
      "/cameras/1/id 'c1' is used twice",
      "/cameras/2/connection is only for link protocols; generic cameras push to the controller",
      expect.stringMatching(
        /^\/cameras\/3\/protocol 'no-such-vendor' is unknown; valid: generic, milesight-http, /,
      ),
    ]);
  });

  it("checks zones: names, lanes in one zone only, loop inputs and what loop counting needs", () => {
    const problems = problemsOf(() =>
      parseSite(
        {
          outputs: [{ name: "gate", pin: 1 }],
          inputs: [{ name: "loop", pin: 2 }],
          lanes: [
            { id: "1", name: "In", barrierOutput: "gate" },
            { id: "2", name: "Out", barrierOutput: "gate", presenceInput: "loop" },
          ],
          zones: [
            { name: "A", lanes: [{ lane: "1", direction: "entry", countBy: "loop" }, { lane: "9" }] },
            { name: "A", lanes: [{ lane: "1" }] },
            {
              name: "B",
              countVisitorsOnly: true,
              lanes: [{ lane: "2", countBy: "loop" }],
              loops: [{ input: "missing", movement: "exit" }],
            },
          ],
        },
        "site.json",
      ),
    );
    expect(problems).toEqual([
      "/zones/0/lanes/0/countBy 'loop' needs a presenceInput on lane '1'",
      "/zones/0/lanes/1/lane '9' is not among lanes",
      "/zones/1/name 'A' is used twice",
      "/zones/1/lanes/0/lane '1' already belongs to zone 'A'",
      "/zones/2/countVisitorsOnly cannot be used with loop counting: a loop cannot tell a visitor",
      "/zones/2/lanes/0/countBy 'loop' needs direction 'entry' or 'exit'",
      "/zones/2/loops/0/input 'missing' is not among inputs",
    ]);
  });
});

describe("boot configuration", () => {
  it("defaults, environment and flags, flags winning", () => {
    expect(parseBootConfig([], {})).toMatchObject({
      dataDir: "./data",
      port: 8080,
      halDriver: "sim",
      demo: false,
      siteFile: null,
    });
    expect(parseBootConfig([], { PORTCULLIS_DATA_DIR: "/var/lib/p", PORTCULLIS_PORT: "9000" })).toMatchObject(
      { dataDir: "/var/lib/p", port: 9000 },
    );
    expect(
      parseBootConfig(["--port", "81", "--data", "/d", "--demo"], { PORTCULLIS_PORT: "9000" }),
    ).toMatchObject({ port: 81, dataDir: "/d", demo: true });
    expect(parseBootConfig(["--help"], {})).toBe("help");
  });

  it("rejects bad values and unknown flags with the reason", () => {
    expect(problemsOf(() => parseBootConfig(["--port", "http"], {}))).toEqual([
      "port 'http' is not a port number (0–65535)",
    ]);
    expect(problemsOf(() => parseBootConfig(["--hal", "pigpio"], {}))).toEqual([
      "hal 'pigpio' is not a driver; valid: sim, onoff",
    ]);
    expect(problemsOf(() => parseBootConfig(["--colour"], {}))[0]).toMatch(/colour/);
  });
});
