/**
 * Simulated GPIO: the simulated half of a hardware-in-the-loop rig, not a mock. Pins live in memory and the
 * logical layer above them is the same code the real driver uses, so the contract is enforced identically.
 * Extras for tests and sim mode: drive inputs as a sensor would, read electrical levels, read the history.
 */
import type { GpioBackend, GpioInputPin, GpioOutputPin } from "../gpio.js";
import { inputLevel } from "../gpio.js";
import { GpioHal, type HalOptions } from "../gpio-hal.js";
import type { HalConfig, InputConfig, IoTransition, Level, OutputConfig } from "../types.js";

interface SimPin {
  name: string;
  level: Level;
  /** Every level the pin has had since it was opened, first the opening level. */
  log: Level[];
  open: boolean;
  onLevel?: (level: Level) => void;
}

/** In-memory pins. Like real GPIO, a pin that is in use cannot be opened twice and a closed pin cannot be used. */
export class SimGpio implements GpioBackend {
  readonly #pins = new Map<number, SimPin>();

  openOutput(config: OutputConfig, initial: Level): GpioOutputPin {
    const pin = this.#claim(config.pin, config.name, initial);
    return {
      // A worker produces the pulse timing; the wire here follows when its record of the edges arrives.
      lineTarget: { kind: "sim" },
      noteLevel: (level) => {
        if (pin.open) this.#set(pin, level);
      },
      write: (level) => {
        if (!pin.open) throw new Error(`sim pin ${config.pin} ("${config.name}") is closed`);
        this.#set(pin, level);
      },
      close: () => {
        pin.open = false;
      },
    };
  }

  openInput(config: InputConfig, onLevel: (level: Level) => void): GpioInputPin {
    // An idle sensor: the input reads inactive until driven.
    const pin = this.#claim(config.pin, config.name, inputLevel(config, false));
    pin.onLevel = onLevel;
    return {
      read: () => {
        if (!pin.open) throw new Error(`sim pin ${config.pin} ("${config.name}") is closed`);
        return pin.level;
      },
      close: () => {
        pin.open = false;
        pin.onLevel = undefined;
      },
    };
  }

  /** Put `level` on an input pin from outside, as the sensor would. The watcher sees changes synchronously. */
  drive(pinNumber: number, level: Level): void {
    const pin = this.#pins.get(pinNumber);
    if (!pin?.open) throw new Error(`sim pin ${pinNumber} is not open`);
    this.#set(pin, level);
  }

  wasOpened(pinNumber: number): boolean {
    return this.#pins.has(pinNumber);
  }

  /** The level on the wire; still readable after the pin was released (it keeps its last level). */
  level(pinNumber: number): Level {
    const pin = this.#pins.get(pinNumber);
    if (!pin) throw new Error(`sim pin ${pinNumber} was never opened`);
    return pin.level;
  }

  levelLog(pinNumber: number): readonly Level[] {
    const pin = this.#pins.get(pinNumber);
    if (!pin) throw new Error(`sim pin ${pinNumber} was never opened`);
    return [...pin.log];
  }

  #claim(pinNumber: number, name: string, initial: Level): SimPin {
    const existing = this.#pins.get(pinNumber);
    if (existing?.open) throw new Error(`sim pin ${pinNumber} is busy (in use by "${existing.name}")`);
    const pin: SimPin = { name, level: initial, log: [initial], open: true };
    this.#pins.set(pinNumber, pin);
    return pin;
  }

  #set(pin: SimPin, level: Level): void {
    if (level === pin.level) return;
    pin.level = level;
    pushBounded(pin.log, level);
    pin.onLevel?.(level);
  }
}

/**
 * The sim records like a logic analyser with a deep buffer: the latest HISTORY_LIMIT entries per record, so
 * a long sim-mode run (the demo, a benchmark) does not grow without bound. Trimmed in chunks: O(1) amortised.
 */
export const HISTORY_LIMIT = 10_000;

function pushBounded<T>(log: T[], item: T): void {
  log.push(item);
  if (log.length >= 2 * HISTORY_LIMIT) log.splice(0, log.length - HISTORY_LIMIT);
}

/**
 * The sim HAL. Beyond the Hal contract:
 * - `simulateInput`, `output`, `input`… throw after stop() or before start(), and on unknown names
 *   (listing the known ones), exactly like the real driver;
 * - `level`, `levelLog` and `history` are observations of the simulated wire (a logic analyser): they work
 *   after stop() too, so a test can check what stop() left behind.
 */
export class SimHal extends GpioHal {
  readonly #gpio: SimGpio;
  readonly #history: IoTransition[] = [];

  constructor(config: HalConfig, options: HalOptions = {}) {
    const gpio = new SimGpio();
    super("sim", config, async () => gpio, options);
    this.#gpio = gpio;
  }

  /** Set an input's raw state as its sensor would; debouncing applies. Throws unless running. */
  simulateInput(name: string, active: boolean): void {
    this.assertRunning(`simulateInput("${name}")`);
    const config = this.config.inputs.find((i) => i.name === name);
    if (!config) throw this.unknownName(name, "input");
    this.#gpio.drive(config.pin, inputLevel(config, active));
  }

  /** Every logical transition since start, in order (a copy). */
  history(): readonly IoTransition[] {
    return [...this.#history];
  }

  /** Electrical level of an output or input pin. Throws before start() and for unknown names. */
  level(name: string): Level {
    return this.#gpio.level(this.#pinOf(name, "level"));
  }

  /** Every electrical level the pin has had, starting with the level it was opened at. */
  levelLog(name: string): readonly Level[] {
    return this.#gpio.levelLog(this.#pinOf(name, "levelLog"));
  }

  /** Electrical levels of all pins by name, e.g. for printing from an exit handler. */
  levels(): Record<string, Level> {
    const levels: Record<string, Level> = {};
    for (const { name } of [...this.config.outputs, ...this.config.inputs]) levels[name] = this.level(name);
    return levels;
  }

  protected override emit(t: IoTransition): void {
    pushBounded(this.#history, t);
    super.emit(t);
  }

  #pinOf(name: string, what: string): number {
    const config = [...this.config.outputs, ...this.config.inputs].find((c) => c.name === name);
    if (!config) throw this.unknownName(name, "pin");
    if (!this.#gpio.wasOpened(config.pin))
      throw new Error(`HAL (sim): ${what}("${name}") called before start()`);
    return config.pin;
  }
}
