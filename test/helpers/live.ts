/** A live-socket client for tests: collects messages and lets a test wait for the one it expects. */
import WebSocket from "ws";

export interface LiveClient {
  messages: any[];
  /** Resolve with the first message (already received or future) matching `predicate`. */
  waitFor(predicate: (m: any) => boolean, timeoutMs?: number): Promise<any>;
  close(): Promise<void>;
}

export async function connectLive(
  baseUrl: string,
  token: string,
  mode: "header" | "message" = "header",
): Promise<LiveClient> {
  const url = `${baseUrl.replace(/^http/, "ws")}/api/v1/live`;
  const socket = new WebSocket(
    url,
    mode === "header" ? { headers: { authorization: `Bearer ${token}` } } : {},
  );
  const messages: any[] = [];
  const waiters: { predicate: (m: any) => boolean; resolve: (m: any) => void }[] = [];
  socket.on("message", (data) => {
    const msg = JSON.parse(data.toString());
    messages.push(msg);
    for (const w of [...waiters])
      if (w.predicate(msg)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(msg);
      }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  if (mode === "message") socket.send(JSON.stringify({ type: "auth", token }));
  const client: LiveClient = {
    messages,
    waitFor(predicate, timeoutMs = 5000) {
      const found = messages.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("timed out waiting for a live message")), timeoutMs);
        waiters.push({
          predicate,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        if (socket.readyState === WebSocket.CLOSED) return resolve();
        socket.once("close", () => resolve());
        socket.close();
      });
    },
  };
  await client.waitFor((m) => m.type === "hello");
  return client;
}
