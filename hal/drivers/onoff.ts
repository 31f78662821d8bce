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

/** Resolves the SoC gpiochip, then loads `onoff`. Throws with the chips seen, or with why onoff did not load. */
export async function createOnoffBackend(config: HalConfig): Promise<GpioBackend> {
  const chip = selectSocGpioChip(
    readGpioChips(config.sysfsRoot ?? DEFAULT_SYSFS_GPIO_ROOT),
    config.gpiochipLabel,
  );
  let onoff: { Gpio: GpioClass };
  try {
    onoff = await import("onoff");
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `onoff driver: cannot load the "onoff" package (optional dependency, builds on Linux): ${reason}`,
      {
        cause: err,
      },
    );
  }
  return new OnoffBackend(onoff.Gpio, chip);
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
