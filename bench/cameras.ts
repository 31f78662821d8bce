/**
 * `npm run bench` (second part): ten simulated cameras of mixed protocols, all with pictures where the
 * protocol carries them, send distinct plates to one controller at a fixed total rate (open loop: a slow
 * controller falls behind, it does not slow the cameras down). Reports the rate the controller sustained
 * (every read decided and stored) and its receipt-to-relay latency under that load, from the stored events.
 * Writes bench/results/cameras.json (`--quick`: cameras-quick.json).
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../firmware/store/db.js";
import { projectRoot } from "../firmware/util/paths.js";
import { freePort } from "../test/sim/free-port.js";
import { fakeJpeg, startHikvisionCamera } from "../test/sim/hikvision-alertstream.js";
import { pushHikvision } from "../test/sim/hikvision-isapi.js";
import { pushMilesight } from "../test/sim/milesight-http.js";
import { startMilesightTcpCamera } from "../test/sim/milesight-tcp.js";
import { pushEdge } from "../test/sim/numberok-edge.js";
import { startOnvifCamera } from "../test/sim/onvif.js";
import { connectVivotekSocketCamera } from "../test/sim/vivotek.js";
import { benchPlate, prepareDataDir } from "./fixture.js";
import { cpuMs, machineInfo, profileArgs } from "./process.js";
import { stats } from "./stats.js";

const quick = process.argv.includes("--quick");
const RATE = 500;
const SECONDS = quick ? 3 : 20;
const LIST_SIZE = quick ? 20_000 : 200_000;
const TOKEN = "bench-admin-token-0123456789abcdef";
const PASSWORD = "bench-camera-password-0123";
const credentials = { username: "bench", password: PASSWORD };
/** A plate crop and a modest full frame, as an LPR camera sends them. */
const PLATE_JPEG = fakeJpeg(4 * 1024);
const FULL_JPEG = fakeJpeg(48 * 1024);

interface BenchCamera {
  id: string;
  protocol: string;
  /** Pictures each of its reads carries. */
  pictures: number;
  config: Record<string, unknown>;
  send(plate: string): Promise<unknown>;
  close(): Promise<void>;
}

const secretOf = (id: string): string => `bench-secret-${id}-0123456789`;

/** The ten cameras: the sims that the controller connects to are started here, before it. */
async function cameras(url: () => string): Promise<BenchCamera[]> {
  const push = (
    id: string,
    protocol: string,
    pictures: number,
    send: (plate: string) => Promise<unknown>,
  ): BenchCamera => ({
    id,
    protocol,
    pictures,
    config: { secret: secretOf(id) },
    send,
    close: async () => {},
  });
  const link = async (
    id: string,
    protocol: string,
    pictures: number,
    camera: {
      port: number;
      sendPlate(p: { plate: string; images?: boolean }): Promise<void>;
      close(): Promise<void>;
    },
  ): Promise<BenchCamera> => ({
    id,
    protocol,
    pictures,
    config: { connection: { host: "127.0.0.1", port: camera.port, ...credentials } },
    send: (plate) => camera.sendPlate({ plate, images: true }),
    close: () => camera.close(),
  });
  const vivotekPort = await freePort();
  let vivotek: Awaited<ReturnType<typeof connectVivotekSocketCamera>> | null = null;
  return [
    push("ms-http-1", "milesight-http", 2, (plate) =>
      pushMilesight(url(), { plate, plateImage: PLATE_JPEG, fullImage: FULL_JPEG }, secretOf("ms-http-1")),
    ),
    push("ms-http-2", "milesight-http", 2, (plate) =>
      pushMilesight(
        url(),
        { plate, plateImage: PLATE_JPEG, fullImage: FULL_JPEG, generation: "title" },
        secretOf("ms-http-2"),
      ),
    ),
    push("hik-isapi-1", "hikvision-isapi", 2, (plate) =>
      pushHikvision(url(), { plate }, { multipart: true, secret: secretOf("hik-isapi-1") }),
    ),
    push("hik-isapi-2", "hikvision-isapi", 2, (plate) =>
      pushHikvision(url(), { plate }, { multipart: true, secret: secretOf("hik-isapi-2") }),
    ),
    push("numberok-1", "numberok-edge", 1, (plate) => pushEdge(url(), { plate }, secretOf("numberok-1"))),
    await link(
      "ms-tcp-1",
      "milesight-tcp",
      2,
      await startMilesightTcpCamera({ host: "127.0.0.1", ...credentials }),
    ),
    await link(
      "ms-tcp-2",
      "milesight-tcp",
      2,
      await startMilesightTcpCamera({ host: "127.0.0.1", ...credentials }),
    ),
    await link(
      "hik-arm-1",
      "hikvision-alertstream",
      2,
      await startHikvisionCamera({ ...credentials, heartbeatMs: 10_000 }),
    ),
    await link("onvif-1", "onvif", 0, await startOnvifCamera(credentials)),
    {
      id: "vivotek-1",
      protocol: "vivotek-socket",
      pictures: 1,
      config: { addresses: ["127.0.0.1"], connection: { listenPort: vivotekPort, host: "127.0.0.1" } },
      async send(plate) {
        vivotek ??= await connectVivotekSocketCamera({
          host: "127.0.0.1",
          port: vivotekPort,
          format: "json-image",
        });
        return vivotek.sendPlate({ plate });
      },
      close: async () => vivotek?.close(),
    },
  ];
}

function site(list: BenchCamera[]): unknown {
  return {
    name: "Camera benchmark",
    outputs: list.map((_, i) => ({ name: `lane${i + 1}.barrier`, pin: i + 1 })),
    lanes: list.map((_, i) => ({
      id: String(i + 1),
      name: `Lane ${i + 1}`,
      barrierOutput: `lane${i + 1}.barrier`,
      openPulseMs: 1,
    })),
    cameras: list.map((c, i) => ({ id: c.id, protocol: c.protocol, lane: String(i + 1), ...c.config })),
    filters: { repeatWindowMs: 0, minConfidence: 0 },
    seedLists: [],
  };
}

async function startController(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      ...profileArgs(),
      join(projectRoot(), "dist/portcullis.mjs"),
      "--data",
      dataDir,
      "--port",
      "0",
      "--host",
      "127.0.0.1",
    ],
    { env: { ...process.env, PORTCULLIS_ADMIN_TOKEN: TOKEN }, stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = buffer.split("\n").find((l) => l.includes('"msg":"deciding"'));
      if (line) resolve(JSON.parse(line).url);
    });
    child.once("exit", (code) => reject(new Error(`controller exited with ${code} before it was ready`)));
  });
  child.stdout?.resume();
  return { child, url };
}

async function waitAllConnected(url: string, ids: string[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${url}/api/v1/cameras`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const { items } = (await res.json()) as { items: { id: string; status: { state: string } }[] };
    const waiting = items.filter((c) => ids.includes(c.id) && c.status.state === "connecting");
    if (waiting.length === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("link cameras did not connect within 20 s");
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "portcullis-bench-cameras-"));
  let controller: { child: ChildProcess; url: string } | null = null;
  const list = await cameras(() => controller?.url ?? "");
  try {
    prepareDataDir(dataDir, LIST_SIZE);
    writeFileSync(join(dataDir, "site.json"), JSON.stringify(site(list), null, 2));
    controller = await startController(dataDir);
    await waitAllConnected(
      controller.url,
      list.map((c) => c.id),
    );
    // The vivotek camera connects on its first read; give it one (and every camera one) before the clock runs.
    await Promise.all(list.map((c, i) => c.send(benchPlate(LIST_SIZE - 1 - i))));

    const total = RATE * SECONDS;
    const errors: string[] = [];
    const inFlight: Promise<unknown>[] = [];
    const pid = controller.child.pid as number;
    const cpuBefore = cpuMs(pid);
    const t0 = performance.now();
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE));
      for (; sent < due; sent++) {
        const camera = list[sent % list.length] as BenchCamera;
        inFlight.push(
          camera.send(benchPlate(sent)).catch((err: Error) => errors.push(`${camera.id}: ${err.message}`)),
        );
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(inFlight);
    const sendSeconds = (performance.now() - t0) / 1000;
    // Let the last link reads land, then stop the controller: it commits and writes pictures on the way out.
    await new Promise((r) => setTimeout(r, 1000));
    const serverCpuMs = cpuMs(pid) - cpuBefore;
    controller.child.kill("SIGTERM");
    await new Promise((r) => controller?.child.once("exit", r));

    const store = openStore(dataDir);
    let rows: { latency: number; received: number; relay: number; camera: string }[];
    let images: number;
    let picturesPerCamera: Record<string, number>;
    try {
      rows = store.sqlite
        .prepare(
          "select latency_ms as latency, received_at as received, relay_at as relay, camera_id as camera from events where latency_ms is not null order by id",
        )
        .all() as typeof rows;
      images = (store.sqlite.prepare("select count(*) as n from event_images").get() as { n: number }).n;
      picturesPerCamera = Object.fromEntries(
        (
          store.sqlite
            .prepare(
              "select e.camera_id as camera, count(*) as n from event_images i join events e on e.id = i.event_id group by e.camera_id",
            )
            .all() as { camera: string; n: number }[]
        ).map((r) => [r.camera, r.n]),
      );
    } finally {
      store.close();
    }
    const measured = rows.slice(list.length);
    const first = measured[0]?.received ?? 0;
    const last = Math.max(...measured.map((r) => r.relay));
    const perCamera = Object.fromEntries(
      list.map((c) => [c.id, measured.filter((r) => r.camera === c.id).length]),
    );
    const latency = stats(measured.map((r) => r.latency));
    // Every stored read (warm-up included) with all the pictures its camera sent.
    const picturesExpected = rows.reduce(
      (sum, r) => sum + (list.find((c) => c.id === r.camera)?.pictures ?? 0),
      0,
    );
    const sustained = measured.length / ((last - first) / 1000);
    const machine = machineInfo();
    const report = {
      date: new Date().toISOString(),
      quick,
      machine,
      cameras: list.map((c) => `${c.id} (${c.protocol})`),
      pictureBytes: { plate: PLATE_JPEG.length, full: FULL_JPEG.length },
      offeredRatePerS: RATE,
      seconds: SECONDS,
      sent: total,
      sendSeconds,
      decided: measured.length,
      decidedPerCamera: perCamera,
      picturesStored: images,
      picturesExpected,
      picturesPerCamera,
      sendErrors: errors.slice(0, 10),
      sustainedReadsPerS: sustained,
      serverCpuPerReadMs: serverCpuMs / total,
      receiptToRelayMs: latency,
      targets: {
        "≥ 500 reads/s sustained across 10 cameras": measured.length === total && sustained >= 500,
        "receipt-to-relay p99 < 10 ms under that load": latency.p99 < 10,
        "every picture stored": images === picturesExpected,
      },
    };
    const out = join(projectRoot(), "bench", "results", quick ? "cameras-quick.json" : "cameras.json");
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(
      `\nPortcullis camera benchmark — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`,
    );
    console.log(`10 cameras: ${report.cameras.join(", ")}`);
    console.table({
      "offered (reads/s)": { value: RATE },
      "sent / decided and stored": { value: `${total} / ${measured.length}` },
      "sustained (reads/s)": { value: Math.round(sustained) },
      "pictures stored / sent": { value: `${images} / ${picturesExpected}` },
      "server CPU per read (ms)": { value: (serverCpuMs / total).toFixed(2) },
      "receipt→relay p50 / p99 / max (ms)": {
        value: `${latency.p50.toFixed(2)} / ${latency.p99.toFixed(2)} / ${latency.max.toFixed(2)}`,
      },
      "send errors": { value: errors.length },
    });
    for (const [target, met] of Object.entries(report.targets))
      console.log(`${met ? "met    " : "MISSED "} ${target}`);
    console.log(`\nwritten to ${out}`);
  } finally {
    if (controller && controller.child.exitCode === null) controller.child.kill("SIGTERM");
    await Promise.all(list.map((c) => c.close().catch(() => {})));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
