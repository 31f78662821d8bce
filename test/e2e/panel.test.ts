/**
 * End-to-end test of the operator panel: the built bundle (dist/ui), served by the real controller,
 * driven in headless Debian Chromium through playwright-core.
 *
 * Needs `/usr/bin/chromium` (Debian package `chromium`). Builds the panel first when dist/ui is
 * missing or older than ui/. Screenshots land in test/e2e/__screenshots__/ (not committed).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Page,
  type Route,
  type WebSocketRoute,
} from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";
import { freePort } from "../sim/free-port.js";
import { type MilesightRead, pushMilesight } from "../sim/milesight-http.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const SHOTS = join(REPO, "test/e2e/__screenshots__");
const CHROMIUM = "/usr/bin/chromium";
const TOKEN_KEY = "portcullis.adminToken";
const ALLOWED = "AB123CD";
const BLOCKED = "XY999ZZ";
const LANE = "1";
const BARRIER = "lane1.barrier";
const PRESENCE = "lane1.presence";
const CLOSE = "lane1.close";
/** A serial barrier controller that is not there: its lane shows a fault. */
const SERIAL_PATH = "/dev/portcullis-e2e-no-such-port";
/** Every plate these scenarios read, to look for in URLs and the console. */
const PLATES =
  /AB123CD|XY999ZZ|QQ ?12|CAM ?4711|PIC ?100[123]|RC ?2024|VIS ?[1-4]0[1-4]|ZN ?100[12]|WY ?1001|WH ?[S5]500|TK ?1001/i;
const CAM2_SECRET = "second-camera-secret-0123";

/**
 * Records every change of an I/O lamp, a barrier label or the link indicator, so short pulses and short
 * states cannot be missed.
 */
const RECORDER = `(() => {
  const log = (window.__portcullisLog = []);
  const record = (el) => {
    if (el.hasAttribute("data-io")) log.push({ io: el.getAttribute("data-io"), state: el.getAttribute("data-state") });
    if (el.hasAttribute("data-barrier")) log.push({ barrier: el.getAttribute("data-barrier"), state: el.getAttribute("data-state") });
    if (el.hasAttribute("data-link")) log.push({ link: el.getAttribute("data-link") });
  };
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === "attributes" && r.target.nodeType === 1) record(r.target);
      for (const n of r.addedNodes) {
        if (n.nodeType !== 1) continue;
        if (n.matches("[data-io],[data-barrier],[data-link]")) record(n);
        n.querySelectorAll("[data-io],[data-barrier],[data-link]").forEach(record);
      }
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-state", "data-link"] });
})();`;

/** Runs in the page: a plate crop (200×48) or a full frame with a plate in it (480×270), as a JPEG data URL. */
const DRAW_JPEG = `(kind) => {
  const c = document.createElement("canvas");
  [c.width, c.height] = kind === "plate" ? [200, 48] : [480, 270];
  const g = c.getContext("2d");
  g.fillStyle = kind === "plate" ? "#f4f4ee" : "#4b5563";
  g.fillRect(0, 0, c.width, c.height);
  const [x, y, w, h] = kind === "plate" ? [0, 0, 200, 48] : [200, 170, 90, 22];
  g.fillStyle = "#f4f4ee";
  g.fillRect(x, y, w, h);
  g.strokeStyle = "#111";
  g.lineWidth = 3;
  g.strokeRect(x + 1, y + 1, w - 2, h - 2);
  g.fillStyle = "#111";
  g.font = "bold " + Math.round(h * 0.6) + "px monospace";
  g.fillText("PIC", x + w * 0.12, y + h * 0.72);
  return c.toDataURL("image/jpeg", 0.85);
}`;

interface ApiEvent {
  id: number;
  plate: string;
  plateRaw: string;
  decision: "allow" | "deny";
  reason: string;
}

interface ApiAudit {
  id: number;
  actor: string;
  action: string;
  target: string | null;
  detail: any;
}

/** The browser globals the in-page checks use (this type check has no DOM library). */
interface InPage {
  innerWidth: number;
  innerHeight: number;
  getComputedStyle(el: unknown): { overflowX: string; overflowY: string; backgroundColor: string };
  document: { elementFromPoint(x: number, y: number): unknown };
}

interface ApiZone {
  name: string;
  count: number;
  capacity: number | null;
  full: boolean;
  inside: number;
  antiPassback: string;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** `npm test` builds the panel first; a bare `vitest run test/e2e` builds it here when stale. */
function ensurePanelBuilt(): void {
  const index = join(REPO, "dist/ui/index.html");
  if (existsSync(index) && statSync(index).mtimeMs >= newestMtime(join(REPO, "ui"))) return;
  const vite = join(REPO, "node_modules/vite/bin/vite.js");
  const res = spawnSync(
    process.execPath,
    [vite, "build", "--config", "ui/vite.config.ts", "--logLevel", "warn"],
    {
      cwd: REPO,
      env: { ...process.env, NODE_ENV: "production" },
      encoding: "utf8",
    },
  );
  if (res.status !== 0) throw new Error(`building the panel failed:\n${res.stdout}\n${res.stderr}`);
}

describe("operator panel (browser)", () => {
  let ctl: TestController;
  let browser: Browser;
  let context: BrowserContext;
  /** The signed-in page shared by the scenarios below, in order. */
  let page: Page;
  const consoleLines: string[] = [];
  const requestUrls: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium`);
    ensurePanelBuilt();
    mkdirSync(SHOTS, { recursive: true });
    ctl = await startTestController();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    context = await browser.newContext({ viewport: { width: 800, height: 480 } });
    await context.addInitScript({ content: RECORDER });
    page = await context.newPage();
    page.on("console", (m) => consoleLines.push(m.text()));
    page.on("request", (r) => requestUrls.push(r.url()));
  }, 120_000);

  // The scenarios share one page: each leaves it on the decisions list with no dialog open, even on failure.
  afterEach(async () => {
    if (!page || (await page.locator('[role="tablist"]').count()) === 0) return;
    if (await page.locator("dialog[open]").count()) await page.keyboard.press("Escape");
    await showView(page, "decisions");
  });

  afterAll(async () => {
    await browser?.close();
    await ctl?.stop();
  });

  // ---- helpers ------------------------------------------------------------------------------

  async function ingest(plate: string, camera = "cam1"): Promise<void> {
    const res = await fetch(`${ctl.url}/api/v1/ingest/generic`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-camera-secret": ctl.cameraSecret },
      body: JSON.stringify({ plate, camera }),
    });
    const body = (await res.json().catch(() => null)) as { status?: string; reason?: string } | null;
    expect(res.ok, `ingest answered ${res.status}`).toBe(true);
    // The controller drops a plate repeated on a lane within its repeat window: each scenario reads a new one.
    if (body?.status) expect(body.status, body.reason).toBe("decided");
  }

  async function api<T>(path: string): Promise<T> {
    const res = await fetch(`${ctl.url}${path}`, { headers: { authorization: `Bearer ${ctl.token}` } });
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  }

  async function newestEvent(): Promise<ApiEvent | undefined> {
    return (await api<{ items: ApiEvent[] }>("/api/v1/events?limit=1")).items[0];
  }

  /** Posts a read and waits until the controller has logged the decision for it. */
  async function readPlate(plate: string): Promise<ApiEvent> {
    const before = (await newestEvent())?.id ?? 0;
    await ingest(plate);
    let event: ApiEvent | undefined;
    await expect
      .poll(async () => {
        event = await newestEvent();
        return event?.id ?? 0;
      })
      .toBeGreaterThan(before);
    if (!event) throw new Error("no event");
    return event;
  }

  /** Pushes a Milesight read as the demo camera and waits until the controller has logged its decision. */
  async function pushRead(read: MilesightRead): Promise<ApiEvent> {
    const before = (await newestEvent())?.id ?? 0;
    const res = await pushMilesight(ctl.url, read, ctl.cameraSecret);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    let event: ApiEvent | undefined;
    await expect
      .poll(async () => {
        event = await newestEvent();
        return event?.id ?? 0;
      })
      .toBeGreaterThan(before);
    if (!event) throw new Error("no event");
    return event;
  }

  /** A real JPEG, encoded by the browser's own encoder (DRAW_JPEG). */
  async function jpeg(p: Page, kind: "plate" | "full"): Promise<Buffer> {
    const dataUrl = await p.evaluate<string>(`(${DRAW_JPEG})(${JSON.stringify(kind)})`);
    const data = Buffer.from(dataUrl.slice(dataUrl.indexOf(",") + 1), "base64");
    expect([data[0], data[1]]).toEqual([0xff, 0xd8]);
    return data;
  }

  function camera(p: Page, id: string) {
    return p.locator(`[data-testid="camera"][data-camera="${id}"]`);
  }

  async function showView(p: Page, view: "decisions" | "cameras"): Promise<void> {
    await p.locator(`#tab-${view}`).click();
    await p.locator(`#view-${view}`).waitFor();
  }

  function barrierActivations(): number {
    const history = ctl.hal.history?.();
    if (!history) throw new Error("the test controller's HAL has no history() (sim driver expected)");
    return history.filter((t) => t.name === BARRIER && t.kind === "output" && t.active).length;
  }

  async function waitBarrierIdle(): Promise<void> {
    await expect.poll(() => ctl.hal.output(BARRIER).active, { timeout: 15_000 }).toBe(false);
  }

  async function lampStates(p: Page, name: string): Promise<string[]> {
    return p.evaluate<string[]>(
      `window.__portcullisLog.filter((e) => e.io === ${JSON.stringify(name)}).map((e) => e.state)`,
    );
  }

  async function linkStates(p: Page): Promise<string[]> {
    return p.evaluate<string[]>("window.__portcullisLog.filter((e) => e.link).map((e) => e.link)");
  }

  async function clearLog(p: Page): Promise<void> {
    await p.evaluate("window.__portcullisLog.length = 0");
  }

  /** A signed-in panel on `site` in a fresh kiosk-sized context, recording its requests and console. */
  async function openPanel(
    site: TestController,
    options: { timezoneId?: string } = {},
  ): Promise<{ ctx: BrowserContext; p: Page; urls: string[]; logs: string[] }> {
    const ctx = await browser.newContext({ viewport: { width: 800, height: 480 }, ...options });
    await ctx.addInitScript({ content: RECORDER });
    await ctx.addInitScript({
      content: `localStorage.setItem(${JSON.stringify(TOKEN_KEY)}, ${JSON.stringify(site.token)});`,
    });
    const p = await ctx.newPage();
    const urls: string[] = [];
    const logs: string[] = [];
    p.on("console", (m) => logs.push(m.text()));
    p.on("request", (r) => urls.push(r.url()));
    await p.goto(site.url);
    await p.locator('[data-testid="link"][data-link="live"]').waitFor({ timeout: 10_000 });
    return { ctx, p, urls, logs };
  }

  /** Pushes a Milesight read to `site` as its demo camera and returns the event the controller logged. */
  async function pushTo(
    site: TestController,
    plate: string,
    pictures: Pick<MilesightRead, "plateImage" | "fullImage"> = {},
  ): Promise<ApiEvent> {
    const newest = async () =>
      ((await site.api("/api/v1/events?limit=1")).body.items as ApiEvent[])[0]?.id ?? 0;
    const before = await newest();
    const res = await pushMilesight(site.url, { plate, ...pictures }, site.cameraSecret);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ status: "decided" });
    await expect.poll(newest).toBeGreaterThan(before);
    return eventAt(site, await newest());
  }

  async function eventAt(site: TestController, id: number): Promise<ApiEvent> {
    const res = await site.api(`/api/v1/events/${id}`);
    expect(res.status).toBe(200);
    return res.body as ApiEvent;
  }

  async function auditOf(site: TestController, action: string): Promise<ApiAudit[]> {
    const res = await site.api("/api/v1/audit?limit=1000");
    expect(res.status).toBe(200);
    return (res.body.items as ApiAudit[]).filter((a) => a.action === action);
  }

  /** Times `output` of `site` went active (sim HAL history). */
  function pulsesOf(site: TestController, output = BARRIER): number {
    const history = site.hal.history?.();
    if (!history) throw new Error("the test controller's HAL has no history() (sim driver expected)");
    return history.filter((t) => t.name === output && t.kind === "output" && t.active).length;
  }

  async function idle(site: TestController, output = BARRIER): Promise<void> {
    await expect.poll(() => site.hal.output(output).active, { timeout: 15_000 }).toBe(false);
  }

  function row(p: Page, id: number) {
    return p.locator(`[data-testid="event"][data-id="${id}"]`);
  }

  /**
   * Why `el` is not fully visible as it stands, without scrolling (empty when it is): sticking out of the
   * viewport or of a clipping (scrolling) ancestor, or covered by something else near a corner or the centre.
   */
  async function notFullyVisible(el: ReturnType<Page["locator"]>): Promise<string[]> {
    return el.evaluate((node) => {
      const w = globalThis as unknown as InPage;
      const r = node.getBoundingClientRect();
      const problems: string[] = [];
      if (r.width === 0 || r.height === 0) problems.push("has no size");
      const within = (o: { left: number; top: number; right: number; bottom: number }, what: string) => {
        if (
          r.left < o.left - 0.5 ||
          r.top < o.top - 0.5 ||
          r.right > o.right + 0.5 ||
          r.bottom > o.bottom + 0.5
        )
          problems.push(`sticks out of ${what}`);
      };
      within({ left: 0, top: 0, right: w.innerWidth, bottom: w.innerHeight }, "the viewport");
      for (let a = node.parentElement; a; a = a.parentElement) {
        const style = w.getComputedStyle(a);
        if (style.overflowX !== "visible" || style.overflowY !== "visible")
          within(a.getBoundingClientRect(), `<${a.tagName.toLowerCase()} class="${a.className}">`);
      }
      // 8 px in from each corner (inside rounded corners), and the centre.
      const points = [
        [r.left + 8, r.top + 8],
        [r.right - 8, r.top + 8],
        [r.left + 8, r.bottom - 8],
        [r.right - 8, r.bottom - 8],
        [(r.left + r.right) / 2, (r.top + r.bottom) / 2],
      ] as const;
      for (const [x, y] of points) {
        const hit = w.document.elementFromPoint(x, y);
        if (!hit || !node.contains(hit)) problems.push(`covered at ${Math.round(x)},${Math.round(y)}`);
      }
      return problems;
    });
  }

  /** The row for `event` is the newest shown and says what the controller decided, and why. */
  async function expectRowFor(p: Page, event: ApiEvent): Promise<void> {
    const r = row(p, event.id);
    await r.waitFor({ timeout: 10_000 });
    expect(await p.locator('[data-testid="event"]').first().getAttribute("data-id")).toBe(String(event.id));
    expect(await r.getAttribute("data-decision")).toBe(event.decision);
    expect(await r.getByTestId("plate").textContent()).toBe(event.plate);
    expect((await r.getByTestId("reason").textContent())?.trim()).toBe(event.reason);
    expect((await r.getByTestId("verdict").textContent())?.trim()).toMatch(
      event.decision === "allow" ? /Allowed/ : /Denied/,
    );
  }

  // ---- scenarios ----------------------------------------------------------------------------

  it("asks for the admin token, says where to find it, and refuses a wrong one", async () => {
    await page.goto(ctl.url);
    await page.getByRole("heading", { name: /sign in/i }).waitFor();
    const help = await page.locator("form").textContent();
    expect(help).toContain("admin-token");
    expect(help).toContain("PORTCULLIS_ADMIN_TOKEN");

    await page.getByLabel("Admin token").fill(`${ctl.token}-wrong`);
    await page.getByRole("button", { name: "Sign in" }).click();
    const error = page.getByTestId("login-error");
    await error.waitFor();
    expect(await error.textContent()).toMatch(/not accepted/i);
    expect(await page.evaluate(`localStorage.getItem(${JSON.stringify(TOKEN_KEY)})`)).toBeNull();
    await page.screenshot({ path: join(SHOTS, "login.png") });
  }, 30_000);

  it("signs in with the right token and goes live with the lanes and their I/O", async () => {
    await page.getByLabel("Admin token").fill(ctl.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator('[data-testid="link"][data-link="live"]').waitFor({ timeout: 10_000 });
    expect(await page.evaluate(`localStorage.getItem(${JSON.stringify(TOKEN_KEY)})`)).toBe(ctl.token);

    const lanes = await api<{ items: { id: string; name: string }[] }>("/api/v1/lanes");
    const lane = lanes.items.find((l) => l.id === LANE);
    expect(lane).toBeDefined();
    await page.getByRole("heading", { name: lane?.name }).waitFor();
    expect(await page.locator(`[data-io="${BARRIER}"]`).getAttribute("data-state")).toBe("inactive");
    expect(await page.locator(`[data-io="${PRESENCE}"]`).getAttribute("data-state")).toMatch(/^(in)?active$/);

    // The demo lane's barrier: a known state; it can hold open (on its relay) but has nothing to close with.
    const label = page.getByTestId(`barrier-${LANE}`);
    expect(await label.getAttribute("data-state")).toBe(
      (await api<{ items: { id: string; barrier: { state: string } }[] }>("/api/v1/lanes")).items.find(
        (l) => l.id === LANE,
      )?.barrier.state,
    );
    expect((await page.getByTestId(`hold-${LANE}`).textContent())?.trim()).toMatch(/^Hold open/);
    expect(await page.getByTestId(`close-${LANE}`).count()).toBe(0);
  }, 30_000);

  it("shows the demo camera: idle until it pushes a read, then receiving, live", async () => {
    await showView(page, "cameras");
    const cam = camera(page, "cam1");
    await cam.waitFor({ timeout: 10_000 });
    const api1 = (await api<{ items: { id: string; name?: string }[] }>("/api/v1/cameras")).items;
    expect(api1.map((c) => c.id)).toContain("cam1");
    expect(await cam.textContent()).toContain(api1.find((c) => c.id === "cam1")?.name ?? "cam1");
    expect(await cam.getByTestId("camera-lane").textContent()).toMatch(/Lane 1 · milesight-http/);
    expect(await cam.getAttribute("data-state")).toBe("idle");
    expect(await cam.getAttribute("data-tone")).toBe("warn");
    expect(await cam.getByTestId("camera-last-read").textContent()).toMatch(/no reads yet/);

    await pushRead({ plate: "CAM 4711" });
    await page
      .locator('[data-camera="cam1"][data-state="receiving"][data-tone="ok"]')
      .waitFor({ timeout: 10_000 });
    expect((await cam.getByTestId("camera-last-read").textContent())?.trim()).toMatch(
      /^read (just now|\d+ s ago)$/,
    );
    expect((await cam.getByTestId("camera-rate").textContent())?.trim()).toBe("1/min");
    expect(await page.getByTestId("tab-cameras").getAttribute("data-tone")).toBe("ok");
  }, 30_000);

  it("shows a camera added through the API without a reload, and its last error on tap and hover", async () => {
    const created = await ctl.api("/api/v1/cameras", {
      body: { id: "cam2", name: "Exit camera", protocol: "generic", lane: LANE, secret: CAM2_SECRET },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await showView(page, "cameras");
    const cam = camera(page, "cam2");
    await cam.waitFor({ timeout: 10_000 });
    // The lane comes from the REST list the panel asks for when a camera message names a new camera.
    await expect
      .poll(() => cam.getByTestId("camera-lane").textContent(), { timeout: 10_000 })
      .toMatch(/Lane 1 · generic/);
    expect(await cam.textContent()).toContain("Exit camera");
    expect(await cam.getAttribute("data-state")).toBe("idle");

    // A malformed read from it: the controller notes an error, the panel turns the camera red.
    const res = await fetch(`${ctl.url}/api/v1/ingest/generic`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-camera-secret": CAM2_SECRET },
      body: JSON.stringify({ plate: 5 }),
    });
    expect(res.status).toBe(400);
    await page.locator('[data-camera="cam2"][data-tone="bad"]').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId("tab-cameras").getAttribute("data-tone")).toBe("bad");
    expect(await page.getByTestId("tab-cameras").textContent()).toMatch(/1 down/);

    const summary = cam.locator("summary");
    expect(await summary.getAttribute("title")).toMatch(/^Last error: malformed read/);
    const error = cam.getByTestId("camera-error");
    expect(await error.isVisible()).toBe(false);
    await summary.click();
    await error.waitFor();
    expect(await error.textContent()).toMatch(/malformed read: body\.plate/);
    // The keyboard folds it away again.
    await summary.focus();
    await page.keyboard.press("Enter");
    await error.waitFor({ state: "hidden" });

    // The other camera is unaffected.
    expect(await camera(page, "cam1").getAttribute("data-tone")).toBe("ok");
  }, 30_000);

  it("shows an allowed plate as allowed with its reason, and the barrier output flips on then off", async () => {
    await waitBarrierIdle();
    await clearLog(page);
    const before = barrierActivations();

    const event = await readPlate(ALLOWED);
    expect(event.decision).toBe("allow");
    await expectRowFor(page, event);

    await expect.poll(() => lampStates(page, BARRIER), { timeout: 15_000 }).toEqual(["active", "inactive"]);
    expect(barrierActivations()).toBe(before + 1);
  }, 30_000);

  it("shows a blocked plate as denied, and the barrier stays shut", async () => {
    await waitBarrierIdle();
    await clearLog(page);
    const before = barrierActivations();

    const event = await readPlate(BLOCKED);
    expect(event.decision).toBe("deny");
    await expectRowFor(page, event);

    await page.waitForTimeout(300);
    expect(barrierActivations()).toBe(before);
    expect(await lampStates(page, BARRIER)).toEqual([]);
  }, 30_000);

  it("shows the camera's raw text when it differs from the normalised plate", async () => {
    const event = await readPlate("qq 12-34");
    await expectRowFor(page, event);
    const raw = row(page, event.id).getByTestId("plate-raw");
    if (event.plateRaw !== event.plate) expect(await raw.textContent()).toContain(event.plateRaw);
    else expect(await raw.count()).toBe(0);
  }, 30_000);

  it("follows the presence input live", async () => {
    if (!ctl.hal.simulateInput) throw new Error("the test controller's HAL cannot simulate inputs");
    ctl.hal.simulateInput(PRESENCE, true);
    await page.locator(`[data-io="${PRESENCE}"][data-state="active"]`).waitFor({ timeout: 10_000 });
    ctl.hal.simulateInput(PRESENCE, false);
    await page.locator(`[data-io="${PRESENCE}"][data-state="inactive"]`).waitFor({ timeout: 10_000 });
  }, 30_000);

  it("opens the barrier from the Open button and confirms it", async () => {
    await waitBarrierIdle();
    await clearLog(page);
    const before = barrierActivations();

    await page.getByTestId(`open-${LANE}`).click();
    const feedback = page.getByTestId(`open-feedback-${LANE}`);
    await expect.poll(() => feedback.textContent(), { timeout: 10_000 }).toMatch(/Opened/);
    await expect.poll(() => barrierActivations(), { timeout: 10_000 }).toBe(before + 1);
    await expect.poll(() => lampStates(page, BARRIER), { timeout: 15_000 }).toEqual(["active", "inactive"]);
  }, 30_000);

  it("shows a decision's details, and its pictures once they are saved", async () => {
    const plateImage = await jpeg(page, "plate");
    const fullImage = await jpeg(page, "full");
    const first = await pushRead({ plate: "PIC 1001", confidence: 87, plateImage, fullImage });

    // Tapping the row opens the details; the pictures wait in the controller's queue (2 of 5).
    await row(page, first.id).locator("button").click();
    const detail = page.locator(`[data-testid="decision-detail"][data-id="${first.id}"]`);
    await detail.waitFor({ timeout: 10_000 });
    expect(await detail.getByTestId("detail-reason").textContent()).toBe(first.reason);
    expect(await detail.getByTestId("detail-camera").textContent()).toContain("cam1");
    expect(await detail.textContent()).toContain("87 %");
    const pending = detail.getByTestId("pictures-pending");
    await pending.waitFor({ timeout: 10_000 });
    expect(await pending.textContent()).toMatch(/saved shortly after the decision/);
    await page.keyboard.press("Escape");
    await detail.waitFor({ state: "detached" });

    // Two more reads with two pictures each make six queued: the controller writes the batch now.
    await pushRead({ plate: "PIC 1002", plateImage, fullImage });
    await pushRead({ plate: "PIC 1003", plateImage, fullImage });
    await expect
      .poll(async () => (await api<{ items: unknown[] }>(`/api/v1/events/${first.id}/images`)).items.length, {
        timeout: 15_000,
      })
      .toBe(2);

    // Reopened from the keyboard, it asks again and shows both pictures.
    await row(page, first.id).locator("button").focus();
    await page.keyboard.press("Enter");
    await detail.waitFor();
    const imgs = detail.locator('[data-testid="picture"] img');
    await expect.poll(() => imgs.count(), { timeout: 10_000 }).toBe(2);
    expect(
      await detail
        .locator('[data-testid="picture"]')
        .evaluateAll((els) => els.map((e) => e.getAttribute("data-kind"))),
    ).toEqual(["plate", "full"]);
    await expect
      .poll(
        () =>
          imgs.evaluateAll((els) =>
            els.map((e) => {
              const img = e as unknown as { complete: boolean; naturalWidth: number };
              return img.complete && img.naturalWidth;
            }),
          ),
        {
          timeout: 10_000,
        },
      )
      .toEqual([200, 480]);
    const srcs = await imgs.evaluateAll((els) => els.map((e) => e.getAttribute("src") ?? ""));
    for (const src of srcs) expect(src).toMatch(/^blob:/);

    await page.mouse.move(0, 0);
    await page.screenshot({ path: join(SHOTS, "decision.png") });
    expect(await detail.evaluate((d) => d.scrollWidth <= d.clientWidth)).toBe(true);
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(800);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: join(SHOTS, "decision-1280.png") });
    await page.setViewportSize({ width: 800, height: 480 });

    // Closing lets go of the pictures: their object URLs no longer load.
    await detail.getByRole("button", { name: "Close" }).click();
    await detail.waitFor({ state: "detached" });
    const stillLoads = await page.evaluate(
      (urls: string[]) =>
        Promise.all(
          urls.map((u) =>
            fetch(u).then(
              () => true,
              () => false,
            ),
          ),
        ),
      srcs,
    );
    expect(stillLoads).toEqual([false, false]);
  }, 60_000);

  it("looks right at 800×480 and 1280×800", async () => {
    await waitBarrierIdle();
    await page.locator(`[data-io="${BARRIER}"][data-state="inactive"]`).waitFor();
    await page.evaluate("document.activeElement?.blur()");
    await page.mouse.move(0, 0);
    await page.waitForTimeout(400); // let the lamp transitions finish
    await page.setViewportSize({ width: 800, height: 480 });
    await page.screenshot({ path: join(SHOTS, "panel.png") });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: join(SHOTS, "panel-1280.png") });
    await page.setViewportSize({ width: 800, height: 480 });

    // Nothing may overflow the kiosk screen sideways.
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(800);

    await showView(page, "cameras");
    await camera(page, "cam2").locator("summary").click();
    await camera(page, "cam2").getByTestId("camera-error").waitFor();
    await page.mouse.move(0, 0);
    await page.screenshot({ path: join(SHOTS, "cameras.png") });
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(800);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: join(SHOTS, "cameras-1280.png") });
    await page.setViewportSize({ width: 800, height: 480 });
  }, 30_000);

  it("keeps plates out of the URL, the requests it makes and the console", () => {
    expect(page.url()).not.toMatch(PLATES);
    expect(
      requestUrls.some((u) => u.includes("/images/")),
      "the pictures were requested",
    ).toBe(true);
    expect(requestUrls.filter((u) => PLATES.test(decodeURIComponent(u)))).toEqual([]);
    expect(consoleLines.filter((l) => PLATES.test(l))).toEqual([]);
  });

  it("reconnects by itself when the socket drops, and catches up", async () => {
    const ctx = await browser.newContext({ viewport: { width: 800, height: 480 } });
    try {
      await ctx.addInitScript({ content: RECORDER });
      await ctx.addInitScript({
        content: `localStorage.setItem(${JSON.stringify(TOKEN_KEY)}, ${JSON.stringify(ctl.token)});`,
      });
      const sockets: { page: WebSocketRoute; server: WebSocketRoute }[] = [];
      await ctx.routeWebSocket(/\/api\/v1\/live$/, (ws) => {
        sockets.push({ page: ws, server: ws.connectToServer() });
      });
      const p = await ctx.newPage();
      await p.goto(ctl.url);
      await p.locator('[data-testid="link"][data-link="live"]').waitFor({ timeout: 10_000 });
      expect(sockets).toHaveLength(1);

      await clearLog(p);
      const first = sockets[0];
      await first?.server.close({ code: 1001, reason: "test: server going away" });
      await first?.page.close({ code: 1012, reason: "test: dropped" });

      await p.locator('[data-testid="link"][data-link="live"]').waitFor({ timeout: 15_000 });
      expect(await linkStates(p)).toContain("reconnecting");
      expect(sockets.length).toBeGreaterThanOrEqual(2);

      // Decisions still arrive over the new socket.
      const event = await readPlate("RC 2024");
      await expectRowFor(p, event);
    } finally {
      await ctx.close();
    }
  }, 45_000);

  it("sends the guard back to sign-in with a clear message when the saved token is rejected", async () => {
    const ctx = await browser.newContext({ viewport: { width: 800, height: 480 } });
    try {
      await ctx.addInitScript({
        content: `localStorage.setItem(${JSON.stringify(TOKEN_KEY)}, "rotated-away-token");`,
      });
      const p = await ctx.newPage();
      await p.goto(ctl.url);
      const notice = p.getByRole("alert");
      await notice.waitFor({ timeout: 10_000 });
      expect(await notice.textContent()).toMatch(/no longer accepts the saved admin token/i);
      await p.getByLabel("Admin token").waitFor();
      expect(await p.evaluate(`localStorage.getItem(${JSON.stringify(TOKEN_KEY)})`)).toBeNull();
      await p.screenshot({ path: join(SHOTS, "login-expired.png") });
    } finally {
      await ctx.close();
    }
  }, 30_000);
  // ---- a site with a closing barrier, a serial-only lane and an integration that is down ------------

  describe("barrier commands and integrations", () => {
    let site: TestController;
    let ctx: BrowserContext;
    let p: Page;

    beforeAll(async () => {
      const closedPort = await freePort(); // nothing listens there: the webhook cannot be delivered
      site = await startTestController({
        site: testSite({
          outputs: [
            { name: BARRIER, pin: 17 },
            { name: CLOSE, pin: 22 },
          ],
          inputs: [{ name: PRESENCE, pin: 27 }],
          lanes: [
            {
              id: LANE,
              name: "Lane 1",
              barrierOutput: BARRIER,
              presenceInput: PRESENCE,
              closeOutput: CLOSE,
              travelMs: 300,
              closeDelayMs: 200,
            },
            { id: "2", name: "Service gate", serial: { path: SERIAL_PATH, open: { send: "EB 01 4F" } } },
          ],
          actions: [
            { on: { result: "allow" }, do: { type: "barrier-open" } },
            {
              id: "crm",
              on: {},
              do: {
                type: "http-webhook",
                url: `http://127.0.0.1:${closedPort}/portcullis`,
                // One attempt during the test: the target stays down with its message pending.
                backoffMinMs: 600_000,
                backoffMaxMs: 600_000,
                timeoutMs: 2000,
              },
            },
          ],
        }),
      });
      ctx = await browser.newContext({ viewport: { width: 800, height: 480 } });
      await ctx.addInitScript({ content: RECORDER });
      await ctx.addInitScript({
        content: `localStorage.setItem(${JSON.stringify(TOKEN_KEY)}, ${JSON.stringify(site.token)});`,
      });
      p = await ctx.newPage();
      p.on("console", (m) => consoleLines.push(m.text()));
      await p.goto(site.url);
      await p.locator('[data-testid="link"][data-link="live"]').waitFor({ timeout: 10_000 });
    }, 60_000);

    afterAll(async () => {
      await ctx?.close();
      await site?.stop();
      site?.cleanup();
    });

    interface ApiBarrier {
      state: string;
      closePending: boolean;
      fault: { message: string } | null;
    }

    async function barrierOf(id: string): Promise<ApiBarrier | undefined> {
      const { body } = await site.api("/api/v1/lanes");
      return (body.items as { id: string; barrier: ApiBarrier }[]).find((l) => l.id === id)?.barrier;
    }

    async function presence(active: boolean): Promise<void> {
      const res = await site.api(`/api/v1/io/inputs/${PRESENCE}`, { body: { active } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      await p.locator(`[data-io="${PRESENCE}"][data-state="${active ? "active" : "inactive"}"]`).waitFor();
    }

    function label(id: string, state?: string) {
      return p.locator(`[data-barrier="${id}"]${state ? `[data-state="${state}"]` : ""}`);
    }

    async function barrierStates(id: string): Promise<string[]> {
      return p.evaluate<string[]>(
        `window.__portcullisLog.filter((e) => e.barrier === ${JSON.stringify(id)}).map((e) => e.state)`,
      );
    }

    function activations(name: string): number {
      return (site.hal.history?.() ?? []).filter((t) => t.name === name && t.kind === "output" && t.active)
        .length;
    }

    it("shows each lane's barrier and what it can do; a serial-only lane without relay rows, with its fault", async () => {
      // Lane 1 has no limit switches: where the arm is stays unknown until the first command.
      expect(await label(LANE).getAttribute("data-state")).toBe((await barrierOf(LANE))?.state);
      expect((await label(LANE).textContent())?.trim()).toMatch(/Unknown$/);
      expect((await p.getByTestId(`hold-${LANE}`).textContent())?.trim()).toMatch(/^Hold open/);
      expect((await p.getByTestId(`close-${LANE}`).textContent())?.trim()).toMatch(/^Close/);

      // Lane 2 opens through a serial controller that is not connected: red, with the controller's words.
      const serial = p.getByTestId("lane-2");
      expect(await serial.getByTestId("serial-2").textContent()).toContain(SERIAL_PATH);
      expect(await serial.locator("[data-io]").count()).toBe(0);
      expect(await serial.getByTestId("hold-2").count()).toBe(0);
      expect(await serial.getByTestId("close-2").count()).toBe(0);
      await label("2", "fault").waitFor({ timeout: 10_000 });
      expect((await label("2").textContent())?.trim()).toMatch(/Fault$/);
      await expect.poll(async () => (await barrierOf("2"))?.fault?.message).toMatch(/serial/);
      expect((await serial.getByTestId("barrier-fault-2").textContent())?.trim()).toBe(
        (await barrierOf("2"))?.fault?.message,
      );

      // Open is always possible, also with a fault and without a relay.
      await p.getByTestId("open-2").click();
      await expect
        .poll(() => p.getByTestId("open-feedback-2").textContent())
        .toMatch(/Opened · sent to the barrier controller/);
    }, 30_000);

    it("follows a decision and the presence loop; Hold, Release, and a Close that waits for the vehicle", async () => {
      await clearLog(p);
      const res = await pushMilesight(site.url, { plate: ALLOWED }, site.cameraSecret);
      expect(res.body).toMatchObject({ status: "decided" });
      await label(LANE, "open").waitFor({ timeout: 10_000 });
      expect(await barrierStates(LANE)).toEqual(["opening", "open"]);
      expect((await label(LANE).textContent())?.trim()).toMatch(/Open$/);

      // A vehicle on the loop: shown by its input; the barrier stays open.
      await presence(true);
      expect(await label(LANE).getAttribute("data-state")).toBe("open");

      const hold = p.getByTestId(`hold-${LANE}`);
      await hold.click();
      await label(LANE, "held").waitFor();
      expect((await label(LANE).textContent())?.trim()).toMatch(/Held open$/);
      expect(await hold.getAttribute("aria-pressed")).toBe("true");
      expect((await hold.textContent())?.trim()).toMatch(/^Release/);
      expect((await barrierOf(LANE))?.state).toBe("held");

      await hold.click();
      await label(LANE, "open").waitFor();
      expect(await hold.getAttribute("aria-pressed")).toBe("false");
      expect((await hold.textContent())?.trim()).toMatch(/^Hold open/);

      // Close asks first; Cancel sends nothing.
      const closes = activations(CLOSE);
      const dialog = p.getByTestId(`confirm-close-${LANE}`);
      await p.getByTestId(`close-${LANE}`).click();
      await dialog.waitFor();
      expect(await dialog.textContent()).toMatch(/waits until it has passed/);
      await p.mouse.move(0, 0);
      await p.screenshot({ path: join(SHOTS, "close-confirm.png") });
      await dialog.getByRole("button", { name: "Cancel" }).click();
      await dialog.waitFor({ state: "detached" });
      expect((await barrierOf(LANE))?.closePending).toBe(false);

      // Confirmed with the vehicle still on the loop: the close waits for it.
      await p.getByTestId(`close-${LANE}`).click();
      await dialog.getByTestId(`confirm-close-${LANE}-yes`).click();
      const waiting = p.getByTestId(`close-waiting-${LANE}`);
      await waiting.waitFor();
      expect(await waiting.textContent()).toMatch(/Waiting for the vehicle to clear/);
      await expect.poll(() => p.getByTestId(`open-feedback-${LANE}`).textContent()).toMatch(/Close accepted/);
      expect(await label(LANE).getAttribute("data-state")).toBe("open");
      expect((await barrierOf(LANE))?.closePending).toBe(true);
      expect(activations(CLOSE)).toBe(closes);
      await p.screenshot({ path: join(SHOTS, "close-waiting.png") });

      // The vehicle has passed: the barrier closes, and the panel says so.
      await clearLog(p);
      await presence(false);
      await label(LANE, "closed").waitFor({ timeout: 10_000 });
      expect(await barrierStates(LANE)).toEqual(["closing", "closed"]);
      await waiting.waitFor({ state: "detached" });
      expect(activations(CLOSE)).toBe(closes + 1);
    }, 30_000);

    it("shows the integration that is down, its unsent message and last error, and a badge in the header", async () => {
      let crm: { state: string; pending: number; lastError: string | null } | undefined;
      await expect
        .poll(
          async () => {
            const { body } = await site.api("/api/v1/outbox/targets");
            crm = body.items.find((t: { target: string }) => t.target === "crm");
            return [crm?.state, crm?.pending];
          },
          { timeout: 10_000 },
        )
        .toEqual(["down", 1]);

      const badge = p.getByTestId("outbox-alert");
      await badge.waitFor({ timeout: 10_000 });
      expect((await badge.textContent())?.replace(/\s+/g, " ")).toMatch(/Integration down · 1 unsent/);
      await badge.click();
      await p.locator("#view-cameras").waitFor();
      const row = p.locator('[data-testid="outbox-target"][data-target="crm"]');
      await row.waitFor();
      // Scrolled into view inside the tab; the page itself (and so the top bar) stays put.
      const box = await row.boundingBox();
      expect(box && box.y >= 60 && box.y + box.height <= 480, JSON.stringify(box)).toBe(true);
      expect(await p.evaluate("document.scrollingElement.scrollTop")).toBe(0);
      expect(await row.getAttribute("data-state")).toBe("down");
      expect(await row.getAttribute("data-tone")).toBe("bad");
      expect((await row.getByTestId("outbox-state").textContent())?.trim()).toBe("Down");
      expect(await row.getByTestId("outbox-pending").getAttribute("data-pending")).toBe("1");
      expect(crm?.lastError).toBeTruthy();
      expect(await row.getByTestId("outbox-error").textContent()).toContain(crm?.lastError ?? "");
      expect(await row.textContent()).toContain("http-webhook");
      expect(await p.getByTestId("tab-cameras").getAttribute("data-tone")).toBe("bad");

      await p.mouse.move(0, 0);
      await p.screenshot({ path: join(SHOTS, "integrations.png") });
      expect(await p.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(800);
      await p.setViewportSize({ width: 1280, height: 800 });
      await p.screenshot({ path: join(SHOTS, "integrations-1280.png") });
      await p.setViewportSize({ width: 800, height: 480 });
    }, 30_000);

    it("fits the kiosk screen with two lanes and the badge, without sideways scrolling", async () => {
      await showView(p, "decisions");
      await p.getByTestId("side").evaluate((el) => el.scrollTo(0, 0));
      await p.mouse.move(0, 0);
      await p.screenshot({ path: join(SHOTS, "barriers.png") });
      expect(await p.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(800);
      for (const id of [LANE, "2"]) {
        const card = p.getByTestId(`lane-${id}`);
        expect(await card.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
      }
      await p.setViewportSize({ width: 1280, height: 800 });
      await p.screenshot({ path: join(SHOTS, "barriers-1280.png") });
      await p.setViewportSize({ width: 800, height: 480 });
    }, 30_000);
  });
  // ---- operator approval: reads on no list wait for the guard ------------------------------------

  describe("operator approval", () => {
    const PASS_LIST = "Day passes";
    const TIMEOUT_MS = 120_000;
    let site: TestController;
    let ctx: BrowserContext;
    let p: Page;
    let urls: string[];
    let logs: string[];

    beforeAll(async () => {
      site = await startTestController({
        site: testSite({
          // Every read is its own arrival, so a plate can come back at once (the pass test reads one twice).
          filters: { repeatWindowMs: 0 },
          approval: { when: ["not-in-list"], timeoutMs: TIMEOUT_MS, passList: PASS_LIST, passHours: 4 },
          seedLists: [
            { name: "Allow", kind: "allow", plates: [ALLOWED] },
            { name: "Block", kind: "block", plates: [BLOCKED] },
            { name: PASS_LIST, kind: "allow" },
          ],
        }),
      });
      ({ ctx, p, urls, logs } = await openPanel(site));
    }, 60_000);

    afterAll(async () => {
      await ctx?.close();
      await site?.stop();
      site?.cleanup();
    });

    function card(p: Page, id: number) {
      return p.locator(`[data-testid="approval"][data-id="${id}"]`);
    }

    async function seconds(c: ReturnType<typeof card>): Promise<number> {
      return Number(await c.getByTestId("approval-countdown").getAttribute("data-seconds"));
    }

    /** The event's row shows the controller's (rewritten) decision and reason. */
    async function expectRowShows(p: Page, event: ApiEvent): Promise<void> {
      const r = row(p, event.id);
      await expect.poll(() => r.getAttribute("data-decision"), { timeout: 10_000 }).toBe(event.decision);
      await expect.poll(async () => (await r.getByTestId("reason").textContent())?.trim()).toBe(event.reason);
      expect((await r.getByTestId("verdict").textContent())?.trim()).toMatch(
        event.decision === "allow" ? /Allowed/ : /Denied/,
      );
    }

    it("shows a read on no list as a card with plate, reason and countdown; Approve opens once", async () => {
      await idle(site);
      await clearLog(p);
      const before = pulsesOf(site);

      const event = await pushTo(site, "VIS 101");
      expect(event.decision).toBe("deny");
      expect(event.reason).toMatch(/^waiting for the operator: VIS101 is not on any list/);
      const pending = (await site.api("/api/v1/approvals")).body.items as { id: number; reason: string }[];
      expect(pending.map((r) => r.id)).toEqual([event.id]);

      const c = card(p, event.id);
      await c.waitFor({ timeout: 10_000 });
      expect(await p.getByTestId("approval").count()).toBe(1);
      expect(await c.getByTestId("approval-plate").textContent()).toBe("VIS101");
      expect(await c.getByTestId("approval-reason").textContent()).toBe(pending[0]?.reason);
      expect(await c.textContent()).toContain("Lane 1");
      // The countdown starts near the timeout and runs down.
      const first = await seconds(c);
      expect(first).toBeGreaterThan(TIMEOUT_MS / 1000 - 10);
      expect(first).toBeLessThanOrEqual(TIMEOUT_MS / 1000);
      expect((await c.getByTestId("approval-countdown").textContent())?.trim()).toBe(`${first} s`);
      await expect.poll(() => seconds(c), { timeout: 5_000 }).toBeLessThan(first);
      expect(await c.getByRole("button").evaluateAll((els) => els.map((e) => e.textContent?.trim()))).toEqual(
        ["Approve", "Approve + pass (4 h)", "Deny"],
      );
      // Meanwhile the event list shows the read as denied, waiting.
      await expectRowShows(p, event);
      expect(pulsesOf(site)).toBe(before);

      await p.mouse.move(0, 0);
      await p.screenshot({ path: join(SHOTS, "approval.png") });
      expect(await p.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(800);

      await c.getByRole("button", { name: "Approve", exact: true }).click();
      await c.waitFor({ state: "detached", timeout: 10_000 });
      await expect.poll(() => pulsesOf(site), { timeout: 10_000 }).toBe(before + 1);
      await idle(site);
      await p.waitForTimeout(300);
      expect(pulsesOf(site), "exactly one barrier pulse").toBe(before + 1);
      await expect.poll(() => lampStates(p, BARRIER), { timeout: 10_000 }).toEqual(["active", "inactive"]);

      const approved = await eventAt(site, event.id);
      expect(approved.decision).toBe("allow");
      expect(approved.reason).toMatch(/^approved by the operator: VIS101 is not on any list/);
      await expectRowShows(p, approved);
      expect((await site.api("/api/v1/approvals")).body.items).toEqual([]);
      const audit = (await auditOf(site, "approval.approve")).find((a) => a.detail?.eventId === event.id);
      expect(audit).toMatchObject({ actor: "admin", target: `lane:${LANE}` });
      expect(audit?.detail.pulseMs).toBeGreaterThan(0);
    }, 45_000);

    it("Deny closes the card and opens nothing", async () => {
      await idle(site);
      await clearLog(p);
      const before = pulsesOf(site);

      const event = await pushTo(site, "VIS 202");
      const c = card(p, event.id);
      await c.waitFor({ timeout: 10_000 });
      await c.getByRole("button", { name: "Deny", exact: true }).click();
      await c.waitFor({ state: "detached", timeout: 10_000 });

      await expect
        .poll(async () => (await eventAt(site, event.id)).reason)
        .toMatch(/^denied by the operator: VIS202 is not on any list/);
      const denied = await eventAt(site, event.id);
      expect(denied.decision).toBe("deny");
      await expectRowShows(p, denied);
      await p.waitForTimeout(500);
      expect(pulsesOf(site)).toBe(before);
      expect(await lampStates(p, BARRIER)).toEqual([]);
      expect(await p.getByTestId("approval").count()).toBe(0);
      const audit = (await auditOf(site, "approval.deny")).find((a) => a.detail?.eventId === event.id);
      expect(audit).toMatchObject({ actor: "admin", target: `lane:${LANE}` });
      expect(audit?.detail.pulseMs).toBeNull();
    }, 30_000);

    it("fits the kiosk screen: the card, its picture and lane 1's Open button all visible without scrolling", async () => {
      expect(p.viewportSize()).toEqual({ width: 800, height: 480 });
      const plateImage = await jpeg(p, "plate");
      const fullImage = await jpeg(p, "full");
      const event = await pushTo(site, "VIS 104", { plateImage, fullImage });
      const c = card(p, event.id);
      await c.waitFor({ timeout: 10_000 });
      expect(await p.getByTestId("approval").count()).toBe(1);
      // The picture (the full frame: the vehicle) arrives once stored and must not push anything away.
      const picture = c.locator("img");
      await expect
        .poll(() => picture.evaluate((img) => img.complete && img.naturalWidth), {
          timeout: 10_000,
        })
        .toBe(480);
      const buttons = c.getByRole("button");
      expect(await buttons.evaluateAll((els) => els.map((e) => e.textContent?.trim()))).toEqual([
        "Approve",
        "Approve + pass (4 h)",
        "Deny",
      ]);
      const open = p.getByTestId(`open-${LANE}`);
      await p.mouse.move(0, 0);

      for (const size of [
        { width: 800, height: 480 },
        { width: 1280, height: 800 },
      ]) {
        await p.setViewportSize(size);
        if (size.width === 800) await p.screenshot({ path: join(SHOTS, "approval-kiosk.png") });
        else await p.screenshot({ path: join(SHOTS, "approval-kiosk-1280.png") });
        const at = `${size.width}×${size.height}`;
        // Nothing was scrolled to get there: not the page, not the lanes.
        expect(
          await p.evaluate("[window.scrollY, document.querySelector('[data-testid=side]').scrollTop]"),
        ).toEqual([0, 0]);
        expect(await notFullyVisible(c), `the card at ${at}`).toEqual([]);
        expect(await notFullyVisible(picture), `the picture at ${at}`).toEqual([]);
        expect(await notFullyVisible(open), `lane 1's Open button at ${at}`).toEqual([]);
        for (const button of await buttons.all()) {
          expect(await notFullyVisible(button), `${await button.textContent()} at ${at}`).toEqual([]);
          // Touch-sized.
          expect((await button.boundingBox())?.height).toBeGreaterThanOrEqual(44);
        }
        // Compact, and nothing inside it sticks out sideways.
        expect((await c.boundingBox())?.height, `card height at ${at}`).toBeLessThanOrEqual(150);
        expect(await c.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
        expect(await p.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(size.width);
        // Dark like the rest of the panel, not a light box.
        const bg = await c.evaluate(
          (el) => (globalThis as unknown as InPage).getComputedStyle(el).backgroundColor,
        );
        const [r = 255, g = 255, b = 255] = (bg.match(/\d+/g) ?? []).map(Number);
        expect(0.2126 * r + 0.7152 * g + 0.0722 * b, `card background ${bg}`).toBeLessThan(60);
      }
      await p.setViewportSize({ width: 800, height: 480 });

      await c.getByRole("button", { name: "Deny", exact: true }).click();
      await c.waitFor({ state: "detached", timeout: 10_000 });
      expect((await eventAt(site, event.id)).decision).toBe("deny");
    }, 45_000);

    it("Approve + pass opens once and puts the plate on the pass list, so it is let in next time", async () => {
      const lists = (await site.api("/api/v1/lists")).body.items as { id: number; name: string }[];
      const passList = lists.find((l) => l.name === PASS_LIST);
      if (!passList) throw new Error(`no list '${PASS_LIST}'`);
      const entries = async () =>
        (await site.api(`/api/v1/lists/${passList.id}/entries`)).body.items as {
          plate: string;
          validFrom: string | null;
          validTo: string | null;
          description: string | null;
        }[];
      expect((await entries()).map((e) => e.plate)).toEqual([]);

      await idle(site);
      const before = pulsesOf(site);
      const event = await pushTo(site, "VIS 303");
      const c = card(p, event.id);
      await c.waitFor({ timeout: 10_000 });
      const clickedAt = Date.now();
      await c.getByRole("button", { name: "Approve + pass (4 h)" }).click();
      await c.waitFor({ state: "detached", timeout: 10_000 });
      await expect.poll(() => pulsesOf(site), { timeout: 10_000 }).toBe(before + 1);

      const added = await entries();
      expect(added.map((e) => e.plate)).toEqual(["VIS303"]);
      const from = Date.parse(added[0]?.validFrom ?? "");
      expect(Math.abs(from - clickedAt)).toBeLessThan(30_000);
      expect(Date.parse(added[0]?.validTo ?? "") - from).toBe(4 * 3_600_000);
      const approved = await eventAt(site, event.id);
      expect(approved.decision).toBe("allow");
      expect(approved.reason).toMatch(/^approved by the operator with a pass for 4 h: /);
      await expectRowShows(p, approved);
      const audit = (await auditOf(site, "approval.approve-pass")).find(
        (a) => a.detail?.eventId === event.id,
      );
      expect(audit).toMatchObject({ actor: "admin", detail: { pass: { listId: passList.id } } });

      // The pass is in force: the same car is let in without asking.
      await idle(site);
      const next = await pushTo(site, "VIS 303");
      expect(next.decision).toBe("allow");
      expect(next.reason).toContain(`allow list '${PASS_LIST}'`);
      await expectRowShows(p, next);
      await expect.poll(() => pulsesOf(site), { timeout: 10_000 }).toBe(before + 2);
      expect(await p.getByTestId("approval").count()).toBe(0);
    }, 45_000);

    it("an unanswered request times out: the card goes by itself and the read stays denied", async () => {
      const quick = await startTestController({
        site: testSite({ approval: { when: ["not-in-list"], timeoutMs: 2500 } }),
      });
      const panel = await openPanel(quick);
      try {
        const before = pulsesOf(quick);
        const event = await pushTo(quick, "VIS 404");
        const c = card(panel.p, event.id);
        await c.waitFor({ timeout: 10_000 });
        expect(await seconds(c)).toBeLessThanOrEqual(3);
        // No pass list on this site: no pass button.
        expect(
          await c.getByRole("button").evaluateAll((els) => els.map((e) => e.textContent?.trim())),
        ).toEqual(["Approve", "Deny"]);

        await c.waitFor({ state: "detached", timeout: 10_000 });
        const timedOut = await eventAt(quick, event.id);
        expect(timedOut.decision).toBe("deny");
        expect(timedOut.reason).toMatch(
          /^no operator answer within 2\.5 s, denied: VIS404 is not on any list/,
        );
        await expectRowShows(panel.p, timedOut);
        expect(pulsesOf(quick)).toBe(before);
        const audit = (await auditOf(quick, "approval.deny")).find((a) => a.detail?.eventId === event.id);
        expect(audit?.actor).toBe("timeout");
        expect(panel.urls.filter((u) => PLATES.test(decodeURIComponent(u)))).toEqual([]);
        expect(panel.logs.filter((l) => PLATES.test(l))).toEqual([]);
      } finally {
        await panel.ctx.close();
        await quick.stop();
        quick.cleanup();
      }
    }, 45_000);

    it("keeps the plates of approval requests out of URLs and the console", () => {
      expect(urls.some((u) => /\/api\/v1\/events\/\d+\/images$/.test(u))).toBe(true);
      expect(urls.filter((u) => PLATES.test(decodeURIComponent(u)))).toEqual([]);
      expect(logs.filter((l) => PLATES.test(l))).toEqual([]);
    });
  });

  // ---- zones: occupancy and anti-passback ---------------------------------------------------------

  describe("zones", () => {
    const ZONE = "Car park";
    const YARD = "Staff yard";
    let site: TestController;
    let ctx: BrowserContext;
    let p: Page;
    let urls: string[];
    let logs: string[];
    /**
     * Every GET /zones the panel makes after it has started is held here, never answered: whatever the panel
     * shows afterwards can only have come over the live socket.
     */
    const heldLists: Route[] = [];
    const isZoneList = (url: string | URL) => new URL(url).pathname === "/api/v1/zones";

    beforeAll(async () => {
      site = await startTestController({
        site: testSite({
          filters: { repeatWindowMs: 0 },
          lanes: [{ id: LANE, name: "Entrance", barrierOutput: BARRIER, presenceInput: PRESENCE }],
          zones: [
            { name: ZONE, capacity: 2, antiPassback: "hard", lanes: [{ lane: LANE, direction: "entry" }] },
            { name: YARD },
          ],
          seedLists: [
            { name: "Allow", kind: "allow", plates: ["ZN 1001", "ZN 1002"] },
            { name: "Block", kind: "block", plates: [BLOCKED] },
          ],
        }),
      });
      ({ ctx, p, urls, logs } = await openPanel(site));
      // The panel asked for the zones once, at start (the request left before the socket's hello).
      expect(urls.filter(isZoneList)).toHaveLength(1);
      await ctx.route(isZoneList, (route) => {
        heldLists.push(route);
      });
    }, 60_000);

    afterAll(async () => {
      for (const route of heldLists.splice(0)) await route.abort().catch(() => {});
      await ctx?.close();
      await site?.stop();
      site?.cleanup();
    });

    function zoneCard(name: string) {
      return p.locator(`[data-testid="zone"][data-zone="${name}"]`);
    }

    async function zonesApi(): Promise<ApiZone[]> {
      const res = await site.api("/api/v1/zones");
      expect(res.status).toBe(200);
      return res.body.items as ApiZone[];
    }

    async function zoneApi(name: string): Promise<ApiZone | undefined> {
      return (await zonesApi()).find((z) => z.name === name);
    }

    async function text(l: ReturnType<Page["locator"]>): Promise<string> {
      return ((await l.textContent()) ?? "").replace(/\s+/g, " ").trim();
    }

    /** The card shows `count` (of the capacity), full or not, and `inside` plates marked inside. */
    async function expectCard(name: string, want: { count: number; full: boolean; inside: number }) {
      const card = zoneCard(name);
      await card.and(p.locator(`[data-count="${want.count}"][data-full="${want.full}"]`)).waitFor({
        timeout: 10_000,
      });
      const zone = await zoneApi(name);
      expect(zone).toMatchObject({ count: want.count, full: want.full });
      const occupancy = await text(card.getByTestId("zone-occupancy"));
      expect(occupancy).toBe(`Occupancy: ${want.count} / ${zone?.capacity}${want.full ? " Full" : ""}`);
      await expect
        .poll(() => card.getByTestId("zone-inside").getAttribute("data-inside"), { timeout: 10_000 })
        .toBe(String(want.inside));
      expect(await text(card.getByTestId("zone-inside"))).toBe(
        `${want.inside} plate${want.inside === 1 ? "" : "s"} inside`,
      );
      expect((await zoneApi(name))?.inside).toBe(want.inside);
    }

    it("shows each zone: occupancy, anti-passback mode and plates inside; no section without zones", async () => {
      const zones = await zonesApi();
      await zoneCard(ZONE).waitFor({ timeout: 10_000 });
      expect(
        await p
          .locator('[data-testid="zone"]')
          .evaluateAll((els) => els.map((e) => e.getAttribute("data-zone"))),
      ).toEqual(zones.map((z) => z.name));

      const car = zoneCard(ZONE);
      expect(await car.getByRole("heading").textContent()).toBe(ZONE);
      await expectCard(ZONE, { count: 0, full: false, inside: 0 });
      expect(await car.getByTestId("zone-apb").getAttribute("data-mode")).toBe("hard");
      expect(await text(car.getByTestId("zone-apb"))).toBe("Anti-passback: hard");
      expect(await car.getByTestId("zone-full").count()).toBe(0);
      expect(await car.getByTestId("zone-reset").count()).toBe(1);

      // Unlimited, anti-passback off: just the count, nothing to reset.
      const yard = zoneCard(YARD);
      expect(await text(yard.getByTestId("zone-occupancy"))).toBe("Occupancy: 0");
      expect(await text(yard.getByTestId("zone-apb"))).toBe("Anti-passback off");
      expect(await yard.getByTestId("zone-inside").count()).toBe(0);
      expect(await yard.getByTestId("zone-reset").count()).toBe(0);
      expect(await yard.getByTestId("zone-correct").count()).toBe(1);

      // The demo site of the first scenarios has no zones: the panel asked, and shows no section.
      expect(requestUrls.some((u) => new URL(u).pathname === "/api/v1/zones")).toBe(true);
      expect((await api<{ items: unknown[] }>("/api/v1/zones")).items).toEqual([]);
      expect(await page.getByTestId("zones").count()).toBe(0);
    }, 30_000);

    it("counts an allowed entry and the plate inside live over the socket, then turns full at capacity", async () => {
      // GET /zones is held: the count and the plates inside can only arrive over the live socket.
      const car = zoneCard(ZONE);
      expect(await text(car.getByTestId("zone-inside"))).toBe("0 plates inside");
      const event = await pushTo(site, "ZN 1001");
      expect(event.decision).toBe("allow");
      await car.and(p.locator('[data-count="1"]')).waitFor({ timeout: 5_000 });
      expect(await text(car.getByTestId("zone-occupancy"))).toBe("Occupancy: 1 / 2");
      expect(await car.getAttribute("data-full")).toBe("false");
      // The count and the plate inside come in one message: both are shown together.
      expect(await text(car.getByTestId("zone-inside"))).toBe("1 plate inside");
      await expectCard(ZONE, { count: 1, full: false, inside: 1 });

      const second = await pushTo(site, "ZN 1002");
      expect(second.decision).toBe("allow");
      await expectCard(ZONE, { count: 2, full: true, inside: 2 });
      expect(await text(car.getByTestId("zone-full-note"))).toBe("Full: visitors are refused");
      // The other zone is untouched.
      expect(await zoneCard(YARD).getAttribute("data-count")).toBe("0");

      /** Nothing sticks out of the zone cards, their buttons included. */
      const fits = async () => {
        expect(await p.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(
          p.viewportSize()?.width ?? 0,
        );
        const boxes = p.locator('[data-testid="zone"], [data-testid="zone"] button');
        const overflowing = await boxes.evaluateAll((els) =>
          els.filter((el) => el.scrollWidth > el.clientWidth).map((el) => el.textContent?.trim()),
        );
        expect(overflowing).toEqual([]);
      };
      await car.scrollIntoViewIfNeeded();
      await p.mouse.move(0, 0);
      await p.screenshot({ path: join(SHOTS, "zones.png") });
      await fits();
      await p.setViewportSize({ width: 1280, height: 800 });
      await p.screenshot({ path: join(SHOTS, "zones-1280.png") });
      await fits();
      await p.setViewportSize({ width: 800, height: 480 });
    }, 45_000);

    it("corrects the count behind a confirmation that needs a reason; shown, stored and audited", async () => {
      const car = zoneCard(ZONE);
      const dialog = p.getByTestId("confirm-count");
      const yes = p.getByTestId("confirm-count-yes");
      const corrections = async () => (await auditOf(site, "occupancy.correct")).length;
      expect(await corrections()).toBe(0);

      // Cancel sends nothing.
      await car.getByTestId("zone-correct").click();
      await dialog.waitFor();
      expect(await dialog.getByTestId("zone-count-input").inputValue()).toBe("2");
      await dialog.getByTestId("zone-count-input").fill("1");
      await dialog.getByRole("button", { name: "Cancel" }).click();
      await dialog.waitFor({ state: "detached" });
      expect((await zoneApi(ZONE))?.count).toBe(2);
      expect(await corrections()).toBe(0);

      // The reason is required, and the count must be a whole number from 0.
      await car.getByTestId("zone-correct").click();
      await dialog.waitFor();
      expect(await text(dialog.locator("h2"))).toBe(`Correct the count of ${ZONE}`);
      expect(await dialog.textContent()).toContain("It shows 2 / 2 now.");
      await dialog.getByTestId("zone-count-input").fill("1");
      expect(await yes.isDisabled()).toBe(true);
      await dialog.getByTestId("zone-reason-input").fill("e2e: one car left by the side gate");
      expect(await yes.isDisabled()).toBe(false);
      await dialog.getByTestId("zone-count-input").fill("-1");
      expect(await yes.isDisabled()).toBe(true);
      await dialog.getByTestId("zone-count-input").fill("1");
      expect(await yes.isDisabled()).toBe(false);
      await p.mouse.move(0, 0);
      await p.screenshot({ path: join(SHOTS, "zone-correct.png") });
      await yes.click();
      await dialog.waitFor({ state: "detached" });

      await expectCard(ZONE, { count: 1, full: false, inside: 2 });
      await expect.poll(() => text(car.getByTestId("zone-feedback"))).toBe("Count corrected: 2 → 1");
      expect(await car.getByTestId("zone-full").count()).toBe(0);
      const audit = await auditOf(site, "occupancy.correct");
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({
        actor: "admin",
        target: `zone:${ZONE}`,
        detail: { from: 2, to: 1, reason: "e2e: one car left by the side gate" },
      });
    }, 30_000);

    it("Reset anti-passback forgets the plates inside, so a refused car is let in again", async () => {
      const car = zoneCard(ZONE);
      // ZN 1001 is inside: hard anti-passback refuses a second entry, and the count stays.
      const refused = await pushTo(site, "ZN 1001");
      expect(refused.decision).toBe("deny");
      expect(refused.reason).toMatch(/anti-passback/);
      await p.waitForTimeout(300);
      expect(await car.getAttribute("data-count")).toBe("1");

      const dialog = p.getByTestId("confirm-reset");
      await car.getByTestId("zone-reset").click();
      await dialog.waitFor();
      expect(await dialog.textContent()).toContain("(2 now)");
      await dialog.getByTestId("confirm-reset-yes").click();
      await dialog.waitFor({ state: "detached" });
      await expect
        .poll(() => text(car.getByTestId("zone-feedback")))
        .toBe("Anti-passback reset: 2 plates forgotten");
      await expectCard(ZONE, { count: 1, full: false, inside: 0 });
      const audit = await auditOf(site, "presence.reset-all");
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ actor: "admin", target: `zone:${ZONE}`, detail: { removed: 2 } });

      await idle(site);
      const again = await pushTo(site, "ZN 1001");
      expect(again.decision).toBe("allow");
      await expectCard(ZONE, { count: 2, full: true, inside: 1 });
    }, 45_000);

    it("shows a zone created, changed and deleted through the API at once, without a reload", async () => {
      const VISITORS = "Visitor bays";
      const shown = () =>
        p.locator('[data-testid="zone"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-zone")));
      expect(await shown()).toEqual([ZONE, YARD]);

      const created = await site.api("/api/v1/zones", {
        method: "POST",
        body: { name: VISITORS, capacity: 3, antiPassback: "soft" },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const card = zoneCard(VISITORS);
      await card.waitFor({ timeout: 5_000 });
      expect(await shown()).toEqual([ZONE, YARD, VISITORS]);
      expect(await card.getByRole("heading").textContent()).toBe(VISITORS);
      expect(await text(card.getByTestId("zone-occupancy"))).toBe("Occupancy: 0 / 3");
      expect(await text(card.getByTestId("zone-apb"))).toBe("Anti-passback: soft");
      expect(await text(card.getByTestId("zone-inside"))).toBe("0 plates inside");
      expect(await card.getAttribute("data-full")).toBe("false");

      // A count set through the API, then a smaller capacity: full at once, as the controller says.
      const corrected = await site.api(`/api/v1/zones/${encodeURIComponent(VISITORS)}/occupancy`, {
        method: "PUT",
        body: { count: 1, reason: "e2e" },
      });
      expect(corrected.status, JSON.stringify(corrected.body)).toBe(200);
      await card.and(p.locator('[data-count="1"]')).waitFor({ timeout: 5_000 });
      expect(await text(card.getByTestId("zone-occupancy"))).toBe("Occupancy: 1 / 3");
      const changed = await site.api(`/api/v1/zones/${encodeURIComponent(VISITORS)}`, {
        method: "PUT",
        body: { capacity: 1, antiPassback: "off", fullDenies: "all" },
      });
      expect(changed.status, JSON.stringify(changed.body)).toBe(200);
      expect(changed.body.zone).toMatchObject({ count: 1, capacity: 1, full: true, antiPassback: "off" });
      await card.and(p.locator('[data-full="true"]')).waitFor({ timeout: 5_000 });
      expect(await text(card.getByTestId("zone-occupancy"))).toBe("Occupancy: 1 / 1 Full");
      expect(await text(card.getByTestId("zone-full-note"))).toBe("Full: every entry is refused");
      expect(await text(card.getByTestId("zone-apb"))).toBe("Anti-passback off");
      // Anti-passback off and nobody inside: nothing to reset.
      expect(await card.getByTestId("zone-reset").count()).toBe(0);
      expect(await shown()).toEqual([ZONE, YARD, VISITORS]);

      const deleted = await site.api(`/api/v1/zones/${encodeURIComponent(VISITORS)}`, { method: "DELETE" });
      expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
      await card.waitFor({ state: "detached", timeout: 5_000 });
      expect(await shown()).toEqual([ZONE, YARD]);
      // The other zones are as they were.
      expect(await zoneCard(ZONE).getAttribute("data-count")).toBe("2");
      expect(await zoneCard(YARD).getAttribute("data-count")).toBe("0");
    }, 30_000);

    it("fetched the zone list once, at start: everything since came over the socket", async () => {
      // The old panel fetched the list about a second after each change: give it time to.
      await p.waitForTimeout(1_500);
      expect(heldLists.map((r) => r.request().url())).toEqual([]);
      expect(urls.filter(isZoneList)).toHaveLength(1);
      // The changes themselves went through the zone routes, and the socket stayed up all along.
      expect(await linkStates(p)).not.toContain("reconnecting");
    });

    it("keeps plates out of the zone requests and the console", () => {
      expect(urls.some((u) => new URL(u).pathname.startsWith("/api/v1/zones/"))).toBe(true);
      expect(urls.filter((u) => PLATES.test(decodeURIComponent(u)))).toEqual([]);
      expect(logs.filter((l) => PLATES.test(l))).toEqual([]);
    });
  });

  // ---- the decision detail's "Why": the chain behind a decision -----------------------------------

  describe("why a decision was made", () => {
    const ZONE = "Car park";
    const SCHEDULE = "Around the clock";
    let site: TestController;
    let ctx: BrowserContext;
    let p: Page;
    let urls: string[];
    let logs: string[];

    beforeAll(async () => {
      site = await startTestController({
        site: testSite({
          filters: { repeatWindowMs: 0 },
          lanes: [{ id: LANE, name: "Entrance", barrierOutput: BARRIER, presenceInput: PRESENCE }],
          zones: [{ name: ZONE, antiPassback: "hard", lanes: [{ lane: LANE, direction: "entry" }] }],
          schedules: [
            {
              name: SCHEDULE,
              windows: [
                { days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], from: "00:00", to: "24:00" },
              ],
            },
          ],
          seedLists: [
            { name: "Staff", kind: "allow", plates: ["WY 1001"], schedule: SCHEDULE },
            { name: "Fleet", kind: "allow", plates: ["WH 5500"] },
            { name: "Block", kind: "block", plates: [BLOCKED] },
          ],
        }),
      });
      const lists = (await site.api("/api/v1/lists")).body.items as { id: number; name: string }[];
      const idOf = (name: string) => lists.find((l) => l.name === name)?.id;
      // Fleet matches OCR misreads; Staff outranks the default priorities.
      for (const [name, body] of [
        ["Fleet", { maxDistance: 1 }],
        ["Staff", { priority: 120 }],
      ] as const) {
        const res = await site.api(`/api/v1/lists/${idOf(name)}`, { method: "PATCH", body });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      }
      // The site's time zone (UTC by default) in the browser too. The panel shows the site's zone whatever the
      // browser's ("times in the site's time zone" below runs them apart).
      ({ ctx, p, urls, logs } = await openPanel(site, { timezoneId: "UTC" }));
    }, 60_000);

    afterAll(async () => {
      await ctx?.close();
      await site?.stop();
      site?.cleanup();
    });

    /** Opens the event's detail and waits for its "Why"; returns the dialog. */
    async function openWhy(event: ApiEvent) {
      await row(p, event.id).waitFor({ timeout: 10_000 });
      await row(p, event.id).locator("button").click();
      const detail = p.locator(`[data-testid="decision-detail"][data-id="${event.id}"]`);
      await detail.waitFor({ timeout: 10_000 });
      await detail.locator('[data-testid="why"][data-phase="shown"]').waitFor({ timeout: 10_000 });
      return detail;
    }

    async function closeDetail(detail: ReturnType<Page["locator"]>): Promise<void> {
      await p.keyboard.press("Escape");
      await detail.waitFor({ state: "detached" });
    }

    /** Every row of the "Why" as `label: text`, in order (each label's row has the same key as its text). */
    async function whyTexts(detail: ReturnType<Page["locator"]>): Promise<string[]> {
      const why = detail.getByTestId("why");
      const labels = await why.locator("dt").allTextContents();
      const keys = await why
        .locator("dt")
        .evaluateAll((els) => els.map((e) => e.getAttribute("data-why-label")));
      expect(
        await why.locator("dd").evaluateAll((els) => els.map((e) => e.getAttribute("data-why"))),
      ).toEqual(keys);
      const texts = await why.locator("dd").allTextContents();
      return labels.map((label, i) => `${label.trim()}: ${texts[i]?.trim()}`);
    }

    /** The "Why" section shown on the kiosk screen: scrolled into view, nothing sticking out sideways. */
    async function shoot(detail: ReturnType<Page["locator"]>, name: string): Promise<void> {
      const why = detail.getByTestId("why");
      await why.scrollIntoViewIfNeeded();
      await p.mouse.move(0, 0);
      expect(await p.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(800);
      const body = detail.locator(".body");
      expect(await body.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
      // The dialog scrolls: the section's first and last rows can be brought on screen.
      for (const dd of [why.locator("dd").first(), why.locator("dd").last()]) {
        await dd.scrollIntoViewIfNeeded();
        expect(await notFullyVisible(dd)).toEqual([]);
      }
      await why.scrollIntoViewIfNeeded();
      await p.screenshot({ path: join(SHOTS, name) });
    }

    it("an exact match on a list with a schedule: the list, its priority, the schedule, the zone entry", async () => {
      const event = await pushTo(site, "WY 1001");
      expect(event.decision).toBe("allow");
      const detail = await openWhy(event);
      // Fetched by id: the event's own route, no plate in the URL.
      expect(urls.map((u) => new URL(u).pathname)).toContain(`/api/v1/events/${event.id}`);

      const rows = await whyTexts(detail);
      expect(rows.slice(0, 2)).toEqual([
        "Decided by: allow list 'Staff'",
        "Match: 'Staff' · allow · priority 120 · exact · decided",
      ]);
      expect(rows[2]).toMatch(
        /^List schedule: 'Around the clock' active · inside window every day 00:00–24:00 at (mon|tue|wed|thu|fri|sat|sun) \d\d:\d\d$/,
      );
      expect(rows.slice(3)).toEqual([
        `Zone: '${ZONE}' · entry (from the lane) · anti-passback hard · not inside`,
        "Occupancy: 0 (no capacity)",
        "Passage: applied: entry recorded, count 0 → 1",
      ]);
      // The decisive match stands out.
      expect(await detail.locator('dd[data-why="match-1"]').getAttribute("class")).toMatch(/\bdecisive\b/);
      expect(await detail.locator('dd[data-why="decided"]').getAttribute("data-tone")).toBe("ok");
      await shoot(detail, "why-allowed.png");
      await closeDetail(detail);
    }, 45_000);

    it("a fuzzy match on a list with maxDistance: the edit and the plate it is listed as", async () => {
      await idle(site);
      const event = await pushTo(site, "WH S500");
      expect(event.decision).toBe("allow");
      expect(event.reason).toContain("S→5");
      const detail = await openWhy(event);
      const rows = await whyTexts(detail);
      expect(rows.slice(0, 2)).toEqual([
        "Decided by: allow list 'Fleet'",
        "Match: 'Fleet' · allow · priority 50 · fuzzy 0.5: S→5 at 3 (OCR), listed as WH5500 · decided",
      ]);
      expect(rows.some((r) => r.startsWith("List schedule"))).toBe(false);
      expect(rows).toContain("Passage: applied: entry recorded, count 1 → 2");
      await shoot(detail, "why-fuzzy.png");
      await closeDetail(detail);
    }, 45_000);

    it("a hard anti-passback denial: the zone decided, with its sentence, and since when the plate is inside", async () => {
      await idle(site);
      const event = await pushTo(site, "WY 1001");
      expect(event.decision).toBe("deny");
      expect(event.reason).toMatch(
        /^WY1001 entered zone 'Car park' at (\d\d:\d\d) and has not left \(anti-passback\)$/,
      );
      const since = event.reason.match(/at (\d\d:\d\d)/)?.[1];
      const detail = await openWhy(event);
      const rows = await whyTexts(detail);
      // The overruled match's schedule is still recorded.
      expect(rows[2]).toMatch(/^List schedule: 'Around the clock' active · /);
      expect([...rows.slice(0, 2), ...rows.slice(3)]).toEqual([
        `Decided by: zone '${ZONE}': anti-passback`,
        "Match: 'Staff' · allow · priority 120 · exact · overruled by the zone",
        `Zone: '${ZONE}' · entry (from the lane) · anti-passback hard · inside since ${since}`,
        "Occupancy: 2 (no capacity)",
        `Anti-passback: ${event.reason}`,
        "Passage: refused: nothing counted",
      ]);
      const veto = detail.locator('dd[data-why="zone-veto"]');
      expect(await veto.getAttribute("data-tone")).toBe("bad");
      expect(await veto.getAttribute("class")).toMatch(/\bdecisive\b/);
      await shoot(detail, "why-anti-passback.png");
      await closeDetail(detail);
    }, 45_000);

    it("keeps plates out of the URLs and the console", () => {
      expect(urls.some((u) => /\/api\/v1\/events\/\d+$/.test(new URL(u).pathname))).toBe(true);
      expect(urls.filter((u) => PLATES.test(decodeURIComponent(u)))).toEqual([]);
      expect(logs.filter((l) => PLATES.test(l))).toEqual([]);
    });
  });

  // ---- a site in another time zone than the browser ----------------------------------------
  describe("times in the site's time zone", () => {
    const ZONE = "Gate yard";
    /** The site's zone; the kiosk's browser runs in another, 13–14 hours behind. */
    const SITE_ZONE = "Asia/Tokyo";
    const BROWSER_ZONE = "America/New_York";
    let site: TestController;
    let ctx: BrowserContext;
    let p: Page;
    let urls: string[];
    let logs: string[];

    const hms = (zone: string) =>
      new Intl.DateTimeFormat("en-GB", {
        timeZone: zone,
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        hourCycle: "h23",
      });
    /** The event's time as the site's wall clock shows it ("17:15:02"), and as the browser's would. */
    const inZone = (iso: string, zone: string) => hms(zone).format(new Date(iso));

    beforeAll(async () => {
      site = await startTestController({
        site: testSite({
          timeZone: SITE_ZONE,
          filters: { repeatWindowMs: 0 },
          lanes: [{ id: LANE, name: "Entrance", barrierOutput: BARRIER, presenceInput: PRESENCE }],
          zones: [{ name: ZONE, antiPassback: "hard", lanes: [{ lane: LANE, direction: "entry" }] }],
          seedLists: [{ name: "Staff", kind: "allow", plates: ["TK 1001"] }],
        }),
      });
      ({ ctx, p, urls, logs } = await openPanel(site, { timezoneId: BROWSER_ZONE }));
    }, 60_000);

    afterAll(async () => {
      await ctx?.close();
      await site?.stop();
      site?.cleanup();
    });

    it("the clock shows the site's time and names its zone, as this browser runs in another", async () => {
      expect(await p.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")).toBe(BROWSER_ZONE);
      const zone = p.getByTestId("clock-zone");
      await zone.waitFor({ timeout: 10_000 });
      expect(await zone.getAttribute("data-zone")).toBe(SITE_ZONE);
      expect((await zone.textContent())?.trim()).toBe("Tokyo");
      expect(await notFullyVisible(zone)).toEqual([]);
      // Read between two instants: the clock shows one of the site's times between them, to the minute.
      const before = Date.now();
      const shown = (await p.getByTestId("clock-time").textContent())?.trim() ?? "";
      const after = Date.now();
      const hm = (ms: number) => hms(SITE_ZONE).format(ms).slice(0, 5);
      expect([hm(before), hm(after)]).toContain(shown.slice(0, 5));
      expect(shown.slice(0, 5)).not.toBe(hms(BROWSER_ZONE).format(before).slice(0, 5));
      await p.screenshot({ path: join(SHOTS, "site-time-zone.png") });
    });

    it("a decision's time and a zone veto's 'inside since' read the site's clock, as the reason does", async () => {
      // The entry and the veto's sentence name the same minute: keep clear of a minute's turn.
      const second = new Date().getUTCSeconds();
      if (second >= 50) await new Promise((r) => setTimeout(r, (61 - second) * 1000));
      const entry = (await pushTo(site, "TK 1001")) as ApiEvent & { receivedAt: string };
      expect(entry.decision).toBe("allow");
      const entryTime = inZone(entry.receivedAt, SITE_ZONE);
      // The two zones never share a wall clock (13–14 hours apart): the check below can tell them apart.
      expect(inZone(entry.receivedAt, BROWSER_ZONE)).not.toBe(entryTime);
      await row(p, entry.id).waitFor({ timeout: 10_000 });
      expect((await row(p, entry.id).getByTestId("event-time").textContent())?.trim()).toBe(entryTime);

      await idle(site);
      const veto = (await pushTo(site, "TK 1001")) as ApiEvent & { receivedAt: string };
      expect(veto.decision).toBe("deny");
      // The controller writes the time the plate entered in the site's zone...
      const since = veto.reason.match(
        /^TK1001 entered zone 'Gate yard' at (\d\d:\d\d) and has not left \(anti-passback\)$/,
      )?.[1];
      expect(since, veto.reason).toBe(entryTime.slice(0, 5));
      // ...and the panel shows the entry decision's time, the veto's and "inside since" on the same clock.
      await row(p, veto.id).waitFor({ timeout: 10_000 });
      expect((await row(p, veto.id).getByTestId("event-time").textContent())?.trim()).toBe(
        inZone(veto.receivedAt, SITE_ZONE),
      );
      await row(p, veto.id).locator("button").click();
      const detail = p.locator(`[data-testid="decision-detail"][data-id="${veto.id}"]`);
      await detail.locator('[data-testid="why"][data-phase="shown"]').waitFor({ timeout: 10_000 });
      expect((await detail.getByTestId("detail-time").textContent())?.trim()).toBe(
        inZone(veto.receivedAt, SITE_ZONE),
      );
      expect((await detail.locator('dd[data-why="zone"]').textContent())?.trim()).toBe(
        `'${ZONE}' · entry (from the lane) · anti-passback hard · inside since ${since}`,
      );
      expect((await detail.locator('dd[data-why="zone-veto"]').textContent())?.trim()).toBe(veto.reason);
      await p.screenshot({ path: join(SHOTS, "site-time-zone-why.png") });
      await p.keyboard.press("Escape");
      await detail.waitFor({ state: "detached" });
    }, 45_000);

    it("a browser in the site's own zone shows the same times and does not name the zone", async () => {
      const other = await openPanel(site, { timezoneId: SITE_ZONE });
      try {
        const newest = (await site.api("/api/v1/events?limit=1")).body.items[0] as ApiEvent & {
          receivedAt: string;
        };
        const r = row(other.p, newest.id);
        await r.waitFor({ timeout: 10_000 });
        expect((await r.getByTestId("event-time").textContent())?.trim()).toBe(
          inZone(newest.receivedAt, SITE_ZONE),
        );
        await other.p.getByTestId("clock-time").waitFor();
        expect(await other.p.getByTestId("clock-zone").count()).toBe(0);
        expect(other.urls.filter((u) => PLATES.test(decodeURIComponent(u)))).toEqual([]);
        expect(other.logs.filter((l) => PLATES.test(l))).toEqual([]);
      } finally {
        await other.ctx.close();
      }
    });

    it("keeps plates out of the URLs and the console", () => {
      expect(urls.filter((u) => PLATES.test(decodeURIComponent(u)))).toEqual([]);
      expect(logs.filter((l) => PLATES.test(l))).toEqual([]);
    });
  });
});
