/**
 * The spine: a plate read becomes a decision, the decision drives the hardware at once, then the event is
 * announced live and stored. Nothing on the way to the relay waits on disk or network.
 */
import type { Hal } from "../hal/types.js";
import {
  type ActionConfig,
  actionApplies,
  type BoundAction,
  type BoundNetworkAction,
} from "./actions/registry.js";
import type { ApprovalExplanation, Approvals } from "./approvals.js";
import type { CameraConfig, SiteConfig } from "./config/site.js";
import { ArrivalTracker } from "./domain/arrival.js";
import {
  type BoundScheduleState,
  type Decision,
  explainSchedules,
  type NotInForce,
} from "./domain/decide.js";
import { meetsConfidence } from "./domain/filters.js";
import { type PassState, priorityOf } from "./domain/passes.js";
import { type PresenceCheck, withPresence } from "./domain/presence.js";
import type { ScheduleBook } from "./domain/schedule-book.js";
import { type EventView, toEventView } from "./events.js";
import type { ImageKind, PlateRead } from "./ingest/types.js";
import type { Lane } from "./lanes.js";
import { type Outbox, PICTURE_WAIT_MS } from "./outbox/dispatcher.js";
import type { AuditRepo } from "./store/audit-repo.js";
import type { EventsRepo, NewEvent, NewOutboxMessage } from "./store/events-repo.js";
import type { ListsRepo } from "./store/lists-repo.js";
import type { PresenceRepo } from "./store/presence-repo.js";
import type { SnapshotWriter } from "./store/snapshots.js";
import type { Logger } from "./util/log.js";
import { isoTime } from "./util/time.js";

export interface Clock {
  /** Wall clock, epoch ms. */
  now(): number;
  /** Monotonic clock, ms (performance.now()). */
  mono(): number;
}

export const systemClock: Clock = { now: () => Date.now(), mono: () => performance.now() };

export type ReadOutcome =
  | { status: "decided"; event: EventView; stored: Promise<void> }
  | { status: "pending"; reason: string }
  | { status: "ignored"; reason: string }
  | { status: "duplicate"; reason: string };

export interface Arrival {
  read: PlateRead;
  camera: CameraConfig;
  protocol: string;
  /** Monotonic ms when the first byte of the read was received. */
  receivedMono: number;
}

export interface GateDeps {
  site: SiteConfig;
  hal: Hal;
  lanes: ReadonlyMap<string, Lane>;
  lists: ListsRepo;
  events: EventsRepo;
  actions: readonly BoundAction[];
  /** Network actions: their messages are stored with the event and delivered by the outbox. */
  network?: readonly BoundNetworkAction[];
  outbox?: Pick<Outbox, "allocateId" | "attachLater">;
  clock: Clock;
  log: Logger;
  announce(event: EventView): void;
  /** Pictures of decided reads, written later off the decision path. */
  snapshots: Pick<SnapshotWriter, "enqueue">;
  /** Zones: presence (anti-passback) and occupancy of lanes that name a zone. */
  presence?: PresenceRepo;
  /** Soft anti-passback flags are audited. */
  audit?: Pick<AuditRepo, "record">;
  /** Operator approval: decisions the site's rule catches wait for the operator instead of acting. */
  approvals?: Pick<Approvals, "applies" | "request" | "pendingExplanation">;
}

/** A decision's presence assessment as stored in its explanation: `applied` = the barrier opened for it. */
export type PresenceExplanation = PresenceCheck & { applied: boolean };

export class Gate {
  private readonly tracker: ArrivalTracker<Arrival & { receivedAt: number }>;
  private dueTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: GateDeps) {
    const f = deps.site.filters;
    this.tracker = new ArrivalTracker({
      decideOn: f.decideOn,
      windowMs: f.bestOfWindowMs,
      bestOfCount: f.bestOfCount,
      lostTimeoutMs: f.lostTimeoutMs,
      rearmMs: f.repeatWindowMs,
    });
  }

  /**
   * A read joins its lane's arrival; the arrival is decided now (first read, enough reads, vehicle lost) or
   * later by the timer (best-of window, lost timeout); further reads of a decided arrival are duplicates.
   */
  handle(arrival: Arrival): ReadOutcome {
    const { read, camera } = arrival;
    const { clock, site } = this.deps;
    if (!meetsConfidence(read.confidence, site.filters.minConfidence))
      return {
        status: "ignored",
        reason: `confidence ${read.confidence} is below the minimum ${site.filters.minConfidence}`,
      };
    const lane = this.deps.lanes.get(camera.lane);
    if (!lane) throw new Error(`camera ${camera.id} is on lane ${camera.lane}, which does not exist`);
    const receivedAt = clock.now();
    const offer = this.tracker.offer(lane.id, {
      plate: read.plate.normalised,
      confidence: read.confidence,
      phase: read.phase,
      at: receivedAt,
      payload: { ...arrival, receivedAt },
    });
    if (offer.kind === "duplicate")
      return { status: "duplicate", reason: `the vehicle on lane ${lane.id} was already decided` };
    if (offer.kind === "pending") {
      // Only an undecided arrival needs the timer; decided ones are closed lazily by the tracker.
      this.armDueTimer();
      return {
        status: "pending",
        reason: `deciding on lane ${lane.id} by ${new Date(offer.decideBy).toISOString()}`,
      };
    }
    return this.decide(offer.best.payload, lane);
  }

  /** At shutdown: decide (and so store) every arrival still waiting for its window, then stop the timer. */
  stop(): void {
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.dueTimer = null;
    this.decideDue(Number.POSITIVE_INFINITY);
  }

  private armDueTimer(): void {
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.dueTimer = null;
    const next = this.tracker.nextDueAt();
    if (next === null) return;
    this.dueTimer = setTimeout(() => this.onDue(), Math.max(0, next - this.deps.clock.now()));
    this.dueTimer.unref();
  }

  private onDue(): void {
    this.dueTimer = null;
    this.decideDue(this.deps.clock.now());
    this.armDueTimer();
  }

  private decideDue(now: number): void {
    for (const { lane: laneId, best } of this.tracker.due(now)) {
      const lane = this.deps.lanes.get(laneId);
      if (lane) this.decide(best.payload, lane);
    }
  }

  private decide(arrival: Arrival & { receivedAt: number }, lane: Lane): ReadOutcome {
    const { read } = arrival;
    const plate = read.plate.normalised;
    const receivedAt = arrival.receivedAt;
    // One schedule book for the decision and its actions, even if a schedule changes meanwhile.
    const book = this.deps.lists.scheduleBook();
    const now = this.deps.clock.now();
    const listDecision = this.deps.lists.decide(plate, now, book, { lane: lane.id });
    // Presence is checked and applied in this same call, so a second read in this tick sees the first.
    const check =
      this.deps.presence?.check(
        lane.id,
        plate,
        arrival.camera.role,
        read.direction,
        listDecision.result === "allow",
        now,
      ) ?? null;
    const decision = withPresence(listDecision, check);
    if (!check?.veto && this.deps.approvals?.applies(decision, lane.id))
      return this.ask(arrival, lane, decision, check);
    // A pass's visit is counted now, in the turn that checked it; persisted with the event.
    const persistVisit = this.deps.lists.useVisit(decision);
    const { firstAt: relayMono, opened } = this.runActions(decision, lane, book, check?.veto != null);
    const relayAt = relayMono === null ? null : receivedAt + (relayMono - arrival.receivedMono);

    const applied = check?.effect != null && opened;
    const explanation = explain(decision, check && { ...check, applied });
    const row = this.eventRow(arrival, lane, decision, explanation, receivedAt, relayAt, relayMono);
    const persistPresence =
      applied && check?.effect && this.deps.presence
        ? this.deps.presence.apply(check.effect, { laneId: lane.id, eventId: row.id })
        : undefined;
    if (applied && check?.flag?.rule === "anti-passback") this.auditSoftPassback(check, row.id, lane.id, now);
    return this.record(arrival, row, explanation, (event) => {
      const messages = this.networkMessages(event, arrival, decision, lane, book);
      const stored = this.deps.events.append(row, messages.rows, both(persistPresence, persistVisit));
      if (messages.held.length && read.laterImages)
        this.deps.outbox?.attachLater(stored, read.laterImages, messages.held);
      return stored;
    });
  }

  /**
   * After the hardware: announce the event, store it (`store` appends it with whatever rides in its
   * transaction) and queue its pictures (`urgent`: written at once, for an operator waiting to see them).
   */
  private record(
    arrival: Arrival & { receivedAt: number },
    row: NewEvent,
    explanation: Explanation,
    store: (event: EventView) => Promise<void>,
    urgent = false,
  ): ReadOutcome {
    const event = toEventView(row, explanation, arrival.read.extras);
    this.deps.announce(event);
    const stored = store(event);
    stored.catch((err) => this.deps.log.error({ err, eventId: row.id }, "event could not be stored"));
    const { read } = arrival;
    this.deps.snapshots.enqueue({
      eventId: row.id,
      at: arrival.receivedAt,
      camera: arrival.camera,
      plate: row.plate,
      direction: read.direction,
      extras: read.extras,
      images: read.images,
      laterImages: read.laterImages,
      urgent,
    });
    return { status: "decided", event, stored };
  }

  /**
   * The operator is asked: no action runs, no visit or presence is counted yet; the event is stored denied
   * "waiting for the operator" and rewritten when the request is resolved (firmware/approvals.ts), which
   * applies the zone check's effect if the barrier opens.
   */
  private ask(
    arrival: Arrival & { receivedAt: number },
    lane: Lane,
    listDecision: Decision,
    check: PresenceCheck | null,
  ): ReadOutcome {
    const approvals = this.deps.approvals as NonNullable<GateDeps["approvals"]>;
    const decision: Decision = {
      ...listDecision,
      result: "deny",
      reason: `waiting for the operator: ${listDecision.reason}`,
    };
    const explanation: Explanation = {
      ...explain(decision, check && { ...check, applied: false }),
      approval: approvals.pendingExplanation(listDecision.reason),
    };
    const row = this.eventRow(arrival, lane, decision, explanation, arrival.receivedAt, null, null);
    // Opened once the event is announced; its row is committed in the event's transaction.
    return this.record(
      arrival,
      row,
      explanation,
      () =>
        this.deps.events.append(
          row,
          [],
          approvals.request({
            eventId: row.id,
            lane: lane.id,
            plate: row.plate,
            reason: listDecision.reason,
          }),
        ),
      true,
    );
  }

  /**
   * The outbox messages of every applicable network action, stored with the event in its transaction. Built
   * after the relay command; building one is a JSON document, never I/O.
   */
  private networkMessages(
    event: EventView,
    arrival: Arrival & { receivedAt: number },
    decision: Decision,
    lane: Lane,
    book: ScheduleBook,
  ): { rows: NewOutboxMessage[]; held: { id: number; target: string; kind: ImageKind }[] } {
    const rows: NewOutboxMessage[] = [];
    const held: { id: number; target: string; kind: ImageKind }[] = [];
    const { network = [], outbox } = this.deps;
    if (!outbox) return { rows, held };
    const { read } = arrival;
    for (const action of network) {
      if (!actionApplies(action.config, decision, lane.id, book)) continue;
      try {
        const draft = action.compose({
          event,
          images: read.images,
          laterPictures: read.laterImages !== undefined,
        });
        if (!draft) continue;
        const id = outbox.allocateId();
        const wait = draft.awaitPicture !== undefined && read.laterImages !== undefined;
        if (wait) held.push({ id, target: action.target.id, kind: draft.awaitPicture as ImageKind });
        rows.push({
          id,
          target: action.target.id,
          eventId: event.id,
          createdAt: arrival.receivedAt,
          payload: JSON.stringify(draft.payload),
          attachment: draft.attachment ?? null,
          status: "pending",
          nextAttemptAt: wait ? arrival.receivedAt + PICTURE_WAIT_MS : arrival.receivedAt,
        });
      } catch (err) {
        this.deps.log.error({ err, action: describe(action.config), lane: lane.id }, "network action failed");
      }
    }
    return { rows, held };
  }

  /** A soft anti-passback passage: allowed, flagged in the event, and audited (no plate in the log). */
  private auditSoftPassback(check: PresenceCheck, eventId: number, laneId: string, now: number): void {
    try {
      this.deps.audit?.record({
        at: now,
        actor: "gate",
        action: "presence.soft-anti-passback",
        target: `zone:${check.zone}`,
        detail: { eventId, lane: laneId, plate: check.effect?.plate, enteredAt: check.insideSince },
      });
    } catch (err) {
      this.deps.log.error({ err, eventId }, "soft anti-passback audit could not be stored");
    }
  }

  /**
   * Run every applicable action; returns the monotonic time the first one was commanded, if any, and
   * whether a barrier open ran (the passage then counts). A presence veto skips barrier opens.
   */
  private runActions(
    decision: Decision,
    lane: Lane,
    book: ScheduleBook,
    vetoed = false,
  ): { firstAt: number | null; opened: boolean } {
    let firstAt: number | null = null;
    let opened = false;
    for (const action of this.deps.actions) {
      if (!actionApplies(action.config, decision, lane.id, book, vetoed)) continue;
      const opens = action.config.do.type === "barrier-open";
      try {
        action.run({ decision, lane, output: (name) => this.deps.hal.output(name) });
        firstAt ??= this.deps.clock.mono();
        if (opens) opened = true;
      } catch (err) {
        // One failing action must not stop the others, nor the event being stored.
        this.deps.log.error({ err, action: describe(action.config), lane: lane.id }, "action failed");
      }
    }
    return { firstAt, opened };
  }

  private eventRow(
    arrival: Arrival,
    lane: Lane,
    decision: Decision,
    explanation: Explanation,
    receivedAt: number,
    relayAt: number | null,
    relayMono: number | null,
  ): NewEvent {
    const { read, camera } = arrival;
    const decisive = decision.decisive;
    return {
      id: this.deps.events.allocateId(),
      plate: read.plate.normalised,
      plateRaw: read.plate.raw,
      cameraId: camera.id,
      laneId: lane.id,
      protocol: arrival.protocol,
      confidence: read.confidence,
      direction: read.direction,
      decision: decision.result,
      reason: decision.reason,
      listId: decisive?.list.id ?? null,
      listName: decisive?.list.name ?? null,
      listKind: decisive?.list.kind ?? null,
      entryId: decisive?.entry.id ?? null,
      explanation: JSON.stringify(explanation),
      cameraTimeRaw: read.cameraTimeRaw,
      cameraTime: read.cameraTime,
      receivedAt,
      relayAt,
      latencyMs: relayMono === null ? null : Math.round((relayMono - arrival.receivedMono) * 1000) / 1000,
      extras: Object.keys(read.extras).length ? JSON.stringify(read.extras) : null,
    };
  }
}

export interface Explanation {
  /** The decision time. */
  at: string;
  match: Decision["matches"][number]["match"] | null;
  matches: MatchExplanation[];
  /** A zone vetoed the passage: the list match that decided before the veto (matches is then empty). */
  overruled?: MatchExplanation;
  builtIns: Decision["builtIns"];
  /**
   * The schedules the decisive match (or `notInForce`) is bound to — its list's and its entry's — each with
   * its state at the decision time: active or not, and the window or holiday that made it so.
   */
  schedules: BoundScheduleState[];
  /** When nothing decided: the allow entry that would have, had it been in force, and why it was not. */
  notInForce: {
    listId: number;
    listName: string;
    kind: string;
    entryId: number;
    plate: string;
    because: NotInForce;
  } | null;
  /** The zone's presence and occupancy at the decision and what the passage did (absent: no zone). */
  presence?: PresenceExplanation | null;
  /**
   * The pass of the decisive entry (or of `notInForce`'s) at the decision: visit count (visits used before
   * it), lane scope, and whether this decision uses a visit. Absent for entries without either.
   */
  pass?: PassState;
  /** Operator approval: the request while pending, then its outcome (firmware/approvals.ts). */
  approval?: ApprovalExplanation;
}

/** A list match as an explanation records it. */
export interface MatchExplanation {
  listId: number;
  listName: string;
  kind: string;
  entryId: number;
  plate: string;
  match: unknown;
  /** The list's priority in force (its own or its kind's default): matches are listed best first. */
  priority: number;
}

function matchExplanation(m: Decision["matches"][number]): MatchExplanation {
  return {
    listId: m.list.id,
    listName: m.list.name,
    kind: m.list.kind,
    entryId: m.entry.id,
    plate: m.entry.plate,
    match: m.match,
    priority: priorityOf(m.list),
  };
}

/** The chain that produced a decision, stored with the event and shown by the API. */
export function explain(decision: Decision, presence: PresenceExplanation | null = null): Explanation {
  return {
    ...(presence ? { presence } : {}),
    match: decision.decisive?.match ?? null,
    matches: decision.matches.map(matchExplanation),
    ...(presence?.veto && decision.decisive ? { overruled: matchExplanation(decision.decisive) } : {}),
    builtIns: decision.builtIns,
    at: isoTime(decision.at),
    schedules: explainSchedules(decision),
    notInForce: decision.notInForce && {
      listId: decision.notInForce.match.list.id,
      listName: decision.notInForce.match.list.name,
      kind: decision.notInForce.match.list.kind,
      entryId: decision.notInForce.match.entry.id,
      plate: decision.notInForce.match.entry.plate,
      because: decision.notInForce.because,
    },
    ...(decision.pass ? { pass: decision.pass } : {}),
  };
}

/** Two writes for the event's transaction as one (either may be absent). */
function both(a: (() => void) | undefined, b: (() => void) | undefined): (() => void) | undefined {
  if (!a || !b) return a ?? b;
  return () => {
    a();
    b();
  };
}

function describe(action: ActionConfig): string {
  return `${action.do.type} on ${JSON.stringify(action.on)}`;
}
