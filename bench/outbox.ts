/**
 * `npm run bench` (outbox part): the built controller with network actions, against webhook receivers on
 * loopback. Measures (1) outbox throughput and delivery latency (read posted → webhook received) with 5
 * targets, and (2) the decision path — receipt→relay in the server and the camera's round trip — with an
 * empty outbox and with 100,000 undelivered messages queued for a target that is down. Reports numbers;
 * asserts nothing about timing. `--quick` runs a small version.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../firmware/store/db.js";
import { projectRoot } from "../firmware/util/paths.js";
import { freePort } from "../test/sim/free-port.js";
import { milesightPayload } from "../test/sim/milesight-http.js";
import { WebhookPeer } from "../test/sim/peers.js";
import { machineInfo } from "./process.js";
import { type Stats, stats } from "./stats.js";

const quick = process.argv.includes("--quick");
const READS = quick ? 300 : 2000;
const BACKLOG = quick ? 20_000 : 100_000;
const TARGETS = 5;
const TOKEN = "bench-admin-token-0123456789abcdef";
const SECRET = "bench-outbox-camera-secret-0001";

function site(targets: { id: string; url: string }[]): unknown {
  return {
    name: "Outbox benchmark",
    outputs: [{ name: "lane1.barrier", pin: 17 }],
    lanes: [{ id: "1", name: "Lane 1", barrierOutput: "lane1.barrier", openPulseMs: 1 }],
    cameras: [{ id: "cam1", protocol: "milesight-http", lane: "1", secret: SECRET }],
    filters: { repeatWindowMs: 0 },
    // A relay command on every decision, so every event has a receipt→relay latency.
    actions: [
      { on: {}, do: { type: "output-pulse", output: "lane1.barrier", ms: 1 } },
      ...targets.map((t) => ({
        id: t.id,
        on: {},
        do: { type: "http-webhook", url: t.url, backoffMinMs: 1000, backoffMaxMs: 60_000 },
      })),
    ],
    seedLists: [],
  };
}

async function start(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [join(projectRoot(), "dist/portcullis.mjs"), "--data", dataDir, "--port", "0", "--host", "127.0.0.1"],
    { env: { ...process.env, PORTCULLIS_ADMIN_TOKEN: TOKEN }, stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const line = out.split("\n").find((l) => l.includes('"msg":"deciding"'));
      if (line) resolve(JSON.parse(line).url);
    });
    child.once("exit", (code) => reject(new Error(`controller exited with ${code}`)));
  });
  return { child, url };
}

async function stop(child: ChildProcess): Promise<void> {
  await new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/** Post reads one after another (a camera waits for each answer); returns each one's round trip and send time. */
async function post(
  url: string,
  n: number,
  prefix: string,
): Promise<{ rtt: number[]; sentAt: Map<string, number> }> {
  const rtt: number[] = [];
  const sentAt = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const plate = `${prefix}${String(i).padStart(5, "0")}`;
    const t0 = performance.now();
    sentAt.set(plate, t0);
    const res = await fetch(`${url}/api/v1/ingest/milesight`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-camera-secret": SECRET },
      body: JSON.stringify(milesightPayload({ plate })),
    });
    await res.arrayBuffer();
    rtt.push(performance.now() - t0);
  }
  return { rtt, sentAt };
}

/** The controller's own receipt→relay latency of every stored event. */
function serverLatency(dataDir: string): Stats {
  const store = openStore(dataDir);
  try {
    const rows = store.sqlite
      .prepare("select latency_ms as l from events where latency_ms is not null")
      .all() as {
      l: number;
    }[];
    return stats(rows.map((r) => r.l));
  } finally {
    store.close();
  }
}

async function deliveryPhase(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-bench-outbox-"));
  const peers = await Promise.all(Array.from({ length: TARGETS }, () => new WebhookPeer().up()));
  const received = new Map<string, number[]>();
  for (const peer of peers)
    peer.respond = (r) => {
      const plate = JSON.parse(r.body.toString()).plate as string;
      received.set(plate, [...(received.get(plate) ?? []), performance.now()]);
      return 200;
    };
  try {
    writeFileSync(
      join(dir, "site.json"),
      JSON.stringify(site(peers.map((p, i) => ({ id: `hook${i + 1}`, url: p.url })))),
    );
    const { child, url } = await start(dir);
    const t0 = performance.now();
    const { rtt, sentAt } = await post(url, READS, "OB");
    const postedMs = performance.now() - t0;
    while (peers.reduce((n, p) => n + p.received.length, 0) < READS * TARGETS)
      await new Promise((r) => setTimeout(r, 5));
    const deliveredMs = performance.now() - t0;
    const latency: number[] = [];
    for (const [plate, times] of received) for (const t of times) latency.push(t - (sentAt.get(plate) ?? t));
    // Drain: the receivers go down, the reads queue up, the receivers come back; time to deliver the backlog.
    await Promise.all(peers.map((p) => p.down()));
    await post(url, READS, "DR");
    await Promise.all(peers.map((p) => p.up()));
    const d0 = performance.now();
    while (peers.reduce((n, p) => n + p.received.length, 0) < 2 * READS * TARGETS)
      await new Promise((r) => setTimeout(r, 5));
    const drainMs = performance.now() - d0;
    await stop(child);
    return {
      targets: TARGETS,
      reads: READS,
      messages: READS * TARGETS,
      "messages delivered per second, while posting": Math.round((READS * TARGETS) / (deliveredMs / 1000)),
      "reads posted per second": Math.round(READS / (postedMs / 1000)),
      "backlog drained per second (5 targets, after they come back)": Math.round(
        (READS * TARGETS) / (drainMs / 1000),
      ),
      "delivery latency, read posted → webhook received (ms)": round(stats(latency)),
      "camera round trip (ms)": round(stats(rtt)),
      "in-server receipt→relay (ms)": round(serverLatency(dir)),
    };
  } finally {
    await Promise.all(peers.map((p) => p.down()));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Decisions with an empty outbox, then with `backlog` undelivered messages for a target that is down. */
async function backlogPhase(backlog: number): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-bench-outbox-"));
  const deadPort = await freePort(); // nothing listens: connection refused, the target stays down
  try {
    writeFileSync(
      join(dir, "site.json"),
      JSON.stringify(site([{ id: "down", url: `http://127.0.0.1:${deadPort}/hook` }])),
    );
    if (backlog > 0) {
      const store = openStore(dir);
      const insert = store.sqlite.prepare(
        "insert into outbox (target, event_id, created_at, payload, status, attempts, next_attempt_at) values ('down', null, ?, ?, 'pending', 0, ?)",
      );
      const payload = JSON.stringify({ json: JSON.stringify({ plate: "QUEUED", padding: "x".repeat(600) }) });
      const now = Date.now();
      store.sqlite.transaction(() => {
        for (let i = 0; i < backlog; i++) insert.run(now, payload, now);
      })();
      store.close();
    }
    const { child, url } = await start(dir);
    const targets = (await (
      await fetch(`${url}/api/v1/outbox/targets`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { items: { pending: number }[] };
    await post(url, 200, "WU"); // warm-up
    const { rtt } = await post(url, READS, "BL");
    await stop(child);
    return {
      "undelivered messages at start": targets.items[0]?.pending ?? 0,
      "camera round trip (ms)": round(stats(rtt.slice(0))),
      "in-server receipt→relay (ms)": round(serverLatency(dir)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(s: Stats): Record<string, number> {
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  return { n: s.n, p50: r(s.p50), p99: r(s.p99), mean: r(s.mean), max: r(s.max) };
}

async function main(): Promise<void> {
  const result = {
    machine: machineInfo(),
    quick,
    delivery: await deliveryPhase(),
    "decisions, empty outbox": await backlogPhase(0),
    [`decisions, ${BACKLOG.toLocaleString("en")} undelivered`]: await backlogPhase(BACKLOG),
  };
  console.log(JSON.stringify(result, null, 2));
  writeFileSync(
    join(projectRoot(), "bench", "results", quick ? "outbox-quick.json" : "outbox.json"),
    `${JSON.stringify(result, null, 2)}\n`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
