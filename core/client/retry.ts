/**
 * When a client that lost its connection tries again, and how: resume the session while the server may
 * still hold it (`resumeGraceMs`), then join again as a new session (`rejoin`) or give up.
 */

/** The timing options of the plan. */
export interface RetryOptions {
  /** First delay; each attempt doubles it. */
  initialMs: number;
  /** Longest delay. */
  maxMs: number;
  /** How long after the loss a resume may still work. */
  resumeGraceMs: number;
  /** Join again once resuming is over, instead of giving up. */
  rejoin: boolean;
}

/** The next attempt: its number (from 1), its delay, and whether it joins again rather than resumes. */
export interface RetryAttempt {
  attempt: number;
  delayMs: number;
  rejoin: boolean;
}

/** One client's reconnect schedule. */
export class RetryPlan {
  readonly #options: RetryOptions;
  #attempt = 0;
  #lostAt = 0;
  #resumable = false;

  constructor(options: RetryOptions) {
    this.#options = options;
  }

  /** True while the next attempt should resume the session (HELLO with `resume`) rather than join anew. */
  get resumable(): boolean {
    return this.#resumable;
  }

  /** A WELCOME arrived: the session can be resumed from now on, and the next loss starts a fresh count. */
  joined(): void {
    this.#resumable = true;
    this.#attempt = 0;
  }

  /** The joined connection was lost: the grace period starts now. */
  lost(): void {
    this.#attempt = 0;
    this.#lostAt = performance.now();
  }

  /** The session cannot be resumed any more (RESUME_FAILED, the server shut down): join again, quickly. */
  sessionGone(): void {
    this.#resumable = false;
    this.#attempt = 0;
  }

  /**
   * The next attempt after a failure. Undefined when there is none: the grace period is over and
   * rejoining is off (or the session is gone and rejoining is off).
   */
  next(): RetryAttempt | undefined {
    const { initialMs, maxMs, resumeGraceMs, rejoin } = this.#options;
    const delayMs = Math.min(initialMs * 2 ** this.#attempt, maxMs);
    if (this.#resumable && performance.now() - this.#lostAt + delayMs > resumeGraceMs) {
      if (!rejoin) return undefined;
      this.#resumable = false;
    }
    if (!this.#resumable && !rejoin) return undefined;
    this.#attempt++;
    return { attempt: this.#attempt, delayMs, rejoin: !this.#resumable };
  }

  /** How many attempts were made since the loss (for messages). */
  get attempts(): number {
    return this.#attempt;
  }
}
