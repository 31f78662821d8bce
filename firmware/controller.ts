/**
 * The composition root as a class, so the same start-up runs under `npm start` and inside tests.
 * Order matters: hardware to its safe state first, then storage (with migrations), then services, then the API.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { createHal } from "../hal/index.js";
import type { Hal } from "../hal/types.js";
import { createAction } from "./actions/registry.js";
import { loadAdminToken, tokenChecker } from "./api/auth.js";
import { LiveHub } from "./api/live.js";
import { statusView } from "./api/routes/cameras.js";
import { ioView } from "./api/routes/io.js";
import { type App, buildApp } from "./api/server.js";
import { CameraManager } from "./cameras/manager.js";
import type { SiteConfig } from "./config/site.js";
import { type Clock, Gate, systemClock } from "./gate.js";
import { createLanes } from "./lanes.js";
import { AuditRepo } from "./store/audit-repo.js";
import { CamerasRepo } from "./store/cameras-repo.js";
import { openStore, type Store } from "./store/db.js";
import { EventsRepo } from "./store/events-repo.js";
import { ListsRepo } from "./store/lists-repo.js";
import { SnapshotWriter } from "./store/snapshots.js";
import type { Logger } from "./util/log.js";
import { projectRoot } from "./util/paths.js";

export const VERSION: string = (
  createRequire(import.meta.url)(join(projectRoot(), "package.json")) as { version: string }
).version;

export interface ControllerOptions {
  dataDir: string;
  port: number;
  host: string;
  site: SiteConfig;
  hal: Hal;
  log: Logger;
  /** PORTCULLIS_ADMIN_TOKEN, if set. */
  adminToken?: string | undefined;
  clock?: Clock;
}

export class Controller {
  private constructor(
    readonly hal: Hal,
    readonly store: Store,
    readonly app: App,
    readonly live: LiveHub,
    readonly events: EventsRepo,
    readonly lists: ListsRepo,
    private readonly gate: Gate,
    readonly cameras: CameraManager,
    readonly snapshots: SnapshotWriter,
    readonly url: string,
    readonly tokenLocation: string,
    private readonly log: Logger,
  ) {}

  /** The HAL for a site: outputs and inputs as configured, driver as chosen. Start it before anything else. */
  static halFor(site: SiteConfig, driver: Hal["driver"]): Hal {
    return createHal({ driver, outputs: site.outputs, inputs: site.inputs });
  }

  static async start(options: ControllerOptions): Promise<Controller> {
    const { site, hal, log } = options;
    const clock = options.clock ?? systemClock;
    const startedAt = clock.now();
    await hal.start();

    const store = openStore(options.dataDir);
    let cameras: CameraManager | null = null;
    try {
      const lists = new ListsRepo(store);
      seedLists(lists, site, clock.now());
      const events = new EventsRepo(store);
      const audit = new AuditRepo(store);
      const lanes = createLanes(site.lanes, hal);
      const admin = loadAdminToken(options.dataDir, options.adminToken);
      const checkToken = tokenChecker(admin.token);
      const live = new LiveHub(
        checkToken,
        () => ({
          lanes: [...lanes.values()].map((l) => l.toJSON()),
          io: hal.state().map(ioView),
          cameras: cameras?.statuses().map(statusView) ?? [],
        }),
        log.child({ module: "live" }),
      );
      const snapshots = new SnapshotWriter(
        join(options.dataDir, "snapshots"),
        store,
        site.systemId,
        site.timeZone,
        log.child({ module: "snapshots" }),
      );
      const gate = new Gate({
        site,
        hal,
        lanes,
        lists,
        events,
        actions: site.actions.map(createAction),
        clock,
        log: log.child({ module: "gate" }),
        announce: (event) => live.broadcast("decision", { type: "decision", event }),
        snapshots,
      });
      const manager = new CameraManager({
        repo: new CamerasRepo(store),
        gate,
        laneIds: new Set(lanes.keys()),
        siteTimeZone: site.timeZone,
        clock,
        log: log.child({ module: "cameras" }),
        announce: (status) => live.broadcast("camera", { type: "camera", camera: statusView(status) }),
      });
      cameras = manager;
      manager.start(site.cameras);
      hal.onTransition((t) =>
        live.broadcast("io", {
          type: "io",
          ...ioView({ name: t.name, kind: t.kind, active: t.active, changedAt: t.wallMs }),
        }),
      );
      const app = await buildApp(
        {
          version: VERSION,
          site,
          hal,
          lanes,
          lists,
          events,
          audit,
          gate,
          cameras: manager,
          snapshots,
          clock,
          startedAt,
          checkToken,
          uiDir: join(projectRoot(), "dist", "ui"),
        },
        log,
      );
      app.server.on("upgrade", (req, socket, head) => {
        if (!live.handleUpgrade(req, socket, head)) socket.destroy();
      });
      await app.listen({ port: options.port, host: options.host });
      const address = app.server.address();
      const port = typeof address === "object" && address ? address.port : options.port;
      const host = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
      const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
      log.info(
        {
          url,
          site: site.name,
          hal: hal.driver,
          lanes: lanes.size,
          cameras: manager.list().length,
          readyMs: clock.now() - startedAt,
        },
        "deciding",
      );
      log.info(
        { location: admin.location, source: admin.source },
        "admin token (send as 'Authorization: Bearer <token>')",
      );
      return new Controller(
        hal,
        store,
        app,
        live,
        events,
        lists,
        gate,
        manager,
        snapshots,
        url,
        admin.location,
        log,
      );
    } catch (err) {
      await cameras?.close();
      store.close();
      await hal.stop();
      throw err;
    }
  }

  /** Stop serving, commit queued events, drive outputs safe, release everything. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.cameras.close();
    this.gate.stop();
    this.live.close();
    await this.app.close();
    this.events.flush();
    await this.snapshots.flush();
    await this.hal.stop();
    this.store.close();
    this.log.info("stopped");
  }

  private stopped = false;
}

/** At first start (no lists yet) create the site's seed lists and their plates. */
function seedLists(lists: ListsRepo, site: SiteConfig, nowMs: number): void {
  if (lists.listDefs().length > 0) return;
  for (const seed of site.seedLists) {
    const list = lists.create({ name: seed.name, kind: seed.kind }, nowMs);
    if (seed.plates.length)
      lists.addEntries(
        list.id,
        seed.plates.map((plate) => ({ plate, description: "seeded" })),
        nowMs,
      );
  }
}
