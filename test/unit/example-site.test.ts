import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { parseSite } from "../../firmware/config/site.js";

it("the example site in provisioning/ is valid", () => {
  const path = join(import.meta.dirname, "../../provisioning/site.example.json");
  const site = parseSite(JSON.parse(readFileSync(path, "utf8")), path);
  expect(site.cameras.map((c) => c.id)).toEqual(["entry-lpr", "script"]);
  expect(site.actions).toHaveLength(2);
  expect(site.lanes.map((l) => l.serial?.checksum ?? "relay")).toEqual(["relay", "xor"]);
});
