/**
 * The "Why" of a decision: its stored explanation (GET /events/{id}) as short rows a guard can read — what
 * decided, the list matches best first, the schedules, the pass, the zone, operator approval, and the entry
 * that would have decided had it been in force. Pure: no DOM, no Svelte. The explanation is read defensively:
 * a part that is missing or malformed (an older or newer controller) is left out, never guessed.
 */
import { sentenceTime } from "./format.js";
import type {
  ApprovalExplanation,
  DecisionEvent,
  ExplainedMatch,
  ListKind,
  MatchKind,
  NotInForce,
  PassState,
  PlateEdit,
  PresenceExplanation,
  ScheduleState,
} from "./types.js";

/** `bad`: refused or vetoed; `warn`: noted, not in force, or waiting; `ok`: let through. */
export type WhyTone = "ok" | "bad" | "warn";

export interface WhyRow {
  /** Stable per section (`decided`, `match-1`, `schedule-1`, `pass`, `zone`, …): a test id. */
  key: string;
  label: string;
  text: string;
  tone?: WhyTone;
  /** The row of what decided (the decisive match, a zone veto, the operator's answer). */
  decisive?: boolean;
}

export interface WhyOptions {
  /**
   * Time zone of the times shown (inside since, approval time): the site's (LiveStore.timeZone), as in the
   * controller's sentences; default: the browser's.
   */
  timeZone?: string;
}

/** What the event itself says (the list of a decision a zone vetoed: the explanation's matches are empty). */
export type WhyEvent = Pick<DecisionEvent, "laneId" | "listName" | "listKind">;

// ---- reading the explanation ---------------------------------------------------------------------------

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === "string";
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const LIST_KINDS: readonly string[] = ["allow", "block", "custom"];
const isListKind = (v: unknown): v is ListKind => isStr(v) && LIST_KINDS.includes(v);

function editOf(v: unknown): PlateEdit | null {
  if (!isObj(v) || !isNum(v.at)) return null;
  const cost = isNum(v.cost) ? v.cost : 1;
  if (v.op === "substitute" && isStr(v.from) && isStr(v.to))
    return { op: "substitute", at: v.at, from: v.from, to: v.to, cost };
  if ((v.op === "insert" || v.op === "delete") && isStr(v.char))
    return { op: v.op, at: v.at, char: v.char, cost };
  return null;
}

function matchKindOf(v: unknown): MatchKind | null {
  if (!isObj(v)) return null;
  if (v.kind === "exact") return { kind: "exact" };
  if (v.kind === "fuzzy" && isNum(v.distance)) {
    const edits = Array.isArray(v.edits) ? v.edits.map(editOf) : [];
    return { kind: "fuzzy", distance: v.distance, edits: edits.filter((e): e is PlateEdit => e !== null) };
  }
  return null;
}

function matchOf(v: unknown): ExplainedMatch | null {
  if (!isObj(v) || !isStr(v.listName) || !isListKind(v.kind)) return null;
  const match = matchKindOf(v.match);
  if (!match) return null;
  return {
    listId: isNum(v.listId) ? v.listId : 0,
    listName: v.listName,
    kind: v.kind,
    entryId: isNum(v.entryId) ? v.entryId : 0,
    plate: isStr(v.plate) ? v.plate : "",
    match,
    priority: isNum(v.priority) ? v.priority : Number.NaN,
  };
}

function scheduleOf(v: unknown): ScheduleState | null {
  if (!isObj(v) || !isStr(v.schedule) || typeof v.active !== "boolean" || !isStr(v.by)) return null;
  return v as unknown as ScheduleState;
}

const BECAUSE: readonly string[] = ["expired", "not-yet-valid", "schedule", "lane", "used-up"];

function notInForceOf(v: unknown): NotInForce | null {
  if (!isObj(v) || !isStr(v.listName) || !isStr(v.because) || !BECAUSE.includes(v.because)) return null;
  return v as unknown as NotInForce;
}

function passOf(v: unknown): PassState | null {
  if (!isObj(v) || !isNum(v.visitsUsed)) return null;
  return {
    entryId: isNum(v.entryId) ? v.entryId : 0,
    maxVisits: isNum(v.maxVisits) ? v.maxVisits : null,
    visitsUsed: v.visitsUsed,
    lanes: Array.isArray(v.lanes) ? v.lanes.filter(isStr) : null,
    consumes: v.consumes === true,
  };
}

function presenceOf(v: unknown): PresenceExplanation | null {
  if (!isObj(v) || !isStr(v.zone) || !isNum(v.count)) return null;
  const sentence = (s: unknown) => (isObj(s) && isStr(s.reason) && isStr(s.rule) ? s : null);
  return {
    ...(v as unknown as PresenceExplanation),
    movement: v.movement === "entry" || v.movement === "exit" ? v.movement : null,
    insideSince: isNum(v.insideSince) ? v.insideSince : null,
    capacity: isNum(v.capacity) ? v.capacity : null,
    full: v.full === true,
    veto: sentence(v.veto) as PresenceExplanation["veto"],
    flag: sentence(v.flag) as PresenceExplanation["flag"],
    effect: isObj(v.effect) ? (v.effect as PresenceExplanation["effect"]) : null,
    applied: v.applied === true,
  };
}

function approvalOf(v: unknown): ApprovalExplanation | null {
  if (!isObj(v)) return null;
  if (v.status === "pending") return v as unknown as ApprovalExplanation;
  if (v.status === "resolved" && isStr(v.outcome)) return v as unknown as ApprovalExplanation;
  return null;
}

// ---- wording -------------------------------------------------------------------------------------------

function clock(ms: number, opts: WhyOptions, seconds = false): string {
  return sentenceTime(ms, opts.timeZone, seconds);
}

/** "S→5 at 4", "missing 'X' at 5", "extra 'X' at 5" (positions 1-based in the read plate); OCR confusions noted. */
export function editText(e: PlateEdit): string {
  const pos = e.at + 1;
  if (e.op === "substitute") return `${e.from}→${e.to} at ${pos}${e.cost < 1 ? " (OCR)" : ""}`;
  if (e.op === "insert") return `missing '${e.char}' at ${pos}`;
  return `extra '${e.char}' at ${pos}`;
}

/** "exact", or "fuzzy 0.5: S→5 at 4 (OCR), listed as FL55T01". */
export function matchKindText(m: MatchKind, listedPlate = ""): string {
  if (m.kind === "exact") return "exact";
  const edits = m.edits.map(editText).join(", ");
  return `fuzzy ${m.distance}${edits ? `: ${edits}` : ""}${listedPlate ? `, listed as ${listedPlate}` : ""}`;
}

function listText(name: string, kind: string): string {
  return `${kind} list '${name}'`;
}

/** "inside window every day 00:00–24:00", "holiday 2026-12-25 (Christmas, calendar 'NL'): closed all day". */
export function scheduleWhyText(s: ScheduleState): string {
  const holiday = () => {
    const h = s.holiday;
    if (!h) return "holiday";
    const who = (h.entries ?? [])
      .map((e) => `${e.name ? `${e.name}, ` : ""}calendar '${e.calendar}'`)
      .join("; ");
    return `holiday ${h.date}${who ? ` (${who})` : ""}`;
  };
  const at = s.local ? ` at ${s.local.weekday} ${s.local.time}` : "";
  switch (s.by) {
    case "window": {
      const w = s.window;
      if (!w) return `inside a window${at}`;
      const began = s.local && w.startedOn !== s.local.date ? `, began ${w.startedOn}` : "";
      return `inside window ${w.days} ${w.from}–${w.to}${began}${at}`;
    }
    case "holiday-window":
      return `${holiday()}, open ${s.holiday?.windows ?? "by its windows"}${at}`;
    case "holiday-closed":
      return `${holiday()}: closed all day`;
    case "holiday-outside":
      return `${holiday()}: open only ${s.holiday?.windows ?? "at other times"}${at}`;
    case "outside-windows":
      return `no window covers${s.local ? ` ${s.local.weekday} ${s.local.date} ${s.local.time}` : " the time"}`;
    default:
      return s.reason;
  }
}

const NOT_IN_FORCE: Record<NotInForce["because"], string> = {
  expired: "the entry has expired",
  "not-yet-valid": "the entry is not valid yet",
  schedule: "outside its schedule",
  lane: "not valid on this lane",
  "used-up": "its visitor pass is used up",
};

function notInForceText(
  n: NotInForce,
  schedules: readonly ScheduleState[],
  pass: PassState | null,
  lane?: string,
) {
  let why = NOT_IN_FORCE[n.because];
  if (n.because === "schedule") {
    const off = schedules.find((s) => !s.active);
    if (off)
      why = `${off.of === "entry" ? "the entry is outside its" : "outside its"} schedule '${off.schedule}'`;
  } else if (n.because === "lane") {
    const scope = pass?.lanes?.length ? ` (valid on ${pass.lanes.join(", ")})` : "";
    why = `not valid on ${lane ? `lane ${lane}` : "this lane"}${scope}`;
  } else if (n.because === "used-up" && pass?.maxVisits != null) {
    why = `its visitor pass is used up (${pass.visitsUsed} of ${pass.maxVisits} visits)`;
  }
  return `${listText(n.listName, n.kind)} would have decided, but ${why}`;
}

function passText(p: PassState): string {
  const visits = p.maxVisits === null ? "unlimited visits" : `visits used ${p.visitsUsed} / ${p.maxVisits}`;
  const lanes = p.lanes ? `lanes: ${p.lanes.join(", ")}` : "every lane";
  const used =
    p.maxVisits === null
      ? null
      : p.consumes
        ? `this decision used visit ${p.visitsUsed + 1}`
        : "no visit used";
  return [visits, lanes, used].filter(Boolean).join(" · ");
}

const MOVEMENT_FROM = { lane: "the lane", camera: "the camera", read: "the read" } as const;

function zoneRows(z: PresenceExplanation, opts: WhyOptions): WhyRow[] {
  const rows: WhyRow[] = [];
  const movement = z.movement
    ? `${z.movement}${z.movementFrom ? ` (from ${MOVEMENT_FROM[z.movementFrom] ?? z.movementFrom})` : ""}`
    : "movement unknown";
  const apb = z.antiPassback === "off" ? "anti-passback off" : `anti-passback ${z.antiPassback}`;
  const inside = z.insideSince === null ? "not inside" : `inside since ${clock(z.insideSince, opts)}`;
  rows.push({ key: "zone", label: "Zone", text: `'${z.zone}' · ${movement} · ${apb} · ${inside}` });
  const count = z.capacity === null ? `${z.count} (no capacity)` : `${z.count} / ${z.capacity}`;
  rows.push({
    key: "zone-count",
    label: "Occupancy",
    text: `${count}${z.full ? " · full" : ""}`,
    ...(z.full ? { tone: "warn" as const } : {}),
  });
  if (z.veto)
    rows.push({
      key: "zone-veto",
      label: z.veto.rule === "capacity" ? "Zone full" : "Anti-passback",
      text: z.veto.reason,
      tone: "bad",
      decisive: true,
    });
  if (z.flag) rows.push({ key: "zone-flag", label: "Zone note", text: z.flag.reason, tone: "warn" });
  let passage: string;
  if (z.movement === null) passage = "presence and count left alone (no movement)";
  else if (z.veto) passage = "refused: nothing counted";
  else if (!z.effect) passage = "nothing to count";
  else if (z.applied) {
    const e = z.effect;
    const delta =
      e.countDelta === 0 ? "count kept" : `count ${e.countAfter - e.countDelta} → ${e.countAfter}`;
    passage = `applied: ${e.movement} recorded, ${delta}`;
  } else passage = "not applied: the barrier did not open";
  rows.push({ key: "zone-passage", label: "Passage", text: passage });
  return rows;
}

const OUTCOME: Record<string, string> = {
  approve: "approved",
  "approve-pass": "approved with a pass",
  deny: "denied",
};
/** Who resolved a request: after the outcome, and as "Decided by". */
const BY: Record<string, { after: string; decided: string }> = {
  admin: { after: " by the operator", decided: "the operator" },
  timeout: { after: ": no answer in time", decided: "no operator answer in time" },
  restart: { after: ": expired while the controller was stopped", decided: "the request expired (restart)" },
};

function approvalText(a: ApprovalExplanation, opts: WhyOptions): string {
  if (a.status === "pending") {
    const s = isNum(a.timeoutMs) ? ` ${Math.round(a.timeoutMs / 1000)} s` : "";
    return `pending · asked because ${a.asked} · if unanswered in${s}: ${a.onTimeout}`;
  }
  const outcome = OUTCOME[a.outcome] ?? a.outcome;
  const by = BY[a.by]?.after ?? ` by ${a.by}`;
  const t = Date.parse(a.at);
  const when = Number.isNaN(t) ? "" : ` at ${clock(t, opts, true)}`;
  const why = a.reason ? ` (“${a.reason}”)` : "";
  const pass = a.passEntryId !== undefined ? " · pass added" : "";
  return `resolved · ${outcome}${by}${when}${why}${pass}`;
}

// ---- the rows ------------------------------------------------------------------------------------------

/**
 * The rows of the "Why" section for an event's explanation; empty when there is nothing to explain (no
 * explanation). `event` fills in the list a zone veto overruled for events stored before the explanation
 * kept it (`overruled`).
 */
export function whyRows(explanation: unknown, event?: WhyEvent, opts: WhyOptions = {}): WhyRow[] {
  // Not an explanation this panel can read: nothing is said rather than something guessed.
  if (!isObj(explanation) || !Array.isArray(explanation.matches)) return [];
  const matches = explanation.matches.map(matchOf).filter((m): m is ExplainedMatch => m !== null);
  const builtIns = Array.isArray(explanation.builtIns) ? explanation.builtIns.filter(isStr) : [];
  const schedules = (Array.isArray(explanation.schedules) ? explanation.schedules : [])
    .map(scheduleOf)
    .filter((s): s is ScheduleState => s !== null);
  const notInForce = notInForceOf(explanation.notInForce);
  const pass = passOf(explanation.pass);
  const zone = presenceOf(explanation.presence);
  const approval = approvalOf(explanation.approval);
  const decisiveMatch = matchKindOf(explanation.match);

  // As the controller picks it: the best match that is not custom, else the best (a custom list).
  const decisiveIndex = matches.findIndex((m) => m.kind !== "custom");
  const decisive = matches[decisiveIndex === -1 ? 0 : decisiveIndex] ?? null;
  const vetoed = zone?.veto != null;
  // The list decision stands unless a zone vetoed it or the operator was asked.
  const listDecides = !vetoed && !approval;

  const rows: WhyRow[] = [];
  // What decided, in one line.
  let decided: WhyRow;
  if (approval?.status === "pending")
    decided = { key: "decided", label: "Decided by", text: "waiting for the operator", tone: "warn" };
  else if (approval?.status === "resolved")
    decided = {
      key: "decided",
      label: "Decided by",
      text: BY[approval.by]?.decided ?? approval.by,
      tone: approval.outcome === "deny" ? "bad" : "ok",
    };
  else if (vetoed && zone?.veto)
    decided = {
      key: "decided",
      label: "Decided by",
      text: `zone '${zone.zone}': ${zone.veto.rule === "capacity" ? "full" : "anti-passback"}`,
      tone: "bad",
    };
  else if (decisive)
    decided = {
      key: "decided",
      label: "Decided by",
      text: `${listText(decisive.listName, decisive.kind)}${decisive.kind === "custom" ? " (grants no access)" : ""}`,
      tone: decisive.kind === "allow" ? "ok" : "bad",
    };
  else if (builtIns.includes("not-in-list"))
    decided = {
      key: "decided",
      label: "Decided by",
      text: notInForce ? "no list in force: “not on any list”" : "not on any list",
      tone: "bad",
    };
  else decided = { key: "decided", label: "Decided by", text: "no list match" };
  rows.push(decided);

  // The matches in force, best first.
  matches.forEach((m, i) => {
    const priority = Number.isNaN(m.priority) ? "" : ` · priority ${m.priority}`;
    const isDecisive = m === decisive && listDecides;
    const listed = m.match.kind === "fuzzy" ? m.plate : "";
    rows.push({
      key: `match-${i + 1}`,
      label: matches.length > 1 ? `Match ${i + 1}` : "Match",
      text: `'${m.listName}' · ${m.kind}${priority} · ${matchKindText(m.match, listed)}${isDecisive ? " · decided" : ""}`,
      ...(isDecisive ? { decisive: true } : {}),
    });
  });
  const overruled = matchOf(explanation.overruled);
  if (matches.length === 0 && vetoed && overruled) {
    const priority = Number.isNaN(overruled.priority) ? "" : ` · priority ${overruled.priority}`;
    const listed = overruled.match.kind === "fuzzy" ? overruled.plate : "";
    rows.push({
      key: "match-1",
      label: "Match",
      text: `'${overruled.listName}' · ${overruled.kind}${priority} · ${matchKindText(overruled.match, listed)} · overruled by the zone`,
    });
  } else if (matches.length === 0 && vetoed && decisiveMatch && event?.listName)
    // Events stored before explanations kept the overruled match: the event's list fields tell.
    rows.push({
      key: "match-1",
      label: "Match",
      text: `'${event.listName}'${event.listKind ? ` · ${event.listKind}` : ""} · ${matchKindText(decisiveMatch)} · overruled by the zone`,
    });
  if (matches.length === 0 && !vetoed && builtIns.includes("not-in-list"))
    rows.push({
      key: "match-1",
      label: "Match",
      text: "built-in “not on any list”",
      ...(listDecides ? { decisive: true } : {}),
    });

  schedules.forEach((s, i) => {
    rows.push({
      key: `schedule-${i + 1}`,
      label: s.of === "entry" ? "Entry schedule" : "List schedule",
      text: `'${s.schedule}' ${s.active ? "active" : "not active"} · ${scheduleWhyText(s)}`,
      tone: s.active ? "ok" : "warn",
    });
  });

  if (notInForce)
    rows.push({
      key: "not-in-force",
      label: "Not in force",
      text: notInForceText(notInForce, schedules, pass, event?.laneId),
      tone: "warn",
    });

  if (pass) rows.push({ key: "pass", label: "Pass", text: passText(pass) });

  if (zone) rows.push(...zoneRows(zone, opts));

  if (approval)
    rows.push({
      key: "approval",
      label: "Operator",
      text: approvalText(approval, opts),
      ...(approval.status === "pending"
        ? { tone: "warn" as const }
        : { tone: approval.outcome === "deny" ? ("bad" as const) : ("ok" as const), decisive: true }),
    });

  return rows;
}
