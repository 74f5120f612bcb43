/**
 * A media sink for bots: ffmpeg encodes raw video frames (BGRA, as `canvas` draws them) and 48 kHz mono s16
 * PCM into one file (VP8 + Opus in Matroska or WebM by default).
 *
 * The video goes to ffmpeg's stdin; the audio over a loopback TCP socket that ffmpeg connects to (fluent-ffmpeg
 * cannot pass a second pipe). With two piped inputs ffmpeg 5.1 waits to probe both before reading either,
 * which deadlocks with a writer that feeds them in turn: `-probesize 32 -analyzeduration 0` on each input
 * stops that. Both inputs are raw at a declared rate, so the file's timestamps are the frame counts: the
 * writer must feed them at a constant rate (the recorder's timeline does) for the duration to match.
 */
import { PassThrough } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { ConfabError } from '../../core/errors.js';
import { configureFluentFfmpeg, findFfmpeg } from '../ffmpeg.js';
import { listenLoopback } from './loopback-socket.js';
import { SAMPLE_RATE } from './pcm.js';

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
 * Starts ffmpeg writing `options.out`.
 *
 * @example
 *   const sink = await startSink({ out: 'meeting.mkv' });
 *   sink.writeVideo(canvas.toBuffer('raw'));
 *   sink.writeAudio(mix);
 *   await sink.finish();
 */
export async function startSink(options: SinkOptions): Promise<MediaSink> {
  configureFluentFfmpeg(await findFfmpeg());
  const width = options.width ?? 640;
  const height = options.height ?? 480;
  const fps = options.fps ?? 15;
  const frameBytes = width * height * 4;
  const audio = await listenLoopback();
  const video = new PassThrough({ highWaterMark: frameBytes * 4 });
  video.on('error', () => {});
  const unbuffered = ['-probesize', '32', '-analyzeduration', '0'];

  const command = ffmpeg()
    .input(video)
    .inputFormat('rawvideo')
    .inputOptions([...unbuffered, '-pix_fmt', 'bgra', '-video_size', `${width}x${height}`, '-framerate', String(fps)])
    .input(audio.url)
    .inputFormat('s16le')
    .inputOptions([...unbuffered, '-ar', String(SAMPLE_RATE), '-ac', '1'])
    .output(options.out)
    .outputOptions([
      '-map', '0:v', '-map', '1:a',
      // canvas gives BGRA; libvpx takes only YUV 4:2:0.
      '-c:v', 'libvpx', '-pix_fmt', 'yuv420p', '-deadline', 'realtime', '-cpu-used', '8',
      '-b:v', `${options.videoKbps ?? 800}k`, '-g', String(fps * 2),
      '-c:a', 'libopus', '-b:a', '64k',
    ]);

  const exited = new Promise<{ error?: ConfabError }>((resolve) => {
    command.on('end', () => resolve({}));
    command.on('error', (error: Error, _stdout: string | null, stderr: string | null) => {
      const tail = (stderr ?? '').trim().split('\n').slice(-3).join(' | ');
      resolve({ error: new ConfabError('BOT_FFMPEG_FAILED', `ffmpeg encode of ${options.out} failed: ${error.message}${tail ? ` (${tail})` : ''}`) });
    });
  });
  exited.then(() => audio.close());
  command.run();

  // Audio written before ffmpeg connects waits here, in order.
  let audioSocket: import('node:net').Socket | undefined;
  const early: Buffer[] = [];
  audio.connection.then(
    (socket) => {
      audioSocket = socket;
      for (const chunk of early.splice(0)) socket.write(chunk);
    },
    () => {},
  );
  let finished = false;

  return {
    exited,
    get backlogBytes() {
      return video.writableLength + (audioSocket?.writableLength ?? early.reduce((n, b) => n + b.length, 0));
    },
    writeVideo(bgra) {
      if (finished) return;
      if (bgra.length !== frameBytes) throw new RangeError(`a video frame is ${frameBytes} bytes (${width}×${height} BGRA), got ${bgra.length}`);
      video.write(bgra);
    },
    writeAudio(samples) {
      if (finished) return;
      const bytes = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
      // Confab's PCM is little-endian like every machine Node runs on; copy because the caller may reuse it.
      const copy = Buffer.from(bytes);
      if (audioSocket) audioSocket.write(copy);
      else early.push(copy);
    },
    async finish() {
      if (!finished) {
        finished = true;
        video.end();
        const socket = await Promise.race([audio.connection, exited.then(() => undefined)]).catch(() => undefined);
        socket?.end();
      }
      const { error } = await exited;
      if (error) throw error;
    },
  };
}
