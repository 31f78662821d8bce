/**
 * One structured logger (pino); modules take a child named after them. Plate text is personal data:
 * log it at debug level only. Secrets are never logged; the redact list is a safety net.
 */
import { type Logger, pino } from "pino";

export type { Logger };

export function createLogger(level: string = process.env.PORTCULLIS_LOG_LEVEL ?? "info"): Logger {
  return pino({
    level,
    base: { app: "portcullis" },
    redact: {
      paths: ["req.headers.authorization", "req.headers['x-camera-secret']", "token", "secret", "password"],
      censor: "[redacted]",
    },
  });
}
