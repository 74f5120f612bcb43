/**
 * Decodes one sender's VP8 stream (a camera, or the screen share) for the recorder's grid: an ffmpeg per
 * stream reads the frames as IVF on stdin and writes RGBA pictures on stdout, scaled down to fit the grid.
 *
 * The picture size comes from each keyframe (RFC 6386 frame header); a keyframe of another size restarts
 * the decoder at that size. Deltas before the first keyframe are never given (the client half's
 * MediaStreamReader holds them back); a decoder that dies makes `onFailed` fire, and the recorder asks the
 * sender for a keyframe, which starts a new one.
 */
import type { Readable } from 'node:stream';
import type { ConfabError } from '../../core/errors.js';
import { vp8KeyframeSize } from '../../core/vp8.js';
import { startFfmpeg, type FfmpegProcess } from '../media/ffmpeg-process.js';
import { FrameChunker } from '../media/frame-chunker.js';
import { ivfFileHeader, ivfFrame } from '../media/ivf.js';

/** A decoded picture: width × height × 4 bytes of RGBA. */
export interface Picture {
  width: number;
  height: number;
  rgba: Buffer;
}

/** Options of a `Vp8Decoder`. */
export interface Vp8DecoderOptions {
  /** Pictures are scaled down (never up) to fit this box. */
  maxWidth: number;
  maxHeight: number;
  /** Each decoded picture, in order. */
  onPicture: (picture: Picture) => void;
  /** The decoder died; it starts again at the next keyframe. */
  onFailed: (error: ConfabError | undefined) => void;
}

/** One running ffmpeg and the size it decodes at. */
interface Running {
  process: Promise<FfmpegProcess>;
  /** Size of the keyframes it was started for. */
  source: { width: number; height: number };
  frames: number;
}

/**
 * The largest even size within the box with the picture's aspect ratio, no larger than the picture.
 *
 * @example
 *   fitWithin(1920, 1080, 640, 480)  // { width: 640, height: 360 }
 */
export function fitWithin(width: number, height: number, maxWidth: number, maxHeight: number): { width: number; height: number } {
  const scale = Math.min(1, maxWidth / width, maxHeight / height);
  const even = (value: number) => Math.max(2, 2 * Math.floor((value * scale) / 2));
  return { width: even(width), height: even(height) };
}

/**
 * Decodes one stream.
 *
 * @example
 *   const decoder = new Vp8Decoder({ maxWidth: 640, maxHeight: 480, onPicture: (p) => grid.picture(id, p), onFailed: () => video.decodeFailed(id) });
 *   video.on('frame', (frame) => frame.sender === id && decoder.decode(frame));
 */
export class Vp8Decoder {
  readonly #options: Vp8DecoderOptions;
  #running: Running | undefined;
  #closed = false;
  /** Pictures decoded so far. */
  pictures = 0;

  constructor(options: Vp8DecoderOptions) {
    this.#options = options;
  }

  /** Decodes one frame (the first must be a keyframe; deltas without a running decoder are skipped). */
  decode(frame: { data: Uint8Array; keyframe: boolean }): void {
    if (this.#closed) return;
    if (frame.keyframe) {
      const size = vp8KeyframeSize(frame.data);
      if (!size || size.width === 0 || size.height === 0) return;
      const running = this.#running;
      if (!running || running.source.width !== size.width || running.source.height !== size.height) this.#start(size);
    }
    const running = this.#running;
    if (!running) return;
    const bytes = ivfFrame(running.frames++, frame.data);
    void running.process.then((process) => process.stdin.write(bytes), () => {});
  }

  /** Stops the decoder. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const running = this.#running;
    this.#running = undefined;
    if (running) await running.process.then((process) => process.stop(), () => {});
  }

  #start(source: { width: number; height: number }): void {
    const previous = this.#running;
    if (previous) void previous.process.then((process) => process.stop(), () => {});
    const out = fitWithin(source.width, source.height, this.#options.maxWidth, this.#options.maxHeight);
    const spawning = startFfmpeg({
      label: 'a VP8 decoder of the recorder',
      args: [
        '-f', 'ivf', '-probesize', '32', '-analyzeduration', '0', '-threads', '1', '-i', 'pipe:0',
        '-vf', `scale=${out.width}:${out.height}`, '-fps_mode', 'passthrough', '-pix_fmt', 'rgba', '-f', 'rawvideo', 'pipe:1',
      ],
    });
    const running: Running = { process: spawning, source, frames: 0 };
    this.#running = running;
    spawning.then(
      (started) => {
        started.stdin.write(ivfFileHeader({ fourcc: 'VP80', width: source.width, height: source.height, timebaseDen: 1000, timebaseNum: 1 }));
        const chunker = new FrameChunker(out.width * out.height * 4, (rgba) => {
          this.pictures++;
          this.#options.onPicture({ width: out.width, height: out.height, rgba });
        });
        (started.stdout as Readable).on('data', (chunk: Buffer) => chunker.push(chunk));
        started.exited.then(({ error }) => this.#ended(running, error));
      },
      (error: ConfabError) => this.#ended(running, error),
    );
  }

  #ended(running: Running, error: ConfabError | undefined): void {
    if (this.#running !== running || this.#closed) return;
    this.#running = undefined;
    this.#options.onFailed(error);
  }
}
