/**
 * A speaker's level: the RMS of the real frames heard in a reporting window, in dBFS relative to a full-scale
 * square wave (a full-scale sine reads about -3 dBFS), rounded to whole dB, SILENCE_DBFS for no sound.
 */
import { SILENCE_DBFS } from './protocol.js';

const FULL_SCALE = 32768;

/** Accumulates one speaker's samples between two reports. */
export class LevelMeter {
  #sumOfSquares = 0;
  #samples = 0;
  /** The level last reported, to report only changes. */
  reported = SILENCE_DBFS;

  /** Adds a frame's samples to the window; returns the frame's own mean square. */
  add(pcm: Int16Array): number {
    let sum = 0;
    for (let i = 0; i < pcm.length; i++) sum += pcm[i]! * pcm[i]!;
    return this.record(sum, pcm.length);
  }

  /** Adds a frame whose sum of squares is already known (see MixBus.addMeasured); returns its mean square. */
  record(sumOfSquares: number, samples: number): number {
    this.#sumOfSquares += sumOfSquares;
    this.#samples += samples;
    return sumOfSquares / samples;
  }

  /** The window's level in whole dBFS (SILENCE_DBFS when nothing was heard); starts a new window. */
  take(): number {
    const meanSquare = this.#samples === 0 ? 0 : this.#sumOfSquares / this.#samples;
    this.#sumOfSquares = 0;
    this.#samples = 0;
    return toDbfs(meanSquare);
  }
}

/** A mean square of s16 samples in whole dBFS, floored at SILENCE_DBFS. */
export function toDbfs(meanSquare: number): number {
  if (meanSquare <= 0) return SILENCE_DBFS;
  return Math.max(SILENCE_DBFS, Math.round(10 * Math.log10(meanSquare / (FULL_SCALE * FULL_SCALE))));
}
