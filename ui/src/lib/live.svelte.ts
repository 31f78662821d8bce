/**
 * The live view of the controller: lanes and their barriers, I/O states, cameras, integrations (outbox
 * targets), zones (occupancy, anti-passback) and recent decisions, fed by the REST API on start and by the
 * /api/v1/live WebSocket afterwards. One instance per signed-in session.
 */
import { ApiError, apiBlob, apiRequest, apiUrl, errorText, UnauthorizedError } from "./api";
import {
  addApproval,
  applyBarrier,
  applyBarrierView,
  applyCameraList,
  applyCameraStatus,
  applyHelloCameras,
  applyIo,
  applyOutboxTarget,
  applyZoneCount,
  applyZoneUpdate,
  backoffDelay,
  lanesOf,
  MAX_EVENTS,
  mergeEvents,
  outboxTargetsOf,
  parseMessage,
  replayZoneUpdates,
  showableImages,
  zoneOf,
  zonesOf,
} from "./live-logic";
import type {
  ApprovalOutcome,
  ApprovalRequest,
  BarrierCommand,
  BarrierCommandResult,
  Camera,
  CameraItem,
  DecisionEvent,
  EventImage,
  EventWithExplanation,
  IoItem,
  Items,
  Lane,
  OpenResult,
  OutboxTarget,
  SiteInfo,
  Zone,
  ZoneUpdate,
} from "./types";

export type LinkState = "connecting" | "live" | "reconnecting" | "stopped";

/** The server must greet an authenticated socket within this time, or the socket is recycled. */
const HELLO_TIMEOUT_MS = 8_000;
const CLOSE_AUTH_FAILED = 4401;
/**
 * The socket tells when an integration goes up or down, not each message queued or sent: after a decision
 * (it may have queued messages) the list is fetched again shortly, and every so often while any wait.
 */
const OUTBOX_AFTER_DECISION_MS = 1_500;
const OUTBOX_WHILE_PENDING_MS = 15_000;
/**
 * Zones arrive whole over the socket (topic `occupancy`: counts and plates inside, settings, deletions; the
 * hello's counts): GET /zones is fetched once per connection for the settings, and again only when it failed
 * or the socket named a zone the panel has no settings for. A failed fetch is tried again after this long.
 */
const ZONES_RETRY_MS = 15_000;

export class LiveStore {
  lanes = $state.raw<readonly Lane[]>([]);
  io = $state<Record<string, IoItem>>({});
  events = $state.raw<DecisionEvent[]>([]);
  cameras = $state.raw<Camera[]>([]);
  /** Integrations (outbox targets), sorted by id. */
  outbox = $state.raw<OutboxTarget[]>([]);
  /** False when the controller has no outbox (an older one); null until it has answered. */
  outboxAvailable = $state<boolean | null>(null);
  /** Pending operator approval requests, oldest first. */
  approvals = $state.raw<ApprovalRequest[]>([]);
  /** Zones in the controller's order; empty when it has none (or is too old to have any). */
  zones = $state.raw<readonly Zone[]>([]);
  /** The site's name and time zone, from the hello; null until then (or from an older controller). */
  site = $state.raw<SiteInfo | null>(null);
  link = $state<LinkState>("connecting");
  /** Epoch ms of the next reconnect attempt while reconnecting. */
  retryAt = $state<number | null>(null);
  /** Why the last load or connection attempt failed, for the status line. */
  problem = $state<string | null>(null);
  /** Events that arrived over the socket (highlighted when first shown). Not reactive on purpose. */
  readonly arrivedLive = new Set<number>();

  readonly #token: string;
  readonly #onUnauthorized: () => void;
  #ws: WebSocket | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #helloTimer: ReturnType<typeof setTimeout> | undefined;
  #attempt = 0;
  #greeted = false;
  #stopped = false;
  #camerasLoading = false;
  #outboxLoading = false;
  #outboxAgain = false;
  #outboxTimer: ReturnType<typeof setTimeout> | undefined;
  /** Epoch ms the outbox timer fires at. */
  #outboxDue = 0;
  #zonesLoading = false;
  #zonesAgain = false;
  /** False once the controller answered 404 (no zones API): nothing is fetched again. */
  #zonesApi = true;
  #zonesTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Zone updates received while GET /zones is under way, in order. The reply may predate them: they are laid
   * over it. Null when no request is under way.
   */
  #zoneUpdatesDuringLoad: ZoneUpdate[] | null = null;

  constructor(token: string, onUnauthorized: () => void) {
    this.#token = token;
    this.#onUnauthorized = onUnauthorized;
  }

  start(): void {
    this.#stopped = false;
    window.addEventListener("online", this.#retryNow);
    void this.#loadSnapshot();
    void this.#loadOutbox();
    void this.#loadZones();
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    this.link = "stopped";
    window.removeEventListener("online", this.#retryNow);
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#helloTimer);
    clearTimeout(this.#outboxTimer);
    clearTimeout(this.#zonesTimer);
    const ws = this.#ws;
    this.#ws = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, "panel closed");
  }

  /**
   * The time zone every time on the panel is shown in (lib/format.ts, lib/why.ts take it): the site's, in which
   * the controller writes the times in its reasons; undefined — the browser's own zone — until the hello says.
   */
  get timeZone(): string | undefined {
    return this.site?.timeZone;
  }

  laneName(id: string): string {
    return this.lanes.find((l) => l.id === id)?.name ?? `Lane ${id}`;
  }

  cameraName(id: string): string {
    const camera = this.cameras.find((c) => c.id === id);
    return camera?.name ? `${camera.name} (${id})` : id;
  }

  /**
   * One event as the controller has it now, with the explanation of its decision (the list items may not
   * carry it, and an approval rewrites it). The URL holds the event's id only, never the plate.
   */
  async eventDetail(eventId: number): Promise<EventWithExplanation> {
    try {
      return await apiRequest<EventWithExplanation>(`api/v1/events/${eventId}`, { token: this.#token });
    } catch (err) {
      this.#checkAuth(err);
      throw err;
    }
  }

  /** The event's stored pictures, plate crop first; empty until the controller has written them. */
  async images(eventId: number): Promise<EventImage[]> {
    try {
      const res = await apiRequest<Items<unknown>>(`api/v1/events/${eventId}/images`, { token: this.#token });
      return showableImages(Array.isArray(res?.items) ? res.items : []);
    } catch (err) {
      this.#checkAuth(err);
      throw err;
    }
  }

  /** One picture's bytes, for an object URL. */
  async imageBlob(image: EventImage): Promise<Blob> {
    try {
      return await apiBlob(image.url, { token: this.#token });
    } catch (err) {
      this.#checkAuth(err);
      throw err;
    }
  }

  /** Pulse a lane's barrier. Throws ApiError with a guard-readable message on failure. */
  async openLane(laneId: string): Promise<OpenResult> {
    const res = await this.#laneCommand<OpenResult>(laneId, "open");
    if (res && !this.#stopped) this.lanes = applyBarrierView(this.lanes, laneId, res.barrier);
    return res;
  }

  /**
   * Hold open, release, or close (which may wait for the vehicle to clear: `deferred`). The reply's barrier
   * view is taken at once. Throws ApiError (409 when the lane cannot hold or close) on failure.
   */
  async barrierCommand(laneId: string, command: BarrierCommand): Promise<BarrierCommandResult> {
    const res = await this.#laneCommand<BarrierCommandResult>(laneId, command);
    if (res && !this.#stopped) this.lanes = applyBarrierView(this.lanes, laneId, res.barrier);
    return res;
  }

  async #laneCommand<T>(laneId: string, command: "open" | BarrierCommand): Promise<T> {
    try {
      return await apiRequest<T>(`api/v1/lanes/${encodeURIComponent(laneId)}/${command}`, {
        token: this.#token,
        method: "POST",
        body: { reason: "panel" },
      });
    } catch (err) {
      this.#checkAuth(err);
      throw err;
    }
  }

  /**
   * Answer an approval request. The card goes at once; 404/409 (answered elsewhere, or timed out) also
   * remove it, other errors keep it and throw.
   */
  async answerApproval(id: number, outcome: ApprovalOutcome, hours?: number): Promise<void> {
    try {
      await apiRequest(`api/v1/approvals/${id}`, {
        token: this.#token,
        method: "POST",
        body: { outcome, ...(hours === undefined ? {} : { hours }), reason: "panel" },
      });
    } catch (err) {
      this.#checkAuth(err);
      if (!(err instanceof ApiError && (err.status === 404 || err.status === 409))) throw err;
    }
    this.approvals = this.approvals.filter((r) => r.id !== id);
  }

  /**
   * Set a zone's count by hand (audited by the controller); returns the count before. While live the socket
   * shows the new count (the reply could arrive after a newer count); otherwise the reply's zone is shown.
   * Throws ApiError with the controller's message on failure.
   */
  async correctZoneCount(name: string, count: number, reason: string): Promise<{ from: number }> {
    const res = await this.#zoneRequest<{ zone?: unknown; from?: unknown }>(
      `api/v1/zones/${encodeURIComponent(name)}/occupancy`,
      "PUT",
      { count, reason },
    );
    const zone = zoneOf(res?.zone);
    if (zone && !this.#stopped && this.link !== "live") {
      const { name, capacity, full, inside } = zone;
      this.zones = applyZoneCount(this.zones, { zone: name, count: zone.count, capacity, full, inside });
    }
    return { from: typeof res?.from === "number" ? res.from : Number.NaN };
  }

  /**
   * Forget every plate marked inside the zone (manual anti-passback reset, audited by the controller).
   * Returns how many were inside. Shown like a correction: by the socket while live.
   */
  async resetZonePresence(name: string): Promise<{ removed: number }> {
    const res = await this.#zoneRequest<{ removed?: unknown }>(
      `api/v1/zones/${encodeURIComponent(name)}/presence`,
      "DELETE",
    );
    if (!this.#stopped && this.link !== "live")
      this.zones = this.zones.map((z) => (z.name === name ? { ...z, inside: 0 } : z));
    return { removed: typeof res?.removed === "number" ? res.removed : Number.NaN };
  }

  async #zoneRequest<T>(path: string, method: "PUT" | "DELETE", body?: unknown): Promise<T> {
    try {
      return await apiRequest<T>(path, { token: this.#token, method, body });
    } catch (err) {
      this.#checkAuth(err);
      throw err;
    }
  }

  /** Skip the backoff wait (the "Retry now" control, or the browser coming back online). */
  #retryNow = (): void => {
    if (this.#stopped || this.link !== "reconnecting" || this.#ws) return;
    clearTimeout(this.#retryTimer);
    this.#connect();
  };

  retryNow(): void {
    this.#retryNow();
  }

  async #loadSnapshot(): Promise<void> {
    const token = this.#token;
    const results = await Promise.allSettled([
      apiRequest<Items<Lane>>("api/v1/lanes", { token }),
      apiRequest<Items<IoItem>>("api/v1/io", { token }),
      apiRequest<Items<DecisionEvent>>(`api/v1/events?limit=${MAX_EVENTS}`, { token }),
      apiRequest<Items<CameraItem>>("api/v1/cameras", { token }),
    ]);
    if (this.#stopped) return;
    const [lanes, io, events, cameras] = results;
    // The hello message carries lanes too; the REST answer only fills in if it came first.
    if (lanes.status === "fulfilled" && !this.#greeted) this.lanes = lanesOf(lanes.value?.items);
    if (io.status === "fulfilled") for (const item of io.value.items) applyIo(this.io, item);
    if (events.status === "fulfilled") this.events = mergeEvents(this.events, events.value.items);
    if (cameras.status === "fulfilled")
      this.cameras = applyCameraList(this.cameras, cameras.value.items, this.#greeted);
    const failed = results.find((r) => r.status === "rejected");
    if (failed) {
      this.#checkAuth(failed.reason);
      this.problem = `Could not load the current state: ${errorText(failed.reason)}`;
    }
  }

  /**
   * The integrations' state. One request at a time; a refresh asked for meanwhile runs once this one is
   * done. A controller without an outbox (404) hides the section.
   */
  async #loadOutbox(): Promise<void> {
    if (this.#outboxLoading) {
      this.#outboxAgain = true;
      return;
    }
    this.#outboxLoading = true;
    clearTimeout(this.#outboxTimer);
    this.#outboxDue = 0;
    try {
      const res = await apiRequest<Items<unknown>>("api/v1/outbox/targets", { token: this.#token });
      if (this.#stopped) return;
      this.outbox = outboxTargetsOf(res?.items);
      this.outboxAvailable = true;
    } catch (err) {
      this.#checkAuth(err);
      if (err instanceof ApiError && err.status === 404) this.outboxAvailable = false;
    } finally {
      this.#outboxLoading = false;
    }
    if (this.#stopped) return;
    if (this.#outboxAgain) {
      this.#outboxAgain = false;
      void this.#loadOutbox();
    } else if (this.outbox.some((t) => t.pending > 0)) {
      this.#refreshOutboxIn(OUTBOX_WHILE_PENDING_MS);
    }
  }

  /** Fetch the integrations again within `ms` (an earlier refresh already planned stays). */
  #refreshOutboxIn(ms: number): void {
    if (this.#stopped || this.outboxAvailable === false) return;
    const due = Date.now() + ms;
    if (this.#outboxDue !== 0 && this.#outboxDue <= due) return;
    clearTimeout(this.#outboxTimer);
    this.#outboxDue = due;
    this.#outboxTimer = setTimeout(() => {
      this.#outboxDue = 0;
      void this.#loadOutbox();
    }, ms);
  }

  /**
   * The zones' settings (and state). One request at a time; a refresh asked for meanwhile runs once this one
   * is done. Socket updates that arrive while it is under way are laid over the reply. A controller without
   * zones (404) hides them.
   */
  async #loadZones(): Promise<void> {
    if (!this.#zonesApi) return;
    if (this.#zonesLoading) {
      this.#zonesAgain = true;
      return;
    }
    this.#zonesLoading = true;
    const updates: ZoneUpdate[] = [];
    this.#zoneUpdatesDuringLoad = updates;
    clearTimeout(this.#zonesTimer);
    let failed = false;
    try {
      const res = await apiRequest<Items<unknown>>("api/v1/zones", { token: this.#token });
      if (this.#stopped) return;
      const { zones, missing } = replayZoneUpdates(zonesOf(res?.items), updates);
      this.zones = zones;
      // Named by the socket after the reply was made, before the panel heard of it: ask once more.
      if (missing.length > 0) this.#zonesAgain = true;
    } catch (err) {
      this.#checkAuth(err);
      if (err instanceof ApiError && err.status === 404) {
        this.#zonesApi = false;
        this.zones = [];
      } else failed = true;
    } finally {
      this.#zonesLoading = false;
      this.#zoneUpdatesDuringLoad = null;
    }
    if (this.#stopped) return;
    if (this.#zonesAgain) {
      this.#zonesAgain = false;
      void this.#loadZones();
    } else if (failed) {
      this.#zonesTimer = setTimeout(() => void this.#loadZones(), ZONES_RETRY_MS);
    }
  }

  /**
   * A zone update from the socket: shown at once. A zone it names that the panel has no settings for (its
   * `zone` message came before this connection) has the list fetched.
   */
  #applyZoneUpdate(update: ZoneUpdate): void {
    if (this.#zoneUpdatesDuringLoad) {
      this.#zoneUpdatesDuringLoad.push(update);
      this.zones = applyZoneUpdate(this.zones, update);
      return;
    }
    const { zones, missing } = replayZoneUpdates(this.zones, [update]);
    this.zones = zones;
    if (missing.length > 0) void this.#loadZones();
  }

  async #reloadEvents(): Promise<void> {
    try {
      const res = await apiRequest<Items<DecisionEvent>>(`api/v1/events?limit=${MAX_EVENTS}`, {
        token: this.#token,
      });
      if (!this.#stopped) this.events = mergeEvents(this.events, res.items);
    } catch (err) {
      this.#checkAuth(err);
    }
  }

  /**
   * Camera messages carry the status only: a camera first seen there (just added) gets its name and lane
   * from the REST list. One request at a time; a camera still missing afterwards waits for its next message.
   */
  async #loadCameraInfo(): Promise<void> {
    if (this.#camerasLoading) return;
    this.#camerasLoading = true;
    try {
      const res = await apiRequest<Items<CameraItem>>("api/v1/cameras", { token: this.#token });
      if (!this.#stopped) this.cameras = applyCameraList(this.cameras, res.items, this.#greeted);
    } catch (err) {
      this.#checkAuth(err);
    } finally {
      this.#camerasLoading = false;
    }
  }

  #checkAuth(err: unknown): void {
    if (err instanceof UnauthorizedError && !this.#stopped) {
      this.stop();
      this.#onUnauthorized();
    }
  }

  #connect(): void {
    if (this.#stopped) return;
    this.retryAt = null;
    if (this.link !== "reconnecting") this.link = "connecting";
    const url = apiUrl("api/v1/live");
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";

    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch (err) {
      this.problem = errorText(err);
      this.#scheduleReconnect();
      return;
    }
    this.#ws = ws;

    ws.onopen = () => {
      if (ws !== this.#ws) return;
      ws.send(JSON.stringify({ type: "auth", token: this.#token }));
      this.#helloTimer = setTimeout(() => {
        if (ws === this.#ws) ws.close(4000, "no hello");
      }, HELLO_TIMEOUT_MS);
    };

    ws.onmessage = (ev: MessageEvent) => {
      if (ws !== this.#ws) return;
      const msg = parseMessage(ev.data);
      if (!msg) return;
      switch (msg.type) {
        case "hello": {
          clearTimeout(this.#helloTimer);
          const reconnected = this.#greeted;
          this.#greeted = true;
          this.#attempt = 0;
          if (msg.site) this.site = msg.site;
          this.lanes = msg.lanes;
          for (const item of msg.io) applyIo(this.io, item);
          if (msg.cameras) this.cameras = applyHelloCameras(this.cameras, msg.cameras);
          if (msg.approvals) this.approvals = msg.approvals;
          this.link = "live";
          this.problem = null;
          // Decisions made while the socket was down are only in the log: fetch them. Zone settings changed
          // meanwhile are not in the hello: fetch them (first, so the hello's counts are laid over the reply).
          if (reconnected) {
            void this.#reloadEvents();
            void this.#loadOutbox();
            void this.#loadZones();
          }
          if (msg.zones) this.#applyZoneUpdate({ type: "zones", zones: msg.zones });
          if (this.cameras.some((c) => c.lane === null)) void this.#loadCameraInfo();
          break;
        }
        case "camera":
          this.cameras = applyCameraStatus(this.cameras, msg.camera);
          if (this.cameras.find((c) => c.id === msg.camera.id)?.lane === null) void this.#loadCameraInfo();
          break;
        case "decision":
          this.arrivedLive.add(msg.event.id);
          this.events = mergeEvents(this.events, [msg.event]);
          if (this.outbox.length > 0) this.#refreshOutboxIn(OUTBOX_AFTER_DECISION_MS);
          break;
        case "approval": {
          const { type: _type, ...request } = msg;
          this.approvals = addApproval(this.approvals, request);
          break;
        }
        case "approval-resolved":
          this.approvals = this.approvals.filter((r) => r.id !== msg.id);
          break;
        case "io":
          applyIo(this.io, msg);
          break;
        case "barrier":
          this.lanes = applyBarrier(this.lanes, msg);
          break;
        case "occupancy":
        case "zone":
        case "zone-removed":
          this.#applyZoneUpdate(msg);
          break;
        case "outbox":
          this.outbox = applyOutboxTarget(this.outbox, msg.target);
          this.outboxAvailable = true;
          if (msg.target.pending > 0) this.#refreshOutboxIn(OUTBOX_WHILE_PENDING_MS);
          break;
      }
    };

    ws.onclose = (ev: CloseEvent) => {
      if (ws !== this.#ws) return;
      this.#ws = null;
      clearTimeout(this.#helloTimer);
      if (this.#stopped) return;
      if (ev.code === CLOSE_AUTH_FAILED) {
        this.stop();
        this.#onUnauthorized();
        return;
      }
      this.problem = this.link === "live" ? "Connection to the controller lost." : this.problem;
      this.#scheduleReconnect();
    };
  }

  #scheduleReconnect(): void {
    if (this.#stopped) return;
    const delay = backoffDelay(this.#attempt++);
    this.link = "reconnecting";
    this.retryAt = Date.now() + delay;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }
}
