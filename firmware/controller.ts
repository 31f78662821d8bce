/**
 * The composition root as a class, so the same start-up runs under `npm start` and inside tests.
 * Order matters: hardware to its safe state first, then storage (with migrations), then services, then the API.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { createHal } from "../hal/index.js";
import type { Hal } from "../hal/types.js";
import { WiegandOutput } from "../hal/wiegand.js";
import { ActionBindings } from "./actions/bindings.js";
import { createAction, createNetworkAction, isNetworkAction } from "./actions/registry.js";
import { loadAdminToken, tokenChecker } from "./api/auth.js";
import { LiveHub } from "./api/live.js";
import { statusView } from "./api/routes/cameras.js";
import { ioView } from "./api/routes/io.js";
import { type App, buildApp } from "./api/server.js";
import { Approvals } from "./approvals.js";
import { CameraManager } from "./cameras/manager.js";
import type { SiteConfig } from "./config/site.js";
import { ConfigError } from "./config/validate.js";
import { type Clock, Gate, systemClock } from "./gate.js";
import { barrierMessage, createLanes, type Lane } from "./lanes.js";
import { Outbox } from "./outbox/dispatcher.js";
import { OutboxRepo } from "./outbox/repo.js";
import { ApprovalsRepo } from "./store/approvals-repo.js";
import { AuditRepo } from "./store/audit-repo.js";
import { CamerasRepo } from "./store/cameras-repo.js";
import { openStore, type Store } from "./store/db.js";
import { EventsRepo } from "./store/events-repo.js";
import { ListsRepo } from "./store/lists-repo.js";
import { occupancyOf, PresenceRepo, zoneMessage } from "./store/presence-repo.js";
import { SchedulesRepo } from "./store/schedules-repo.js";
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
    readonly outbox: Outbox,
    private readonly lanes: readonly Lane[],
    readonly approvals: Approvals,
    private readonly presence: PresenceRepo,
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
    let outbox: Outbox | null = null;
    let approvals: Approvals | null = null;
    let presenceRepo: PresenceRepo | null = null;
    const wiegand = new Map<string, WiegandOutput>();
    let startedLanes: Lane[] = [];
    try {
      // Wiegand devices borrow their lines from the HAL; `wiegand` actions find them by name.
      for (const config of site.wiegand) {
        const device = new WiegandOutput(hal, config, {
          onError: (message, err) => log.error({ err, module: "wiegand" }, message),
        });
        await device.start();
        wiegand.set(config.name, device);
      }
      const schedules = new SchedulesRepo(store, site.timeZone, (name) =>
        site.actions.flatMap((a, i) => (a.schedule === name ? [`site action ${i} (${a.do.type})`] : [])),
      );
      schedules.seed(site.holidayCalendars, site.schedules, clock.now());
      const actionBindings = new ActionBindings(store, site.actions, log.child({ module: "actions" }));
      actionBindings.load();
      checkActionSchedules(site, schedules);
      const lists = new ListsRepo(store, schedules, {
        lanes: new Set(site.lanes.map((l) => l.id)),
        groups: new Map(site.laneGroups.map((g) => [g.name, g.lanes])),
      });
      seedLists(lists, site, clock.now());
      const events = new EventsRepo(store);
      const audit = new AuditRepo(store);
      const presence = new PresenceRepo({
        store,
        seedZones: site.zones,
        lanePresenceInput: (id) => site.lanes.find((l) => l.id === id)?.presenceInput,
        timeZone: site.timeZone,
        now: () => clock.now(),
        beforeManualWrite: () => events.flush(),
        onChange: (change) => live.broadcast("occupancy", zoneMessage(change)),
      });
      presenceRepo = presence;
      const lanes = createLanes(site.lanes, hal, {
        audit,
        log: log.child({ module: "barrier" }),
        announce: (lane, view) => live.broadcast("barrier", barrierMessage(lane, view)),
      });
      const admin = loadAdminToken(options.dataDir, options.adminToken);
      const checkToken = tokenChecker(admin.token);
      const live = new LiveHub(
        checkToken,
        () => ({
          site: { name: site.name, timeZone: site.timeZone },
          lanes: [...lanes.values()].map((l) => l.toJSON()),
          io: hal.state().map(ioView),
          cameras: cameras?.statuses().map(statusView) ?? [],
          zones: presence.views(clock.now()).map(occupancyOf),
          approvals: approvals?.pending() ?? [],
        }),
        log.child({ module: "live" }),
      );
      approvals = new Approvals({
        seed: site.approval,
        repo: new ApprovalsRepo(store),
        lanes,
        lists,
        events,
        presence,
        audit,
        clock,
        log: log.child({ module: "approvals" }),
        broadcast: (message) => live.broadcast("approval", message),
        announce: (event) => live.broadcast("decision", { type: "decision", event }),
      });
      startedLanes = [...lanes.values()];
      for (const lane of startedLanes) await lane.start();
      approvals.start(); // requests stored before a restart; the lanes they may open are started
      const snapshots = new SnapshotWriter(
        join(options.dataDir, "snapshots"),
        store,
        site.systemId,
        site.timeZone,
        log.child({ module: "snapshots" }),
      );
      // Network actions go through the durable outbox; it starts delivering once the API is up.
      const network = site.actions.filter(isNetworkAction).map((a) =>
        createNetworkAction(a, log.child({ module: "outbox" }), {
          systemId: site.systemId,
          name: site.name,
          lanes: site.lanes.map((l) => ({ id: l.id, name: l.name })),
          version: VERSION,
        }),
      );
      const outboxRepo = new OutboxRepo(store);
      outbox = new Outbox(
        outboxRepo,
        network.map((n) => n.target),
        clock,
        log.child({ module: "outbox" }),
        (status) => live.broadcast("outbox", { type: "outbox", target: status }),
      );
      const dispatcher = outbox;
      events.onMessages = (targets) => dispatcher.notify(targets);
      const gate = new Gate({
        site,
        hal,
        lanes,
        lists,
        events,
        actions: site.actions
          .filter((a) => !isNetworkAction(a))
          .map((a) =>
            createAction(a, {
              wiegand: (name) => {
                const device = wiegand.get(name);
                if (!device) throw new Error(`no Wiegand device named '${name}'`);
                return device;
              },
            }),
          ),
        network,
        outbox,
        clock,
        log: log.child({ module: "gate" }),
        announce: (event) => live.broadcast("decision", { type: "decision", event }),
        snapshots,
        presence,
        audit,
        approvals,
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
      hal.onTransition((t) => presence.onInput(t));
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
          schedules,
          actions: actionBindings,
          events,
          audit,
          presence,
          gate,
          approvals,
          cameras: manager,
          snapshots,
          outbox,
          outboxRepo,
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
      outbox.start();
      const address = app.server.address();
      const port = typeof address === "object" && address ? address.port : options.port;
      const host = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
      const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
      log.info(
        { location: admin.location, source: admin.source },
        "admin token (send as 'Authorization: Bearer <token>')",
      );
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
      const controller = new Controller(
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
        outbox,
        startedLanes,
        approvals,
        presence,
      );
      controller.wiegand = [...wiegand.values()];
      return controller;
    } catch (err) {
      approvals?.stop();
      presenceRepo?.stop();
      await cameras?.close();
      await outbox?.stop();
      for (const lane of startedLanes) await lane.stop();
      for (const device of wiegand.values()) await device.stop();
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
    this.approvals.stop();
    this.presence.stop();
    this.live.close();
    await this.app.close();
    this.events.flush();
    // Attempts in flight are abandoned, not recorded: their messages go again at the next start.
    await this.outbox.stop();
    await this.snapshots.flush();
    for (const lane of this.lanes) await lane.stop();
    for (const device of this.wiegand) await device.stop(); // lets frames in flight finish
    await this.hal.stop();
    this.store.close();
    this.log.info("stopped");
  }

  private stopped = false;
  private wiegand: WiegandOutput[] = [];
}

/** At first start (no lists yet) create the site's seed lists and their plates. */
function seedLists(lists: ListsRepo, site: SiteConfig, nowMs: number): void {
  if (lists.listDefs().length > 0) return;
  for (const seed of site.seedLists) {
    const list = lists.create({ name: seed.name, kind: seed.kind, schedule: seed.schedule }, nowMs);
    if (seed.plates.length)
      lists.addEntries(
        list.id,
        seed.plates.map((plate) => ({ plate, description: "seeded" })),
        nowMs,
      );
  }
}

/**
 * Every schedule the site file's actions name must exist (the site file's seeds count, being stored by now):
 * a missing one stops the start with the action's path, as any other site file error.
 */
function checkActionSchedules(site: SiteConfig, schedules: SchedulesRepo): void {
  const known = schedules.names();
  const problems = site.actions.flatMap((action, i) =>
    action.schedule === undefined || schedules.has(action.schedule)
      ? []
      : [
          `/actions/${i}/schedule '${action.schedule}' is not a schedule (${known.length ? `schedules: ${known.map((n) => `'${n}'`).join(", ")}` : "there are none"}); define it under schedules in the site file or through /api/v1/schedules`,
        ],
  );
  if (problems.length) throw new ConfigError("site file", problems);
}
