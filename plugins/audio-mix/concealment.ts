/**
 * Concealment of a missing frame for one speaker, without clicks: the last real audio is continued one pitch
 * period at a time (the period found by autocorrelation, as in ITU-T G.711 Appendix I), fading linearly to
 * silence over `FADE_MS`; when real audio comes back, its first 2 ms are cross-faded from the continuation.
 */
import { FRAME_SAMPLES, SAMPLE_RATE } from './protocol.js';

/** Concealment fades to silence over this long. */
export const FADE_MS = 80;
const FADE_SAMPLES = (FADE_MS * SAMPLE_RATE) / 1000;
/** Cross-fade from concealment back into real audio. */
const CROSSFADE_SAMPLES = 96;
/** Pitch periods searched: 100 Hz to 1200 Hz. */
const MIN_PERIOD = 40;
const MAX_PERIOD = 480;
/** Samples compared for each candidate period. */
const CORRELATION_WINDOW = 320;

/** Keeps the last real frame of a speaker and invents what follows while frames are missing. */
export class Concealer {
  readonly #history = new Int16Array(FRAME_SAMPLES);
  #hasHistory = false;
  #period = 0;
  /** Position within the period of the next invented sample. */
  #phase = 0;
  /** Invented samples since the last real frame; 0 while real audio flows. */
  #concealed = 0;

  /** True while a concealment is fading out. */
  get active(): boolean {
    return this.#concealed > 0 && this.#concealed < FADE_SAMPLES;
  }

  /** Takes a real frame (in place: its start is cross-faded when it ends a concealment) and remembers it. */
  accept(frame: Int16Array): void {
    if (this.#concealed > 0 && this.#concealed < FADE_SAMPLES) {
      for (let i = 0; i < CROSSFADE_SAMPLES; i++) {
        const weight = i / CROSSFADE_SAMPLES;
        frame[i] = Math.round(frame[i]! * weight + this.#nextInvented() * (1 - weight));
      }
    }
    this.#history.set(frame);
    this.#hasHistory = true;
    this.#concealed = 0;
  }

  /** Writes a concealment frame into `out`; false (and `out` untouched) when it has faded to silence. */
  conceal(out: Int16Array): boolean {
    if (!this.#hasHistory || this.#concealed >= FADE_SAMPLES) return false;
    if (this.#concealed === 0) {
      this.#period = findPeriod(this.#history);
      this.#phase = 0;
    }
    for (let i = 0; i < out.length; i++) out[i] = this.#nextInvented();
    if (this.#concealed >= FADE_SAMPLES) this.#hasHistory = false;
    return true;
  }

  /** The next sample of the faded periodic continuation. */
  #nextInvented(): number {
    const period = this.#period;
    const sample = this.#history[FRAME_SAMPLES - period + this.#phase]!;
    this.#phase = (this.#phase + 1) % period;
    const gain = Math.max(0, 1 - this.#concealed / FADE_SAMPLES);
    this.#concealed++;
    return Math.round(sample * gain);
  }
}

/** The lag (in samples) at which the frame's end best repeats itself. */
function findPeriod(frame: Int16Array): number {
  const end = frame.length;
  let best = MAX_PERIOD;
  let bestScore = -Infinity;
  for (let lag = MIN_PERIOD; lag <= MAX_PERIOD; lag++) {
    let cross = 0;
    let energy = 1;
    for (let i = end - CORRELATION_WINDOW; i < end; i++) {
      const earlier = frame[i - lag]!;
      cross += frame[i]! * earlier;
      energy += earlier * earlier;
    }
    const score = cross / Math.sqrt(energy);
    if (score > bestScore) {
      bestScore = score;
      best = lag;
    }
  }
  return best;
}
