/**
 * `npm start`: parse the boot configuration, put the hardware in its safe state, run the controller,
 * and stop cleanly on SIGINT/SIGTERM.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { installExitSafety } from "../hal/index.js";
import { parseBootConfig, readJsonFile, USAGE } from "./config/boot.js";
import { demoSite, parseSite, type SiteConfig } from "./config/site.js";
import { ConfigError } from "./config/validate.js";
import { Controller } from "./controller.js";
import { startDemoCamera } from "./demo.js";
import { createLogger } from "./util/log.js";

function loadSite(siteFile: string | null, dataDir: string): { site: SiteConfig; source: string } {
  const path = siteFile ?? join(dataDir, "site.json");
  if (siteFile === null && !existsSync(path)) return { site: demoSite(), source: "embedded demo site" };
  return { site: parseSite(readJsonFile(path), path), source: resolve(path) };
}

async function main(): Promise<void> {
  const boot = parseBootConfig(process.argv.slice(2), process.env);
  if (boot === "help") {
    console.log(USAGE);
    return;
  }
  const log = createLogger(boot.logLevel);
  const { site, source } = loadSite(boot.siteFile, boot.dataDir);
  log.info({ source, dataDir: resolve(boot.dataDir) }, "site configuration");

  // Outputs go to their safe state inside hal.start(); the exit guard is armed before anything can fail.
  const hal = Controller.halFor(site, boot.halDriver);
  // A signal is routine (info); an uncaught error is fatal.
  const disarm = installExitSafety(hal, (msg, err) => (err ? log.fatal({ err }, msg) : log.info(msg)));
  const controller = await Controller.start({
    dataDir: boot.dataDir,
    port: boot.port,
    host: boot.host,
    site,
    hal,
    log,
    adminToken: process.env.PORTCULLIS_ADMIN_TOKEN,
  });
  const stopDemo = boot.demo ? startDemoCamera(controller.url, log) : () => {};

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    stopDemo();
    controller
      .stop()
      .then(() => {
        disarm();
        process.exit(0);
      })
      .catch((err) => {
        log.fatal({ err }, "stop failed");
        hal.allSafe();
        process.exit(1);
      });
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    console.error(`portcullis: configuration error in ${err.source}:\n  - ${err.problems.join("\n  - ")}`);
    process.exit(2);
  }
  console.error("portcullis: failed to start:", err);
  process.exit(1);
});
