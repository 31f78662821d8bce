/**
 * The site's cameras at run time: which camera sent a push, the open links to cameras the controller
 * connects to (or listens for), each camera's live status, and changes made through the API — applied at
 * once, without a restart, and stored so they survive one.
 */
import { type CameraConfig, CameraSchema } from "../config/site.js";
import { ConfigError, checker } from "../config/validate.js";
import type { Clock, Gate } from "../gate.js";
import { CameraDirectory, type Credentials } from "../ingest/cameras.js";
import { cameraProblems, linkAdapter } from "../ingest/registry.js";
import type { CameraLink, LinkState, PlateRead } from "../ingest/types.js";
import type { CamerasRepo } from "../store/cameras-repo.js";
import { ConflictError, NotFoundError } from "../store/lists-repo.js";
import type { Logger } from "../util/log.js";
import { ReadRate } from "./read-rate.js";

/** A push camera that has sent nothing for this long is shown as idle rather than receiving. */
export const PUSH_IDLE_MS = 5 * 60_000;
/** Status broadcasts caused by reads are coalesced to at most one per camera per second. */
const STATUS_COALESCE_MS = 1000;
/** A camera event's JSON is cut to this many characters before it is stored. */
const MAX_CAMERA_EVENT_CHARS = 16 * 1024;

export type CameraState = "disabled" | "idle" | "receiving" | LinkState;

export interface CameraStatus {
  id: string;
  protocol: string;
  transport: "push" | "link";
  state: CameraState;
  /** What the link last said about itself (for example why it is disconnected). */
  detail: string | null;
  /** Wall ms of the last state change. */
  since: number;
  lastReadAt: number | null;
  reads: number;
  readsPerMinute: number;
  errors: number;
  lastError: { at: number; message: string } | null;
}

interface Running {
  camera: CameraConfig;
  status: CameraStatus;
  rate: ReadRate;
  link: CameraLink | null;
}

export interface CameraManagerDeps {
  repo: CamerasRepo;
  gate: Gate;
  laneIds: ReadonlySet<string>;
  siteTimeZone: string;
  clock: Clock;
  log: Logger;
  /** Called with a camera's status when it changes. */
  announce(status: CameraStatus): void;
}

const cameraChecker = checker(CameraSchema);

export class CameraManager {
  private readonly running = new Map<string, Running>();
  private directory = new CameraDirectory([]);
  private readonly dirty = new Set<string>();
  private flushTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly deps: CameraManagerDeps) {}

  /** Load the stored cameras (seeding them from the site file at first start) and open their links. */
  start(seed: readonly CameraConfig[]): void {
    const { repo, clock } = this.deps;
    if (!repo.seeded()) repo.seed(seed, clock.now());
    for (const stored of repo.all()) {
      // A stored camera that no longer validates (a protocol removed, a lane renamed in the site file)
      // is kept, shown disabled with the reason, and never opened.
      const problems = this.problemsOf(
        stored,
        [...this.running.values()].map((r) => r.camera),
      );
      this.add(problems.length ? { ...stored, enabled: false } : stored);
      if (problems.length) this.fail(stored.id, `not started: ${problems.join("; ")}`);
    }
    this.rebuildDirectory();
  }

  list(): CameraConfig[] {
    return [...this.running.values()].map((r) => r.camera);
  }

  get(id: string): CameraConfig {
    return this.entry(id).camera;
  }

  statuses(): CameraStatus[] {
    return [...this.running.values()].map((entry) => this.viewStatus(entry));
  }

  status(id: string): CameraStatus {
    return this.viewStatus(this.entry(id));
  }

  /** The camera's latest events that are not plate reads. */
  events(id: string, limit: number) {
    return this.deps.repo.events(id, limit);
  }

  /** The camera that sent a push, or null (see CameraDirectory). */
  identify(credentials: Credentials): CameraConfig | null {
    return this.directory.identify(credentials);
  }

  /** A push camera's read was accepted (parsed; the gate has it). */
  noteRead(cameraId: string): void {
    const entry = this.running.get(cameraId);
    if (!entry) return;
    entry.status.reads++;
    entry.status.lastReadAt = this.deps.clock.now();
    entry.rate.add(this.deps.clock.mono());
    this.markDirty(cameraId);
  }

  /** A camera sent something that could not be used. */
  noteError(cameraId: string, message: string): void {
    this.fail(cameraId, message);
  }

  create(input: unknown): CameraConfig {
    const camera = cameraChecker.parse(input, "camera");
    if (this.running.has(camera.id)) throw new ConflictError(`camera '${camera.id}' already exists`);
    this.validate(camera, this.list());
    this.deps.repo.put(camera, this.deps.clock.now());
    this.add(camera);
    this.rebuildDirectory();
    return camera;
  }

  /**
   * Change a camera: top-level fields replace, `connection` merges (so a password need not be sent again).
   * The camera's link is reopened with the new settings.
   */
  async update(id: string, patch: Record<string, unknown>): Promise<CameraConfig> {
    const current = this.entry(id).camera;
    if (patch.id !== undefined && patch.id !== id)
      throw new ConfigError("camera", [`/id cannot be changed (delete and create instead)`]);
    const merged = {
      ...current,
      ...patch,
      ...(patch.connection !== undefined && typeof patch.connection === "object" && patch.connection !== null
        ? { connection: { ...current.connection, ...patch.connection } }
        : {}),
    };
    // A protocol change takes the new protocol's settings only.
    if (patch.protocol !== undefined && patch.protocol !== current.protocol && patch.connection === undefined)
      delete merged.connection;
    const camera = cameraChecker.parse(merged, "camera");
    this.validate(
      camera,
      this.list().filter((c) => c.id !== id),
    );
    this.deps.repo.put(camera, this.deps.clock.now());
    // The old link lets go of its socket or port before the new one takes it.
    await this.stopLink(id);
    this.add(camera);
    this.rebuildDirectory();
    return camera;
  }

  async remove(id: string): Promise<void> {
    this.entry(id);
    this.deps.repo.remove(id);
    await this.stopLink(id);
    this.running.delete(id);
    this.dirty.delete(id);
    this.rebuildDirectory();
  }

  /** Close every link; resolves when no socket or timer of any camera is left. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    await Promise.all([...this.running.keys()].map((id) => this.stopLink(id)));
  }

  private validate(camera: CameraConfig, others: readonly CameraConfig[]): void {
    const problems = this.problemsOf(camera, others);
    if (problems.length) throw new ConfigError(`camera '${camera.id}'`, problems);
  }

  private problemsOf(camera: CameraConfig, others: readonly CameraConfig[]): string[] {
    return cameraProblems(camera, "", others, this.deps.laneIds);
  }

  private entry(id: string): Running {
    const entry = this.running.get(id);
    if (!entry) throw new NotFoundError(`camera '${id}' does not exist`);
    return entry;
  }

  private add(camera: CameraConfig): void {
    const adapter = linkAdapter(camera.protocol);
    const previous = this.running.get(camera.id)?.status;
    const now = this.deps.clock.now();
    const entry: Running = {
      camera,
      rate: new ReadRate(),
      link: null,
      status: {
        id: camera.id,
        protocol: camera.protocol,
        transport: adapter ? "link" : "push",
        state: !camera.enabled ? "disabled" : adapter ? "connecting" : "idle",
        detail: null,
        since: now,
        lastReadAt: previous?.lastReadAt ?? null,
        reads: previous?.reads ?? 0,
        readsPerMinute: 0,
        errors: previous?.errors ?? 0,
        lastError: previous?.lastError ?? null,
      },
    };
    this.running.set(camera.id, entry);
    if (adapter && camera.enabled && !this.closed) entry.link = this.openLink(entry, adapter);
    this.announceNow(camera.id);
  }

  private openLink(entry: Running, adapter: NonNullable<ReturnType<typeof linkAdapter>>): CameraLink | null {
    const { camera } = entry;
    const log = this.deps.log.child({ camera: camera.id, protocol: camera.protocol });
    const current = () => this.running.get(camera.id) === entry;
    try {
      return adapter.open({
        camera,
        siteTimeZone: this.deps.siteTimeZone,
        log,
        onRead: (read, receivedMono) => {
          if (current()) this.linkRead(entry, read, receivedMono);
        },
        onCameraEvent: (kind, data) => {
          if (current()) this.cameraEvent(entry, kind, data);
        },
        onStatus: (state, detail) => {
          if (!current()) return;
          if (entry.status.state !== state) entry.status.since = this.deps.clock.now();
          entry.status.state = state;
          entry.status.detail = detail ?? null;
          log.info({ state, detail }, "camera link");
          this.announceNow(camera.id);
        },
        onError: (problem) => {
          if (current()) this.fail(camera.id, problem);
        },
      });
    } catch (err) {
      // An adapter must not throw from open(); if one does, this camera stays down and the rest run.
      this.fail(camera.id, `link could not be opened: ${(err as Error).message}`);
      return null;
    }
  }

  private linkRead(entry: Running, read: PlateRead, receivedMono: number): void {
    const { camera } = entry;
    this.noteRead(camera.id);
    try {
      this.deps.gate.handle({ read, camera, protocol: camera.protocol, receivedMono });
    } catch (err) {
      this.deps.log.error({ err, camera: camera.id }, "read could not be handled");
    }
  }

  private cameraEvent(entry: Running, kind: string, data: Record<string, unknown>): void {
    let json = JSON.stringify(data);
    if (json.length > MAX_CAMERA_EVENT_CHARS) json = JSON.stringify({ truncated: json.slice(0, 1024) });
    try {
      this.deps.repo.recordEvent(entry.camera.id, this.deps.clock.now(), kind.slice(0, 64), JSON.parse(json));
    } catch (err) {
      this.deps.log.error({ err, camera: entry.camera.id }, "camera event could not be stored");
    }
  }

  private fail(cameraId: string, message: string): void {
    const entry = this.running.get(cameraId);
    if (!entry) return;
    entry.status.errors++;
    entry.status.lastError = { at: this.deps.clock.now(), message: message.slice(0, 500) };
    this.deps.log.warn({ camera: cameraId, problem: entry.status.lastError.message }, "camera problem");
    this.announceNow(cameraId);
  }

  private stopLink(id: string): Promise<void> {
    const entry = this.running.get(id);
    const link = entry?.link;
    if (!entry || !link) return Promise.resolve();
    entry.link = null;
    return link.close().catch((err: Error) => this.deps.log.warn({ err, camera: id }, "link close failed"));
  }

  private rebuildDirectory(): void {
    this.directory = new CameraDirectory(this.list().filter((c) => !linkAdapter(c.protocol)));
  }

  private viewStatus(entry: Running): CameraStatus {
    const status = { ...entry.status, readsPerMinute: entry.rate.perMinute(this.deps.clock.mono()) };
    if (status.transport === "push" && status.state !== "disabled") {
      const seen = status.lastReadAt !== null && this.deps.clock.now() - status.lastReadAt < PUSH_IDLE_MS;
      status.state = seen ? "receiving" : "idle";
    }
    return status;
  }

  private announceNow(id: string): void {
    this.dirty.delete(id);
    const entry = this.running.get(id);
    if (entry && !this.closed) this.deps.announce(this.viewStatus(entry));
  }

  private markDirty(id: string): void {
    this.dirty.add(id);
    if (this.flushTimer || this.closed) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      for (const dirtyId of [...this.dirty]) this.announceNow(dirtyId);
    }, STATUS_COALESCE_MS);
    this.flushTimer.unref();
  }
}
