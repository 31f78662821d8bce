/**
 * A lane: one barrier with its outputs, inputs and optional serial controller. Code says "open"; the HAL
 * knows the wiring. The lane owns its Barrier (firmware/barrier/) and records what the barrier does by itself
 * — button opens and faults — in the audit trail.
 */
import { createSerialLink, type Clock as HalClock, systemClock } from "../hal/index.js";
import type { Hal } from "../hal/types.js";
import { Barrier, type BarrierEvent, type BarrierView } from "./barrier/barrier.js";
import { SerialBarrier } from "./barrier/serial.js";
import type { LaneConfig } from "./config/site.js";
import type { AuditRepo } from "./store/audit-repo.js";
import type { Logger } from "./util/log.js";

export interface LaneView {
  id: string;
  name: string;
  /** Output pulsed to open; null on a lane opened only through its serial controller. */
  barrierOutput: string | null;
  presenceInput: string | null;
  openPulseMs: number;
  closeOutput: string | null;
  holdOutput: string | null;
  openLimitInput: string | null;
  closedLimitInput: string | null;
  buttonInput: string | null;
  /** Serial device of the barrier controller, if any. */
  serialPath: string | null;
  autoClose: boolean;
  closeDelayMs: number;
  barrier: BarrierView;
}

export class Lane {
  constructor(
    readonly config: LaneConfig,
    readonly barrier: Barrier,
    private readonly serial: SerialBarrier | null,
  ) {}

  get id(): string {
    return this.config.id;
  }

  async start(): Promise<void> {
    this.barrier.start();
    await this.serial?.start();
  }

  async stop(): Promise<void> {
    this.barrier.stop();
    await this.serial?.stop();
  }

  toJSON(): LaneView {
    const c = this.config;
    return {
      id: c.id,
      name: c.name,
      barrierOutput: c.barrierOutput ?? null,
      presenceInput: c.presenceInput ?? null,
      openPulseMs: c.openPulseMs,
      closeOutput: c.closeOutput ?? null,
      holdOutput: c.holdOutput ?? null,
      openLimitInput: c.openLimitInput ?? null,
      closedLimitInput: c.closedLimitInput ?? null,
      buttonInput: c.buttonInput ?? null,
      serialPath: c.serial?.path ?? null,
      autoClose: c.autoClose,
      closeDelayMs: c.closeDelayMs,
      barrier: this.barrier.view(),
    };
  }
}

export interface LaneDeps {
  /** Timers of the barrier state machines; tests inject a manual clock. */
  clock?: HalClock;
  audit?: Pick<AuditRepo, "record">;
  /** A barrier's state or fault changed. */
  announce?: (laneId: string, view: BarrierView) => void;
  log?: Logger;
}

/** Build every lane (nothing is acquired: call `start()` on each once the HAL runs). */
export function createLanes(
  configs: readonly LaneConfig[],
  hal: Hal,
  deps: LaneDeps = {},
): Map<string, Lane> {
  const clock = deps.clock ?? systemClock;
  const lanes = new Map<string, Lane>();
  for (const config of configs) {
    const output = (name: string | undefined) => (name === undefined ? null : hal.output(name));
    const input = (name: string | undefined) => (name === undefined ? null : hal.input(name));
    const log = deps.log?.child({ lane: config.id });
    let barrier: Barrier | null = null;
    const serial = config.serial
      ? new SerialBarrier(
          config.serial,
          createSerialLink(
            {
              name: `lane ${config.id} barrier`,
              path: config.serial.path,
              baudRate: config.serial.baudRate,
              dataBits: config.serial.dataBits,
              parity: config.serial.parity,
              stopBits: config.serial.stopBits,
            },
            { onError: (message, err) => log?.warn({ err }, message) },
          ),
          clock,
          {
            onExchange: (what, outcome) => barrier?.serialOutcome(what, outcome),
            onStatus: (position) => barrier?.serialStatus(position),
          },
        )
      : null;
    barrier = new Barrier(
      config,
      {
        openOutput: output(config.barrierOutput),
        closeOutput: output(config.closeOutput),
        holdOutput: output(config.holdOutput),
        presence: input(config.presenceInput),
        openLimit: input(config.openLimitInput),
        closedLimit: input(config.closedLimitInput),
        button: input(config.buttonInput),
        serial,
        onTransition: (listener) => hal.onTransition(listener),
      },
      clock,
      (event) => onBarrierEvent(config.id, event, deps, clock, log),
    );
    lanes.set(config.id, new Lane(config, barrier, serial));
  }
  return lanes;
}

/** The audit write comes after the barrier acted, and a failing one never reaches the barrier. */
function onBarrierEvent(
  laneId: string,
  event: BarrierEvent,
  deps: LaneDeps,
  clock: HalClock,
  log: Logger | undefined,
): void {
  const target = `lane:${laneId}`;
  try {
    switch (event.kind) {
      case "state":
        deps.announce?.(laneId, event.view);
        return;
      case "button":
        log?.info({ input: event.input }, "manual open by button");
        deps.audit?.record({
          at: clock.wallMs(),
          actor: "button",
          action: "lane.open",
          target,
          detail: { input: event.input, pulseMs: event.pulseMs },
        });
        return;
      case "fault":
      case "fault-cleared": {
        const raised = event.kind === "fault";
        log?.[raised ? "warn" : "info"](
          { code: event.fault.code },
          `barrier ${raised ? "fault" : "fault cleared"}: ${event.fault.message}`,
        );
        deps.audit?.record({
          at: clock.wallMs(),
          actor: "barrier",
          action: raised ? "barrier.fault" : "barrier.fault-cleared",
          target,
          detail: { code: event.fault.code, message: event.fault.message },
        });
        return;
      }
    }
  } catch (err) {
    log?.error({ err, event: event.kind }, "barrier event could not be recorded");
  }
}

/** The live socket's `barrier` message: `fault` only while there is one. */
export function barrierMessage(laneId: string, view: BarrierView): Record<string, unknown> {
  return {
    type: "barrier",
    lane: laneId,
    state: view.state,
    position: view.position,
    ...(view.fault ? { fault: view.fault } : {}),
    since: view.since,
  };
}
