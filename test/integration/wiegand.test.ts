/** A site with a Wiegand device: decisions through the real server produce frames on the sim HAL's lines. */
import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { demoSite, parseSite } from "../../firmware/config/site.js";
import { encodeWiegand, WIEGAND_FORMATS } from "../../hal/wiegand-format.js";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";
import { asOneFrame, expectTiming, pulsesOf } from "../helpers/wiegand.js";
import { pushMilesight } from "../sim/milesight-http.js";

const H10301 = WIEGAND_FORMATS["26-h10301"];
let tc: TestController;

/** Each test sends at most one frame: everything on the lines is that frame. */
const sent = () => asOneFrame(pulsesOf(tc.hal.history?.() ?? [], "wg.d0", "wg.d1"));

const wiegandSite = (actions: unknown[]) => {
  const demo = demoSite();
  return testSite({
    outputs: [...demo.outputs, { name: "wg.d0", pin: 5 }, { name: "wg.d1", pin: 6 }],
    wiegand: [{ name: "panel", d0: "wg.d0", d1: "wg.d1" }],
    actions: [{ on: { result: "allow" }, do: { type: "barrier-open" } }, ...actions],
  });
};

afterEach(async () => {
  await tc.stop();
  tc.cleanup();
});

describe("wiegand action through the controller", () => {
  beforeEach(async () => {
    tc = await startTestController({
      site: wiegandSite([
        {
          on: { list: "Allow" },
          do: { type: "wiegand", device: "panel", format: "26-h10301", source: "plate-digits", facility: 42 },
        },
        {
          on: { list: "not-in-list" },
          do: {
            type: "wiegand",
            device: "panel",
            format: "26-h10301",
            source: "plate-digits",
            facility: 42,
            notInListCode: 9,
            pulseUs: 100,
          },
        },
      ]),
    });
  });

  it("an allowed plate sends its card number; the barrier opens too", async () => {
    const res = await pushMilesight(tc.url, { plate: "KA 777" }, tc.cameraSecret);
    expect(res.body).toMatchObject({ decision: "allow" });
    const expected = encodeWiegand(H10301, { facility: 42, card: 777 });
    // FC 42 = 00101010, CN 777 = 0000001100001001; bits 2–13 hold three 1s (even parity 1), bits 14–25 four (odd parity 1).
    expect(expected).toBe("10010101000000011000010011");
    await vi.waitFor(() => expect(sent().bits).toBe(expected), { timeout: 2000 });
    expectTiming([sent()], 50, 2000);
    expect((tc.hal.history?.() ?? []).some((t) => t.name === "lane1.barrier" && t.active)).toBe(true);
  });

  it("a stranger gets notInListCode with the action's pulse width; a blocked plate sends nothing", async () => {
    await pushMilesight(tc.url, { plate: "XY999ZZ" }, tc.cameraSecret); // Block list: neither action fires
    await pushMilesight(tc.url, { plate: "ZZ4711" }, tc.cameraSecret);
    const expected = encodeWiegand(H10301, { facility: 42, card: 9 });
    await vi.waitFor(() => expect(sent().bits).toBe(expected), { timeout: 2000 });
    expectTiming([sent()], 100, 2000);
  });
});

describe("nedap-sha1 through the controller", () => {
  it("sends the 26-bit frame a Nedap-enrolled panel expects for the list entry's plate", async () => {
    tc = await startTestController({
      site: wiegandSite([
        {
          on: { result: "allow" },
          do: { type: "wiegand", device: "panel", format: "26-h10301", source: "nedap-sha1" },
        },
      ]),
    });
    // The list entry's normalised plate is hashed, whatever punctuation the camera sent.
    const res = await pushMilesight(tc.url, { plate: "AB-123-CD" }, tc.cameraSecret);
    expect(res.body).toMatchObject({ decision: "allow" });
    const low24 = Number.parseInt(createHash("sha1").update("AB123CD").digest("hex").slice(-6), 16);
    const expected = encodeWiegand(H10301, { facility: low24 >> 16, card: low24 & 0xffff });
    await vi.waitFor(() => expect(sent().bits).toBe(expected), { timeout: 2000 });
  });
});

describe("site checks", () => {
  it("names unknown lines, unknown devices and bad action settings, all at once", () => {
    const demo = demoSite();
    expect(() =>
      parseSite(
        {
          ...demo,
          outputs: [...demo.outputs, { name: "wg.d0", pin: 5, safeActive: true }],
          wiegand: [{ name: "panel", d0: "wg.d0", d1: "wg.dx", pulseUs: 50 }],
          actions: [
            {
              on: {},
              do: {
                type: "wiegand",
                device: "nope",
                format: "26-h10301",
                source: "fixed",
                code: 70000,
                facility: 1,
              },
            },
          ],
        },
        "site.json",
      ),
    ).toThrow(
      [
        "site.json: /wiegand/0/d0 'wg.d0' must have safeActive false (idle)",
        "/wiegand/0/d1 'wg.dx' is not among outputs",
        "/actions/0/do/device 'nope' is not among wiegand devices",
        "/actions/0/do/code 70000 is out of range 0..65535 for 26-bit H10301",
      ].join("; "),
    );
  });
});
