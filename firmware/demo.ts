/**
 * `--demo`: a simulated Milesight camera on this machine posts a read every few seconds — allowed, blocked
 * and unknown plates — so a newcomer sees decisions, the relay and the panel move.
 */
import { pushMilesight } from "../test/sim/milesight-http.js";
import type { Logger } from "./util/log.js";

const PLATES = ["AB-123-CD", "XY 999 ZZ", "MÜ-PC 1234", "QQ 404 QQ", "KA 777", "AB-123-C0", "GH 512 JK"];
export const DEMO_INTERVAL_MS = 4000;

export function startDemoCamera(baseUrl: string, log: Logger): () => void {
  let i = 0;
  const timer = setInterval(() => {
    const plate = PLATES[i++ % PLATES.length] as string;
    pushMilesight(baseUrl, { plate, generation: i % 2 ? "snake" : "title" })
      .then((r) => log.debug({ status: r.status }, "demo read posted"))
      .catch((err) => log.warn({ err }, "demo camera could not post"));
  }, DEMO_INTERVAL_MS);
  return () => clearInterval(timer);
}
