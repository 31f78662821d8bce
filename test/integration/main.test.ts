/** The controller as `npm start` runs it: the compiled entry point in its own process. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

// What `npm start` runs: the bundled controller.
const MAIN = join(import.meta.dirname, "../../dist/portcullis.mjs");
const dirs: string[] = [];
const children: ChildProcess[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-main-"));
  dirs.push(dir);
  return dir;
}

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

function start(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Started> {
  const { PORTCULLIS_ADMIN_TOKEN: _drop, ...cleanEnv } = process.env;
  const child = spawn(process.execPath, [MAIN, "--port", "0", "--host", "127.0.0.1", ...args], {
    env: { ...cleanEnv, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  child.stdout?.on("data", (c) => (out += c));
  child.stderr?.on("data", (c) => (out += c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in time:\n${out}`)), 15_000);
    child.stdout?.on("data", () => {
      const line = out.split("\n").find((l) => l.includes('"msg":"deciding"'));
      if (line) {
        clearTimeout(timer);
        resolve({ child, url: JSON.parse(line).url, output: () => out });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${out}`));
    });
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("npm start", () => {
  it("starts on the demo site, generates a private admin token without logging it, and stops on SIGTERM", async () => {
    const data = tempDir();
    const { child, url, output } = await start(["--data", data]);
    const tokenFile = join(data, "admin-token");
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, "utf8").trim();
    expect(output()).toContain(tokenFile);
    expect(output()).not.toContain(token);

    expect((await fetch(`${url}/api/v1/health`)).status).toBe(200);
    expect((await fetch(`${url}/api/v1/lists`)).status).toBe(401);
    const lists: any = await (
      await fetch(`${url}/api/v1/lists`, { headers: { authorization: `Bearer ${token}` } })
    ).json();
    expect(lists.items.map((l: { name: string; kind: string }) => `${l.name}:${l.kind}`)).toEqual([
      "Allow:allow",
      "Block:block",
    ]);
    const panel = await fetch(`${url}/`);
    expect(panel.status).toBe(200);

    child.kill("SIGTERM");
    expect(await exitOf(child)).toBe(0);
    expect(output()).toContain('"msg":"stopped"');
  });

  it("--demo posts simulated camera reads that get decided", async () => {
    const data = tempDir();
    const { url } = await start(["--data", data, "--demo"], {
      PORTCULLIS_ADMIN_TOKEN: "demo-admin-token-0123456789",
    });
    const deadline = Date.now() + 12_000;
    let items: { decision: string }[] = [];
    while (Date.now() < deadline && items.length < 2) {
      await new Promise((r) => setTimeout(r, 500));
      items = (
        (await (
          await fetch(`${url}/api/v1/events`, {
            headers: { authorization: "Bearer demo-admin-token-0123456789" },
          })
        ).json()) as any
      ).items;
    }
    expect(items.length).toBeGreaterThanOrEqual(2);
    // The demo's first two plates are one allowed and one blocked.
    expect(new Set(items.map((e) => e.decision))).toEqual(new Set(["allow", "deny"]));
  });

  it("stops on SIGTERM with exit code 0 even when whoever read its output is gone", async () => {
    const { child } = await start(["--data", tempDir()]);
    child.stdout?.destroy(); // the reading end closes: each write to stdout now fails with EPIPE
    child.kill("SIGTERM");
    const stillRunning = new Promise((r) => setTimeout(() => r("still running after 10 s"), 10_000));
    expect(await Promise.race([exitOf(child), stillRunning])).toBe(0);
  });

  it("refuses a bad site file with exit code 2 and says what and where", async () => {
    const data = tempDir();
    const site = join(data, "bad-site.json");
    writeFileSync(site, JSON.stringify({ lanes: [{ id: "1", name: "L", barrierOutput: "missing" }] }));
    const child = spawn(process.execPath, [MAIN, "--data", data, "--site", site], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (c) => (err += c));
    expect(await exitOf(child)).toBe(2);
    expect(err).toContain(site);
    expect(err).toContain("/lanes/0/barrierOutput 'missing' is not among outputs");
  });

  it("refuses an unknown flag with exit code 2", async () => {
    const child = spawn(process.execPath, [MAIN, "--prot", "80"], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (c) => (err += c));
    expect(await exitOf(child)).toBe(2);
    expect(err).toMatch(/prot/);
  });
});
