/**
 * The floor this machine allows: a bare Fastify + ws server doing only what the Node-RED reference flow does
 * — POST → in-memory lookup → relay message on a WebSocket → 200 — with no storage, no auth, no HAL.
 * It speaks the same wire protocol as the controller, so the same load generator measures both.
 * Run as a child process by bench/run.ts: `node dist/bench/baseline.js <listSize>`; prints its URL.
 */
import Fastify from "fastify";
import { WebSocketServer } from "ws";
import { benchPlate, PULSE_MS } from "./fixture.js";

const size = Number(process.argv[2] ?? 1000);
const allowed = new Set<string>();
for (let i = 0; i < size; i++) allowed.add(benchPlate(i));

const app = Fastify();
const wss = new WebSocketServer({ noServer: true });
const send = (name: string, state: string): void => {
  const text = JSON.stringify({ type: "io", name, state, changedAt: new Date().toISOString() });
  for (const client of wss.clients) client.send(text);
};
app.post("/api/v1/ingest/milesight", async (req) => {
  const plate = String((req.body as { plate?: unknown }).plate ?? "").toUpperCase();
  const lane = String(req.headers["x-camera-secret"] ?? "").slice(-4);
  const allow = allowed.has(plate);
  if (allow) {
    const name = `lane${Number(lane)}.barrier`;
    send(name, "active");
    setTimeout(() => send(name, "inactive"), PULSE_MS);
  }
  return { status: "decided", decision: allow ? "allow" : "deny" };
});
app.server.on("upgrade", (req, socket, head) =>
  wss.handleUpgrade(req, socket, head, (ws) => ws.send(JSON.stringify({ type: "hello" }))),
);
await app.listen({ port: 0, host: "127.0.0.1" });
const address = app.server.address();
console.log(
  JSON.stringify({
    msg: "deciding",
    url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`,
  }),
);
