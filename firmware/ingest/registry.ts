/** Every push protocol, registered in one place: adding a vendor is one module plus one line here. */
import { adapter as generic } from "./generic.js";
import { adapter as hikvisionIsapi } from "./hikvision-isapi.js";
import { adapter as milesightHttp } from "./milesight-http.js";
import { adapter as numberokEdge } from "./numberok-edge.js";
import type { PushAdapter } from "./types.js";

const ADAPTERS: readonly PushAdapter[] = [generic, milesightHttp, hikvisionIsapi, numberokEdge];

/** URL segment under /api/v1/ingest/ → adapter; `milesight`, `hikvision` and `numberok` are short forms. */
export const PUSH_ROUTES: ReadonlyMap<string, PushAdapter> = new Map([
  ...ADAPTERS.map((a) => [a.protocol, a] as const),
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
