/**
 * A media sink for bots: ffmpeg encodes raw video frames (BGRA, as `canvas` draws them) and 48 kHz mono s16
 * PCM into one file, VP8 + Opus in Matroska (`.mkv`) or WebM (`.webm`).
 *
 * The video goes to ffmpeg's stdin, the audio to fd 3 (`pipe:3`). With two piped inputs ffmpeg 5.1 waits to
 * probe both before reading either, which deadlocks with a writer that feeds them in turn:
 * `-probesize 32 -analyzeduration 0` on each input stops that. Both inputs are raw at a declared rate, so the
 * file's timestamps are the frame counts: the writer must feed them at a constant rate (the recorder's
 * timeline does) for the duration to match.
 */
import { extname } from 'node:path';
import type { Writable } from 'node:stream';
import { ConfabError } from '../../core/errors.js';
import { startFfmpeg } from './ffmpeg-process.js';
import { SAMPLE_RATE } from './pcm.js';

/** File extensions the sink writes (VP8 and Opus fit both containers). */
export const SINK_EXTENSIONS = ['.mkv', '.webm'] as const;

/** Options of `startSink`. */
export interface SinkOptions {
  /** The output file; its extension picks the container (`.mkv`, `.webm`). */
  out: string;
  /** Video size; default 640×480. */
  width?: number;
  height?: number;
  /** Frames per second the video is fed at; default 15. */
  fps?: number;
  /** Video bit rate in kbit/s; default 800. */
  videoKbps?: number;
}

/** A running ffmpeg encode. */
export interface MediaSink {
  /** Writes one video frame: width × height × 4 bytes of BGRA. */
  writeVideo(bgra: Buffer): void;
  /** Writes one frame of PCM (any number of samples, normally 960). */
  writeAudio(samples: Int16Array): void;
  /** Bytes written but not yet taken by ffmpeg (video and audio). */
  readonly backlogBytes: number;
  /** Ends both inputs and resolves once ffmpeg has written the file; rejects with BOT_FFMPEG_FAILED. */
  finish(): Promise<void>;
  /** Resolves (never rejects) when ffmpeg exits; `error` is set if it failed. */
  readonly exited: Promise<{ error?: ConfabError }>;
}

/**
 * Checks that the sink can write this file name, before anything is started.
 *
 * @throws ConfabError BOT_OUTPUT_INVALID naming the containers it writes.
 * @example
 *   checkSinkOutput('meeting.mp4')  // throws: --out must end in .mkv or .webm …
 */
export function checkSinkOutput(out: string): void {
  const extension = extname(out).toLowerCase();
  if ((SINK_EXTENSIONS as readonly string[]).includes(extension)) return;
  throw new ConfabError(
    'BOT_OUTPUT_INVALID',
    `${out}: the recording is VP8 video with Opus audio, so --out must end in ${SINK_EXTENSIONS.join(' or ')}` +
      `${extension ? ` (not ${extension})` : ''}; convert it afterwards if you need another format, e.g. ffmpeg -i meeting.mkv meeting.mp4`,
  );
}

/**
 * Starts ffmpeg writing `options.out`.
 *
 * @throws ConfabError BOT_OUTPUT_INVALID for a file name it cannot write, FFMPEG_NOT_FOUND.
 * @example
 *   const sink = await startSink({ out: 'meeting.mkv' });
 *   sink.writeVideo(canvas.toBuffer('raw'));
 *   sink.writeAudio(mix);
 *   await sink.finish();
 */
export async function startSink(options: SinkOptions): Promise<MediaSink> {
  checkSinkOutput(options.out);
  const width = options.width ?? 640;
  const height = options.height ?? 480;
  const fps = options.fps ?? 15;
  const frameBytes = width * height * 4;
  const unbuffered = ['-probesize', '32', '-analyzeduration', '0'];
  const ffmpeg = await startFfmpeg({
    label: `the recording of ${options.out}`,
    pipes: ['in'],
    args: [
      '-f', 'rawvideo', ...unbuffered, '-pix_fmt', 'bgra', '-video_size', `${width}x${height}`, '-framerate', String(fps), '-i', 'pipe:0',
      '-f', 's16le', ...unbuffered, '-ar', String(SAMPLE_RATE), '-ac', '1', '-i', 'pipe:3',
      '-map', '0:v', '-map', '1:a',
      // canvas gives BGRA; libvpx takes only YUV 4:2:0.
      '-c:v', 'libvpx', '-pix_fmt', 'yuv420p', '-deadline', 'realtime', '-cpu-used', '8',
      '-b:v', `${options.videoKbps ?? 800}k`, '-g', String(fps * 2),
      '-c:a', 'libopus', '-b:a', '64k',
      '-y', options.out,
    ],
  });
  const video = ffmpeg.stdin;
  const audio = ffmpeg.pipes[0] as Writable;
  let finished = false;

  return {
    exited: ffmpeg.exited.then(({ error }) => (error ? { error } : {})),
    get backlogBytes() {
      return video.writableLength + audio.writableLength;
    },
    writeVideo(bgra) {
      if (finished) return;
      if (bgra.length !== frameBytes) throw new RangeError(`a video frame is ${frameBytes} bytes (${width}×${height} BGRA), got ${bgra.length}`);
      video.write(bgra);
    },
    writeAudio(samples) {
      if (finished) return;
      // Confab's PCM is little-endian like every machine Node runs on; copy because the caller may reuse it.
      audio.write(Buffer.from(Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength)));
    },
    async finish() {
      finished = true;
      await ffmpeg.finish();
    },
  };
}
