/**
 * One lane's barrier: commands (open, hold, release, close), its sensors (presence loop, open/closed limit
 * switches, manual button), a small state machine, and the safety rules of design.md, each enforced in one
 * place:
 *
 * 1. No close while a vehicle is present: every close goes through `#issueClose()`, which refuses while the
 *    presence input is active and leaves the close pending until presence clears (then `closeDelayMs`).
 * 2. A vehicle arriving while closing re-opens at once (`#onPresence`, and `#enterClosing` for an arm that
 *    starts coming down while a vehicle is already there).
 * 3. Keep open for a following allowed vehicle: every open counts a vehicle expected through; a passage
 *    (presence cleared) counts one off; the barrier is only closed (autoClose) when none is expected.
 * 4. A crash must not leave a relay latched: hold-open is a pulse re-asserted by a live timer. If the timer
 *    stops being served (a bug, `stop()`), the contact breaks within `holdPulseMs`; every exit path of the
 *    process drives outputs safe (hal/exit-safety.ts); a hung event loop is the hardware watchdog's job.
 *
 * Positions come from limit switches (or a serial status reply) when wired; otherwise from the commands,
 * assuming the arm takes `travelMs` to move. Faults overlay the position: while one is active the reported
 * state is `fault`. Open is always possible, also with a fault.
 *
 * Lifecycle: the constructor only assigns; `start()` reads the inputs and subscribes to their transitions;
 * `stop()` cancels every timer and drops the hold. Commands throw only for a capability the lane lacks.
 */
import type { Clock, TimerHandle } from "../../hal/clock.js";
import type { DigitalInput, DigitalOutput, IoTransition } from "../../hal/types.js";
import { isoTime } from "../util/time.js";
import type { Outcome, SerialBarrier, SerialCommand } from "./serial.js";

export const BARRIER_STATES = ["closed", "opening", "open", "held", "closing", "fault", "unknown"] as const;
export type BarrierState = (typeof BARRIER_STATES)[number];
export const POSITIONS = ["closed", "opening", "open", "held", "closing", "unknown"] as const;
type Position = (typeof POSITIONS)[number];
type TimerKey = "close" | "openTimeout" | "travel" | "hold" | "vehicleWait";

export const FAULT_CODES = ["open-timeout", "closed-on-vehicle", "limits-both", "serial"] as const;
export type FaultCode = (typeof FAULT_CODES)[number];

export interface BarrierFault {
  code: FaultCode;
  message: string;
  /** Wall-clock ms when it was raised. */
  since: number;
}

export interface BarrierSettings {
  openPulseMs: number;
  closePulseMs: number;
  holdPulseMs: number;
  closeDelayMs: number;
  vehicleWaitMs: number;
  openTimeoutMs: number;
  travelMs: number;
  autoClose: boolean;
}

/** The barrier's hardware, from the HAL. Any part may be missing (null) except that one way to open exists. */
export interface BarrierIo {
  openOutput: DigitalOutput | null;
  closeOutput: DigitalOutput | null;
  holdOutput: DigitalOutput | null;
  presence: DigitalInput | null;
  openLimit: DigitalInput | null;
  closedLimit: DigitalInput | null;
  button: DigitalInput | null;
  serial: SerialBarrier | null;
  onTransition(listener: (t: IoTransition) => void): () => void;
}

export interface BarrierView {
  /** What the panel shows: the position, or `fault` while a fault is active. */
  state: BarrierState;
  /** Where the arm is (or is believed to be), also while faulted. */
  position: Position;
  fault: { code: FaultCode; message: string; since: string } | null;
  /** When `state` last changed (ISO 8601). */
  since: string;
  /** A close is waiting for the vehicle to clear the loop. */
  closePending: boolean;
  /** Vehicles let through that have not yet passed. */
  expected: number;
  canClose: boolean;
  canHold: boolean;
}

export type BarrierEvent =
  | { kind: "state"; view: BarrierView }
  | { kind: "fault"; fault: BarrierFault }
  | { kind: "fault-cleared"; fault: BarrierFault }
  | { kind: "button"; input: string; pulseMs: number };

export class Barrier {
  readonly #settings: BarrierSettings;
  readonly #io: BarrierIo;
  readonly #clock: Clock;
  readonly #deliver: (e: BarrierEvent) => void;
  /** Events raised while an input is handled, delivered once the relays have acted (see #reactToInput). */
  #held: BarrierEvent[] | null = null;
  #position: Position = "unknown";
  #since = 0;
  #reported: { state: BarrierState; fault: FaultCode | null } | null = null;
  readonly #faults = new Map<FaultCode, BarrierFault>();
  /** Latest report of the arm being fully open / fully closed; null when nothing reports it. */
  #openReported: boolean | null = null;
  #closedReported: boolean | null = null;
  #holding = false;
  #closePending = false;
  #expected = 0;
  readonly #timers: Record<TimerKey, TimerHandle | undefined> = {
    close: undefined,
    openTimeout: undefined,
    travel: undefined,
    hold: undefined,
    vehicleWait: undefined,
  };
  #off: (() => void) | null = null;

  constructor(settings: BarrierSettings, io: BarrierIo, clock: Clock, notify: (e: BarrierEvent) => void) {
    this.#settings = settings;
    this.#io = io;
    this.#clock = clock;
    this.#deliver = notify;
  }

  get canClose(): boolean {
    return this.#io.closeOutput !== null || (this.#io.serial?.canClose ?? false);
  }

  /** Hold needs a relay to keep asserted: the hold output, else the open output. */
  get canHold(): boolean {
    return this.#holdOutput !== null;
  }

  get #holdOutput(): DigitalOutput | null {
    return this.#io.holdOutput ?? this.#io.openOutput;
  }

  get #opensReported(): boolean {
    return this.#io.openLimit !== null || (this.#io.serial?.reportsPosition ?? false);
  }

  get #closesReported(): boolean {
    return this.#io.closedLimit !== null || (this.#io.serial?.reportsPosition ?? false);
  }

  start(): void {
    const { openLimit, closedLimit } = this.#io;
    this.#openReported = this.#opensReported ? (openLimit?.active ?? false) : null;
    this.#closedReported = this.#closesReported ? (closedLimit?.active ?? false) : null;
    this.#position = this.#closedReported ? "closed" : this.#openReported ? "open" : "unknown";
    this.#checkLimits();
    // Only this barrier's inputs matter to it: without any, it need not hear every relay transition.
    const { presence, button } = this.#io;
    if (presence || openLimit || closedLimit || button)
      this.#off = this.#io.onTransition((t) => this.#onTransition(t));
    this.#emitState();
  }

  stop(): void {
    this.#off?.();
    this.#off = null;
    for (const key of Object.keys(this.#timers) as TimerKey[]) this.#cancel(key);
    if (this.#holding) this.#holdOutput?.deactivate();
    this.#holding = false;
  }

  view(): BarrierView {
    const fault = this.#firstFault();
    return {
      state: this.#state(),
      position: this.#position,
      fault: fault && {
        code: fault.code,
        message: fault.message,
        since: isoTime(fault.since),
      },
      since: isoTime(this.#since),
      closePending: this.#closePending,
      expected: this.#expected,
      canClose: this.canClose,
      canHold: this.canHold,
    };
  }

  /**
   * Open for one vehicle: pulse the open output and/or send the serial open, whatever the state (a fault
   * never blocks an open). Cancels a pending close. Returns the relay pulse width used (0 without a relay).
   */
  open(pulseMs: number = this.#settings.openPulseMs): number {
    this.#closePending = false;
    this.#cancel("close");
    this.#expected++;
    this.#armVehicleWait();
    // Held: the hold already asserts open, and a shorter pulse on the same relay would cut it.
    if (this.#holding) return 0;
    const used = this.#commandOpen(pulseMs);
    this.#emitState();
    return used;
  }

  /** Hold open until release(), re-asserting the hold relay while this process lives. */
  hold(): void {
    const output = this.#holdOutput;
    if (!output) throw new Error("this barrier has no relay to hold open with");
    if (this.#holding) return;
    this.#holding = true;
    this.#closePending = false;
    this.#cancel("close");
    this.#cancel("travel");
    this.#io.closeOutput?.deactivate(); // interlock: never open and close at once
    this.#assertHold(output);
    if (this.#io.serial) this.#io.serial.command("open");
    if (this.#opensReported && !this.#openReported) this.#armOpenTimeout();
    this.#setPosition("held");
  }

  /** Drop the hold. The barrier then closes as any open barrier does: by itself, or by autoClose. */
  release(): void {
    if (!this.#holding) return;
    this.#dropHold();
    this.#expected = 0;
    this.#setPosition(this.#openReported === false ? "opening" : "open");
    this.#whenNobodyExpected();
  }

  /**
   * Close now, or as soon as the vehicle on the loop has passed (then after closeDelayMs). Releases a hold.
   * Returns whether the close was deferred. Throws if the barrier has no way to close.
   */
  close(): { deferred: boolean } {
    if (!this.canClose) throw new Error("this barrier has no close output or serial close command");
    if (this.#holding) this.#dropHold();
    this.#expected = 0;
    this.#cancel("vehicleWait");
    this.#closePending = true;
    if (this.#presenceActive()) {
      this.#emitState();
      return { deferred: true };
    }
    this.#issueClose();
    return { deferred: false };
  }

  /** Outcome of a serial exchange: a device that stops answering is a fault until it answers again. */
  serialOutcome(what: SerialCommand | "status", outcome: Outcome): void {
    if (outcome.ok) this.#clearFault("serial");
    else this.#raise("serial", `serial ${what}: ${outcome.reason}`);
  }

  /** A serial status reply: treated exactly like the limit switches. */
  serialStatus(position: "open" | "closed"): void {
    this.#reactToInput(() => {
      if (this.#openReported !== (position === "open")) this.#onOpenReport(position === "open");
      if (this.#closedReported !== (position === "closed")) this.#onClosedReport(position === "closed");
    });
  }

  #onTransition(t: IoTransition): void {
    if (t.kind !== "input") return;
    const { presence, openLimit, closedLimit, button } = this.#io;
    this.#reactToInput(() => {
      if (t.name === presence?.name) this.#onPresence(t.active);
      else if (t.name === openLimit?.name) this.#onOpenReport(t.active);
      else if (t.name === closedLimit?.name) this.#onClosedReport(t.active);
      else if (t.name === button?.name && t.active) {
        const pulseMs = this.open();
        this.#notify({ kind: "button", input: t.name, pulseMs });
      }
    });
  }

  /**
   * Run an input's reaction, holding back the events it raises until it is done: every relay it commands
   * (re-opening over a vehicle above all) acts before any audit row is written or live message sent.
   */
  #reactToInput(react: () => void): void {
    if (this.#held) {
      react(); // already inside one reaction (a serial status reporting both limits)
      return;
    }
    const held: BarrierEvent[] = [];
    this.#held = held;
    try {
      react();
    } finally {
      this.#held = null;
      for (const e of held) this.#deliver(e);
    }
  }

  #notify(e: BarrierEvent): void {
    if (this.#held) this.#held.push(e);
    else this.#deliver(e);
  }

  #onPresence(active: boolean): void {
    if (active) {
      this.#cancel("close"); // a pending close stays pending, and waits for this vehicle to clear
      if (this.#position === "closing") {
        this.#commandOpen(); // rule 2: re-open at once…
        if (this.canClose) this.#closePending = true; // …and finish closing once this vehicle has passed
      }
      this.#emitState();
      return;
    }
    this.#clearFault("closed-on-vehicle");
    this.#expected = Math.max(0, this.#expected - 1); // one vehicle passed
    if (this.#holding) return;
    if (this.#closePending) {
      this.#schedule("close", this.#settings.closeDelayMs, () => this.#onCloseTimer());
      return;
    }
    // Rule 3: another allowed vehicle is on its way: stay open and give it vehicleWaitMs to arrive.
    if (this.#expected > 0) this.#armVehicleWait();
    else this.#whenNobodyExpected();
  }

  #onOpenReport(active: boolean): void {
    this.#openReported = active;
    this.#checkLimits();
    if (active) {
      this.#cancel("travel");
      this.#cancel("openTimeout");
      this.#clearFault("open-timeout");
      this.#setPosition(this.#holding ? "held" : "open");
    } else if (this.#position === "open" || this.#position === "held") {
      this.#enterClosing(); // the arm is leaving the open position (closing by itself, or by hand)
    }
  }

  #onClosedReport(active: boolean): void {
    this.#closedReported = active;
    this.#checkLimits();
    if (active) {
      this.#cancel("travel");
      this.#expected = 0; // closed: a vehicle still wanting through needs a new decision
      this.#setPosition("closed");
      if (this.#presenceActive()) {
        this.#raise("closed-on-vehicle", "the barrier reported closed while a vehicle was on the loop");
        this.#commandOpen(); // lift the arm off the vehicle
        this.#emitState();
      }
      return;
    }
    this.#clearFault("closed-on-vehicle");
    if (this.#position === "closed") {
      this.#setPosition("opening"); // lifted by our command, the barrier's own logic, or by hand
      if (!this.#opensReported)
        this.#schedule("travel", this.#settings.travelMs, () => this.#setPosition("open"));
    }
  }

  #onCloseTimer(): void {
    if (!this.#closePending || this.#presenceActive()) return; // presence clearing reschedules
    this.#issueClose();
  }

  /** Nobody else is expected through: close (autoClose), or expect a self-closing barrier to close. */
  #whenNobodyExpected(): void {
    this.#cancel("vehicleWait");
    if (this.#holding || this.#presenceActive()) return;
    if (this.#settings.autoClose && this.canClose) {
      this.#closePending = true;
      this.#schedule("close", this.#settings.closeDelayMs, () => this.#onCloseTimer());
      this.#emitState();
    } else if (
      !this.canClose &&
      !this.#opensReported &&
      (this.#position === "open" || this.#position === "opening")
    ) {
      this.#enterClosing(); // assumed: the barrier closes by itself once the vehicle is through
    }
  }

  /** Rule 1. Every close, commanded or automatic, ends here. */
  #issueClose(): void {
    if (this.#presenceActive()) {
      this.#closePending = true;
      return;
    }
    this.#closePending = false;
    this.#cancel("close");
    this.#cancel("openTimeout");
    this.#clearFault("open-timeout"); // it is no longer expected to be open
    if (this.#holding) this.#dropHold();
    this.#io.openOutput?.deactivate(); // interlock: a running open pulse ends before close starts
    this.#io.holdOutput?.deactivate();
    this.#io.closeOutput?.pulse(this.#settings.closePulseMs);
    if (this.#io.serial?.canClose) this.#io.serial.command("close");
    this.#enterClosing();
  }

  #enterClosing(): void {
    this.#cancel("travel");
    this.#setPosition("closing");
    if (this.#presenceActive()) {
      this.#commandOpen(); // rule 2, for an arm already coming down when the vehicle is there
      this.#emitState();
      return;
    }
    if (this.#closedReported) this.#setPosition("closed");
    else if (!this.#closesReported)
      this.#schedule("travel", this.#settings.travelMs, () => this.#setPosition("closed"));
  }

  #commandOpen(pulseMs: number = this.#settings.openPulseMs): number {
    this.#io.closeOutput?.deactivate(); // interlock: never open and close at once
    this.#io.openOutput?.pulse(pulseMs);
    if (this.#io.serial) this.#io.serial.command("open");
    this.#cancel("travel");
    if (this.#openReported) {
      this.#position = "open";
    } else {
      this.#position = "opening";
      if (this.#opensReported) this.#armOpenTimeout();
      else this.#schedule("travel", this.#settings.travelMs, () => this.#setPosition("open"));
    }
    return this.#io.openOutput ? pulseMs : 0;
  }

  #armOpenTimeout(): void {
    const ms = this.#settings.openTimeoutMs;
    this.#schedule("openTimeout", ms, () => {
      if (!this.#openReported)
        this.#raise("open-timeout", `commanded open, but the barrier did not report open within ${ms} ms`);
    });
  }

  #armVehicleWait(): void {
    this.#schedule("vehicleWait", this.#settings.vehicleWaitMs, () => {
      // The expected vehicle did not come (turned away): stop waiting for it.
      this.#expected = 0;
      this.#whenNobodyExpected();
    });
  }

  #assertHold(output: DigitalOutput): void {
    output.pulse(this.#settings.holdPulseMs);
    this.#schedule("hold", Math.max(1, Math.floor(this.#settings.holdPulseMs / 3)), () =>
      this.#assertHold(output),
    );
  }

  #dropHold(): void {
    this.#holding = false;
    this.#cancel("hold");
    this.#holdOutput?.deactivate();
  }

  #checkLimits(): void {
    if (this.#openReported && this.#closedReported)
      this.#raise("limits-both", "open and closed limit switches are both active: check the wiring");
    else this.#clearFault("limits-both");
  }

  #presenceActive(): boolean {
    return this.#io.presence?.active ?? false;
  }

  #raise(code: FaultCode, message: string): void {
    if (this.#faults.has(code)) return;
    const fault = { code, message, since: this.#clock.wallMs() };
    this.#faults.set(code, fault);
    this.#notify({ kind: "fault", fault });
    this.#emitState();
  }

  #clearFault(code: FaultCode): void {
    const fault = this.#faults.get(code);
    if (!fault) return;
    this.#faults.delete(code);
    this.#notify({ kind: "fault-cleared", fault });
    this.#emitState();
  }

  #firstFault(): BarrierFault | null {
    return this.#faults.values().next().value ?? null;
  }

  #state(): BarrierState {
    return this.#faults.size > 0 ? "fault" : this.#position;
  }

  #setPosition(position: Position): void {
    this.#position = position;
    this.#emitState();
  }

  /** Tell listeners when the reported state or fault changed (not for every internal step). */
  #emitState(): void {
    const state = this.#state();
    const fault = this.#firstFault()?.code ?? null;
    const last = this.#reported;
    if (last && last.state === state && last.fault === fault) return;
    this.#reported = { state, fault };
    this.#since = this.#clock.wallMs();
    this.#notify({ kind: "state", view: this.view() });
  }

  #schedule(key: TimerKey, ms: number, fn: () => void): void {
    this.#cancel(key);
    this.#timers[key] = this.#clock.setTimeout(() => {
      this.#timers[key] = undefined;
      fn();
    }, ms);
  }

  #cancel(key: TimerKey): void {
    const handle = this.#timers[key];
    if (handle === undefined) return;
    this.#clock.clearTimeout(handle);
    this.#timers[key] = undefined;
  }
}
