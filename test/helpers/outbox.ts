/** Waiting on the outbox in tests: poll a condition (no fixed sleeps), and read one target's status. */
import type { TestController } from "./controller.js";

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
