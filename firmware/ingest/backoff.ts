/** How link adapters wait between connection attempts: one schema, one formula. */
import { Type } from "typebox";

/** The `backoffMinMs` / `backoffMaxMs` settings every link protocol has. */
export function backoffSettings(defaultMaxMs: number) {
  return {
    backoffMinMs: Type.Integer({
      minimum: 10,
      maximum: 600_000,
      default: 1000,
      description: "first retry delay",
    }),
    backoffMaxMs: Type.Integer({
      minimum: 10,
      maximum: 3_600_000,
      default: defaultMaxMs,
      description:
        "longest retry delay; also the wait after refused credentials, so the camera does not lock the account",
    }),
  };
}

/**
 * Exponential backoff with jitter: the ceiling doubles per failure up to the maximum (at once, after refused
 * credentials), and the delay is half the ceiling plus a random half, so cameras lost together (a switch
 * reboot) do not all come back in the same instant.
 */
export function backoffMs(
  failures: number,
  settings: { backoffMinMs: number; backoffMaxMs: number },
  refused = false,
  random = Math.random,
): number {
  const { backoffMinMs: min, backoffMaxMs: max } = settings;
  const ceiling = refused ? max : Math.min(max, min * 2 ** Math.min(failures, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
