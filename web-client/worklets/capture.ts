/**
 * The microphone AudioWorklet: cuts the input into 20 ms frames of 960 samples (the AudioContext runs at
 * 48 kHz), converts them to signed 16-bit PCM and posts each to the page with its level, transferring the
 * buffer. Bundled on its own (`/worklets/capture.js`) and loaded with `audioWorklet.addModule`.
 *
 * Messages to the page: `{ frame: Int16Array(960), rms: number }` (rms of the frame, 0..1).
 */
const FRAME_SAMPLES = 960;

class CaptureProcessor extends AudioWorkletProcessor {
  #frame = new Int16Array(FRAME_SAMPLES);
  #filled = 0;
  #sumSquares = 0;

  process(inputs: Float32Array[][]): boolean {
    const input = inputs[0]?.[0];
    if (!input) return true; // no device connected yet: keep the processor alive
    for (let i = 0; i < input.length; i++) {
      const sample = Math.max(-1, Math.min(1, input[i]!));
      this.#sumSquares += sample * sample;
      this.#frame[this.#filled++] = sample < 0 ? sample * 0x8000 : sample * 0x7fff;
      if (this.#filled === FRAME_SAMPLES) this.#post();
    }
    return true;
  }

  #post(): void {
    const frame = this.#frame;
    this.port.postMessage({ frame, rms: Math.sqrt(this.#sumSquares / FRAME_SAMPLES) }, [frame.buffer]);
    this.#frame = new Int16Array(FRAME_SAMPLES);
    this.#filled = 0;
    this.#sumSquares = 0;
  }
}

registerProcessor('confab-capture', CaptureProcessor);
