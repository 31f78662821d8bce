/**
 * Action `wiegand`: send a card number to an access panel over a site Wiegand device (hal/wiegand.ts), in one
 * of the layouts of hal/wiegand-format.ts. The frame is queued at decision time and sent by the device's worker
 * thread; nothing here waits.
 *
 * Where the card number comes from (`source`, protocols.md §1.6):
 * - `plate-digits`: the digits of the matched list entry's plate, in order, as one number (`MÜ-PC 1234` → 1234).
 *   Our own convention; a plate without digits, or one too big for the layout's card field, is an error.
 * - `nedap-sha1`: Nedap ANPR Lumo / WIM compatible: SHA-1 of the plate (upper case, no spaces), its 24 least
 *   significant bits as facility (upper 8) and card (lower 16) of a 26-bit H10301 frame. 26-bit only.
 * - `fixed`: always `code` (with `facility`).
 * - `entry-card`: the decisive list entry's own `cardNumber` (Hikvision-style per-plate card), with `facility`.
 *   An entry without one is treated like a plate on no list: `notInListCode` if set, otherwise nothing — never
 *   a number derived from the plate, which a panel could mistake for an enrolled card.
 * The plate is the matched entry's (normalised) plate, so a fuzzy read sends the card of the car on the list.
 * A decision with no matching entry (a stranger, an expired or used-up entry) sends `notInListCode` if set;
 * otherwise `fixed` still sends `code` and the other sources send nothing.
 */
import { createHash } from "node:crypto";
import { type Static, Type } from "typebox";
import { WIEGAND_LIMITS, type WiegandOutput, wiegandTimingProblems } from "../../hal/wiegand.js";
import {
  type CardData,
  encodeWiegand,
  fieldMax,
  layoutProblems,
  range,
  WIEGAND_FORMATS,
  type WiegandFormatId,
  type WiegandLayout,
} from "../../hal/wiegand-format.js";
import type { Decision } from "../domain/decide.js";
import type { ActionRunner } from "./types.js";

const Position = Type.Integer({ minimum: 1, maximum: 64 });
const FieldSchema = Type.Object(
  { start: Position, length: Type.Integer({ minimum: 1, maximum: 48 }) },
  { additionalProperties: false, description: "1-indexed first bit (sent first, MSB) and length" },
);

const CustomLayout = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 64 })),
    bits: Type.Integer({ minimum: 2, maximum: 64 }),
    facility: Type.Optional(FieldSchema),
    card: FieldSchema,
    parity: Type.Array(
      Type.Object(
        {
          position: Position,
          kind: Type.Union([Type.Literal("even"), Type.Literal("odd")]),
          covers: Type.Array(Type.Union([Position, Type.Tuple([Position, Position])]), {
            minItems: 1,
            description: "bit positions and inclusive [from, to] ranges",
          }),
        },
        { additionalProperties: false },
      ),
      { description: "parity bits; [] for none" },
    ),
  },
  {
    additionalProperties: false,
    description: "a custom layout: every bit must belong to exactly one field or parity bit",
  },
);

const formatIds = Object.keys(WIEGAND_FORMATS) as WiegandFormatId[];

export const schema = Type.Object(
  {
    type: Type.Literal("wiegand"),
    device: Type.String({ description: "a Wiegand device of the site (`wiegand[].name`)" }),
    format: Type.Union(
      [
        Type.Literal("26-h10301"),
        Type.Literal("34-h10306"),
        Type.Literal("34-card32"),
        Type.Literal("35-corporate1000"),
        Type.Literal("37-h10304"),
        CustomLayout,
      ],
      { description: `${formatIds.join(", ")}, or a custom layout` },
    ),
    source: Type.Union(
      [
        Type.Literal("plate-digits"),
        Type.Literal("nedap-sha1"),
        Type.Literal("fixed"),
        Type.Literal("entry-card"),
      ],
      {
        description:
          "where the card number comes from: the entry's plate digits, Nedap SHA-1 of the plate, `code`, or the entry's own cardNumber",
      },
    ),
    code: Type.Optional(Type.Integer({ minimum: 0, description: "source fixed: the card number sent" })),
    facility: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: "facility (site) code; required by layouts with one, except nedap-sha1",
      }),
    ),
    notInListCode: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          "card number sent for a plate on no list (source entry-card: also for an entry without a card number); default: none",
      }),
    ),
    pulseUs: Type.Optional(
      Type.Integer({ minimum: WIEGAND_LIMITS.pulseUs.min, maximum: WIEGAND_LIMITS.pulseUs.max }),
    ),
    intervalUs: Type.Optional(
      Type.Integer({ minimum: WIEGAND_LIMITS.intervalUs.min, maximum: WIEGAND_LIMITS.intervalUs.max }),
    ),
  },
  { additionalProperties: false, description: "send a card number to an access panel over Wiegand" },
);

export type WiegandActionConfig = Static<typeof schema>;

/** How an action finds a site Wiegand device; throws for an unknown name. */
export type WiegandLookup = (name: string) => WiegandOutput;

/** The layout an action config names. */
export function layoutOf(format: WiegandActionConfig["format"]): WiegandLayout {
  if (typeof format === "string") return WIEGAND_FORMATS[format];
  const fields: WiegandLayout["fields"] = [
    ...(format.facility ? [{ name: "facility" as const, ...format.facility }] : []),
    { name: "card", ...format.card },
  ];
  return {
    name: format.name ?? `custom ${format.bits}-bit`,
    bits: format.bits,
    fields,
    parity: format.parity.map((p) => ({
      position: p.position,
      kind: p.kind,
      covers: p.covers.flatMap((c) => (typeof c === "number" ? [c] : range(c[0], c[1]))),
    })),
  };
}

/** Checks the schema cannot express, each prefixed with `path`; empty = valid. */
export function wiegandActionProblems(config: WiegandActionConfig, path: string): string[] {
  const layout = layoutOf(config.format);
  const layoutIssues = layoutProblems(layout);
  if (layoutIssues.length > 0) return layoutIssues.map((p) => `${path}/format: ${p}`);
  const problems: string[] = [];
  const facilityMax = fieldMax(layout, "facility");
  const cardMax = fieldMax(layout, "card") ?? 0;
  const inRange = (key: "code" | "notInListCode" | "facility", max: number | undefined): void => {
    const value = config[key];
    if (value === undefined) return;
    if (max === undefined) problems.push(`${path}/${key}: ${layout.name} has no facility field`);
    else if (value > max)
      problems.push(`${path}/${key} ${value} is out of range 0..${max} for ${layout.name}`);
  };
  inRange("code", cardMax);
  inRange("notInListCode", cardMax);
  inRange("facility", facilityMax);
  if (config.source === "fixed" && config.code === undefined)
    problems.push(`${path}/code is required with source fixed`);
  if (config.source !== "fixed" && config.code !== undefined)
    problems.push(`${path}/code is only used with source fixed`);
  if (config.source === "nedap-sha1") {
    if (config.format !== "26-h10301")
      problems.push(`${path}/format must be 26-h10301 with source nedap-sha1`);
    if (config.facility !== undefined)
      problems.push(`${path}/facility: nedap-sha1 derives it from the plate`);
  } else if (facilityMax !== undefined && config.facility === undefined) {
    problems.push(`${path}/facility is required by ${layout.name}`);
  }
  const timing = wiegandTimingProblems(config.device, {
    pulseUs: config.pulseUs,
    intervalUs: config.intervalUs,
  });
  problems.push(...timing.map((p) => `${path}: ${p}`));
  return problems;
}

/** Nedap-compatible mapping: SHA-1 of the plate (upper case, spaces removed), lowest 24 bits → FC 8 + CN 16. */
export function nedapSha1Card(plate: string): Required<CardData> {
  const digest = createHash("sha1").update(plate.toUpperCase().replace(/\s+/g, ""), "utf8").digest();
  const low24 = digest.readUIntBE(digest.length - 3, 3);
  return { facility: low24 >>> 16, card: low24 & 0xffff };
}

/** The plate's digits as one number (`KA 777` → 777); throws if the plate has none. */
export function plateDigits(plate: string): number {
  const digits = plate.replace(/\D/g, "");
  if (digits === "") throw new Error(`plate ${plate} has no digits for a plate-digits card number`);
  return Number(digits);
}

/**
 * The runner. Throws at create time for an invalid config or an unknown device; at run time for a plate whose
 * number does not fit the layout (the gate reports it; other actions still run).
 */
export function create(config: WiegandActionConfig, deps: { wiegand?: WiegandLookup } = {}): ActionRunner {
  const problems = wiegandActionProblems(config, "wiegand action");
  if (problems.length > 0) throw new Error(problems.join("; "));
  if (!deps.wiegand)
    throw new Error(`wiegand action: no Wiegand devices are configured (device "${config.device}")`);
  const device = deps.wiegand(config.device);
  const layout = layoutOf(config.format);
  const timing = {
    ...(config.pulseUs !== undefined ? { pulseUs: config.pulseUs } : {}),
    ...(config.intervalUs !== undefined ? { intervalUs: config.intervalUs } : {}),
  };
  const notInList = (): CardData | null => {
    if (config.notInListCode !== undefined) return { facility: config.facility, card: config.notInListCode };
    return config.source === "fixed" ? { facility: config.facility, card: config.code ?? 0 } : null;
  };
  const cardFor = (decision: Decision): CardData | null => {
    const entry = decision.decisive?.entry;
    if (entry === undefined) return notInList();
    const plate = entry.plate;
    switch (config.source) {
      case "entry-card":
        return entry.cardNumber == null ? notInList() : { facility: config.facility, card: entry.cardNumber };
      case "fixed":
        return { facility: config.facility, card: config.code ?? 0 };
      case "nedap-sha1":
        return nedapSha1Card(plate);
      case "plate-digits":
        return { facility: config.facility, card: plateDigits(plate) };
    }
  };
  return ({ decision }) => {
    const card = cardFor(decision);
    if (card === null) return;
    // encodeWiegand throws a RangeError naming the field for a number the layout cannot carry.
    device.enqueue(encodeWiegand(layout, card), timing);
  };
}
