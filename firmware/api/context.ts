import type { Hal } from "../../hal/types.js";
import type { ActionBindings } from "../actions/bindings.js";
import type { Approvals } from "../approvals.js";
import type { CameraManager } from "../cameras/manager.js";
import type { SiteConfig } from "../config/site.js";
import type { Clock, Gate } from "../gate.js";
import type { Lane } from "../lanes.js";
import type { Outbox } from "../outbox/dispatcher.js";
import type { OutboxRepo } from "../outbox/repo.js";
import type { AuditRepo } from "../store/audit-repo.js";
import type { EventsRepo } from "../store/events-repo.js";
import type { ListsRepo } from "../store/lists-repo.js";
import type { PresenceRepo } from "../store/presence-repo.js";
import type { SchedulesRepo } from "../store/schedules-repo.js";
import type { SnapshotWriter } from "../store/snapshots.js";

/** Everything the routes use, built by the controller. */
export interface ApiContext {
  version: string;
  site: SiteConfig;
  hal: Hal;
  lanes: ReadonlyMap<string, Lane>;
  lists: ListsRepo;
  schedules: SchedulesRepo;
  /** The site's actions: enabled and schedule changeable through the API. */
  actions: ActionBindings;
  events: EventsRepo;
  audit: AuditRepo;
  presence: PresenceRepo;
  gate: Gate;
  approvals: Approvals;
  cameras: CameraManager;
  snapshots: SnapshotWriter;
  outbox: Outbox;
  outboxRepo: OutboxRepo;
  clock: Clock;
  startedAt: number;
  checkToken(token: string | null | undefined): boolean;
  /** Built panel bundle to serve at `/`, or null when it has not been built. */
  uiDir: string | null;
}
