/**
 * Thin fetch wrapper for the controller's REST API.
 * Paths are relative ("api/v1/…") and resolved against the page, so the panel also works behind a
 * reverse proxy that mounts it under a sub-path.
 */

export class ApiError extends Error {
  constructor(
    /** HTTP status, or 0 when the controller could not be reached. */
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The controller answered 401: the token is missing, wrong or was rotated. */
export class UnauthorizedError extends ApiError {
  constructor(message = "The controller did not accept the admin token.") {
    super(401, message);
    this.name = "UnauthorizedError";
  }
}

export interface RequestOptions {
  token?: string | null;
  method?: "GET" | "POST" | "PUT" | "DELETE";
  body?: unknown;
  timeoutMs?: number;
}

export function apiUrl(path: string): URL {
  return new URL(path.replace(/^\/+/, ""), document.baseURI);
}

/** Sends a request; throws ApiError (UnauthorizedError for 401) unless the answer is a 2xx. */
async function send(path: string, opts: RequestOptions, accept: string): Promise<Response> {
  const headers: Record<string, string> = { accept };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(opts.body);
  }

  let res: Response;
  try {
    res = await fetch(apiUrl(path), {
      method: opts.method ?? "GET",
      headers,
      body,
      cache: "no-store",
      credentials: "omit",
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
  } catch (err) {
    const timedOut = err instanceof DOMException && err.name === "TimeoutError";
    throw new ApiError(
      0,
      timedOut ? "The controller did not answer in time." : "Cannot reach the controller. Check the network.",
    );
  }

  if (res.status === 401) throw new UnauthorizedError();
  if (!res.ok) {
    const data = parseJson(await res.text().catch(() => ""));
    const message =
      data &&
      typeof data === "object" &&
      "message" in data &&
      typeof data.message === "string" &&
      data.message
        ? data.message
        : `The controller answered ${res.status} ${res.statusText}`.trim();
    throw new ApiError(res.status, message);
  }
  return res;
}

function parseJson(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export async function apiRequest<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await send(path, opts, "application/json");
  return parseJson(await res.text()) as T;
}

/** Binary content (a picture): fetched with the token, since an <img src> cannot send one. */
export async function apiBlob(path: string, opts: RequestOptions = {}): Promise<Blob> {
  const res = await send(path, { timeoutMs: 20_000, ...opts }, "image/*");
  return res.blob();
}

export function errorText(err: unknown): string {
  if (err instanceof Error && err.message) return err.message;
  return "Something went wrong.";
}
