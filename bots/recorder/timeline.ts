/**
 * A wall-clock timeline that feeds an encoder at a constant rate.
 *
 * The encoder's inputs are raw streams at a declared rate, so the file's duration is the number of frames
 * written, not the time that passed. Media from the network comes in bursts and gaps; this timeline asks for
 * exactly as many audio and video frames as the time elapsed since `start()` calls for, so the file lasts as
 * long as the recording did: the recorder fills gaps with silence and repeats the last grid frame.
 */

/** What the timeline asks for. */
export interface TimelineSink {
  /** Write the next audio frame (number `index`, 20 ms each). */
  audioFrame(index: number): void;
  /** Write the next video frame (number `index`, at `fps`). */
  videoFrame(index: number): void;
}

/**
 * Calls the sink on a timer so that after t seconds, t·50 audio frames and t·fps video frames were written.
 *
 * @example
 *   const timeline = new Timeline(15, { audioFrame: () => sink.writeAudio(nextMix()), videoFrame: () => sink.writeVideo(grid()) });
 *   timeline.start();
 *   …
 *   timeline.stop();   // catches up to now first
 */
export class Timeline {
  readonly #fps: number;
  readonly #sink: TimelineSink;
  readonly #frameMs: number;
  #startedAt = 0;
  #audioFrames = 0;
  #videoFrames = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** `frameMs` is the audio frame length (20 ms). */
  constructor(fps: number, sink: TimelineSink, frameMs = 20) {
    this.#fps = fps;
    this.#sink = sink;
    this.#frameMs = frameMs;
  }

  /** Frames written so far. */
  get written(): { audio: number; video: number } {
    return { audio: this.#audioFrames, video: this.#videoFrames };
  }

  /** Seconds of media written so far (by the audio count). */
  get seconds(): number {
    return (this.#audioFrames * this.#frameMs) / 1000;
  }

  /** Starts the clock now. */
  start(now = performance.now()): void {
    this.#startedAt = now;
    this.#timer = setInterval(() => this.catchUp(), this.#frameMs);
  }

  /** Writes what the time elapsed calls for. Called by the timer; call it once more before stopping. */
  catchUp(now = performance.now()): void {
    const elapsedMs = now - this.#startedAt;
    const audioDue = Math.floor(elapsedMs / this.#frameMs);
    const videoDue = Math.floor((elapsedMs * this.#fps) / 1000);
    // Interleave by time, so neither input runs ahead of the other in the pipe.
    while (this.#audioFrames < audioDue || this.#videoFrames < videoDue) {
      const audioAt = this.#audioFrames * this.#frameMs;
      const videoAt = (this.#videoFrames * 1000) / this.#fps;
      if (this.#videoFrames < videoDue && (videoAt <= audioAt || this.#audioFrames >= audioDue)) {
        this.#sink.videoFrame(this.#videoFrames++);
      } else {
        this.#sink.audioFrame(this.#audioFrames++);
      }
    }
  }

  /** Catches up to now and stops the clock. Idempotent. */
  stop(now = performance.now()): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.catchUp(now);
  }
}
