/**
 * Which configured camera sent a push: by its secret (X-Camera-Secret header, HTTP basic password, or
 * `?secret=` for cameras that can only be given a URL), else by source address. Unknown senders are refused.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { CameraConfig } from "../config/site.js";

export interface Credentials {
  secret: string | null;
  remoteAddress: string;
  /** Camera id named in the payload, used only to tell apart cameras sharing an address. */
  hint: string | null;
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** `::ffff:10.0.0.5` and `10.0.0.5` are the same sender. */
export function normaliseAddress(address: string): string {
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

export class CameraDirectory {
  private readonly bySecret: { digest: Buffer; camera: CameraConfig }[];
  private readonly byAddress = new Map<string, CameraConfig[]>();

  constructor(cameras: readonly CameraConfig[]) {
    const enabled = cameras.filter((c) => c.enabled);
    this.bySecret = enabled.filter((c) => c.secret !== undefined).map((c) => ({ digest: digest(c.secret as string), camera: c }));
    for (const camera of enabled)
      for (const address of camera.addresses) {
        const key = normaliseAddress(address);
        this.byAddress.set(key, [...(this.byAddress.get(key) ?? []), camera]);
      }
  }

  /** The sending camera, or null. A wrong secret never falls back to the address. */
  identify(credentials: Credentials): CameraConfig | null {
    if (credentials.secret !== null) {
      const given = digest(credentials.secret);
      // Compare against every camera in constant time so timing reveals nothing about which secret is near.
      let found: CameraConfig | null = null;
      for (const entry of this.bySecret) if (timingSafeEqual(entry.digest, given)) found = entry.camera;
      return found;
    }
    const candidates = this.byAddress.get(normaliseAddress(credentials.remoteAddress));
    if (!candidates) return null;
    if (candidates.length === 1) return candidates[0] as CameraConfig;
    return candidates.find((c) => c.id === credentials.hint) ?? null;
  }
}
