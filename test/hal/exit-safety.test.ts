/**
 * installExitSafety() in a real child process: the child runs the compiled HAL (dist/, built by `npm test`
 * before vitest runs), energises its outputs, then leaves by the path under test and prints the sim's
 * electrical levels from its exit handler.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const child = fileURLToPath(new URL("./fixtures/exit-safety-child.mjs", import.meta.url));
const dist = fileURLToPath(new URL("../../dist/hal/index.js", import.meta.url));

/** Safe levels: barrier is active-low NO (off = high), lamp is active-high NO (off = low). */
const SAFE = { barrier: 1, lamp: 0 };
const ACTIVE = { barrier: 0, lamp: 1 };

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: Array<{ at: string; levels: Record<string, number> }>;
  stderr: string;
}

/** Run the child in `mode`; if `signal` is given, send it once the child prints "ready". */
function run(mode: string, signal?: NodeJS.Signals): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, mode], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (signal && stdout.includes('"at":"ready"')) {
        proc.kill(signal);
        signal = undefined;
      }
    });
    proc.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    proc.on("error", reject);
    proc.on("close", (code, sig) => {
      const lines = stdout
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line));
      resolve({ code, signal: sig, lines, stderr });
    });
  });
}

beforeAll(() => {
  if (!existsSync(dist)) throw new Error(`${dist} is missing: run "npm run build" (npm test does) first`);
});

describe("installExitSafety (child process)", () => {
  it("uncaught exception: drives safe, logs, exits with code 1", async () => {
    const r = await run("uncaught");
    expect(r.lines[0]).toEqual({ at: "active", levels: ACTIVE });
    expect(r.lines.at(-1)).toEqual({ at: "exit 1", levels: SAFE });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "LOG uncaught exception; outputs driven to their safe state, exiting with code 1: boom",
    );
  });

  it("unhandled rejection: drives safe, logs, exits with code 1", async () => {
    const r = await run("rejection");
    expect(r.lines.at(-1)).toEqual({ at: "exit 1", levels: SAFE });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("LOG unhandled promise rejection; outputs driven to their safe state");
  });

  it("SIGTERM with no other handler: drives safe and exits with 128 + 15", async () => {
    const r = await run("sigterm", "SIGTERM");
    expect(r.lines.map((l) => l.at)).toEqual(["active", "ready", "exit 143"]);
    expect(r.lines.at(-1)?.levels).toEqual(SAFE);
    expect(r.code).toBe(143);
    expect(r.stderr).toContain("LOG SIGTERM: outputs driven to their safe state");
  });

  it("SIGTERM with the firmware's own handler: safe before that handler runs, which then decides the exit", async () => {
    const r = await run("sigterm-handled", "SIGTERM");
    expect(r.lines.map((l) => l.at)).toEqual(["active", "ready", "firmware handler", "exit 0"]);
    expect(r.lines[2]?.levels).toEqual(SAFE);
    expect(r.lines[3]?.levels).toEqual(SAFE);
    expect(r.code).toBe(0);
  });

  it("process.exit(): drives safe in the exit handler", async () => {
    const r = await run("exit");
    expect(r.lines.at(-1)).toEqual({ at: "exit 3", levels: SAFE });
    expect(r.code).toBe(3);
  });
});
