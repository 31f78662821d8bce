/**
 * Which configured camera sent a push: by its secret (X-Camera-Secret header, HTTP basic password, or
 * `?secret=` for cameras that can only be given a URL), else by source address. Unknown senders are refused.
 */
import { hash } from "node:crypto";
import type { CameraConfig } from "../config/site.js";

export interface Credentials {
  secret: string | null;
  remoteAddress: string;
  /** Camera id named in the payload, used only to tell apart cameras sharing an address. */
  hint: string | null;
}

/**
 * Secrets are looked up by their SHA-256: a map probe on a digest reveals nothing about how close a guess
 * is, and costs the same with one camera or a thousand.
 */
function digest(text: string): string {
  return hash("sha256", text, "base64"); // one-shot: no Hash object per push
}

/** `::ffff:10.0.0.5` and `10.0.0.5` are the same sender. */
export function normaliseAddress(address: string): string {
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

export class CameraDirectory {
  private readonly bySecret = new Map<string, CameraConfig>();
  private readonly byAddress = new Map<string, CameraConfig[]>();

  constructor(cameras: readonly CameraConfig[]) {
    const enabled = cameras.filter((c) => c.enabled);
    for (const camera of enabled)
      if (camera.secret !== undefined) this.bySecret.set(digest(camera.secret), camera);
    for (const camera of enabled)
      for (const address of camera.addresses) {
        const key = normaliseAddress(address);
        this.byAddress.set(key, [...(this.byAddress.get(key) ?? []), camera]);
      }
  }

  /** The sending camera, or null. A wrong secret never falls back to the address. */
  identify(credentials: Credentials): CameraConfig | null {
    if (credentials.secret !== null) return this.bySecret.get(digest(credentials.secret)) ?? null;
    const candidates = this.byAddress.get(normaliseAddress(credentials.remoteAddress));
    if (!candidates) return null;
    if (candidates.length === 1) return candidates[0] as CameraConfig;
    return candidates.find((c) => c.id === credentials.hint) ?? null;
  }
}
