/**
 * The database schema. Changing it means `npm run db:generate` and committing the new migration;
 * migrations are applied at boot before the API starts. All times are epoch milliseconds.
 */
import { sql } from "drizzle-orm";
import {
  blob,
  index,
  integer,
  primaryKey,
  real,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

export const lists = sqliteTable("lists", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull().unique(),
  kind: text("kind", { enum: ["allow", "block", "custom"] }).notNull(),
  description: text("description"),
  maxDistance: real("max_distance").notNull().default(0),
  /** Name of the schedule (schedules.name) the list is in force by; null = always. */
  schedule: text("schedule"),
  /** When several lists match, the highest priority decides (firmware/domain/passes.ts); null = the kind's default. */
  priority: integer("priority"),
  createdAt: integer("created_at").notNull(),
});

export const listEntries = sqliteTable(
  "list_entries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    listId: integer("list_id")
      .notNull()
      .references(() => lists.id, { onDelete: "cascade" }),
    /** Normalised plate: the key every lookup uses. */
    plate: text("plate").notNull(),
    plateRaw: text("plate_raw").notNull(),
    /** Confusable-folded plate, its reverse and its ends: candidate keys for fuzzy matching (see fuzzyKeys). */
    skeleton: text("skeleton").notNull(),
    skeletonReversed: text("skeleton_reversed").notNull(),
    skeletonEnds: text("skeleton_ends").notNull(),
    description: text("description"),
    validFrom: integer("valid_from"),
    validTo: integer("valid_to"),
    /** Name of the schedule (schedules.name) the entry is in force by, on top of its list's; null = always. */
    schedule: text("schedule"),
    /** A visitor pass: visits allowed in all; null = unlimited. */
    maxVisits: integer("max_visits"),
    /** Visits used: incremented in the transaction of the event whose allow used it. */
    visitsUsed: integer("visits_used").notNull().default(0),
    /** JSON array of lane ids and lane group names (site file `laneGroups`) the entry is valid on; null = all. */
    lanes: text("lanes"),
    /** The entry's Wiegand card number (action source `entry-card`); null = none. */
    cardNumber: integer("card_number"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("list_entries_list_plate").on(t.listId, t.plate),
    index("list_entries_plate").on(t.plate),
    // Covering indexes: fuzzy candidate scans read list and plate without touching the table.
    index("list_entries_skeleton").on(t.skeleton, t.listId, t.plate),
    index("list_entries_skeleton_reversed").on(t.skeletonReversed, t.listId, t.plate),
    index("list_entries_skeleton_ends").on(t.skeletonEnds, t.listId, t.plate),
    // Which entries use a schedule (refusing to delete it): few entries have one, so the index stays small.
    index("list_entries_schedule").on(t.schedule).where(sql`schedule is not null`),
  ],
);

/**
 * Schedules (firmware/domain/schedule.ts): `definition` is the ScheduleSchema JSON as validated by
 * `scheduleProblems` (name, weekly windows, holiday calendar names). Lists, entries and the site file's
 * actions refer to a schedule by its name; integrity is kept by the repository (firmware/store/schedules-repo.ts).
 */
export const schedules = sqliteTable("schedules", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull().unique(),
  definition: text("definition").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** Holiday calendars: `definition` is the HolidayCalendarSchema JSON (name, dates with their windows). */
export const holidayCalendars = sqliteTable("holiday_calendars", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull().unique(),
  definition: text("definition").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const events = sqliteTable(
  "events",
  {
    id: integer("id").primaryKey(),
    plate: text("plate").notNull(),
    plateRaw: text("plate_raw").notNull(),
    cameraId: text("camera_id").notNull(),
    laneId: text("lane_id").notNull(),
    protocol: text("protocol").notNull(),
    confidence: real("confidence"),
    direction: text("direction"),
    decision: text("decision", { enum: ["allow", "deny"] }).notNull(),
    reason: text("reason").notNull(),
    listId: integer("list_id"),
    listName: text("list_name"),
    listKind: text("list_kind"),
    entryId: integer("entry_id"),
    /** JSON: the decisive match (exact, or fuzzy distance and edits) and every list matched. */
    explanation: text("explanation").notNull(),
    /** As the camera sent it, and parsed to epoch ms where the camera's format allows. */
    cameraTimeRaw: text("camera_time_raw"),
    cameraTime: integer("camera_time"),
    receivedAt: integer("received_at").notNull(),
    relayAt: integer("relay_at"),
    /** Receipt to relay command, in milliseconds (monotonic clock). */
    latencyMs: real("latency_ms"),
    /** JSON: vendor fields (colour, make, type, speed, region…). */
    extras: text("extras"),
  },
  // No plate index: searches are partial (LIKE '%…%'), which no index serves, and every index costs a page
  // write per commit on the decision path.
  (t) => [index("events_received_at").on(t.receivedAt)],
);

export const audit = sqliteTable(
  "audit",
  {
    id: integer("id").primaryKey(),
    at: integer("at").notNull(),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    target: text("target"),
    detail: text("detail"),
  },
  (t) => [index("audit_at").on(t.at)],
);

/**
 * Cameras, managed through the API; seeded from the site file at first start. `config` is the camera's
 * JSON as validated by CameraSchema and its protocol (so each protocol owns its settings' shape).
 */
export const cameras = sqliteTable("cameras", {
  id: text("id").primaryKey(),
  config: text("config").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** A camera's events that are not plate reads (counting, parking, list events…), kept as the camera sent them. */
export const cameraEvents = sqliteTable(
  "camera_events",
  {
    id: integer("id").primaryKey(),
    cameraId: text("camera_id").notNull(),
    at: integer("at").notNull(),
    kind: text("kind").notNull(),
    /** JSON, bounded by the adapter. */
    data: text("data").notNull(),
  },
  (t) => [index("camera_events_at").on(t.at)],
);

/** Pictures of a decided event, written to disk in batches after the decision (see snapshots.ts). */
export const eventImages = sqliteTable(
  "event_images",
  {
    id: integer("id").primaryKey(),
    eventId: integer("event_id").notNull(),
    kind: text("kind", { enum: ["plate", "full", "evidence"] }).notNull(),
    /** Relative to the data directory's snapshots folder. */
    path: text("path").notNull(),
    bytes: integer("bytes").notNull(),
  },
  (t) => [index("event_images_event").on(t.eventId)],
);

/** Installation state: whether the site file's seed data has been applied, and the like. */
export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

/** Outbox message states; "in flight" is never stored, so a crash mid-send leaves the message to be sent again. */
export const OUTBOX_STATUSES = ["pending", "failed-retrying", "sent", "failed", "expired"] as const;

/**
 * The durable outbox (firmware/outbox): what network actions have to deliver, inserted in the same transaction
 * as the event that caused it. Sent in id order per target.
 */
export const outbox = sqliteTable(
  "outbox",
  {
    id: integer("id").primaryKey(),
    /** The network action's id in the site file. */
    target: text("target").notNull(),
    eventId: integer("event_id"),
    createdAt: integer("created_at").notNull(),
    /** JSON: what to say, shaped by the target's action type; addresses and credentials stay in the site file. */
    payload: text("payload").notNull(),
    /** Bytes sent with the payload (a picture); dropped once sent. */
    attachment: blob("attachment", { mode: "buffer" }),
    status: text("status", { enum: OUTBOX_STATUSES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    /** Not before this time: the retry backoff, or a short wait for a picture still arriving. */
    nextAttemptAt: integer("next_attempt_at").notNull(),
    lastAttemptAt: integer("last_attempt_at"),
    lastError: text("last_error"),
    sentAt: integer("sent_at"),
  },
  (t) => [
    // The dispatcher's queue: only undelivered rows, so its head is found at once however many were sent.
    index("outbox_queue").on(t.target, t.id).where(sql`status in ('pending', 'failed-retrying')`),
    index("outbox_target").on(t.target, t.id),
    index("outbox_status").on(t.status, t.id),
    index("outbox_event").on(t.eventId),
  ],
);

/**
 * Who is inside each zone (firmware/domain/presence.ts): one row per plate marked inside, written in the
 * transaction of the event that entered it, deleted by its exit, a manual reset, or once the zone's resetAfterMs
 * has passed (the controller forgets the plate then; at start for those that passed while it was stopped).
 */
export const zonePresence = sqliteTable(
  "zone_presence",
  {
    zone: text("zone").notNull(),
    plate: text("plate").notNull(),
    enteredAt: integer("entered_at").notNull(),
    laneId: text("lane_id"),
    eventId: integer("event_id"),
  },
  (t) => [primaryKey({ columns: [t.zone, t.plate] })],
);

/** Each zone's occupancy count, written with the event that changed it or by a manual correction. */
export const zoneCounts = sqliteTable("zone_counts", {
  zone: text("zone").primaryKey(),
  count: integer("count").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * Zones as managed through the API (`/api/v1/zones`): the policy, the lanes leading into and out of the zone
 * and the loop inputs that count vehicles, as JSON validated by ZoneConfigSchema. Seeded once from the site file.
 */
export const zones = sqliteTable("zones", {
  name: text("name").primaryKey(),
  config: text("config").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * Operator approval requests still waiting for an answer (firmware/approvals.ts), so a restart brings them
 * back to the panel; the row goes when the request is resolved. The id is the event's.
 */
export const approvalRequests = sqliteTable("approval_requests", {
  eventId: integer("event_id").primaryKey(),
  lane: text("lane").notNull(),
  plate: text("plate").notNull(),
  reason: text("reason").notNull(),
  askedAt: integer("asked_at").notNull(),
  expiresAt: integer("expires_at").notNull(),
});
