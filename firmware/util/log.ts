/**
 * One structured logger (pino); modules take a child named after them. Plate text is personal data:
 * log it at debug level only. Secrets are never logged; the redact list is a safety net.
 *
 * Lines are written synchronously, as Node itself writes stdout pipes on Linux: a line logged just before an
 * exit is never lost, and a reader that went away (EPIPE) silences the log instead of wedging the exit —
 * pino's asynchronous default flushes at exit in a loop that retries EPIPE forever (sonic-boom 4).
 */
import { type Logger, pino } from "pino";

export type { Logger };

export function createLogger(level: string = process.env.PORTCULLIS_LOG_LEVEL ?? "info"): Logger {
  return pino(
    {
      level,
      base: { app: "portcullis" },
      redact: {
        paths: ["req.headers.authorization", "req.headers['x-camera-secret']", "token", "secret", "password"],
        censor: "[redacted]",
      },
    },
    pino.destination({ dest: 1, sync: true }),
  );
}
