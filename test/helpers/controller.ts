/**
 * Start a real controller for a test: real HTTP server on an ephemeral loopback port, a real SQLite file in
 * a fresh temp directory, the sim HAL. Nothing is mocked.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { demoSite, parseSite, type SiteConfig } from "../../firmware/config/site.js";
import { Controller } from "../../firmware/controller.js";
import type { Clock } from "../../firmware/gate.js";
import { createLogger } from "../../firmware/util/log.js";
import { createHal } from "../../hal/index.js";
import type { Hal } from "../../hal/types.js";

export const TEST_TOKEN = "test-admin-token-0123456789abcdef";
export const TEST_CAMERA_SECRET = "test-camera-secret-0123456789";

export interface TestController {
  url: string;
  token: string;
  dataDir: string;
  hal: Hal;
  cameraSecret: string;
  controller: Controller;
  /** Authorised JSON request against the API. */
  api(
    path: string,
    init?: { method?: string; body?: unknown; token?: string | null },
  ): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
  /** Start again on the same data directory (a restart); the new instance replaces this one's fields. */
  restart(): Promise<TestController>;
  /** Remove the data directory (after stop). */
  cleanup(): void;
}

/** The demo site with a secret on its camera, so tests post as a camera anywhere. */
export function testSite(overrides: Partial<Record<keyof SiteConfig, unknown>> = {}): SiteConfig {
  const demo = demoSite();
  return parseSite(
    {
      ...demo,
      cameras: demo.cameras.map((c) => ({ ...c, secret: TEST_CAMERA_SECRET })),
      ...overrides,
    },
    "test site",
  );
}

export async function startTestController(
  opts: { site?: SiteConfig; dataDir?: string; clock?: Clock } = {},
): Promise<TestController> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "portcullis-test-"));
  const site = opts.site ?? testSite();
  const hal = createHal({ driver: "sim", outputs: site.outputs, inputs: site.inputs });
  const controller = await Controller.start({
    dataDir,
    port: 0,
    host: "127.0.0.1",
    site,
    hal,
    log: createLogger(process.env.TEST_LOG_LEVEL ?? "silent"),
    adminToken: TEST_TOKEN,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  const url = controller.url;
  const tc: TestController = {
    url,
    token: TEST_TOKEN,
    dataDir,
    hal,
    cameraSecret: TEST_CAMERA_SECRET,
    controller,
    async api(path, init = {}) {
      const token = init.token === undefined ? TEST_TOKEN : init.token;
      const res = await fetch(url + path, {
        method: init.method ?? (init.body === undefined ? "GET" : "POST"),
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(init.body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    stop: () => controller.stop(),
    async restart() {
      await controller.stop();
      return startTestController({ site, dataDir, ...(opts.clock ? { clock: opts.clock } : {}) });
    },
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return tc;
}
