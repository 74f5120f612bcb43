/**
 * The playback AudioWorklet with a jitter buffer: the page posts the server's 20 ms mixes (Int16Array of
 * 960 samples); the processor plays them at the audio clock's pace. It waits until `PREBUFFER_FRAMES` are
 * queued before starting (and again after running dry), and drops the oldest frames when more than
 * `MAX_FRAMES` wait, so latency stays bounded when the network delivers a burst.
 *
 * Messages to the page, about 10 times a second: `{ rms, queued, underruns, dropped }` (rms 0..1 of what was
 * played since the last report).
 */
const PREBUFFER_FRAMES = 3; // 60 ms
const MAX_FRAMES = 12; // 240 ms
const REPORT_EVERY_SAMPLES = 4800; // 100 ms at 48 kHz

class PlaybackProcessor extends AudioWorkletProcessor {
  #queue: Float32Array[] = [];
  #current: Float32Array | undefined;
  #offset = 0;
  #buffering = true;
  #underruns = 0;
  #dropped = 0;
  #sumSquares = 0;
  #counted = 0;

  constructor() {
    super();
    this.port.onmessage = (event: MessageEvent<Int16Array>) => this.#push(event.data);
  }

  #push(pcm: Int16Array): void {
    const samples = new Float32Array(pcm.length);
    for (let i = 0; i < pcm.length; i++) samples[i] = pcm[i]! / 0x8000;
    this.#queue.push(samples);
    while (this.#queue.length > MAX_FRAMES) {
      this.#queue.shift();
      this.#dropped++;
    }
    if (this.#buffering && this.#queue.length >= PREBUFFER_FRAMES) this.#buffering = false;
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const output = outputs[0]![0]!;
    for (let i = 0; i < output.length; i++) {
      if (!this.#current || this.#offset >= this.#current.length) {
        this.#current = this.#buffering ? undefined : this.#queue.shift();
        this.#offset = 0;
        if (!this.#current && !this.#buffering) {
          this.#buffering = true;
          this.#underruns++;
        }
      }
      const sample = this.#current ? this.#current[this.#offset++]! : 0;
      output[i] = sample;
      this.#sumSquares += sample * sample;
    }
    for (let channel = 1; channel < outputs[0]!.length; channel++) outputs[0]![channel]!.set(output);
    this.#counted += output.length;
    if (this.#counted >= REPORT_EVERY_SAMPLES) this.#report();
    return true;
  }

  #report(): void {
    const rms = Math.sqrt(this.#sumSquares / this.#counted);
    this.port.postMessage({ rms, queued: this.#queue.length, underruns: this.#underruns, dropped: this.#dropped });
    this.#sumSquares = 0;
    this.#counted = 0;
  }
}

registerProcessor('confab-playback', PlaybackProcessor);
