/** Response and parameter schemas shared by routes (they also make the OpenAPI document). */
import { Type } from "typebox";
import { BARRIER_STATES, FAULT_CODES, POSITIONS } from "../barrier/barrier.js";

/** Every error reply: `message` says what is wrong and where. */
export const ErrorReply = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
});

export const IdParam = Type.Object({ id: Type.Integer({ minimum: 1 }) });

export const Iso = Type.String({ format: "date-time" });
export const NullableIso = Type.Union([Iso, Type.Null()]);

export const EventSchema = Type.Object({
  id: Type.Integer(),
  plate: Type.String({ description: "normalised plate" }),
  plateRaw: Type.String({ description: "as the camera sent it" }),
  cameraId: Type.String(),
  laneId: Type.String(),
  protocol: Type.String(),
  decision: Type.Union([Type.Literal("allow"), Type.Literal("deny")]),
  reason: Type.String(),
  listId: Type.Union([Type.Integer(), Type.Null()]),
  listName: Type.Union([Type.String(), Type.Null()]),
  listKind: Type.Union([Type.String(), Type.Null()]),
  entryId: Type.Union([Type.Integer(), Type.Null()]),
  explanation: Type.Unknown(),
  confidence: Type.Union([Type.Number(), Type.Null()]),
  direction: Type.Union([Type.String(), Type.Null()]),
  cameraTimeRaw: Type.Union([Type.String(), Type.Null()]),
  cameraTime: NullableIso,
  receivedAt: Iso,
  relayAt: NullableIso,
  latencyMs: Type.Union([Type.Number(), Type.Null()], { description: "receipt to relay command" }),
  extras: Type.Record(Type.String(), Type.Unknown()),
});

export const ListSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  kind: Type.Union([Type.Literal("allow"), Type.Literal("block"), Type.Literal("custom")]),
  description: Type.Union([Type.String(), Type.Null()]),
  maxDistance: Type.Number(),
  schedule: Type.Union([Type.String(), Type.Null()], {
    description: "the schedule the list is in force by; null = always",
  }),
  priority: Type.Union([Type.Integer(), Type.Null()], {
    description: "as configured; null = the kind's default (block 100, allow 50, custom 10)",
  }),
  effectivePriority: Type.Integer({
    description: "the priority decisions use: the highest matching list decides",
  }),
  createdAt: Iso,
  entryCount: Type.Integer(),
});

export const EntrySchema = Type.Object({
  id: Type.Integer(),
  listId: Type.Integer(),
  plate: Type.String(),
  plateRaw: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  validFrom: NullableIso,
  validTo: NullableIso,
  schedule: Type.Union([Type.String(), Type.Null()], {
    description: "the schedule the entry is in force by, on top of its list's; null = always",
  }),
  maxVisits: Type.Union([Type.Integer(), Type.Null()], {
    description: "visitor pass: visits in all; null = unlimited",
  }),
  visitsUsed: Type.Integer({ description: "visits used (allow decisions by this entry)" }),
  visitsLeft: Type.Union([Type.Integer(), Type.Null()], { description: "null = unlimited" }),
  lanes: Type.Union([Type.Array(Type.String()), Type.Null()], {
    description: "lane ids and lane group names the entry is valid on; null = every lane",
  }),
  cardNumber: Type.Union([Type.Integer(), Type.Null()], {
    description: "the entry's Wiegand card number (action source entry-card)",
  }),
  createdAt: Iso,
});

export const IoSchema = Type.Object({
  name: Type.String(),
  kind: Type.Union([Type.Literal("input"), Type.Literal("output")]),
  state: Type.Union([Type.Literal("active"), Type.Literal("inactive")]),
  changedAt: Iso,
});

const NullableString = Type.Union([Type.String(), Type.Null()]);

export const BarrierSchema = Type.Object({
  state: Type.Enum(BARRIER_STATES, { description: "the arm's position, or 'fault' while a fault is active" }),
  position: Type.Enum(POSITIONS, {
    description: "where the arm is (or is believed to be without limit switches), also while faulted",
  }),
  fault: Type.Union([
    Type.Object({ code: Type.Enum(FAULT_CODES), message: Type.String(), since: Iso }),
    Type.Null(),
  ]),
  since: Iso,
  closePending: Type.Boolean({ description: "a close waits for the vehicle to clear the loop" }),
  expected: Type.Integer({ description: "vehicles let through that have not passed yet" }),
  canClose: Type.Boolean(),
  canHold: Type.Boolean(),
});

export const LaneSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  barrierOutput: NullableString,
  presenceInput: NullableString,
  openPulseMs: Type.Integer(),
  closeOutput: NullableString,
  holdOutput: NullableString,
  openLimitInput: NullableString,
  closedLimitInput: NullableString,
  buttonInput: NullableString,
  serialPath: NullableString,
  autoClose: Type.Boolean(),
  closeDelayMs: Type.Integer(),
  barrier: BarrierSchema,
});
