/**
 * `npm run sim:camera -- --protocol <protocol> --plate AB123CD [--plate …]`: a simulated camera of any
 * supported protocol sends plate reads to a running controller over the real protocol.
 *
 * With the admin token (`--token`, or the file `--token-file`, default ./data/admin-token) the simulator
 * adds itself as a camera through the API, prints each decision from the live socket, and removes itself
 * at the end. Without it, push protocols send from this machine's address (the demo site's camera accepts
 * loopback pushes) or with `--secret`.
 */

import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { freePort } from "./free-port.js";
import { startHikvisionCamera } from "./hikvision-alertstream.js";
import { pushHikvision, TINY_JPEG } from "./hikvision-isapi.js";
import { pushMilesight } from "./milesight-http.js";
import { startMilesightTcpCamera } from "./milesight-tcp.js";
import { pushEdge } from "./numberok-edge.js";
import { startOnvifCamera } from "./onvif.js";
import { connectVivotekSocketCamera, sendVivotekHttpAction } from "./vivotek.js";

const USAGE = `usage: npm run sim:camera -- --protocol <protocol> --plate <plate> [--plate <plate>…]
  --url URL            controller (default http://127.0.0.1:8080)
  --token T            admin token; or --token-file FILE (default ./data/admin-token)
  --secret S           camera secret for push protocols (when not adding a camera)
  --lane ID            lane of the simulated camera (default 1)
  --count N            send the plates N times (default 1)
  --every MS           pause between reads (default 1000)
  --images             send pictures with each read
protocols: generic, milesight-http, hikvision-isapi, numberok-edge, vivotek-http (the camera pushes);
           milesight-tcp, hikvision-alertstream, onvif (the controller connects); vivotek-socket (the camera connects)`;

interface Sender {
  send(plate: string): Promise<string | null>;
  close(): Promise<void>;
}

const { values } = parseArgs({
  options: {
    protocol: { type: "string" },
    plate: { type: "string", multiple: true },
    url: { type: "string", default: "http://127.0.0.1:8080" },
    token: { type: "string" },
    "token-file": { type: "string", default: "data/admin-token" },
    secret: { type: "string" },
    lane: { type: "string", default: "1" },
    count: { type: "string", default: "1" },
    every: { type: "string", default: "1000" },
    images: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const protocol = values.protocol ?? fail("--protocol is required");
const plates = values.plate ?? fail("at least one --plate is required");
const count = Number(values.count);
const every = Number(values.every);
if (!Number.isInteger(count) || count < 1) fail("--count must be a whole number ≥ 1");
if (!Number.isFinite(every) || every < 0) fail("--every must be milliseconds ≥ 0");
const base = values.url.replace(/\/$/, "");
const tokenFile = values["token-file"];
const token = values.token ?? (existsSync(tokenFile) ? readFileSync(tokenFile, "utf8").trim() : null);
const cameraId = `sim-${protocol}-${process.pid}`;
const secret = values.secret ?? `sim-secret-${crypto.randomUUID()}`;
const password = `sim-${crypto.randomUUID()}`;
const credentials = { username: "portcullis", password };

async function api(method: string, path: string, body?: unknown): Promise<any> {
  if (!token) fail(`protocol ${protocol} needs the admin token (--token or --token-file) to add the camera`);
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const reply: any = res.status === 204 ? null : await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${reply?.message ?? ""}`);
  return reply;
}

async function addCamera(fields: Record<string, unknown>): Promise<void> {
  await api("POST", "/cameras", { id: cameraId, protocol, lane: values.lane, ...fields });
  console.log(`added camera ${cameraId} (${protocol}) on lane ${values.lane}`);
}

async function waitConnected(): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const { status } = await api("GET", `/cameras/${cameraId}`);
    if (status.state === "connected") return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the controller did not connect to camera ${cameraId} within 15 s`);
}

const reply = (r: { status: number; body: any }): string =>
  `HTTP ${r.status} ${r.body?.status ?? ""} ${r.body?.decision ?? r.body?.message ?? ""}`.trim();

/** A push protocol: with a token, a camera is added with a fresh secret; without, the given secret or none. */
async function pushSender(
  push: (plate: string, secret: string | undefined) => Promise<string>,
): Promise<Sender> {
  const adding = token !== null && values.secret === undefined;
  if (adding) await addCamera({ secret });
  return {
    send: (plate) => push(plate, adding ? secret : values.secret),
    close: async () => {
      if (adding) await api("DELETE", `/cameras/${cameraId}`);
    },
  };
}

async function linkSender(
  start: () => Promise<{ port: number; sendPlate(p: any): Promise<void>; close(): Promise<void> }>,
): Promise<Sender> {
  const camera = await start();
  await addCamera({ connection: { host: "127.0.0.1", port: camera.port, ...credentials } });
  await waitConnected();
  return {
    send: async (plate) => {
      await camera.sendPlate({ plate, images: values.images });
      return null;
    },
    close: async () => {
      await api("DELETE", `/cameras/${cameraId}`);
      await camera.close();
    },
  };
}

async function sender(): Promise<Sender> {
  const images = values.images;
  switch (protocol) {
    case "generic":
      return pushSender(async (plate, s) => {
        const res = await fetch(`${base}/api/v1/ingest/generic`, {
          method: "POST",
          headers: { "content-type": "application/json", ...(s ? { "x-camera-secret": s } : {}) },
          body: JSON.stringify({ plate }),
        });
        return reply({ status: res.status, body: await res.json() });
      });
    case "milesight-http":
      return pushSender(async (plate, s) =>
        reply(
          await pushMilesight(
            base,
            { plate, ...(images ? { plateImage: TINY_JPEG, fullImage: TINY_JPEG } : {}) },
            s,
          ),
        ),
      );
    case "hikvision-isapi":
      return pushSender(async (plate, s) =>
        reply(await pushHikvision(base, { plate }, { multipart: images, ...(s ? { secret: s } : {}) })),
      );
    case "numberok-edge":
      return pushSender(async (plate, s) => reply(await pushEdge(base, { plate }, s ?? "")));
    case "vivotek-http":
      return pushSender(async (plate, s) =>
        reply(
          await sendVivotekHttpAction(
            base,
            { plate },
            { ...(s ? { secret: s } : {}), ...(images ? { post: "json-image" } : {}) },
          ),
        ),
      );
    case "milesight-tcp":
      return linkSender(() => startMilesightTcpCamera({ host: "127.0.0.1", ...credentials }));
    case "hikvision-alertstream":
      return linkSender(() => startHikvisionCamera(credentials));
    case "onvif":
      return linkSender(() => startOnvifCamera(credentials));
    case "vivotek-socket": {
      const listenPort = await freePort();
      await addCamera({ addresses: ["127.0.0.1"], connection: { listenPort, host: "127.0.0.1" } });
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          const camera = await connectVivotekSocketCamera({
            host: "127.0.0.1",
            port: listenPort,
            format: images ? "json-image" : "json",
          });
          return {
            send: async (plate) => {
              await camera.sendPlate({ plate });
              return null;
            },
            close: async () => {
              await camera.close();
              await api("DELETE", `/cameras/${cameraId}`);
            },
          };
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
    default:
      return fail(`unknown protocol '${protocol}'`);
  }
}

/** Print each decision of this camera as the controller announces it. */
async function watchDecisions(): Promise<WebSocket | null> {
  if (!token) return null;
  const ws = new WebSocket(`${base.replace(/^http/, "ws")}/api/v1/live?topics=decision`, {
    headers: { authorization: `Bearer ${token}` },
  });
  ws.on("message", (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.type === "decision" && msg.event.cameraId === cameraId)
      console.log(
        `  ${msg.event.plate}: ${msg.event.decision} — ${msg.event.reason}` +
          (msg.event.latencyMs === null ? " (no relay)" : ` (relay after ${msg.event.latencyMs} ms)`),
      );
  });
  await new Promise((resolve, reject) => {
    ws.once("message", resolve);
    ws.once("error", reject);
  });
  return ws;
}

async function main(): Promise<void> {
  const live = await watchDecisions();
  const camera = await sender();
  try {
    for (let round = 0; round < count; round++)
      for (const plate of plates) {
        const answer = await camera.send(plate);
        console.log(`sent ${plate}${answer ? `: ${answer}` : ""}`);
        await new Promise((r) => setTimeout(r, every));
      }
  } finally {
    await new Promise((r) => setTimeout(r, 300));
    live?.close();
    await camera.close();
  }
}

main().catch((err: Error) => {
  console.error(`sim:camera: ${err.message}`);
  process.exit(1);
});
