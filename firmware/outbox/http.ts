/**
 * One HTTP(S) request for a sender: node:http rather than fetch, so HTTPS can take a CA or skip verification
 * per target, and errors can be described without the URL's secrets. Connections are kept alive per target.
 */
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { DeliveryError, safeUrl } from "./types.js";

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** The most response bytes read; an answer is only looked at for its status and a short JSON reply. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export class HttpClient {
  private readonly agent: HttpAgent | HttpsAgent;

  constructor(
    private readonly https: boolean,
    verifyTls = true,
  ) {
    this.agent = https
      ? new HttpsAgent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: verifyTls })
      : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  }

  request(
    url: URL,
    init: { method: string; headers?: Record<string, string>; body?: Buffer | string; signal: AbortSignal },
  ): Promise<HttpResponse> {
    if ((url.protocol === "https:") !== this.https)
      throw new DeliveryError(`${safeUrl(url)}: scheme does not match the client`, true);
    const body = init.body === undefined ? undefined : Buffer.from(init.body);
    return new Promise((resolve, reject) => {
      const req = (this.https ? httpsRequest : httpRequest)(url, {
        method: init.method,
        agent: this.agent,
        headers: { ...init.headers, ...(body ? { "content-length": String(body.length) } : {}) },
        signal: init.signal,
      });
      req.once("error", (err) =>
        reject(new DeliveryError(`${init.method} ${safeUrl(url)}: ${describe(err)}`)),
      );
      req.once("response", (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes <= MAX_RESPONSE_BYTES) chunks.push(chunk);
        });
        res.once("error", (err) =>
          reject(new DeliveryError(`${init.method} ${safeUrl(url)}: ${describe(err)}`)),
        );
        res.once("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function describe(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (err.name === "AbortError") return "aborted";
  return code ? `${code}` : err.message;
}

/**
 * How a status answers a delivery: 2xx accepted; 408, 425, 429, 5xx, and 401/403 (credentials an installer
 * can fix; the messages wait for it, in order) are retried; any other 3xx/4xx is this message refused for
 * good, so it is marked failed and the queue goes on.
 */
export function checkStatus(status: number, what: string): void {
  if (status >= 200 && status < 300) return;
  const retry = status >= 500 || [401, 403, 408, 425, 429].includes(status);
  throw new DeliveryError(`${what}: HTTP ${status}`, !retry);
}
