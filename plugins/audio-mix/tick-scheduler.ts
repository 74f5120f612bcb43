/**
 * A drift-free periodic timer: tick n is due at `start + n × period` (computed from the start, never from the
 * previous tick, so timer delays do not add up), and each tick's lateness (how long after its deadline it
 * ran) is recorded. Ticks missed while the event loop was blocked run at once, up to `MAX_CATCH_UP`; beyond
 * that the schedule jumps ahead and counts the skipped ticks.
 */

/** Ticks run back to back to catch up before the schedule jumps ahead. */
const MAX_CATCH_UP = 5;
/** Samples kept for the percentiles. */
const WINDOW = 500;

/** A rolling window of measurements with percentiles. */
export class RollingSamples {
  readonly #values = new Float64Array(WINDOW);
  #count = 0;
  #next = 0;

  /** Records one value, replacing the oldest when full. */
  add(value: number): void {
    this.#values[this.#next] = value;
    this.#next = (this.#next + 1) % WINDOW;
    this.#count = Math.min(this.#count + 1, WINDOW);
  }

  /** The p-th percentile (0–100) of the window; 0 when empty. */
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    const sorted = this.#values.slice(0, this.#count).sort();
    return sorted[Math.min(this.#count - 1, Math.floor((p / 100) * this.#count))]!;
  }

  /** The largest value of the window; 0 when empty. */
  max(): number {
    let max = 0;
    for (let i = 0; i < this.#count; i++) max = Math.max(max, this.#values[i]!);
    return max;
  }
}

/** Runs `onTick` every `periodMs` without drift and measures lateness. */
export class TickScheduler {
  /** Lateness of recent ticks, ms. */
  readonly lateness = new RollingSamples();
  /** Ticks skipped because the loop fell more than MAX_CATCH_UP ticks behind. */
  skipped = 0;
  readonly #periodMs: number;
  readonly #onTick: (lateMs: number) => void;
  #start = 0;
  #index = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** `onTick` gets how late this tick started, ms (also recorded in `lateness`). */
  constructor(periodMs: number, onTick: (lateMs: number) => void) {
    this.#periodMs = periodMs;
    this.#onTick = onTick;
  }

  /** True between `start()` and `stop()`. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Starts ticking (the first tick one period from now). Does nothing when running. */
  start(): void {
    if (this.#timer) return;
    this.#start = performance.now();
    this.#index = 1;
    this.#schedule();
  }

  /** Stops ticking. Idempotent. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    const deadline = this.#start + this.#index * this.#periodMs;
    this.#timer = setTimeout(() => this.#run(deadline), Math.max(0, deadline - performance.now()));
  }

  #run(deadline: number): void {
    const late = Math.max(0, performance.now() - deadline);
    this.lateness.add(late);
    this.#onTick(late);
    if (!this.#timer) return; // stopped by onTick
    this.#index++;
    const behind = Math.floor((performance.now() - this.#start) / this.#periodMs) - this.#index;
    if (behind > MAX_CATCH_UP) {
      this.skipped += behind;
      this.#index += behind;
    }
    this.#schedule();
  }
}
