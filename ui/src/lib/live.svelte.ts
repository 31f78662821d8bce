/**
 * The live view of the controller: lanes, I/O states, cameras and recent decisions, fed by the REST API on
 * start and by the /api/v1/live WebSocket afterwards. One instance per signed-in session.
 */
import { apiBlob, apiRequest, apiUrl, errorText, UnauthorizedError } from "./api";
import {
  applyCameraList,
  applyCameraStatus,
  applyHelloCameras,
  applyIo,
  backoffDelay,
  MAX_EVENTS,
  mergeEvents,
  parseMessage,
  showableImages,
} from "./live-logic";
import type { Camera, CameraItem, DecisionEvent, EventImage, IoItem, Items, Lane, OpenResult } from "./types";

export type LinkState = "connecting" | "live" | "reconnecting" | "stopped";

/** The server must greet an authenticated socket within this time, or the socket is recycled. */
const HELLO_TIMEOUT_MS = 8_000;
const CLOSE_AUTH_FAILED = 4401;

export class LiveStore {
  lanes = $state.raw<Lane[]>([]);
  io = $state<Record<string, IoItem>>({});
  events = $state.raw<DecisionEvent[]>([]);
  cameras = $state.raw<Camera[]>([]);
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

  constructor(token: string, onUnauthorized: () => void) {
    this.#token = token;
    this.#onUnauthorized = onUnauthorized;
  }

  start(): void {
    this.#stopped = false;
    window.addEventListener("online", this.#retryNow);
    void this.#loadSnapshot();
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    this.link = "stopped";
    window.removeEventListener("online", this.#retryNow);
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#helloTimer);
    const ws = this.#ws;
    this.#ws = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, "panel closed");
  }

  laneName(id: string): string {
    return this.lanes.find((l) => l.id === id)?.name ?? `Lane ${id}`;
  }

  cameraName(id: string): string {
    const camera = this.cameras.find((c) => c.id === id);
    return camera?.name ? `${camera.name} (${id})` : id;
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
    try {
      return await apiRequest<OpenResult>(`api/v1/lanes/${encodeURIComponent(laneId)}/open`, {
        token: this.#token,
        method: "POST",
        body: { reason: "panel" },
      });
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
    if (lanes.status === "fulfilled" && !this.#greeted) this.lanes = lanes.value.items;
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
          this.lanes = msg.lanes;
          for (const item of msg.io) applyIo(this.io, item);
          if (msg.cameras) this.cameras = applyHelloCameras(this.cameras, msg.cameras);
          this.link = "live";
          this.problem = null;
          // Decisions made while the socket was down are only in the log: fetch them.
          if (reconnected) void this.#reloadEvents();
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
          break;
        case "io":
          applyIo(this.io, msg);
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
