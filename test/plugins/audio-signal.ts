/**
 * Signals for the audio-mix tests: tones with continuous phase, Goertzel magnitudes, and real-time pacing.
 */
import { FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE } from '../../plugins/audio-mix/protocol.js';

/** Frame `index` of a sine tone at `hz` with peak `amplitude`, phase-continuous across frames. */
export function toneFrame(hz: number, index: number, amplitude = 8000): Int16Array {
  const frame = new Int16Array(FRAME_SAMPLES);
  const offset = index * FRAME_SAMPLES;
  for (let i = 0; i < FRAME_SAMPLES; i++) frame[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * (offset + i)) / SAMPLE_RATE));
  return frame;
}

/** The amplitude of `hz` in `samples` (Goertzel), scaled so a sine of peak A reads about A. */
export function magnitude(samples: Int16Array, hz: number): number {
  const coefficient = 2 * Math.cos((2 * Math.PI * hz) / SAMPLE_RATE);
  let previous = 0;
  let beforePrevious = 0;
  for (let i = 0; i < samples.length; i++) {
    const current = samples[i]! + coefficient * previous - beforePrevious;
    beforePrevious = previous;
    previous = current;
  }
  const power = previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious;
  return (2 * Math.sqrt(Math.max(0, power))) / samples.length;
}

/** Joins frames into one signal. */
export function concat(frames: Int16Array[]): Int16Array {
  const joined = new Int16Array(frames.length * FRAME_SAMPLES);
  frames.forEach((frame, i) => joined.set(frame, i * FRAME_SAMPLES));
  return joined;
}

/** Calls `send(index)` every 20 ms of real time (drift-free) for `count` frames. */
export async function paced(count: number, send: (index: number) => void): Promise<void> {
  const start = performance.now();
  for (let index = 0; index < count; index++) {
    const due = start + index * FRAME_MS;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    send(index);
  }
}
