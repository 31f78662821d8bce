/**
 * Operator approval: a read the site's `approval` rule catches is stored as a denied event "waiting for the
 * operator" and becomes a pending request here, held in memory with its timer. The operator (panel, API)
 * approves it once, approves it and adds a pass, or denies it; unanswered, it resolves with `onTimeout`.
 * Resolving opens the lane's barrier for an approval (the manual-open path), rewrites the event's decision
 * and reason so the event list shows the final outcome, and is audited (actor "admin" or "timeout").
 *
 * Requests do not survive the process: `stop()` denies every pending one (actor "shutdown"; a stopping
 * controller never opens a barrier), and after a crash the event stays denied "waiting for the operator".
 * Resolving an unknown id throws NotFoundError; an already resolved one ConflictError (HTTP 404 / 409).
 */
import type { ApprovalConfig } from "./config/site.js";
import type { Decision } from "./domain/decide.js";
import { type EventView, toEventView } from "./events.js";
import type { Clock, Explanation } from "./gate.js";
import type { Lane } from "./lanes.js";
import type { AuditRepo } from "./store/audit-repo.js";
import type { EventsRepo } from "./store/events-repo.js";
import { ConflictError, type ListsRepo, NotFoundError } from "./store/lists-repo.js";
import type { Logger } from "./util/log.js";

export type ApprovalOutcome = "approve" | "approve-pass" | "deny";
export type ApprovalActor = "admin" | "timeout" | "shutdown";

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
  config: ApprovalConfig;
  lanes: ReadonlyMap<string, Lane>;
  lists: Pick<ListsRepo, "all" | "addEntries" | "updateEntry" | "candidates">;
  events: Pick<EventsRepo, "flush" | "get" | "rewriteDecision">;
  audit: Pick<AuditRepo, "record">;
  clock: Clock;
  log: Logger;
  broadcast(message: Record<string, unknown>): void;
  /** The rewritten event, re-announced as a decision (same id) so event lists show the outcome. */
  announce(event: EventView): void;
}

interface Pending {
  view: ApprovalView;
  timer: NodeJS.Timeout;
}

const RESOLVED_KEPT = 1000;

export class Approvals {
  private readonly pendingById = new Map<number, Pending>();
  /** Recently resolved ids, for a 409 rather than a 404 on a second answer. */
  private readonly resolved = new Set<number>();

  constructor(private readonly deps: ApprovalsDeps) {}

  /** Whether the rule asks the operator about this decision on this lane (pure, on the decision path). */
  applies(decision: Decision, laneId: string): boolean {
    const { when, lanes } = this.deps.config;
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
    const { timeoutMs, onTimeout } = this.deps.config;
    return { status: "pending", asked, timeoutMs, onTimeout };
  }

  /** Open a request for a stored (or queued) event and announce it. */
  request(input: { eventId: number; lane: string; plate: string; reason: string }): ApprovalView {
    const now = this.deps.clock.now();
    const view: ApprovalView = {
      id: input.eventId,
      lane: input.lane,
      plate: input.plate,
      reason: input.reason,
      eventId: input.eventId,
      askedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.deps.config.timeoutMs).toISOString(),
      passHours: this.deps.config.passList === undefined ? null : this.deps.config.passHours,
    };
    const timer = setTimeout(() => this.onTimeout(view.id), this.deps.config.timeoutMs);
    timer.unref();
    this.pendingById.set(view.id, { view, timer });
    this.deps.broadcast({ type: "approval", ...view });
    return view;
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
    const pending = this.pendingById.get(id);
    if (!pending) {
      if (this.resolved.has(id) || this.answeredBefore(id))
        throw new ConflictError(`approval request ${id} was already resolved`);
      throw new NotFoundError(`approval request ${id} does not exist or is no longer pending`);
    }
    const { view } = pending;
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
      const hours = answer.hours ?? this.deps.config.passHours;
      try {
        pass = this.addPass(passList, view.plate, now, hours);
      } catch (err) {
        this.deps.log.error({ err, approval: id }, "the approved pass could not be added");
      }
    }
    const hoursText = passList ? ` with a pass for ${answer.hours ?? this.deps.config.passHours} h` : "";
    const verdict =
      by === "timeout"
        ? `no operator answer within ${this.deps.config.timeoutMs / 1000} s, ${opens ? "allowed" : "denied"}`
        : by === "shutdown"
          ? "the controller stopped before an operator answered, denied"
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

  /** Deny every pending request (the controller is stopping). */
  stop(): void {
    for (const id of [...this.pendingById.keys()]) this.safeResolve(id, "deny", "shutdown");
  }

  private onTimeout(id: number): void {
    this.safeResolve(id, this.deps.config.onTimeout === "allow" ? "approve" : "deny", "timeout");
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

  private passList(): { id: number; name: string } {
    const name = this.deps.config.passList;
    if (name === undefined)
      throw new ConflictError("no approval.passList is configured: approve with a pass is not available");
    const list = this.deps.lists.all().find((l) => l.name === name);
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

  private rewriteEvent(
    eventId: number,
    allow: boolean,
    reason: string,
    approval: ApprovalExplanation,
    relayAt: number | null,
  ): void {
    this.deps.events.flush();
    const row = this.deps.events.get(eventId);
    if (!row) return;
    const explanation = { ...(JSON.parse(row.explanation) as Explanation), approval };
    const change = {
      decision: allow ? ("allow" as const) : ("deny" as const),
      reason,
      explanation: JSON.stringify(explanation),
      relayAt,
    };
    this.deps.events.rewriteDecision(eventId, change);
    this.deps.announce(toEventView({ ...row, ...change }, explanation));
  }
}
