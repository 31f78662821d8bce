/**
 * Operator approval: a read the approval rule catches is stored as a denied event "waiting for the
 * operator" and becomes a pending request here, held in memory with its timer. The operator (panel, API)
 * approves it once, approves it and adds a pass, or denies it; unanswered, it resolves with `onTimeout`.
 * Resolving opens the lane's barrier for an approval (the manual-open path), rewrites the event's decision
 * and reason so the event list shows the final outcome, and is audited (actor "admin", "timeout" or "restart").
 *
 * The rule is the site file's `approval` block at first start, then the stored copy, replaced through the API
 * (`configure`) and used for the next read at once; pending requests keep their expiry.
 *
 * Requests survive a restart: each is stored with its event (same transaction) and deleted with the event's
 * rewrite. `stop()` only clears the timers (and refuses answers: a stopping controller never opens a
 * barrier); `start()` brings back the stored ones with their remaining time, and denies those that expired
 * while the controller was down (actor "restart": the car has most likely gone, so never opened late).
 * Resolving an unknown id throws NotFoundError; an already resolved one ConflictError (HTTP 404 / 409).
 */
import { type ApprovalConfig, SiteSchema } from "./config/site.js";
import { ConfigError, checker } from "./config/validate.js";
import type { Decision } from "./domain/decide.js";
import { type EventView, toEventView } from "./events.js";
import type { Clock, Explanation } from "./gate.js";
import type { Lane } from "./lanes.js";
import type { ApprovalRequestRow, ApprovalsRepo } from "./store/approvals-repo.js";
import type { AuditRepo } from "./store/audit-repo.js";
import type { EventsRepo } from "./store/events-repo.js";
import { ConflictError, type ListsRepo, NotFoundError } from "./store/lists-repo.js";
import type { PresenceRepo } from "./store/presence-repo.js";
import type { Logger } from "./util/log.js";

export type ApprovalOutcome = "approve" | "approve-pass" | "deny";
export type ApprovalActor = "admin" | "timeout" | "restart";

/** The rule's schema: the site file's `approval` block, also the body of PUT /api/v1/approval/settings. */
export const ApprovalSettingsSchema = SiteSchema.properties.approval;
const settingsChecker = checker(ApprovalSettingsSchema);

/** A pending request as the API, the live socket and the hello carry it. The id is its event's id. */
export interface ApprovalView {
  id: number;
  lane: string;
  plate: string;
  /** Why the operator is asked (the list decision's reason). */
  reason: string;
  eventId: number;
  askedAt: string;
  expiresAt: string;
  /** The default hours of "approve and add a pass"; null without a pass list (the option is not offered). */
  passHours: number | null;
}

/** The `approval` block of an event's explanation. */
export type ApprovalExplanation =
  | { status: "pending"; asked: string; timeoutMs: number; onTimeout: "allow" | "deny" }
  | {
      status: "resolved";
      asked: string;
      outcome: ApprovalOutcome;
      by: ApprovalActor;
      at: string;
      reason: string | null;
      passEntryId?: number;
    };

export interface Resolution {
  id: number;
  outcome: ApprovalOutcome;
  by: ApprovalActor;
  auditId: number;
  /** Relay pulse width of the opening (0 on a serial-only lane); null when nothing opened. */
  pulseMs: number | null;
  /** The pass added by approve-pass: its list and entry and when it ends. */
  pass: { listId: number; entryId: number; validTo: string } | null;
}

export interface ApprovalsDeps {
  /** The site file's `approval` block: the rule at first start; afterwards the stored copy wins. */
  seed: ApprovalConfig;
  repo: ApprovalsRepo;
  lanes: ReadonlyMap<string, Lane>;
  lists: Pick<ListsRepo, "listDefs" | "addEntries" | "updateEntry" | "candidates">;
  events: Pick<EventsRepo, "flush" | "get" | "rewriteDecision">;
  /** Zones: an approved opening is a passage like any other (presence and occupancy). */
  presence?: Pick<PresenceRepo, "apply">;
  audit: Pick<AuditRepo, "record">;
  clock: Clock;
  log: Logger;
  broadcast(message: Record<string, unknown>): void;
  /** The rewritten event, re-announced as a decision (same id) so event lists show the outcome. */
  announce(event: EventView): void;
}

interface Pending {
  row: ApprovalRequestRow;
  view: ApprovalView;
  timer: NodeJS.Timeout;
}

const RESOLVED_KEPT = 1000;

export class Approvals {
  private readonly pendingById = new Map<number, Pending>();
  /** Recently resolved ids, for a 409 rather than a 404 on a second answer. */
  private readonly resolved = new Set<number>();
  private config: ApprovalConfig;
  private stopped = false;

  constructor(private readonly deps: ApprovalsDeps) {
    this.config = this.loadConfig();
  }

  /** Bring back the requests stored before a restart; deny those that expired while the controller was down. */
  start(): void {
    const now = this.deps.clock.now();
    for (const row of this.deps.repo.requests()) {
      this.hold(row); // held first: resolving works on pending requests
      if (row.expiresAt <= now) this.safeResolve(row.eventId, "deny", "restart");
    }
  }

  /** The rule in force. */
  settings(): ApprovalConfig {
    return this.config;
  }

  /**
   * Replace the rule (its schema already checked) for the next read; returns the previous one. Throws
   * ConfigError naming the field for an unknown lane or a passList that is not an allow list.
   */
  configure(next: ApprovalConfig): ApprovalConfig {
    const problems: string[] = [];
    for (const [i, lane] of (next.lanes ?? []).entries())
      if (!this.deps.lanes.has(lane)) problems.push(`/lanes/${i} '${lane}' is not among the site's lanes`);
    if (next.passList !== undefined) {
      const list = this.listNamed(next.passList);
      if (!list) problems.push(`/passList '${next.passList}' is not a list`);
      else if (list.kind !== "allow")
        problems.push(`/passList '${next.passList}' is a ${list.kind} list, not an allow list`);
    }
    if (problems.length) throw new ConfigError("approval settings", problems);
    this.deps.repo.saveConfig(next);
    const before = this.config;
    this.config = next;
    return before;
  }

  /** Whether the rule asks the operator about this decision on this lane (pure, on the decision path). */
  applies(decision: Decision, laneId: string): boolean {
    const { when, lanes } = this.config;
    if (when.length === 0) return false;
    if (lanes && !lanes.includes(laneId)) return false;
    if (when.includes("not-in-list") && decision.builtIns.includes("not-in-list")) return true;
    return (
      when.includes("fuzzy") &&
      decision.result === "allow" &&
      decision.decisive?.match.kind === "fuzzy" &&
      decision.decisive.list.kind === "allow"
    );
  }

  /** The explanation block of a new request (stored with its event). */
  pendingExplanation(asked: string): ApprovalExplanation {
    const { timeoutMs, onTimeout } = this.config;
    return { status: "pending", asked, timeoutMs, onTimeout };
  }

  /**
   * Open a request for an event about to be stored and announce it. Returns the writer that stores the
   * request: pass it to EventsRepo.append with the event, so both are committed together or neither is.
   */
  request(input: { eventId: number; lane: string; plate: string; reason: string }): () => void {
    const askedAt = this.deps.clock.now();
    const row: ApprovalRequestRow = { ...input, askedAt, expiresAt: askedAt + this.config.timeoutMs };
    const view = this.hold(row);
    this.deps.broadcast({ type: "approval", ...view });
    return this.deps.repo.writer(row);
  }

  pending(): ApprovalView[] {
    return [...this.pendingById.values()].map((p) => p.view);
  }

  /**
   * Answer a request. Validation first (unknown, already answered, no pass list), then the barrier, then the
   * pass, the event and the audit: a failing write never delays or prevents the opening.
   */
  resolve(
    id: number,
    answer: { outcome: ApprovalOutcome; hours?: number | undefined; reason?: string | undefined },
    by: ApprovalActor,
    from: string | null = null,
  ): Resolution {
    if (this.stopped)
      throw new ConflictError("the controller is stopping: approval requests are answered after it restarts");
    const pending = this.pendingById.get(id);
    if (!pending) {
      if (this.resolved.has(id) || this.answeredBefore(id))
        throw new ConflictError(`approval request ${id} was already resolved`);
      throw new NotFoundError(`approval request ${id} does not exist or is no longer pending`);
    }
    const { row, view } = pending;
    const passList = answer.outcome === "approve-pass" ? this.passList() : null;
    const lane = this.deps.lanes.get(view.lane);
    clearTimeout(pending.timer);
    this.pendingById.delete(id);
    this.resolved.add(id);
    if (this.resolved.size > RESOLVED_KEPT)
      this.resolved.delete(this.resolved.values().next().value as number);

    const now = this.deps.clock.now();
    const opens = answer.outcome !== "deny";
    const pulseMs = opens && lane ? lane.barrier.open() : null;
    let pass: Resolution["pass"] = null;
    if (passList) {
      const hours = answer.hours ?? this.config.passHours;
      try {
        pass = this.addPass(passList, view.plate, now, hours);
      } catch (err) {
        this.deps.log.error({ err, approval: id }, "the approved pass could not be added");
      }
    }
    const hoursText = passList ? ` with a pass for ${answer.hours ?? this.config.passHours} h` : "";
    const verdict =
      by === "timeout"
        ? `no operator answer within ${(row.expiresAt - row.askedAt) / 1000} s, ${opens ? "allowed" : "denied"}`
        : by === "restart"
          ? "the request expired while the controller was stopped, denied"
          : `${opens ? "approved" : "denied"} by the operator${hoursText}`;
    const block: ApprovalExplanation = {
      status: "resolved",
      asked: view.reason,
      outcome: answer.outcome,
      by,
      at: new Date(now).toISOString(),
      reason: answer.reason ?? null,
      ...(pass ? { passEntryId: pass.entryId } : {}),
    };
    try {
      this.rewriteEvent(
        view.eventId,
        opens,
        `${verdict}: ${view.reason}`,
        block,
        pulseMs !== null ? now : null,
      );
    } catch (err) {
      this.deps.log.error({ err, eventId: view.eventId }, "the approved event could not be updated");
    }
    const auditId = this.deps.audit.record({
      at: now,
      actor: by,
      action: `approval.${answer.outcome}`,
      target: `lane:${view.lane}`,
      detail: {
        approvalId: id,
        eventId: view.eventId,
        plate: view.plate,
        reason: answer.reason ?? null,
        from,
        pulseMs,
        pass,
      },
    }).id;
    this.deps.broadcast({ type: "approval-resolved", id, outcome: answer.outcome, by });
    return { id, outcome: answer.outcome, by, auditId, pulseMs, pass };
  }

  /** The controller is stopping: timers go, requests stay stored for the next start, answers are refused. */
  stop(): void {
    this.stopped = true;
    for (const { timer } of this.pendingById.values()) clearTimeout(timer);
  }

  /** Keep a request in memory until it is answered or its expiry (stored with it) passes. */
  private hold(row: ApprovalRequestRow): ApprovalView {
    const view: ApprovalView = {
      id: row.eventId,
      lane: row.lane,
      plate: row.plate,
      reason: row.reason,
      eventId: row.eventId,
      askedAt: new Date(row.askedAt).toISOString(),
      expiresAt: new Date(row.expiresAt).toISOString(),
      passHours: this.config.passList === undefined ? null : this.config.passHours,
    };
    const timer = setTimeout(
      () => this.onTimeout(view.id),
      Math.max(0, row.expiresAt - this.deps.clock.now()),
    );
    timer.unref();
    this.pendingById.set(view.id, { row, view, timer });
    return view;
  }

  /** The rule in force when the timeout fires decides, so a changed onTimeout applies to pending requests. */
  private onTimeout(id: number): void {
    this.safeResolve(id, this.config.onTimeout === "allow" ? "approve" : "deny", "timeout");
  }

  private safeResolve(id: number, outcome: ApprovalOutcome, by: ApprovalActor): void {
    try {
      this.resolve(id, { outcome }, by);
    } catch (err) {
      this.deps.log.error({ err, approval: id }, "approval request could not be resolved");
    }
  }

  /** After a restart: the event says whether its request was answered. */
  private answeredBefore(id: number): boolean {
    this.deps.events.flush();
    const row = this.deps.events.get(id);
    if (!row) return false;
    const approval = (JSON.parse(row.explanation) as Explanation).approval;
    return approval !== undefined;
  }

  /**
   * The stored rule; at first start the site file's, stored now. One that no longer validates (a newer
   * firmware's stricter schema) is kept in the database but the site file's applies: a gate must start.
   */
  private loadConfig(): ApprovalConfig {
    const stored = this.deps.repo.config();
    if (stored === null) {
      this.deps.repo.saveConfig(this.deps.seed);
      return this.deps.seed;
    }
    try {
      return settingsChecker.parse(stored, "stored approval settings");
    } catch (err) {
      this.deps.log.error(
        { err },
        "stored approval settings are invalid: the site file's apply until set again",
      );
      return this.deps.seed;
    }
  }

  private listNamed(name: string) {
    return this.deps.lists.listDefs().find((l) => l.name === name);
  }

  /** Lists can change after the rule was set: checked again at each use (409). */
  private passList(): { id: number; name: string } {
    const name = this.config.passList;
    if (name === undefined)
      throw new ConflictError("no approval.passList is configured: approve with a pass is not available");
    const list = this.listNamed(name);
    if (list?.kind !== "allow") throw new ConflictError(`approval.passList '${name}' is not an allow list`);
    return list;
  }

  /** An entry valid from now for `hours`; an entry of the plate already on the list gets the new validity. */
  private addPass(
    list: { id: number },
    plate: string,
    now: number,
    hours: number,
  ): NonNullable<Resolution["pass"]> {
    const validTo = now + Math.round(hours * 3_600_000);
    const description = "pass approved by the operator";
    const existing = this.deps.lists
      .candidates(plate)
      .find((m) => m.list.id === list.id && m.entry.plate === plate);
    const entry = existing
      ? this.deps.lists.updateEntry(list.id, existing.entry.id, { validFrom: now, validTo, description })
      : this.deps.lists.addEntries(list.id, [{ plate, validFrom: now, validTo, description }], now)[0];
    if (!entry) throw new Error("no entry was added");
    return { listId: list.id, entryId: entry.id, validTo: new Date(validTo).toISOString() };
  }

  /** Store the outcome: the event rewritten and the request's row deleted, in one transaction. */
  private rewriteEvent(
    eventId: number,
    allow: boolean,
    reason: string,
    approval: ApprovalExplanation,
    relayAt: number | null,
  ): void {
    this.deps.events.flush(); // the event and the request's row may still be queued
    const row = this.deps.events.get(eventId);
    if (!row) {
      this.deps.repo.remove(eventId);
      return;
    }
    const stored = JSON.parse(row.explanation) as Explanation;
    // An opening lets the vehicle through: the passage the zone check assessed when asking is applied now.
    const effect = relayAt !== null ? stored.presence?.effect : null;
    const persistPresence =
      effect && this.deps.presence
        ? this.deps.presence.apply({ ...effect, at: relayAt ?? effect.at }, { laneId: row.laneId, eventId })
        : undefined;
    const explanation: Explanation = {
      ...stored,
      ...(stored.presence
        ? { presence: { ...stored.presence, applied: persistPresence !== undefined } }
        : {}),
      approval,
    };
    const change = {
      decision: allow ? ("allow" as const) : ("deny" as const),
      reason,
      explanation: JSON.stringify(explanation),
      relayAt,
    };
    this.deps.repo.remove(eventId, () => {
      this.deps.events.rewriteDecision(eventId, change);
      persistPresence?.();
    });
    this.deps.announce(toEventView({ ...row, ...change }, explanation));
  }
}
