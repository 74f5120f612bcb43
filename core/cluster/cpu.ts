/**
 * How much of one core the process used since the last sample, for the load a node reports to the
 * directory (1.0 = one core busy all the time).
 */
export class CpuMeter {
  #usage = process.cpuUsage();
  #at = performance.now();

  /** The share of a core used since the previous call (or since the meter was made). */
  sample(): number {
    const usage = process.cpuUsage(this.#usage);
    const now = performance.now();
    const elapsedMs = Math.max(1, now - this.#at);
    this.#usage = process.cpuUsage();
    this.#at = now;
    return Math.round(((usage.user + usage.system) / 1000 / elapsedMs) * 1000) / 1000;
  }
}
