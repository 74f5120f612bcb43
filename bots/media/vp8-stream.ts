/**
 * A VP8 stream that makes a keyframe when asked and changes its bitrate, though ffmpeg can be told neither
 * while it runs: a spare encoder (vp8-encoder.ts) is kept started, waiting for its first frame. On a keyframe
 * request the next captured frame goes to the spare instead (an encoder's first frame is a keyframe, and its
 * layer pattern starts again at 0), the old encoder finishes the frames it holds and exits, and a new spare is
 * started. A new bitrate is a new spare started at that rate, switched to the same way.
 *
 * So a request is answered with the next captured frame: at most one frame interval plus one encode, with
 * no process start in the way (the spare's start-up, about 80 ms, was paid before). The output stays in
 * order: frames of the new encoder wait until the old one has given out every frame it was fed.
 */
import type { ConfabError } from '../../core/errors.js';
import { Vp8Encoder, type EncodedVideoFrame } from './vp8-encoder.js';
import type { VideoContent } from './vp8-settings.js';

/** Options of `Vp8Stream.start`. */
export interface Vp8StreamOptions {
  width: number;
  height: number;
  fps: number;
  /** The bitrate to start at, bits per second. */
  bitrateBps: number;
  content?: VideoContent;
  /** Each encoded frame, in order. */
  onFrame: (frame: EncodedVideoFrame) => void;
  /** An encoder failed (the stream goes on with the next one where it can). */
  onError?: (error: ConfabError) => void;
}

/** What a stream did. */
export interface Vp8StreamStats {
  /** Keyframe requests taken (several before the switch count once). */
  keyframeRequests: number;
  /** Request → keyframe out of the encoder, in ms, per answered request. */
  keyframeLatencyMs: number[];
  /** Encoders switched to (requests and bitrate changes). */
  switches: number;
  /** Bitrate of each encoder started after the first, in order. */
  bitrateChanges: number[];
}

/** An encoder whose output is still owed, in order. */
interface Generation {
  encoder: Vp8Encoder;
  /** Frames that came out while an older generation still owed some. */
  held: EncodedVideoFrame[];
  /** No more frames will be written to it. */
  retired: boolean;
  /** Its process exited: it owes nothing more. */
  ended: boolean;
  /** When the request it answers was made (performance.now()), if it answers one. */
  requestedAt?: number;
}

/**
 * A VP8 stream over switching encoders.
 *
 * @example
 *   const stream = await Vp8Stream.start({ width: 640, height: 480, fps: 15, bitrateBps: 500_000, onFrame: publish });
 *   video.on('keyframeRequest', () => stream.requestKeyframe());
 *   source.on('video', (i420, captureMs) => stream.write(i420, captureMs));
 *   await stream.close();
 */
export class Vp8Stream {
  readonly #options: Vp8StreamOptions;
  /** Encoders that were written to, oldest first; the last is the one being written to. */
  readonly #generations: Generation[] = [];
  #spare: { bitrateBps: number; encoder: Promise<Vp8Encoder> } | undefined;
  #spareReady: Vp8Encoder | undefined;
  /** A switch is due: since when a keyframe was asked for (or -1 for a bitrate change only). */
  #switchDue: number | undefined;
  #targetBps: number;
  #closed = false;
  /** What it did so far. */
  readonly stats: Vp8StreamStats = { keyframeRequests: 0, keyframeLatencyMs: [], switches: 0, bitrateChanges: [] };

  private constructor(options: Vp8StreamOptions) {
    this.#options = options;
    this.#targetBps = options.bitrateBps;
  }

  /**
   * Starts the first encoder and a spare.
   *
   * @throws ConfabError FFMPEG_NOT_FOUND.
   */
  static async start(options: Vp8StreamOptions): Promise<Vp8Stream> {
    const stream = new Vp8Stream(options);
    const first = await stream.#startEncoder(options.bitrateBps);
    stream.#generations.push({ encoder: first, held: [], retired: false, ended: false });
    stream.#startSpare();
    return stream;
  }

  /** The bitrate of the encoder being written to, bits per second. */
  get bitrateBps(): number {
    return this.#current.encoder.bitrateBps;
  }

  /** Encodes the next captured I420 frame (switching encoders first when a switch is due and the spare is up). */
  write(i420: Buffer, captureMs: number): void {
    if (this.#closed) return;
    if (this.#switchDue !== undefined && this.#spareReady) this.#switch();
    this.#current.encoder.encode(i420, captureMs);
  }

  /** Makes the next frame a keyframe (requests before it is written are answered together). */
  requestKeyframe(): void {
    if (this.#closed) return;
    // The first frame of an encoder is a keyframe anyway.
    if (this.#current.encoder.written === 0) return;
    if (this.#switchDue === undefined || this.#switchDue < 0) {
      this.stats.keyframeRequests++;
      this.#switchDue = performance.now();
    }
  }

  /** Moves to a new bitrate: an encoder at that rate takes over at its keyframe. */
  setBitrate(bps: number): void {
    if (this.#closed || bps === this.#targetBps) return;
    this.#targetBps = bps;
    this.#switchDue ??= -1;
    if (this.#spare?.bitrateBps !== bps) this.#startSpare();
  }

  /** Lets every encoder give out the frames it was fed, then ends them and the spare. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const spare = this.#spare?.encoder.catch(() => undefined);
    this.#spare = undefined;
    this.#spareReady = undefined;
    await Promise.all([
      ...this.#generations.map((g) => g.encoder.finish().catch(() => {})),
      spare?.then((encoder) => encoder?.stop()),
    ]);
  }

  get #current(): Generation {
    return this.#generations[this.#generations.length - 1]!;
  }

  #switch(): void {
    const encoder = this.#spareReady!;
    const requestedAt = this.#switchDue! >= 0 ? this.#switchDue : undefined;
    this.#spare = undefined;
    this.#spareReady = undefined;
    this.#switchDue = undefined;
    const old = this.#current;
    old.retired = true;
    this.#generations.push({ encoder, held: [], retired: false, ended: false, ...(requestedAt === undefined ? {} : { requestedAt }) });
    this.stats.switches++;
    if (encoder.bitrateBps !== old.encoder.bitrateBps) this.stats.bitrateChanges.push(encoder.bitrateBps);
    this.#advance();
    void old.encoder.finish().catch((error: ConfabError) => this.#options.onError?.(error));
    this.#startSpare();
  }

  #startSpare(): void {
    const previous = this.#spare;
    if (previous) void previous.encoder.then((encoder) => encoder.stop(), () => {});
    const bitrateBps = this.#targetBps;
    const encoder = this.#startEncoder(bitrateBps);
    const spare = { bitrateBps, encoder };
    this.#spare = spare;
    this.#spareReady = undefined;
    encoder.then(
      (started) => {
        if (this.#spare === spare && !this.#closed) this.#spareReady = started;
        else void started.stop();
      },
      (error: ConfabError) => this.#options.onError?.(error),
    );
  }

  async #startEncoder(bitrateBps: number): Promise<Vp8Encoder> {
    let generation: Generation | undefined;
    const encoder = await Vp8Encoder.start({
      width: this.#options.width,
      height: this.#options.height,
      fps: this.#options.fps,
      bitrateBps,
      content: this.#options.content,
      onFrame: (frame) => {
        generation ??= this.#generations.find((g) => g.encoder === encoder);
        if (generation) this.#output(generation, frame);
      },
    });
    encoder.exited.then(({ error }) => {
      if (error && !this.#closed) this.#options.onError?.(error);
      const ended = this.#generations.find((g) => g.encoder === encoder);
      if (!ended) return;
      ended.ended = ended.retired = true;
      // The encoder being written to died: the next frame goes to the spare.
      if (ended === this.#current && !this.#closed) this.#switchDue ??= -1;
      this.#advance();
    });
    return encoder;
  }

  #output(generation: Generation, frame: EncodedVideoFrame): void {
    generation.held.push(frame);
    this.#advance();
  }

  /** Emits what is owed, oldest generation first; drops retired generations that owe nothing more. */
  #advance(): void {
    while (this.#generations.length > 0) {
      const oldest = this.#generations[0]!;
      for (const frame of oldest.held.splice(0)) {
        if (oldest.requestedAt !== undefined && frame.index === 0) this.stats.keyframeLatencyMs.push(performance.now() - oldest.requestedAt);
        this.#options.onFrame(frame);
      }
      const done = oldest.retired && (oldest.encoder.drained || oldest.ended);
      if (!done || this.#generations.length === 1) return;
      this.#generations.shift();
    }
  }
}
