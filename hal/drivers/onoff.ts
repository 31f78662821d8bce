/**
 * Real Linux GPIO through the `onoff` package (sysfs). Loaded lazily by createHal() only when
 * `driver: "onoff"`, and `onoff` itself (native, optional dependency) is imported only here.
 *
 * - BCM numbers are mapped through the SoC gpiochip's base (see gpiochip.ts), so kernels ≥ 6.6 work.
 * - Outputs open with their safe level in one step (direction "high"/"low"): no glitch at boot.
 * - `active_low` is forced to 0 in sysfs: the logical layer does all inversion, so a stale setting left by
 *   another program cannot flip a relay.
 * - Inputs watch both edges; debouncing happens in the logical layer, not in onoff.
 * - Writes use writeSync, so exit handlers can drive pins safe.
 * - An output can be lent to a worker thread (Wiegand), which writes the same sysfs value file itself.
 * - stop() unexports inputs but leaves outputs exported, still driving their safe level (see openOutput).
 */
import type { Gpio } from "onoff";
import type { GpioBackend, GpioInputPin, GpioOutputPin } from "../gpio.js";
import type { HalConfig, InputConfig, Level, OutputConfig } from "../types.js";
import {
  DEFAULT_SYSFS_GPIO_ROOT,
  type GpioChip,
  readGpioChips,
  selectSocGpioChip,
  sysfsGpioNumber,
} from "./gpiochip.js";

type GpioClass = typeof Gpio;

/**
 * Resolves the SoC gpiochip and checks every pin against it, then loads `onoff`. Throws with the chips seen,
 * naming every pin outside the chip, or saying why onoff did not load. No line is touched here.
 */
export async function createOnoffBackend(config: HalConfig): Promise<GpioBackend> {
  const chips = readGpioChips(config.sysfsRoot ?? DEFAULT_SYSFS_GPIO_ROOT);
  const chip = selectSocGpioChip(chips, config.gpiochipLabel);
  const problems: string[] = [];
  const check = (kind: string, item: { name: string; pin: number }): void => {
    try {
      sysfsGpioNumber(chip, item.pin);
    } catch (err) {
      problems.push(`${kind} "${item.name}": ${errorMessage(err)}`);
    }
  };
  for (const output of config.outputs) check("output", output);
  for (const input of config.inputs) check("input", input);
  if (problems.length > 0) throw new Error(`onoff driver: ${problems.join("; ")}`);

  let onoff: { Gpio: GpioClass };
  try {
    onoff = await import("onoff");
  } catch (err) {
    const reason = errorMessage(err);
    throw new Error(`onoff driver: cannot load the "onoff" package (optional dependency): ${reason}`, {
      cause: err,
    });
  }
  return new OnoffBackend(onoff.Gpio, chip);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

class OnoffBackend implements GpioBackend {
  readonly #Gpio: GpioClass;
  readonly #chip: GpioChip;

  constructor(gpioClass: GpioClass, chip: GpioChip) {
    this.#Gpio = gpioClass;
    this.#chip = chip;
  }

  openOutput(config: OutputConfig, initial: Level): GpioOutputPin {
    const gpio = new this.#Gpio(
      sysfsGpioNumber(this.#chip, config.pin),
      initial === 1 ? "high" : "low",
      undefined,
      {
        activeLow: false,
      },
    );
    let open = true;
    return {
      // onoff always works under /sys/class/gpio; a worker opens the same value file for its own writes.
      lineTarget: {
        kind: "sysfs",
        valuePath: `/sys/class/gpio/gpio${sysfsGpioNumber(this.#chip, config.pin)}/value`,
      },
      write: (level) => {
        if (!open) throw new Error(`GPIO ${config.pin} ("${config.name}") is closed`);
        gpio.writeSync(level);
      },
      close: () => {
        // Deliberately NOT unexported: a freed line may fall back to an input (mainline kernels, or Pi kernels
        // with pinctrl_bcm2835.persist_gpio_outputs=n), letting the relay follow its pull resistor. While
        // exported, the kernel keeps driving the safe level after this process ends. The value fd is closed
        // when the process exits; a later start() re-opens the exported line at its safe level.
        open = false;
      },
    };
  }

  openInput(
    config: InputConfig,
    onLevel: (level: Level) => void,
    onError: (err: unknown) => void,
  ): GpioInputPin {
    const gpio = new this.#Gpio(sysfsGpioNumber(this.#chip, config.pin), "in", "both", { activeLow: false });
    gpio.watch((err, value) => {
      if (err) onError(err);
      else onLevel(value);
    });
    let open = true;
    return {
      read: () => gpio.readSync(),
      close: () => {
        if (!open) return;
        open = false;
        gpio.unexport(); // also stops watching
      },
    };
  }
}
