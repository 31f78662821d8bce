/**
 * Entry point of the HAL: factories and the exit-safety hook. Drivers are chosen by configuration
 * (`driver: "sim" | "onoff"`), never by looking at the machine.
 */
import { validateHalConfig } from "./config.js";
import { type SerialLinkOptions, SerialPortLink, validateSerialConfig } from "./drivers/serialport.js";
import { SimHal } from "./drivers/sim.js";
import { GpioHal, type HalOptions } from "./gpio-hal.js";
import type { GpioDriverName, Hal, HalConfig, SerialConfig, SerialLink } from "./types.js";

export type { Clock, TimerHandle } from "./clock.js";
export { systemClock } from "./clock.js";
export type { SerialLinkOptions } from "./drivers/serialport.js";
export { SimHal } from "./drivers/sim.js";
export { type ExitSafetyLog, installExitSafety } from "./exit-safety.js";
export type { HalOptions } from "./gpio-hal.js";
export * from "./types.js";

/** One line per driver. The onoff driver (and the native `onoff` package) is imported only in start(). */
const GPIO_DRIVERS: Record<GpioDriverName, (config: HalConfig, options: HalOptions) => Hal> = {
  sim: (config, options) => new SimHal(config, options),
  onoff: (config, options) =>
    new GpioHal(
      "onoff",
      config,
      async () => (await import("./drivers/onoff.js")).createOnoffBackend(config),
      options,
    ),
};

/**
 * Validate `config` and build the HAL for `config.driver`. Nothing is opened until `start()`.
 * Throws one Error listing every config problem (unknown driver with the valid ones, duplicate names or pins,
 * negative debounce, unknown keys…), each naming the offending item.
 */
export function createHal(config: HalConfig & { driver: "sim" }, options?: HalOptions): SimHal;
export function createHal(config: HalConfig, options?: HalOptions): Hal;
export function createHal(config: HalConfig, options: HalOptions = {}): Hal {
  const drivers = Object.keys(GPIO_DRIVERS);
  if (typeof config?.driver !== "string" || !Object.hasOwn(GPIO_DRIVERS, config.driver)) {
    throw new Error(
      `unknown HAL driver ${JSON.stringify(config?.driver)}; valid drivers: ${drivers.join(", ")}`,
    );
  }
  const valid = validateHalConfig(config, drivers);
  return GPIO_DRIVERS[valid.driver](valid, options);
}

/**
 * Build a serial link (serialport driver). Nothing is opened until `open()`.
 * Throws naming the link if the config is invalid.
 */
export function createSerialLink(config: SerialConfig, options: SerialLinkOptions = {}): SerialLink {
  return new SerialPortLink(validateSerialConfig(config), options);
}
