/** Cameras managed through the API, without restarts: create, change, remove, status, persistence. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestController, type TestController } from "../helpers/controller.js";
import { connectLive, type LiveClient } from "../helpers/live.js";

let tc: TestController;
let live: LiveClient;
const GATE_SECRET = "gate-cam-secret-0123456789";

async function pushGeneric(plate: string, secret = GATE_SECRET) {
  const res = await fetch(`${tc.url}/api/v1/ingest/generic`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-camera-secret": secret },
    body: JSON.stringify({ plate }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  tc = await startTestController();
  live = await connectLive(tc.url, tc.token);
});
afterAll(async () => {
  await live.close();
  await tc.stop();
  tc.cleanup();
});

describe("cameras API", () => {
  it("lists the site's cameras with status, saying which secrets are set but never their values", async () => {
    const res = await fetch(`${tc.url}/api/v1/cameras`, { headers: { authorization: `Bearer ${tc.token}` } });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain(tc.cameraSecret);
    const [camera] = JSON.parse(text).items;
    expect(camera).toMatchObject({
      id: "cam1",
      protocol: "milesight-http",
      role: "both",
      secretsSet: ["secret"],
      status: { state: "idle", transport: "push", reads: 0, errors: 0 },
    });
    expect(camera).not.toHaveProperty("secret");
  });

  it("needs the admin token", async () => {
    expect((await tc.api("/api/v1/cameras", { token: null })).status).toBe(401);
  });

  it("a camera added through the API is accepted at once and its status follows its reads", async () => {
    const created = await tc.api("/api/v1/cameras", {
      body: { id: "gate2", protocol: "generic", lane: "1", role: "entry", secret: GATE_SECRET },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: "gate2", role: "entry", enabled: true, secretsSet: ["secret"] });
    const pushed = await pushGeneric("AB123CD");
    expect(pushed).toMatchObject({ status: 200, body: { decision: "allow" } });
    const status = (await tc.api("/api/v1/cameras/gate2")).body.status;
    expect(status).toMatchObject({ state: "receiving", reads: 1, readsPerMinute: 1 });
    const announced = await live.waitFor(
      (m) => m.type === "camera" && m.camera.id === "gate2" && m.camera.reads === 1,
    );
    expect(announced.camera.state).toBe("receiving");
  });

  it("refuses bad cameras with the reason and where it is", async () => {
    const badLane = await tc.api("/api/v1/cameras", {
      body: { id: "x1", protocol: "generic", lane: "9", secret: "another-secret-0123456789" },
    });
    expect(badLane.status).toBe(400);
    expect(badLane.body.message).toContain("/lane '9' is not among lanes");
    const badProtocol = await tc.api("/api/v1/cameras", {
      body: { id: "x2", protocol: "carrier-pigeon", lane: "1", addresses: ["10.1.1.1"] },
    });
    expect(badProtocol.status).toBe(400);
    expect(badProtocol.body.message).toContain("/protocol 'carrier-pigeon' is unknown");
    const badShape = await tc.api("/api/v1/cameras", {
      body: { id: "x3", protocol: "generic", lane: "1", port: 9 },
    });
    expect(badShape.status).toBe(400);
    expect(badShape.body.message).toMatch(/^camera: /);
    const sharedSecret = await tc.api("/api/v1/cameras", {
      body: { id: "x4", protocol: "generic", lane: "1", secret: GATE_SECRET },
    });
    expect(sharedSecret.status).toBe(400);
    expect(sharedSecret.body.message).toContain("/secret is shared with another camera");
    const duplicate = await tc.api("/api/v1/cameras", {
      body: { id: "gate2", protocol: "generic", lane: "1", addresses: ["10.1.1.2"] },
    });
    expect(duplicate.status).toBe(409);
    expect((await tc.api("/api/v1/cameras")).body.items.map((c: any) => c.id)).toEqual(["cam1", "gate2"]);
  });

  it("a disabled camera is refused; enabling it again takes effect at once", async () => {
    const patched = await tc.api("/api/v1/cameras/gate2", { method: "PATCH", body: { enabled: false } });
    expect(patched).toMatchObject({ status: 200, body: { enabled: false, status: { state: "disabled" } } });
    expect((await pushGeneric("AB123CD")).status).toBe(401);
    await tc.api("/api/v1/cameras/gate2", { method: "PATCH", body: { enabled: true } });
    expect((await pushGeneric("KA777")).status).toBe(200);
    const idChange = await tc.api("/api/v1/cameras/gate2", { method: "PATCH", body: { id: "other" } });
    expect(idChange.status).toBe(400);
  });

  it("a push with a wrong protocol or a malformed read counts as an error of that camera", async () => {
    const res = await fetch(`${tc.url}/api/v1/ingest/generic`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-camera-secret": GATE_SECRET },
      body: JSON.stringify({ plate: "" }),
    });
    expect(res.status).toBe(400);
    const { status } = (await tc.api("/api/v1/cameras/gate2")).body;
    expect(status.errors).toBe(1);
    expect(status.lastError.message).toContain("body.plate");
  });

  it("changes and removals are audited without secret values, and survive a restart", async () => {
    const removed = await tc.api("/api/v1/cameras/cam1", { method: "DELETE" });
    expect(removed.status).toBe(204);
    expect((await tc.api("/api/v1/cameras/cam1")).status).toBe(404);
    const audit = await fetch(`${tc.url}/api/v1/audit`, { headers: { authorization: `Bearer ${tc.token}` } });
    const auditText = await audit.text();
    expect(auditText).not.toContain(GATE_SECRET);
    const actions = JSON.parse(auditText).items.map((a: any) => `${a.action} ${a.target}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        "camera.create camera:gate2",
        "camera.update camera:gate2",
        "camera.delete camera:cam1",
      ]),
    );
    await live.close();
    tc = await tc.restart();
    live = await connectLive(tc.url, tc.token);
    // The site file seeds cameras once: the removed camera stays removed, the added one stays.
    expect((await tc.api("/api/v1/cameras")).body.items.map((c: any) => c.id)).toEqual(["gate2"]);
    expect((await pushGeneric("AB123CD")).body.decision).toBe("allow");
  });
});
