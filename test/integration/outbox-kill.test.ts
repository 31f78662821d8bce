/**
 * The outbox across kill -9 of the built controller (dist/portcullis.mjs, as `npm start` runs it): every
 * acknowledged read's message survives, and one in flight at the kill is sent again (at-least-once).
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { demoSite } from "../../firmware/config/site.js";
import { until } from "../helpers/outbox.js";
import { pushMilesight } from "../sim/milesight-http.js";
import { WebhookPeer } from "../sim/peers.js";

const MAIN = join(import.meta.dirname, "../../dist/portcullis.mjs");
const TOKEN = "kill-test-admin-token-0123456789";
const SECRET = "kill-test-camera-secret-0123";
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function start(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [MAIN, "--data", dataDir, "--port", "0", "--host", "127.0.0.1"], {
    env: { ...process.env, PORTCULLIS_ADMIN_TOKEN: TOKEN },
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanups.push(() => child.exitCode === null && child.kill("SIGKILL"));
  let out = "";
  child.stderr?.on("data", (c) => (out += c));
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (c) => {
      out += c;
      const line = out.split("\n").find((l) => l.includes('"msg":"deciding"'));
      if (line) resolve({ child, url: JSON.parse(line).url });
    });
    child.once("exit", (code) => reject(new Error(`exited with ${code}:\n${out}`)));
  });
}

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

function siteDir(hookUrl: string): string {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-outbox-kill-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const demo = demoSite();
  writeFileSync(
    join(dir, "site.json"),
    JSON.stringify({
      ...demo,
      cameras: demo.cameras.map((c) => ({ ...c, secret: SECRET })),
      filters: { repeatWindowMs: 0 },
      actions: [
        { on: { result: "allow" }, do: { type: "barrier-open" } },
        {
          id: "hook",
          on: {},
          do: { type: "http-webhook", url: hookUrl, backoffMinMs: 20, backoffMaxMs: 100, timeoutMs: 60_000 },
        },
      ],
    }),
  );
  return dir;
}

const plateOf = (body: Buffer): string => JSON.parse(body.toString()).plate;

describe("outbox and kill -9", () => {
  it("loses nothing pending at a kill -9: all delivered after the restart, once, in order", async () => {
    const peer = await new WebhookPeer().up();
    await peer.down(); // the peer is down while the reads come in
    cleanups.push(() => peer.down());
    const dir = siteDir(peer.url);
    const first = await start(dir);
    const plates = Array.from({ length: 20 }, (_, i) => `KL${String(i).padStart(3, "0")}AB`);
    for (const plate of plates) {
      const res = await pushMilesight(first.url, { plate }, SECRET);
      expect(res.body).toMatchObject({ status: "decided" }); // answered after the event (and its message) committed
    }
    await kill9(first.child);

    await peer.up();
    const second = await start(dir);
    await until("all 20 arrived", () => peer.received.length === 20);
    expect(peer.received.map((r) => plateOf(r.body))).toEqual(plates);
    const targets = (await (
      await fetch(`${second.url}/api/v1/outbox/targets`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { items: { target: string; pending: number; state: string }[] };
    expect(targets.items).toEqual([expect.objectContaining({ target: "hook", pending: 0, state: "up" })]);
  });

  it("a message in flight at a kill -9 is sent again after the restart (at-least-once)", async () => {
    const peer = await new WebhookPeer().up();
    cleanups.push(() => peer.down());
    peer.hang = true; // the peer takes the request and never answers
    const dir = siteDir(peer.url);
    const first = await start(dir);
    await pushMilesight(first.url, { plate: "AB123CD" }, SECRET);
    await until("the request is in flight", () => peer.hung.length === 1);
    await kill9(first.child);

    peer.hang = false;
    await start(dir);
    await until("it arrived again", () => peer.received.length === 1);
    const again = peer.received[0];
    expect(plateOf(again?.body ?? Buffer.from("{}"))).toBe("AB123CD");
    // The same message, so a receiver can tell it is a repeat.
    expect(again?.headers["idempotency-key"]).toBe(peer.hung[0]?.headers["idempotency-key"]);
  });
});
