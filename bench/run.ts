/**
 * `npm run bench`: measures the controller from outside, the way a camera and a guard's panel see it.
 * A load generator posts Milesight reads to a separately started controller (1,000,000-plate Allow list)
 * and times each request from send to the relay-transition message on the live socket. Also: throughput,
 * server CPU per decision, exact/fuzzy lookup, start-up time to deciding, resident memory.
 * Prints a table and writes bench/results/latest.json. `--quick` runs a small version (for CI smoke).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { skeleton } from "../firmware/domain/plate.js";
import { openStore } from "../firmware/store/db.js";
import { ListsRepo } from "../firmware/store/lists-repo.js";
import { projectRoot } from "../firmware/util/paths.js";
import { milesightPayload } from "../test/sim/milesight-http.js";
import { benchPlate, cameraSecret, LANES, prepareDataDir } from "./fixture.js";
import { cpuMs, machineInfo, profileArgs, rssMb } from "./process.js";
import { type Stats, stats } from "./stats.js";

const quick = process.argv.includes("--quick");
const LIST_SIZE = quick ? 50_000 : 1_000_000;
const REQUESTS = quick ? 1_000 : 10_000;
const WARMUP = quick ? 300 : 2_000;
const TOKEN = "bench-admin-token-0123456789abcdef";

async function startServer(
  dataDir: string,
  script = "dist/portcullis.mjs",
  extraArgs: string[] = ["--data", dataDir, "--port", "0", "--host", "127.0.0.1", "--log-level", "info"],
): Promise<{ child: ChildProcess; url: string; readyMs: number; firstDecisionMs: number }> {
  const t0 = performance.now();
  // PORTCULLIS_BENCH_PROFILE=DIR writes a V8 CPU profile of each server to DIR (open it in Chrome DevTools).
  const child = spawn(process.execPath, [...profileArgs(), join(projectRoot(), script), ...extraArgs], {
    env: { ...process.env, PORTCULLIS_ADMIN_TOKEN: TOKEN },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      for (const line of buffer.split("\n")) {
        if (!line.includes('"msg":"deciding"')) continue;
        resolve(JSON.parse(line).url);
      }
      buffer = buffer.slice(buffer.lastIndexOf("\n") + 1);
    });
    child.once("exit", (code) => reject(new Error(`controller exited with ${code} before it was ready`)));
  });
  const readyMs = performance.now() - t0;
  const res = await fetch(`${url}/api/v1/ingest/milesight`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-camera-secret": cameraSecret(1) },
    body: JSON.stringify(milesightPayload({ plate: benchPlate(0) })),
  });
  const body = (await res.json()) as { decision?: string };
  if (body.decision !== "allow") throw new Error(`first decision was ${JSON.stringify(body)}`);
  return { child, url, readyMs, firstDecisionMs: performance.now() - t0 };
}

/** Live socket listener: resolves a waiter when its lane's barrier goes active. */
async function relayWatcher(
  url: string,
): Promise<{ wait(lane: number): Promise<number>; isActive(lane: number): boolean; close(): void }> {
  const ws = new WebSocket(`${url.replace("http", "ws")}/api/v1/live?topics=io`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  const waiting = new Map<number, (at: number) => void>();
  const active = new Set<number>();
  const idle = new Map<number, (() => void)[]>();
  ws.on("message", (data) => {
    const at = performance.now();
    const msg = JSON.parse(data.toString()) as { type: string; name?: string; state?: string };
    if (msg.type !== "io" || !msg.name?.endsWith(".barrier")) return;
    const lane = Number(msg.name.slice(4, -8));
    if (msg.state === "active") {
      active.add(lane);
      waiting.get(lane)?.(at);
      waiting.delete(lane);
    } else {
      active.delete(lane);
      for (const f of idle.get(lane) ?? []) f();
      idle.delete(lane);
    }
  });
  await new Promise((resolve, reject) => {
    ws.once("message", resolve);
    ws.once("error", reject);
  });
  return {
    wait: (lane) => new Promise((resolve) => waiting.set(lane, resolve)),
    isActive: (lane) => active.has(lane),
    close: () => ws.close(),
  };
}

/**
 * A lean HTTP/1.1 keep-alive client on a raw socket: the load generator shares this machine's cores with
 * the controller, so every microsecond it spends is taken from the server being measured. Requests are sent
 * as ready-made bytes; a reply is read only as far as its status line, length and body.
 */
class RawClient {
  private buffer: Buffer = Buffer.alloc(0);
  private pending: ((reply: { status: number; body: Buffer }) => void) | null = null;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      this.drain();
    });
  }

  static open(url: string): Promise<RawClient> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => resolve(new RawClient(socket)));
      socket.once("error", reject);
    });
  }

  /** Send one complete request (head and body); resolves with the reply. */
  send(request: Buffer): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve) => {
      this.pending = resolve;
      this.socket.write(request);
    });
  }

  close(): void {
    this.socket.end();
  }

  private drain(): void {
    const end = this.buffer.indexOf("\r\n\r\n");
    if (end < 0 || !this.pending) return;
    const head = this.buffer.toString("latin1", 0, end).toLowerCase();
    const at = head.indexOf("content-length:");
    const length = at < 0 ? 0 : Number.parseInt(head.slice(at + 15), 10);
    if (this.buffer.length < end + 4 + length) return;
    const body = this.buffer.subarray(end + 4, end + 4 + length);
    this.buffer = this.buffer.subarray(end + 4 + length);
    const resolve = this.pending;
    this.pending = null;
    resolve({ status: Number(head.slice(9, 12)), body });
  }
}

/**
 * The phase's requests, built before it starts so that building them is not measured against the server:
 * each read's head and JSON body (a distinct listed plate each), and the head lines of each lane's camera.
 */
function prepareRequests(count: number): { laneHead: Buffer[]; rest: Buffer[] } {
  const laneHead = Array.from({ length: LANES + 1 }, (_, lane) =>
    Buffer.from(
      `POST /api/v1/ingest/milesight HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\nx-camera-secret: ${cameraSecret(lane)}\r\n`,
      "latin1",
    ),
  );
  let plate = Math.floor(Math.random() * LIST_SIZE);
  const rest = Array.from({ length: count }, () => {
    const body = Buffer.from(JSON.stringify(milesightPayload({ plate: benchPlate(plate++ % LIST_SIZE) })));
    return Buffer.concat([Buffer.from(`content-length: ${body.length}\r\n\r\n`, "latin1"), body]);
  });
  return { laneHead, rest };
}

const ALLOWED = Buffer.from('"decision":"allow"');

async function loadPhase(
  url: string,
  concurrency: number,
  count: number,
  pid: number,
): Promise<{ latency: Stats; http: Stats; throughput: number; cpuPerDecisionMs: number }> {
  const clients = await Promise.all(Array.from({ length: concurrency }, () => RawClient.open(url)));
  const relay = await relayWatcher(url);
  const requests = prepareRequests(count);
  const lanesPer = Math.floor(LANES / concurrency);
  const latencies: number[] = [];
  const httpTimes: number[] = [];
  let issued = 0;

  async function worker(w: number): Promise<void> {
    const client = clients[w] as RawClient;
    const myLanes = Array.from({ length: lanesPer }, (_, k) => w * lanesPer + k + 1);
    let k = 0;
    while (issued < count) {
      const request = requests.rest[issued++] as Buffer;
      // A pulse still running on a lane would be retriggered without a transition: use an idle lane.
      let lane = myLanes[k++ % myLanes.length] as number;
      for (let tries = 0; relay.isActive(lane) && tries < myLanes.length; tries++)
        lane = myLanes[k++ % myLanes.length] as number;
      while (relay.isActive(lane)) await new Promise((r) => setTimeout(r, 1));
      const bytes = Buffer.concat([requests.laneHead[lane] as Buffer, request]);
      const relayed = relay.wait(lane);
      const t0 = performance.now();
      const reply = await client.send(bytes);
      const t1 = performance.now();
      if (reply.status !== 200 || reply.body.indexOf(ALLOWED) < 0)
        throw new Error(`unexpected reply ${reply.status} ${reply.body.toString()}`);
      const relayAt = await relayed;
      latencies.push(relayAt - t0);
      httpTimes.push(t1 - t0);
    }
  }

  const cpu0 = cpuMs(pid);
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const elapsed = performance.now() - start;
  const cpu1 = cpuMs(pid);
  relay.close();
  for (const c of clients) c.close();
  return {
    latency: stats(latencies),
    http: stats(httpTimes),
    throughput: (latencies.length / elapsed) * 1000,
    cpuPerDecisionMs: (cpu1 - cpu0) / latencies.length,
  };
}

/** Every event the controller stored during the load, and its own receipt-to-relay latency. */
function serverLatencies(dataDir: string): { count: number; stats: Stats } {
  const store = openStore(dataDir);
  try {
    const rows = store.sqlite
      .prepare<[], { latency: number }>(
        "select latency_ms as latency from events where latency_ms is not null",
      )
      .all();
    return { count: rows.length, stats: stats(rows.map((r) => r.latency)) };
  } finally {
    store.close();
  }
}

function lookupBench(dataDir: string): { exact: Stats; fuzzy: Stats } {
  const store = openStore(dataDir);
  try {
    const samples = quick ? 5_000 : 50_000;
    const exactRepo = new ListsRepo(store);
    // Warm-up, not measured: right after the fixture is written the OS is still flushing it to disk, and the
    // first reads measure that writeback rather than the lookup.
    for (let i = 0; i < samples / 5; i++) exactRepo.candidates(benchPlate((i * 31) % LIST_SIZE));
    const exact: number[] = [];
    for (let i = 0; i < samples; i++) {
      const plate = benchPlate((i * 7919) % LIST_SIZE);
      const t = performance.now();
      const found = exactRepo.candidates(plate);
      exact.push((performance.now() - t) * 1000);
      if (found.length !== 1) throw new Error(`exact lookup of ${plate} found ${found.length}`);
    }
    store.sqlite.prepare("update lists set max_distance = 1 where name = 'Allow'").run();
    const fuzzyRepo = new ListsRepo(store);
    const fuzzy: number[] = [];
    for (let i = 0; i < samples; i++) {
      const plate = benchPlate((i * 104_729) % LIST_SIZE);
      // One OCR-style misread at a random position: the fuzzy path must find the listed plate.
      const at = i % plate.length;
      const misread =
        plate.slice(0, at) + (skeleton(plate[at] as string) === "0" ? "8" : "0") + plate.slice(at + 1);
      const t = performance.now();
      const found = fuzzyRepo.candidates(misread);
      fuzzy.push((performance.now() - t) * 1000);
      if (!found.some((m) => m.entry.plate === plate))
        throw new Error(`fuzzy lookup of ${misread} missed ${plate}`);
    }
    store.sqlite.prepare("update lists set max_distance = 0 where name = 'Allow'").run();
    return { exact: stats(exact), fuzzy: stats(fuzzy) };
  } finally {
    store.close();
  }
}

const fmt = (n: number, digits = 3): string => n.toFixed(digits);

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "portcullis-bench-"));
  try {
    const t0 = performance.now();
    prepareDataDir(dataDir, LIST_SIZE);
    console.log(
      `fixture: ${LIST_SIZE.toLocaleString("en")} plates in ${fmt((performance.now() - t0) / 1000, 1)} s`,
    );
    const lookup = lookupBench(dataDir);

    const server = await startServer(dataDir);
    const pid = server.child.pid as number;
    // With the list loaded and the controller deciding, before any load: what the list itself costs.
    const memoryAtStart = rssMb(pid);
    const results: Record<string, unknown> = {};
    try {
      await loadPhase(server.url, 1, WARMUP, pid);
      const c1 = await loadPhase(server.url, 1, REQUESTS, pid);
      await loadPhase(server.url, 32, WARMUP, pid);
      const c32 = await loadPhase(server.url, 32, REQUESTS, pid);
      const memory = { afterStart: memoryAtStart.rss, afterLoad: rssMb(pid).rss, peak: rssMb(pid).peak };
      Object.assign(results, { c1, c32, memory });
    } finally {
      server.child.kill("SIGTERM");
      await new Promise((r) => server.child.once("exit", r));
    }

    // What the controller itself recorded: receipt of the request to the relay command, per stored event.
    const inServer = serverLatencies(dataDir);
    const sent = 1 + 2 * WARMUP + 2 * REQUESTS;
    if (inServer.count !== sent)
      throw new Error(`${sent} reads were decided but ${inServer.count} events were stored`);

    // The same load against the bare baseline: what this machine allows with no storage, auth or HAL.
    const baselineServer = await startServer(dataDir, "dist/bench/baseline.js", [String(LIST_SIZE)]);
    let baseline: { c1: Awaited<ReturnType<typeof loadPhase>>; c32: Awaited<ReturnType<typeof loadPhase>> };
    try {
      const bpid = baselineServer.child.pid as number;
      await loadPhase(baselineServer.url, 1, WARMUP, bpid);
      const bc1 = await loadPhase(baselineServer.url, 1, REQUESTS, bpid);
      await loadPhase(baselineServer.url, 32, WARMUP, bpid);
      baseline = { c1: bc1, c32: await loadPhase(baselineServer.url, 32, REQUESTS, bpid) };
    } finally {
      baselineServer.child.kill("SIGTERM");
      await new Promise((r) => baselineServer.child.once("exit", r));
    }

    const { c1, c32, memory } = results as {
      c1: Awaited<ReturnType<typeof loadPhase>>;
      c32: Awaited<ReturnType<typeof loadPhase>>;
      memory: { afterStart: number; afterLoad: number; peak: number };
    };
    const machine = machineInfo();
    const report = {
      date: new Date().toISOString(),
      quick,
      machine,
      listSize: LIST_SIZE,
      requestsPerPhase: REQUESTS,
      actuationLatencyMs: { concurrency1: c1.latency, concurrency32: c32.latency },
      httpReplyMs: { concurrency1: c1.http, concurrency32: c32.http },
      throughputPerS: { concurrency1: c1.throughput, concurrency32: c32.throughput },
      serverCpuPerDecisionMs: { concurrency1: c1.cpuPerDecisionMs, concurrency32: c32.cpuPerDecisionMs },
      lookupUs: lookup,
      startupMs: { toDeciding: server.readyMs, toFirstDecision: server.firstDecisionMs },
      residentMemoryMb: memory,
      storedEvents: inServer.count,
      receiptToRelayInServerMs: inServer.stats,
      bareBaseline: {
        what: "bare Fastify + ws: POST → Set lookup → relay message → 200; no storage, auth or HAL",
        actuationLatencyMs: { concurrency1: baseline.c1.latency, concurrency32: baseline.c32.latency },
        throughputPerS: { concurrency1: baseline.c1.throughput, concurrency32: baseline.c32.throughput },
        serverCpuPerDecisionMs: {
          concurrency1: baseline.c1.cpuPerDecisionMs,
          concurrency32: baseline.c32.cpuPerDecisionMs,
        },
      },
      targets: {
        "p99 at concurrency 1 ≤ 1 ms": c1.latency.p99 <= 1,
        "≥ 12,000 req/s at concurrency 32": c32.throughput >= 12_000,
        "exact lookup p99 < 50 µs": lookup.exact.p99 < 50,
        "fuzzy lookup p99 < 1 ms": lookup.fuzzy.p99 < 1000,
        "start-up ≤ 1 s": server.readyMs <= 1000,
        "RSS with the list loaded ≤ 150 MB": memory.afterStart <= 150,
      },
    };
    const out = join(projectRoot(), "bench", "results", quick ? "quick.json" : "latest.json");
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);

    console.log(
      `\nPortcullis benchmark — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${LIST_SIZE.toLocaleString("en")}-plate Allow list`,
    );
    console.table({
      "actuation latency c=1 (ms)": {
        p50: fmt(c1.latency.p50),
        p99: fmt(c1.latency.p99),
        max: fmt(c1.latency.max),
      },
      "actuation latency c=32 (ms)": {
        p50: fmt(c32.latency.p50),
        p99: fmt(c32.latency.p99),
        max: fmt(c32.latency.max),
      },
      "bare baseline latency c=1 (ms)": {
        p50: fmt(baseline.c1.latency.p50),
        p99: fmt(baseline.c1.latency.p99),
        max: fmt(baseline.c1.latency.max),
      },
      "bare baseline latency c=32 (ms)": {
        p50: fmt(baseline.c32.latency.p50),
        p99: fmt(baseline.c32.latency.p99),
        max: fmt(baseline.c32.latency.max),
      },
      "in-server receipt→relay, all events (ms)": {
        p50: fmt(inServer.stats.p50),
        p99: fmt(inServer.stats.p99),
        max: fmt(inServer.stats.max),
      },
      "HTTP reply c=1 (ms)": { p50: fmt(c1.http.p50), p99: fmt(c1.http.p99), max: fmt(c1.http.max) },
      "exact lookup (µs)": {
        p50: fmt(lookup.exact.p50, 1),
        p99: fmt(lookup.exact.p99, 1),
        max: fmt(lookup.exact.max, 1),
      },
      "fuzzy lookup, distance 1 (µs)": {
        p50: fmt(lookup.fuzzy.p50, 1),
        p99: fmt(lookup.fuzzy.p99, 1),
        max: fmt(lookup.fuzzy.max, 1),
      },
    });
    console.table({
      "throughput c=1 (req/s)": { value: Math.round(c1.throughput) },
      "throughput c=32 (req/s)": { value: Math.round(c32.throughput) },
      "bare baseline throughput c=32 (req/s)": { value: Math.round(baseline.c32.throughput) },
      "bare baseline CPU per decision c=32 (ms)": { value: fmt(baseline.c32.cpuPerDecisionMs) },
      "server CPU per decision c=1 (ms)": { value: fmt(c1.cpuPerDecisionMs) },
      "server CPU per decision c=32 (ms)": { value: fmt(c32.cpuPerDecisionMs) },
      "start-up to deciding (ms)": { value: Math.round(server.readyMs) },
      "start-up to first decision (ms)": { value: Math.round(server.firstDecisionMs) },
      "RSS after start / after load / peak (MB)": {
        value: `${fmt(memory.afterStart, 0)} / ${fmt(memory.afterLoad, 0)} / ${fmt(memory.peak, 0)}`,
      },
    });
    for (const [target, met] of Object.entries(report.targets))
      console.log(`${met ? "met    " : "MISSED "} ${target}`);
    console.log(`\nwritten to ${out}`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
