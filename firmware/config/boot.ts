/**
 * Boot configuration: where data lives, where to listen, which HAL driver, which site. Command-line flags
 * win over environment variables, which win over defaults.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { GpioDriverName } from "../../hal/types.js";
import { ConfigError } from "./validate.js";

export interface BootConfig {
  dataDir: string;
  port: number;
  host: string;
  halDriver: GpioDriverName;
  /** Site configuration file (JSON); null = the embedded demo site. */
  siteFile: string | null;
  demo: boolean;
  logLevel: string;
}

export const USAGE = `Usage: portcullis [options]
  --data DIR        data directory (PORTCULLIS_DATA_DIR, default ./data)
  --port N          HTTP port (PORTCULLIS_PORT, default 8080)
  --host ADDR       listen address (PORTCULLIS_HOST, default 0.0.0.0)
  --hal sim|onoff   hardware driver (PORTCULLIS_HAL, default sim)
  --site FILE       site configuration JSON (PORTCULLIS_SITE, default: <data>/site.json if present, else the demo site)
  --demo            also run a simulated camera posting reads every few seconds
  --log-level L     trace|debug|info|warn|error (PORTCULLIS_LOG_LEVEL, default info)
  --help            this text`;

export function parseBootConfig(argv: readonly string[], env: NodeJS.ProcessEnv): BootConfig | "help" {
  let values: ReturnType<typeof parse>["values"];
  try {
    ({ values } = parse(argv));
  } catch (err) {
    throw new ConfigError("command line", [(err as Error).message]);
  }
  if (values.help) return "help";
  const problems: string[] = [];
  const portText = values.port ?? env.PORTCULLIS_PORT ?? "8080";
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    problems.push(`port '${portText}' is not a port number (0–65535)`);
  const hal = values.hal ?? env.PORTCULLIS_HAL ?? "sim";
  if (hal !== "sim" && hal !== "onoff") problems.push(`hal '${hal}' is not a driver; valid: sim, onoff`);
  const logLevel = values["log-level"] ?? env.PORTCULLIS_LOG_LEVEL ?? "info";
  if (!["trace", "debug", "info", "warn", "error", "fatal", "silent"].includes(logLevel))
    problems.push(`log level '${logLevel}' is not one of trace, debug, info, warn, error`);
  if (problems.length) throw new ConfigError("boot configuration", problems);
  return {
    dataDir: values.data ?? env.PORTCULLIS_DATA_DIR ?? "./data",
    port,
    host: values.host ?? env.PORTCULLIS_HOST ?? "0.0.0.0",
    halDriver: hal as GpioDriverName,
    siteFile: values.site ?? env.PORTCULLIS_SITE ?? null,
    demo: values.demo ?? false,
    logLevel,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      data: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      hal: { type: "string" },
      site: { type: "string" },
      demo: { type: "boolean" },
      "log-level": { type: "string" },
      help: { type: "boolean" },
    },
  });
}

export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(path, [
      `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    ]);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(path, [`is not valid JSON: ${(err as Error).message}`]);
  }
}
