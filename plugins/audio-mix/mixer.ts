/**
 * The arithmetic of mix-minus, O(N) per tick: sum every talker once into a 32-bit bus, then give each
 * listener `total − own` (a talker hears everyone but itself; a silent listener hears the total).
 *
 * Clipping protection: a soft limiter. Below ±24 576 (−2.5 dBFS) samples pass unchanged; above, the excess
 * `d` is compressed to `R·d/(d+R)` with R = 8191, which meets the linear part with the same slope (no kink)
 * and approaches ±32 767 without ever reaching past it, so many loud talkers saturate smoothly instead of
 * wrapping or clipping hard.
 */
import { FRAME_SAMPLES } from './protocol.js';

const KNEE = 24_576;
const HEADROOM = 32_767 - KNEE;

/** A mixing bus for one tick. */
export class MixBus {
  /** The sum of every talker's frame, per sample. */
  readonly total = new Int32Array(FRAME_SAMPLES);

  /** Starts a new tick: the bus is silent. */
  clear(): void {
    this.total.fill(0);
  }

  /** Adds one talker's frame to the total. */
  add(pcm: Int16Array): void {
    const total = this.total;
    for (let i = 0; i < FRAME_SAMPLES; i++) total[i]! += pcm[i]!;
  }

  /**
   * Adds a frame to the total and returns its sum of squares (its level), in one pass over it: the mixer
   * meters every frame anyway, and most frames are talkers'. A frame that turns out silent is `remove`d.
   */
  addMeasured(pcm: Int16Array): number {
    const total = this.total;
    let sumOfSquares = 0;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const sample = pcm[i]!;
      total[i]! += sample;
      sumOfSquares += sample * sample;
    }
    return sumOfSquares;
  }

  /** Takes a frame added with `addMeasured` back out of the total. */
  remove(pcm: Int16Array): void {
    const total = this.total;
    for (let i = 0; i < FRAME_SAMPLES; i++) total[i]! -= pcm[i]!;
  }

  /**
   * Writes the limited total minus `own` (omit `own` for the full mix) into `out`. Runs once per listening
   * talker per tick, so the loop keeps the common case (under the knee) to one compare and a store.
   */
  mixMinus(own: Int16Array | undefined, out: Int16Array): void {
    const total = this.total;
    if (own) {
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        const sample = total[i]! - own[i]!;
        out[i] = sample > KNEE || sample < -KNEE ? limitPeak(sample) : sample;
      }
    } else {
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        const sample = total[i]!;
        out[i] = sample > KNEE || sample < -KNEE ? limitPeak(sample) : sample;
      }
    }
  }
}

/** The soft limiter: identity up to the knee, then a smooth curve that stays within ±32 767. */
export function softLimit(sample: number): number {
  return sample > KNEE || sample < -KNEE ? limitPeak(sample) : sample;
}

/** The curve above the knee, for a sample beyond ±KNEE: the excess `d` becomes `R·d/(d+R)`, rounded. */
function limitPeak(sample: number): number {
  if (sample > 0) {
    const excess = sample - KNEE;
    return KNEE + Math.floor((HEADROOM * excess) / (excess + HEADROOM) + 0.5);
  }
  const excess = -KNEE - sample;
  return -KNEE - Math.floor((HEADROOM * excess) / (excess + HEADROOM) + 0.5);
}
