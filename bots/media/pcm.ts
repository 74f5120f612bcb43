/**
 * 48 kHz mono signed 16-bit PCM in 20 ms frames (960 samples), the audio unit of Confab: chunking a byte
 * stream into frames, a sine tone for synthetic participants, and the Goertzel filter that tells whether a
 * tone is in a signal.
 */

/** Samples per second. */
export const SAMPLE_RATE = 48_000;
/** Samples in one 20 ms frame. */
export const FRAME_SAMPLES = 960;
/** Bytes in one 20 ms frame of s16le mono. */
export const FRAME_BYTES = FRAME_SAMPLES * 2;
/** Milliseconds per frame. */
export const FRAME_MS = 20;

/**
 * Cuts a stream of s16le bytes into 960-sample frames.
 *
 * @example
 *   const chunker = new PcmChunker((samples) => audio.publish(samples));
 *   socket.on('data', (chunk) => chunker.push(chunk));
 */
export class PcmChunker {
  #pending: Buffer = Buffer.alloc(0);
  readonly #onFrame: (samples: Int16Array) => void;

  /** `onFrame` receives each whole frame as its own Int16Array. */
  constructor(onFrame: (samples: Int16Array) => void) {
    this.#onFrame = onFrame;
  }

  /** Adds bytes; emits every frame they complete. */
  push(chunk: Buffer): void {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    let offset = 0;
    while (this.#pending.length - offset >= FRAME_BYTES) {
      const samples = new Int16Array(FRAME_SAMPLES);
      for (let i = 0; i < FRAME_SAMPLES; i++) samples[i] = this.#pending.readInt16LE(offset + i * 2);
      offset += FRAME_BYTES;
      this.#onFrame(samples);
    }
    this.#pending = this.#pending.subarray(offset);
  }
}

/**
 * A sine tone generator that keeps its phase across frames.
 *
 * @example
 *   const tone = new SineTone(440, 0.3);
 *   audio.publish(tone.next());   // 960 samples of a 440 Hz tone at 30 % of full scale
 */
export class SineTone {
  #phase = 0;
  readonly #step: number;
  readonly #amplitude: number;

  /** `frequency` in Hz; `level` from 0 to 1 of full scale. */
  constructor(frequency: number, level = 0.3) {
    this.#step = (2 * Math.PI * frequency) / SAMPLE_RATE;
    this.#amplitude = Math.round(32767 * Math.min(1, Math.max(0, level)));
  }

  /** The next 20 ms frame. */
  next(): Int16Array {
    const samples = new Int16Array(FRAME_SAMPLES);
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      samples[i] = Math.round(this.#amplitude * Math.sin(this.#phase));
      this.#phase += this.#step;
    }
    this.#phase %= 2 * Math.PI;
    return samples;
  }
}

/**
 * The power of one frequency in a signal, relative to the signal's total power (0 to 1): the Goertzel
 * algorithm. A pure tone at `frequency` gives about 1, silence or another tone about 0.
 *
 * @example
 *   toneShare(samples, 440) > 0.5   // the recording holds the injected 440 Hz tone
 */
export function toneShare(samples: Int16Array, frequency: number, sampleRate = SAMPLE_RATE): number {
  const n = samples.length;
  if (n === 0) return 0;
  const k = Math.round((n * frequency) / sampleRate);
  const coefficient = 2 * Math.cos((2 * Math.PI * k) / n);
  let previous = 0;
  let beforePrevious = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const x = samples[i]!;
    total += x * x;
    const current = x + coefficient * previous - beforePrevious;
    beforePrevious = previous;
    previous = current;
  }
  if (total === 0) return 0;
  const power = previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious;
  // A tone's Goertzel power is (A·n/2)², its total power A²·n/2: the ratio below is 1 for a pure tone on a bin.
  return Math.min(1, (2 * power) / (n * total));
}

/** Root mean square of the samples, 0 to 32768. */
export function rms(samples: Int16Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (const x of samples) sum += x * x;
  return Math.sqrt(sum / samples.length);
}
