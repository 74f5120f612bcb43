/**
 * Bitrate feedback for publishers, in the spirit of REMB: once a second, each publisher is told the rate its
 * best-placed receiver can take, so a publisher whose every receiver is congested encodes less, and raises
 * its rate again once they recover.
 *
 * A receiver's capacity is what its link carried while it was congested (`ReceiverLink.takeWindow`), shared
 * among the senders it receives in proportion to their bytes; a receiver that was never congested takes
 * anything. The publisher's limit is the largest share among its receivers; after a limit, it climbs back
 * by RECOVERY_FACTOR a second and is lifted once it is well above what the publisher sends.
 */

/** After congestion, the limit grows by this factor per second while no receiver is congested. */
const RECOVERY_FACTOR = 1.25;
/** The limit is lifted (null) once it is this many times what the publisher sends. */
const LIFT_FACTOR = 2;
/** A new limit is told to the publisher only when it differs from the last by more than this share. */
const CHANGE_SHARE = 0.1;
/** The lowest limit ever told: below it no video is worth sending, and layers do the rest. */
export const MIN_FEEDBACK_BPS = 50_000;

/** One publisher's feedback state. */
export class PublisherBitrate {
  /** Bytes received from the publisher since the last tick. */
  windowBytes = 0;
  /** The limit last told to the publisher (bits/s), or null when there is none. */
  #told: number | null = null;

  /**
   * Computes the limit from the receivers' shares (bits/s, Infinity for an uncongested receiver) after a
   * window of `elapsedMs`. Returns the value to tell the publisher, or undefined when nothing changed enough.
   */
  tick(receiverShares: Iterable<number>, elapsedMs: number): number | null | undefined {
    const sendingBps = elapsedMs > 0 ? (this.windowBytes * 8 * 1000) / elapsedMs : 0;
    this.windowBytes = 0;
    let best = 0;
    let any = false;
    for (const share of receiverShares) {
      any = true;
      if (share > best) best = share;
    }
    if (!any) return undefined;
    let next: number | null;
    if (best !== Infinity) next = Math.max(MIN_FEEDBACK_BPS, Math.round(best));
    else if (this.#told === null) next = null;
    else {
      const grown = Math.round(this.#told * RECOVERY_FACTOR);
      next = grown >= sendingBps * LIFT_FACTOR ? null : grown;
    }
    const told = this.#told;
    const changed = next === null || told === null ? next !== told : Math.abs(next - told) > told * CHANGE_SHARE;
    if (!changed) return undefined;
    this.#told = next;
    return next;
  }
}
