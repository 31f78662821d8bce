/**
 * Map BCM pin numbers to sysfs GPIO numbers through the SoC's gpiochip base.
 *
 * Before kernel 6.6 the Pi's pin controller was gpiochip0 (base 0), so sysfs number = BCM number. From 6.6
 * (Raspberry Pi OS Bookworm) bases are allocated dynamically from 512 (e.g. gpiochip512, or gpiochip571 for the
 * Pi 5's RP1), and plain BCM numbers address the wrong line or nothing. Pure apart from reading the tree.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const DEFAULT_SYSFS_GPIO_ROOT = "/sys/class/gpio";

/**
 * Labels of the chips whose lines are the 40-pin header's BCM GPIOs, in order of preference: the Pi 5 header
 * is on RP1, so it wins over any BCM2712 chip that may also be present.
 */
export const SOC_GPIO_LABELS: readonly string[] = [
  "pinctrl-rp1",
  "pinctrl-bcm2712",
  "pinctrl-bcm2711",
  "pinctrl-bcm2835",
];

export interface GpioChip {
  /** Directory name, e.g. `gpiochip512`. */
  name: string;
  base: number;
  label: string;
  ngpio: number;
}

/**
 * The gpiochips under `sysfsRoot`, sorted by base. Directories whose base/label/ngpio cannot be read are skipped.
 * Throws if the root itself cannot be read.
 */
export function readGpioChips(sysfsRoot: string): GpioChip[] {
  let entries: string[];
  try {
    entries = readdirSync(sysfsRoot);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `cannot list GPIO chips in ${sysfsRoot} (is the sysfs GPIO interface enabled?): ${reason}`,
      {
        cause: err,
      },
    );
  }
  const chips: GpioChip[] = [];
  for (const name of entries) {
    if (!/^gpiochip\d+$/.test(name)) continue;
    try {
      const read = (file: string): string => readFileSync(join(sysfsRoot, name, file), "utf8").trim();
      const base = Number(read("base"));
      const ngpio = Number(read("ngpio"));
      const label = read("label");
      if (Number.isInteger(base) && Number.isInteger(ngpio)) chips.push({ name, base, label, ngpio });
    } catch {
      // Not a readable chip directory; it simply isn't a candidate.
    }
  }
  return chips.sort((a, b) => a.base - b.base);
}

/**
 * The chip carrying the BCM GPIOs: the one labelled `label` if given, else the first of SOC_GPIO_LABELS present.
 * Throws listing the chips seen when none matches.
 */
export function selectSocGpioChip(chips: readonly GpioChip[], label?: string): GpioChip {
  const wanted = label !== undefined ? [label] : SOC_GPIO_LABELS;
  for (const candidate of wanted) {
    const chip = chips.find((c) => c.label === candidate);
    if (chip) return chip;
  }
  const seen =
    chips.length > 0
      ? chips.map((c) => `${c.name} (label "${c.label}", base ${c.base}, ngpio ${c.ngpio})`).join(", ")
      : "none";
  throw new Error(`no gpiochip labelled ${wanted.map((w) => `"${w}"`).join(" or ")}; chips seen: ${seen}`);
}

/** sysfs GPIO number = chip base + BCM number. Throws if the pin is outside the chip. */
export function sysfsGpioNumber(chip: GpioChip, bcm: number): number {
  if (!Number.isInteger(bcm) || bcm < 0 || bcm >= chip.ngpio) {
    throw new Error(`BCM pin ${bcm} is outside ${chip.name} ("${chip.label}", lines 0..${chip.ngpio - 1})`);
  }
  return chip.base + bcm;
}

/** Convenience: read the tree, pick the SoC chip, and map one BCM pin. */
export function resolveSysfsGpio(sysfsRoot: string, bcm: number, label?: string): number {
  return sysfsGpioNumber(selectSocGpioChip(readGpioChips(sysfsRoot), label), bcm);
}
