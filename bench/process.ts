/** What the benchmarks read about the controller process from /proc, and how to profile it. */
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";

export function cpuMs(pid: number): number {
  // utime + stime in clock ticks (fields 14 and 15 of /proc/<pid>/stat); Linux ticks are 100 Hz.
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export function rssMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

export function profileArgs(): string[] {
  const dir = process.env.PORTCULLIS_BENCH_PROFILE;
  return dir ? ["--cpu-prof", "--cpu-prof-dir", dir] : [];
}

/** The machine a benchmark ran on, as its report names it. */
export function machineInfo(): { cpu: string; cores: number; memoryGb: number; node: string } {
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}
