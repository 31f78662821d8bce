/**
 * BCM → sysfs GPIO number resolution for the onoff driver, against fake sysfs trees in a temp dir.
 * Real GPIO cannot be opened here (no /sys/class/gpio on a build machine, and exporting pins on a Pi from a
 * test could move a relay), so only the pure resolution and the driver's failure paths before any pin is
 * touched are tested; the onoff driver itself is exercised on the hardware-in-the-loop rig.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  readGpioChips,
  resolveSysfsGpio,
  selectSocGpioChip,
  sysfsGpioNumber,
} from "../../hal/drivers/gpiochip.js";
import { createHal } from "../../hal/index.js";

const roots: string[] = [];

/** A sysfs GPIO class directory with the given chips (plus the files that are not chips). */
function fakeSysfs(chips: Array<{ base: number; label: string; ngpio: number }>): string {
  const root = mkdtempSync(join(tmpdir(), "portcullis-sysfs-"));
  roots.push(root);
  writeFileSync(join(root, "export"), "");
  writeFileSync(join(root, "unexport"), "");
  for (const chip of chips) {
    const dir = join(root, `gpiochip${chip.base}`);
    mkdirSync(dir);
    writeFileSync(join(dir, "base"), `${chip.base}\n`);
    writeFileSync(join(dir, "label"), `${chip.label}\n`);
    writeFileSync(join(dir, "ngpio"), `${chip.ngpio}\n`);
  }
  return root;
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe("gpiochip resolution", () => {
  it("old kernels (Pi 4, base 0): sysfs number = BCM number", () => {
    const root = fakeSysfs([
      { base: 0, label: "pinctrl-bcm2711", ngpio: 58 },
      { base: 504, label: "raspberrypi-exp-gpio", ngpio: 8 },
    ]);
    expect(resolveSysfsGpio(root, 17)).toBe(17);
  });

  it("Bookworm / kernel 6.6+ (Pi 4, gpiochip512): base + BCM", () => {
    const root = fakeSysfs([
      { base: 512, label: "pinctrl-bcm2711", ngpio: 58 },
      { base: 570, label: "raspberrypi-exp-gpio", ngpio: 8 },
    ]);
    expect(readGpioChips(root).map((c) => c.name)).toEqual(["gpiochip512", "gpiochip570"]);
    expect(resolveSysfsGpio(root, 17)).toBe(529);
    expect(resolveSysfsGpio(root, 0)).toBe(512);
  });

  it("Pi 3 on Bookworm (pinctrl-bcm2835)", () => {
    const root = fakeSysfs([{ base: 512, label: "pinctrl-bcm2835", ngpio: 54 }]);
    expect(resolveSysfsGpio(root, 4)).toBe(516);
  });

  it("Pi 5: the header is on RP1, even with BCM2712 chips present", () => {
    const root = fakeSysfs([
      { base: 512, label: "gpio-brcmstb@107d508500", ngpio: 32 },
      { base: 544, label: "pinctrl-bcm2712", ngpio: 27 },
      { base: 571, label: "pinctrl-rp1", ngpio: 54 },
    ]);
    expect(resolveSysfsGpio(root, 17)).toBe(588);
  });

  it("honours a label override", () => {
    const root = fakeSysfs([
      { base: 0, label: "pinctrl-bcm2711", ngpio: 58 },
      { base: 100, label: "my-expander", ngpio: 16 },
    ]);
    expect(resolveSysfsGpio(root, 3, "my-expander")).toBe(103);
  });

  it("fails when no chip matches, listing the chips seen", () => {
    const root = fakeSysfs([{ base: 0, label: "gpio-mockup-A", ngpio: 8 }]);
    expect(() => resolveSysfsGpio(root, 17)).toThrow(
      'no gpiochip labelled "pinctrl-rp1" or "pinctrl-bcm2712" or "pinctrl-bcm2711" or "pinctrl-bcm2835"; ' +
        'chips seen: gpiochip0 (label "gpio-mockup-A", base 0, ngpio 8)',
    );
    expect(() => selectSocGpioChip([], "pinctrl-rp1")).toThrow("chips seen: none");
  });

  it("fails when the pin is outside the chip", () => {
    const chip = { name: "gpiochip512", base: 512, label: "pinctrl-bcm2835", ngpio: 54 };
    expect(sysfsGpioNumber(chip, 53)).toBe(565);
    expect(() => sysfsGpioNumber(chip, 54)).toThrow(
      'BCM pin 54 is outside gpiochip512 ("pinctrl-bcm2835", lines 0..53)',
    );
  });

  it("fails clearly when the sysfs root does not exist", () => {
    expect(() => readGpioChips("/nonexistent/gpio")).toThrow(/cannot list GPIO chips in \/nonexistent\/gpio/);
  });
});

describe("onoff driver failure paths (no pin is touched)", () => {
  const output = {
    name: "lane1.barrier",
    pin: 60,
    activeLow: true,
    contact: "NO" as const,
    safeActive: false,
  };

  it("start() rejects listing the chips when no SoC chip is found", async () => {
    const sysfsRoot = fakeSysfs([{ base: 0, label: "gpio-mockup-A", ngpio: 8 }]);
    const hal = createHal({ driver: "onoff", sysfsRoot, outputs: [output], inputs: [] });
    await expect(hal.start()).rejects.toThrow(/no gpiochip labelled .*chips seen: gpiochip0/);
    await hal.stop();
  });

  it("start() rejects naming every pin outside the chip, before loading onoff", async () => {
    const sysfsRoot = fakeSysfs([{ base: 512, label: "pinctrl-bcm2711", ngpio: 58 }]);
    const loop = { name: "lane1.loop", pin: 99, activeLow: true, debounceMs: 50 };
    const hal = createHal({ driver: "onoff", sysfsRoot, outputs: [output], inputs: [loop] });
    await expect(hal.start()).rejects.toThrow(
      'onoff driver: output "lane1.barrier": BCM pin 60 is outside gpiochip512 ("pinctrl-bcm2711", lines 0..57); ' +
        'input "lane1.loop": BCM pin 99 is outside gpiochip512',
    );
    await hal.stop();
  });
});
