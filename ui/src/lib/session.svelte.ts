/**
 * Who is signed in: the admin bearer token, kept in localStorage so a panel that reboots
 * (kiosk touchscreen) comes back signed in.
 */

const STORAGE_KEY = "portcullis.adminToken";

export const TOKEN_REJECTED =
  "The controller no longer accepts the saved admin token (it may have been changed). Paste the current token to sign in again.";

function readStored(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY) || null;
  } catch {
    return null;
  }
}

function writeStored(token: string | null): void {
  try {
    if (token) localStorage.setItem(STORAGE_KEY, token);
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage unavailable (private mode, quota): the session then lasts until the page reloads.
  }
}

/** Accepts what a guard might paste: surrounding whitespace, quotes or a leading "Bearer ". */
export function cleanToken(input: string): string {
  return input
    .trim()
    .replace(/^bearer\s+/i, "")
    .replace(/^["'](.*)["']$/, "$1")
    .trim();
}

class Session {
  token = $state<string | null>(readStored());
  /** Shown on the sign-in screen: why the guard is there (signed out, token rejected). */
  notice = $state<string | null>(null);

  signIn(token: string): void {
    writeStored(token);
    this.notice = null;
    this.token = token;
  }

  signOut(notice: string | null = null): void {
    writeStored(null);
    this.notice = notice;
    this.token = null;
  }

  /** A call or the live socket was refused with 401 / 4401. */
  expire(): void {
    if (this.token === null) return;
    this.signOut(TOKEN_REJECTED);
  }
}

export const session = new Session();
