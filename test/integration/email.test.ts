/**
 * The email action against a real SMTP server (smtp-server) on loopback, through a real controller: STARTTLS
 * with a certificate made at test time, AUTH PLAIN and LOGIN, the message parsed back with mailparser
 * (subject, text, attachment bytes), the server going down and coming back (every message once, in order),
 * wrong credentials (target down, no password in the error), refused recipients and content (that message
 * failed, the next delivered), and the transport security rules (STARTTLS required, certificates checked,
 * implicit TLS).
 */

import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";
import { cleanupsAfterEach, outboxTarget, until } from "../helpers/outbox.js";
import { fakeJpeg } from "../sim/hikvision-alertstream.js";
import { TINY_JPEG } from "../sim/hikvision-isapi.js";
import { pushMilesight } from "../sim/milesight-http.js";
import { sha256 } from "../sim/peers.js";
import { SmtpPeer, type SmtpPeerOptions } from "../sim/smtp-peer.js";

const FAST = { backoffMinMs: 20, backoffMaxMs: 150, timeoutMs: 3000 };
const PLATES = ["AB123CD", "QW100AA", "QW200BB", "XY999ZZ", "QW300CC"];
const FULL_JPEG = fakeJpeg(30_000);
const USER = { user: "gate@example.test", password: "smtp-Passw0rd-42" };

const cleanups = cleanupsAfterEach();

async function smtpPeer(opts: SmtpPeerOptions = USER): Promise<SmtpPeer> {
  const peer = await new SmtpPeer(opts).up();
  cleanups.push(() => peer.down());
  return peer;
}

async function controllerWith(
  peer: SmtpPeer,
  settings: Record<string, unknown> = {},
): Promise<TestController> {
  const tc = await startTestController({
    site: testSite({
      filters: { repeatWindowMs: 0 },
      actions: [
        {
          id: "mail",
          on: {},
          do: {
            type: "email",
            host: "127.0.0.1",
            port: peer.port,
            verifyTls: false,
            username: USER.user,
            password: USER.password,
            from: "gate@example.test",
            to: ["security@example.test", "office@example.test"],
            ...FAST,
            ...settings,
          },
        },
      ],
    }),
  });
  cleanups.push(
    () => tc.cleanup(),
    () => tc.stop(),
  );
  return tc;
}

const target = (tc: TestController, id = "mail"): Promise<any> => outboxTarget(tc, id);

async function push(tc: TestController, plate: string, images = false): Promise<any> {
  const res = await pushMilesight(
    tc.url,
    { plate, ...(images ? { plateImage: TINY_JPEG, fullImage: FULL_JPEG } : {}) },
    tc.cameraSecret,
  );
  expect(res.body).toMatchObject({ status: "decided" });
  return (await tc.api(`/api/v1/events/${res.body.eventId}`)).body;
}

const subjects = async (peer: SmtpPeer): Promise<string[]> =>
  Promise.all(peer.received.map(async (m) => (await simpleParser(m.raw)).subject ?? ""));

describe("email", () => {
  it("STARTTLS + AUTH: subject, text and the picture arrive; down then up: every message once, in order", async () => {
    const peer = await smtpPeer();
    const tc = await controllerWith(peer);

    const event = await push(tc, "MÜ-PC 1234", true);
    await until("the first mail arrived", () => peer.received.length === 1);
    const [first] = peer.received;
    expect(first).toMatchObject({
      from: "gate@example.test",
      to: ["security@example.test", "office@example.test"],
      secure: true, // upgraded with STARTTLS before anything else was sent
      user: USER.user,
    });
    const mail = await simpleParser(first?.raw ?? Buffer.alloc(0));
    expect(mail.subject).toBe("MÜPC1234: allow on lane 1");
    expect(mail.text).toContain("Plate: MÜPC1234\nDecision: allow\n");
    expect(mail.text).toContain(`Time: ${event.receivedAt}\nEvent: ${event.id}`);
    expect(mail.headers.get("auto-submitted")).toBe("auto-generated");
    expect(mail.date?.toISOString()).toBe(
      new Date(Math.floor(Date.parse(event.receivedAt) / 1000) * 1000).toISOString(),
    );
    expect(mail.attachments).toHaveLength(1);
    const [picture] = mail.attachments;
    expect(picture?.contentType).toBe("image/jpeg");
    expect(picture?.filename).toMatch(/^\d{17}_1_MUPC1234\.jpg$/);
    expect(sha256(picture?.content ?? Buffer.alloc(0))).toBe(sha256(FULL_JPEG)); // the full picture by default
    const [message] = (await tc.api(`/api/v1/events/${event.id}/outbox`)).body.items;
    expect(message).toMatchObject({ target: "mail", status: "sent", attempts: 1, attachmentBytes: null });
    expect(mail.messageId).toMatch(
      new RegExp(`^<portcullis\\.${event.id}\\.${message.id}\\.\\d+@example\\.test>$`),
    );

    await peer.down();
    for (const plate of PLATES.slice(1)) await push(tc, plate);
    await until("the target is down", async () => (await target(tc))?.state === "down");
    const down = await target(tc);
    expect(down.pending).toBe(4);
    expect(down.lastError).toMatch(/^SMTP 127\.0\.0\.1:\d+ connect: .*ECONNREFUSED/);

    await peer.up();
    await until("all arrived", () => peer.received.length === 5);
    await until("nothing pending", async () => (await target(tc)).pending === 0);
    expect((await subjects(peer)).map((s) => s.split(":")[0])).toEqual(["MÜPC1234", ...PLATES.slice(1)]);
    const ids = await Promise.all(peer.received.map(async (m) => (await simpleParser(m.raw)).messageId));
    expect(new Set(ids).size).toBe(5);
    expect(peer.authFailures).toBe(0);
  });

  it("AUTH LOGIN; templates; the plate crop; no picture when none is wanted", async () => {
    const peer = await smtpPeer({ ...USER, authMethods: ["LOGIN"] });
    const tc = await controllerWith(peer, {
      subject: "Gate {lane}\r\nBcc: evil@example.test {plate} ({list})",
      text: "{plate} on {camera}: {reason}",
      attachPicture: "plate",
    });
    const event = await push(tc, "AB123CD", true);
    await until("arrived", () => peer.received.length === 1);
    const mail = await simpleParser(peer.received[0]?.raw ?? Buffer.alloc(0));
    // A line break in a subject template cannot add a header.
    expect(mail.subject).toBe("Gate 1 Bcc: evil@example.test AB123CD (Allow)");
    expect(mail.bcc).toBeUndefined();
    expect(peer.received[0]?.to).toEqual(["security@example.test", "office@example.test"]);
    expect(mail.text?.trim()).toBe(`AB123CD on cam1: ${event.reason}`);
    expect(sha256(mail.attachments[0]?.content ?? Buffer.alloc(0))).toBe(sha256(TINY_JPEG));

    const plain = await smtpPeer();
    const tc2 = await controllerWith(plain, { attachPicture: "none" });
    await push(tc2, "QW100AA", true);
    await until("arrived", () => plain.received.length === 1);
    expect((await simpleParser(plain.received[0]?.raw ?? Buffer.alloc(0))).attachments).toEqual([]);
  });

  it("a wrong password: target down with the server's 535, the password never in the error; the message waits", async () => {
    const peer = await smtpPeer();
    const tc = await controllerWith(peer, { password: "wrong-Passw0rd-99" });
    await push(tc, "AB123CD");
    await until("the target is down", async () => (await target(tc))?.state === "down");
    const t = await target(tc);
    expect(t.lastError).toMatch(/^SMTP 127\.0\.0\.1:\d+ login: 535 /);
    expect(JSON.stringify(t)).not.toContain("Passw0rd");
    expect(JSON.stringify(t)).not.toContain(Buffer.from("wrong-Passw0rd-99").toString("base64").slice(0, 12));
    expect(t.pending).toBe(1);
    expect(peer.received).toEqual([]);
    expect(peer.authFailures).toBeGreaterThanOrEqual(1);
  });

  it("a refused recipient (550) or refused content (554) fails that message; the next is delivered", async () => {
    const peer = await smtpPeer();
    let refuseAll = true;
    peer.refuseRecipient = (a) => refuseAll || a === "gone@example.test";
    peer.refuseMessage = (raw) => raw.includes("Subject: QW200BB:");
    const tc = await controllerWith(peer, { to: ["security@example.test", "gone@example.test"] });

    // Every recipient refused: this message is failed for good.
    const refused = await push(tc, "AB123CD");
    await until("failed", async () => (await tc.api("/api/v1/outbox?status=failed")).body.items.length === 1);
    const [failed] = (await tc.api("/api/v1/outbox?status=failed")).body.items;
    expect(failed).toMatchObject({ target: "mail", eventId: refused.id, attempts: 1 });
    expect(failed.lastError).toMatch(/^SMTP 127\.0\.0\.1:\d+ send: 550 /);
    expect((await target(tc)).state).toBe("up");

    // One recipient refused, one accepted: delivered (to the one); then refused content; then the next.
    refuseAll = false;
    for (const plate of ["QW100AA", "QW200BB", "XY999ZZ"]) await push(tc, plate);
    await until("nothing pending", async () => (await target(tc)).pending === 0);
    expect((await subjects(peer)).map((s) => s.split(":")[0])).toEqual(["QW100AA", "XY999ZZ"]);
    expect(peer.received.map((m) => m.to)).toEqual([["security@example.test"], ["security@example.test"]]);
    const failures = (await tc.api("/api/v1/outbox?status=failed")).body.items;
    expect(failures).toHaveLength(2);
    expect(failures.map((m: any) => m.lastError).join("\n")).toMatch(/send: 554 message content rejected/);
  });

  it("STARTTLS is required by default, certificates are checked by default; implicit TLS; clear text only when allowed", async () => {
    // A server without STARTTLS: nothing is sent, the target is down.
    const clear = await smtpPeer({ noTls: true });
    const tc = await controllerWith(clear, { username: undefined, password: undefined });
    await push(tc, "AB123CD");
    await until("down", async () => (await target(tc))?.state === "down");
    expect((await target(tc)).lastError).toMatch(/STARTTLS/i);
    expect(clear.received).toEqual([]);

    // requireTls false: the same server takes it in clear text.
    const tc2 = await controllerWith(clear, { username: undefined, password: undefined, requireTls: false });
    await push(tc2, "QW100AA");
    await until("arrived in clear text", () => clear.received.length === 1);
    expect(clear.received[0]?.secure).toBe(false);

    // verifyTls defaults to true: a self-signed certificate is refused.
    const checked = await smtpPeer();
    const tc3 = await controllerWith(checked, { verifyTls: true });
    await push(tc3, "QW200BB");
    await until("down", async () => (await target(tc3))?.state === "down");
    expect((await target(tc3)).lastError).toMatch(/self[- ]signed|certificate/i);
    expect(checked.received).toEqual([]);

    // Implicit TLS (SMTPS).
    const smtps = await smtpPeer({ ...USER, secure: true });
    const tc4 = await controllerWith(smtps, { secure: true });
    await push(tc4, "XY999ZZ");
    await until("arrived over SMTPS", () => smtps.received.length === 1);
    expect(smtps.received[0]).toMatchObject({ secure: true, user: USER.user });
  });
});
