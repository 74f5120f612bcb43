/**
 * When a bot's VP8 encoder follows the server's bitrate feedback (`bitrate` events, like REMB).
 *
 * Every change of encoder costs a keyframe (vp8-stream.ts), several times a delta frame's size, so the
 * policy acts only on a material, sustained change, within the bounds the bot was given:
 * - the target is the feedback clamped to [min, max]; no limit (null) means max;
 * - down: at once, when the target is at least 20 % under the encoder's rate (receivers are congested now;
 *   the server's per-receiver layers bridge the moment until the new encoder's keyframe);
 * - up: when the target has stayed at least 25 % over the encoder's rate for 3 s (recovery is probed
 *   slowly, as the server's feedback also climbs back slowly);
 * - never two changes within 2 s.
 */

/** The bounds an encoder's rate is kept within, bits per second. */
export interface BitrateBounds {
  minBps: number;
  maxBps: number;
}

/** A change is material when the target is this far under the rate. */
const DOWN_SHARE = 0.8;
/** … or this far over it. */
const UP_SHARE = 1.25;
/** How long a higher target must hold. */
const UP_HOLD_MS = 3000;
/** Least time between two changes. */
const MIN_INTERVAL_MS = 2000;

/**
 * Decides the encoder's rate from feedback.
 *
 * @example
 *   const policy = new BitratePolicy({ minBps: 150_000, maxBps: 500_000 }, 500_000);
 *   video.on('bitrate', ({ bps }) => policy.feedback(bps));
 *   const next = policy.decide();   // each frame: a new rate to switch to, or undefined
 *   if (next !== undefined) stream.setBitrate(next);
 */
export class BitratePolicy {
  /** The bounds it keeps the rate within. */
  readonly bounds: BitrateBounds;
  #rate: number;
  #target: number;
  /** Since when the target has been materially above the rate (undefined: it is not). */
  #upSince: number | undefined;
  #changedAt = -Infinity;

  /** `startBps` is the encoder's rate now. */
  constructor(bounds: BitrateBounds, startBps: number) {
    if (!(bounds.minBps > 0) || bounds.minBps > bounds.maxBps) {
      throw new RangeError(`bitrate bounds must be 0 < min ≤ max, got ${bounds.minBps}–${bounds.maxBps}`);
    }
    this.bounds = bounds;
    this.#rate = this.#clamp(startBps);
    this.#target = this.#rate;
  }

  /** The rate decided last (the encoder's). */
  get rateBps(): number {
    return this.#rate;
  }

  /** The server said what the receivers can take (null: no limit). */
  feedback(bps: number | null, now = performance.now()): void {
    this.#target = this.#clamp(bps ?? this.bounds.maxBps);
    if (this.#target >= this.#rate * UP_SHARE) this.#upSince ??= now;
    else this.#upSince = undefined;
  }

  /** The rate to switch to now, or undefined to stay. */
  decide(now = performance.now()): number | undefined {
    if (now - this.#changedAt < MIN_INTERVAL_MS) return undefined;
    const down = this.#target <= this.#rate * DOWN_SHARE;
    const up = this.#upSince !== undefined && now - this.#upSince >= UP_HOLD_MS;
    if (!down && !up) return undefined;
    this.#rate = this.#target;
    this.#changedAt = now;
    this.#upSince = undefined;
    return this.#rate;
  }

  #clamp(bps: number): number {
    return Math.round(Math.min(this.bounds.maxBps, Math.max(this.bounds.minBps, bps)));
  }
}
