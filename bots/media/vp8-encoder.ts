/**
 * One libvpx encoder in an ffmpeg process: raw I420 frames in on stdin, layered VP8 out as IVF on stdout,
 * each output frame told with its layer, switch-up flag and the capture time of the input it came from.
 *
 * ffmpeg numbers the input frames by the declared rate, so an output frame's IVF timestamp is the index of
 * its input frame: the layer comes from the pattern (vp8-settings.ts) and the capture time from the index.
 * ffmpeg does not start encoding before the first frame arrives, so a started encoder that was given no
 * frame yet costs no CPU: the keyframe-on-request logic (vp8-stream.ts) keeps one ready as a spare.
 */
import { vp8FrameKind } from '../../core/vp8.js';
import { startFfmpeg, type FfmpegProcess } from './ffmpeg-process.js';
import { IvfReader, type IvfFrame } from './ivf.js';
import { l1t3, vp8EncoderArgs, type VideoContent } from './vp8-settings.js';

/** One encoded frame, as the media header wants it. */
export interface EncodedVideoFrame {
  data: Buffer;
  keyframe: boolean;
  /** Temporal layer, 0–2 (0 for a keyframe). */
  layer: number;
  switchUp: boolean;
  /** Capture time of the input frame (ms since the epoch). */
  captureMs: number;
  /** Index of the input frame since this encoder started. */
  index: number;
}

/** Options of `Vp8Encoder.start`. */
export interface Vp8EncoderOptions {
  width: number;
  height: number;
  fps: number;
  bitrateBps: number;
  content?: VideoContent;
  /** Receives each encoded frame, in order. */
  onFrame: (frame: EncodedVideoFrame) => void;
}

/**
 * A running encoder.
 *
 * @example
 *   const encoder = await Vp8Encoder.start({ width: 640, height: 480, fps: 15, bitrateBps: 500_000, onFrame: publish });
 *   encoder.encode(i420, Date.now());
 *   await encoder.finish();
 */
export class Vp8Encoder {
  /** The bitrate it was started with (libvpx keeps it for its life). */
  readonly bitrateBps: number;
  readonly #process: FfmpegProcess;
  readonly #frameBytes: number;
  readonly #fps: number;
  readonly #captures = new Map<number, number>();
  #written = 0;
  #emitted = 0;

  private constructor(process: FfmpegProcess, options: Vp8EncoderOptions) {
    this.#process = process;
    this.bitrateBps = options.bitrateBps;
    this.#frameBytes = (options.width * options.height * 3) / 2;
    this.#fps = options.fps;
    const reader = new IvfReader((frame) => options.onFrame(this.#describe(frame, reader)));
    process.stdout.on('data', (chunk: Buffer) => reader.push(chunk));
  }

  /**
   * Starts ffmpeg; it waits for the first frame.
   *
   * @throws ConfabError FFMPEG_NOT_FOUND.
   */
  static async start(options: Vp8EncoderOptions): Promise<Vp8Encoder> {
    if (options.width % 2 || options.height % 2) throw new RangeError(`I420 needs an even size, got ${options.width}×${options.height}`);
    const process = await startFfmpeg({
      label: 'the VP8 encoder',
      args: [
        '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-video_size', `${options.width}x${options.height}`, '-framerate', String(options.fps),
        '-probesize', '32', '-i', 'pipe:0',
        ...vp8EncoderArgs({ fps: options.fps, bitrateBps: options.bitrateBps, content: options.content }),
        '-flush_packets', '1', '-f', 'ivf', 'pipe:1',
      ],
    });
    return new Vp8Encoder(process, options);
  }

  /** Frames written so far. */
  get written(): number {
    return this.#written;
  }

  /** True once every frame written came out encoded. */
  get drained(): boolean {
    return this.#emitted >= this.#written;
  }

  /** Resolves when ffmpeg exits (an error when it failed). */
  get exited(): FfmpegProcess['exited'] {
    return this.#process.exited;
  }

  /** Encodes one I420 frame (width × height × 1.5 bytes) captured at `captureMs`. */
  encode(i420: Buffer, captureMs: number): void {
    if (i420.length !== this.#frameBytes) throw new RangeError(`an I420 frame here is ${this.#frameBytes} bytes, got ${i420.length}`);
    this.#captures.set(this.#written++, captureMs);
    this.#process.stdin.write(i420);
  }

  /** Ends the input and waits until every frame is out and ffmpeg exited; rejects with BOT_FFMPEG_FAILED. */
  finish(): Promise<void> {
    return this.#process.finish();
  }

  /** Kills ffmpeg (frames not yet out are lost). Idempotent. */
  stop(): Promise<void> {
    return this.#process.stop();
  }

  #describe(frame: IvfFrame, reader: IvfReader): EncodedVideoFrame {
    this.#emitted++;
    // ffmpeg writes the time base 1/fps, so the timestamp counts input frames; any other base is converted.
    const base = reader.header!;
    const index = Math.round((frame.pts * base.timebaseNum * this.#fps) / base.timebaseDen);
    const captureMs = this.#captures.get(index) ?? Date.now();
    for (const key of this.#captures.keys()) {
      if (key > index) break;
      this.#captures.delete(key);
    }
    const keyframe = vp8FrameKind(frame.data) === 'keyframe';
    const { layer, switchUp } = keyframe ? { layer: 0, switchUp: true } : l1t3(index);
    return { data: frame.data, keyframe, layer, switchUp, captureMs, index };
  }
}
