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

  /** Writes the limited total minus `own` (omit `own` for the full mix) into `out`. */
  mixMinus(own: Int16Array | undefined, out: Int16Array): void {
    const total = this.total;
    if (own) for (let i = 0; i < FRAME_SAMPLES; i++) out[i] = softLimit(total[i]! - own[i]!);
    else for (let i = 0; i < FRAME_SAMPLES; i++) out[i] = softLimit(total[i]!);
  }
}

/** The soft limiter: identity up to the knee, then a smooth curve that stays within ±32 767. */
export function softLimit(sample: number): number {
  if (sample > KNEE) {
    const excess = sample - KNEE;
    return KNEE + Math.round((HEADROOM * excess) / (excess + HEADROOM));
  }
  if (sample < -KNEE) {
    const excess = -KNEE - sample;
    return -KNEE - Math.round((HEADROOM * excess) / (excess + HEADROOM));
  }
  return sample;
}
