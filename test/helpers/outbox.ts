/** Outbox tests' shared set-up: poll a condition (no fixed sleeps), a target's status, controllers, pushes. */
import { afterEach, expect } from "vitest";
import { pushMilesight } from "../sim/milesight-http.js";
import { startTestController, type TestController, testSite } from "./controller.js";

/** Resolves when `check` holds; fails the test after `ms`, naming what it waited for. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** One outbox target's status from GET /api/v1/outbox/targets (undefined when unknown). */
export async function outboxTarget(tc: TestController, id: string): Promise<any> {
  const { body } = await tc.api("/api/v1/outbox/targets");
  return body.items.find((t: { target: string }) => t.target === id);
}

/** Undo steps a test registers (peers, controllers), run last first after each test. Call at a file's top. */
export function cleanupsAfterEach(): (() => Promise<void> | void)[] {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return cleanups;
}

/** A controller on the test site with these actions (every read its own arrival), gone after the test. */
export async function controllerWithActions(
  cleanups: (() => Promise<void> | void)[],
  actions: unknown[],
  filters: unknown = { repeatWindowMs: 0 },
): Promise<TestController> {
  const tc = await startTestController({ site: testSite({ actions, filters }) });
  cleanups.push(
    () => tc.cleanup(),
    () => tc.stop(),
  );
  return tc;
}

/** Push each plate as the demo camera, one after the other; the event ids, in order. */
export async function pushAll(tc: TestController, plates: readonly string[]): Promise<number[]> {
  const ids: number[] = [];
  for (const plate of plates) {
    const res = await pushMilesight(tc.url, { plate }, tc.cameraSecret);
    expect(res.body).toMatchObject({ status: "decided" });
    ids.push(res.body.eventId);
  }
  return ids;
}
