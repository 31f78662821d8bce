/**
 * Every camera protocol, registered in one place: adding a vendor is one module plus one line here.
 * Push protocols are served at /api/v1/ingest/<protocol>; link protocols are opened by the camera manager.
 */
import type { TObject } from "typebox";
import { Compile, type Validator } from "typebox/compile";
import type { CameraConfig } from "../config/site.js";
import { adapter as generic } from "./generic.js";
import { adapter as hikvisionAlertstream } from "./hikvision-alertstream.js";
import { adapter as hikvisionIsapi } from "./hikvision-isapi.js";
import { adapter as milesightHttp } from "./milesight-http.js";
import { adapter as milesightTcp } from "./milesight-tcp/index.js";
import { adapter as numberokEdge } from "./numberok-edge.js";
import { adapter as onvif } from "./onvif.js";
import type { CameraProtocol, LinkAdapter, PushAdapter } from "./types.js";
import { httpAdapter as vivotekHttp, socketAdapter as vivotekSocket } from "./vivotek.js";

const PROTOCOLS: readonly CameraProtocol[] = [
  generic,
  milesightHttp,
  hikvisionIsapi,
  hikvisionAlertstream,
  numberokEdge,
  milesightTcp,
  vivotekSocket,
  vivotekHttp,
  onvif,
];

export const CAMERA_PROTOCOLS: ReadonlyMap<string, CameraProtocol> = new Map(
  PROTOCOLS.map((p) => [p.protocol, p]),
);

/** URL segment under /api/v1/ingest/ → adapter; `milesight`, `hikvision` and `numberok` are short forms. */
export const PUSH_ROUTES: ReadonlyMap<string, PushAdapter> = new Map([
  ...PROTOCOLS.filter((p): p is PushAdapter => p.kind === "push").map((a) => [a.protocol, a] as const),
  ["milesight", milesightHttp],
  ["hikvision", hikvisionIsapi],
  ["numberok", numberokEdge],
]);

export function pushAdapter(protocol: string): PushAdapter {
  const adapter = PUSH_ROUTES.get(protocol);
  if (!adapter)
    throw new Error(`unknown camera protocol '${protocol}'; valid: ${[...PUSH_ROUTES.keys()].join(", ")}`);
  return adapter;
}

export function linkAdapter(protocol: string): LinkAdapter | null {
  const adapter = CAMERA_PROTOCOLS.get(protocol);
  return adapter?.kind === "link" ? adapter : null;
}

const settingsValidators = new WeakMap<TObject, Validator>();

function settingsValidator(schema: TObject): Validator {
  const known = settingsValidators.get(schema);
  if (known) return known;
  const validator = Compile(schema);
  settingsValidators.set(schema, validator);
  return validator;
}

/**
 * What is wrong with a camera: an unknown protocol or lane, an id or secret another camera already has,
 * link settings that do not fit the protocol's schema, or a push camera that cannot be told apart from
 * others. Applies the link settings' defaults to `camera.connection` in place. Paths start with `at`.
 */
export function cameraProblems(
  camera: CameraConfig,
  at: string,
  others: readonly CameraConfig[],
  laneIds: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  if (others.some((c) => c.id === camera.id)) problems.push(`${at}/id '${camera.id}' is used twice`);
  if (!laneIds.has(camera.lane))
    problems.push(`${at}/lane '${camera.lane}' is not among lanes (${[...laneIds].join(", ")})`);
  if (camera.secret !== undefined && others.some((c) => c.secret === camera.secret))
    problems.push(`${at}/secret is shared with another camera`);
  const protocol = CAMERA_PROTOCOLS.get(camera.protocol);
  if (!protocol) {
    const valid = [...CAMERA_PROTOCOLS.keys()].join(", ");
    problems.push(`${at}/protocol '${camera.protocol}' is unknown; valid: ${valid}`);
  } else if (protocol.kind === "push") {
    if (camera.connection !== undefined)
      problems.push(
        `${at}/connection is only for link protocols; ${camera.protocol} cameras push to the controller`,
      );
    if (camera.addresses.length === 0 && camera.secret === undefined)
      problems.push(`${at}/addresses is empty and there is no secret: no read could be attributed to it`);
  } else {
    const validator = settingsValidator(protocol.settings);
    const connection = validator.Default(structuredClone(camera.connection ?? {}));
    if (validator.Check(connection)) camera.connection = connection as Record<string, unknown>;
    else
      for (const e of validator.Errors(connection))
        problems.push(`${at}/connection${e.instancePath} ${e.message}`);
  }
  return problems;
}
