/**
 * One timer for the next meeting start, never one per meeting: after it fires (or when the schedule
 * changes) it is set again for whatever starts next. The times come from the store, so a restarted server
 * picks up where the previous one stopped.
 */

/** setTimeout takes at most 2^31 − 1 ms (about 24.8 days); a later start is reached in several waits. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Calls `due` at the next start that `nextStart` reports, then asks again. */
export class StartTimer {
  #nextStart: () => number | undefined;
  #due: () => void | Promise<void>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  /**
   * @param nextStart the earliest start (ms since the epoch) still to announce, or undefined for none
   * @param due called when that time has come; it must announce (and so mark) what is due. When it returns
   *   a promise, the timer is set again once it settled (so `nextStart` no longer reports what was due).
   */
  constructor(nextStart: () => number | undefined, due: () => void | Promise<void>) {
    this.#nextStart = nextStart;
    this.#due = due;
  }

  /** Sets the timer for the next start (again): call it whenever the schedule changes. */
  arm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#stopped) return;
    const next = this.#nextStart();
    if (next === undefined) return;
    const delay = Math.min(Math.max(0, next - Date.now()), MAX_TIMEOUT_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const done = next <= Date.now() ? this.#due() : undefined;
      if (done) void done.finally(() => this.arm());
      else this.arm();
    }, delay);
  }

  /** Stops for good. Idempotent. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
