/** A lane: one barrier, its outputs and inputs. Code says "open"; the HAL knows the wiring. */
import type { DigitalInput, DigitalOutput, Hal } from "../hal/types.js";
import type { LaneConfig } from "./config/site.js";

export class Lane {
  constructor(
    readonly config: LaneConfig,
    readonly barrier: DigitalOutput,
    readonly presence: DigitalInput | null,
  ) {}

  get id(): string {
    return this.config.id;
  }

  /** Open the barrier: a pulse on its open input. Returns the width used. */
  open(pulseMs: number = this.config.openPulseMs): number {
    this.barrier.pulse(pulseMs);
    return pulseMs;
  }

  toJSON(): {
    id: string;
    name: string;
    barrierOutput: string;
    presenceInput: string | null;
    openPulseMs: number;
  } {
    return {
      id: this.config.id,
      name: this.config.name,
      barrierOutput: this.config.barrierOutput,
      presenceInput: this.config.presenceInput ?? null,
      openPulseMs: this.config.openPulseMs,
    };
  }
}

export function createLanes(configs: readonly LaneConfig[], hal: Hal): Map<string, Lane> {
  const lanes = new Map<string, Lane>();
  for (const config of configs) {
    const presence = config.presenceInput === undefined ? null : hal.input(config.presenceInput);
    lanes.set(config.id, new Lane(config, hal.output(config.barrierOutput), presence));
  }
  return lanes;
}
