/**
 * `npm run sim:camera`: the compiled simulator CLI against a running controller, for a push protocol,
 * a protocol the controller connects to, and one where the camera connects to the controller.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";

const CLI = join(import.meta.dirname, "../../dist/test/sim/cli.js");
const run = promisify(execFile);
let tc: TestController;

function sim(...args: string[]) {
  return run(process.execPath, [CLI, "--url", tc.url, "--token", tc.token, "--every", "50", ...args], {
    timeout: 30_000,
  });
}

const barrierOpens = () =>
  (tc.hal.history?.() ?? []).filter((t) => t.name === "lane1.barrier" && t.active).length;

beforeAll(async () => {
  // Every case reads the same plate on lane 1: no repetition filter, so each is a decision of its own.
  tc = await startTestController({ site: testSite({ filters: { repeatWindowMs: 0, minConfidence: 0 } }) });
});
afterAll(async () => {
  await tc.stop();
  tc.cleanup();
});

describe("sim:camera CLI", () => {
  it.each([["generic"], ["hikvision-isapi"], ["milesight-tcp"], ["onvif"], ["vivotek-socket"]])(
    "%s: the read is decided, printed, and the temporary camera removed",
    async (protocol) => {
      const before = barrierOpens();
      const { stdout } = await sim("--protocol", protocol, "--plate", "AB123CD", "--images");
      expect(stdout).toContain(`added camera sim-${protocol}-`);
      expect(stdout).toMatch(/AB123CD: allow — /);
      expect(barrierOpens()).toBeGreaterThan(before);
      expect((await tc.api("/api/v1/cameras")).body.items.map((c: any) => c.id)).toEqual(["cam1"]);
    },
  );

  it("refuses bad arguments with the usage and exit code 2", async () => {
    const error = await sim("--plate", "AB123CD").catch((err) => err);
    expect(error.code).toBe(2);
    expect(error.stderr).toContain("--protocol is required");
    expect(error.stderr).toContain("usage: npm run sim:camera");
  });
});
