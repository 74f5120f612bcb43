/**
 * A media source for bots: ffmpeg decodes a file (or generates a test pattern and a tone) at real-time pace
 * into video frames and 20 ms frames of 48 kHz mono s16 PCM.
 *
 * Video comes as JPEG images (`-f image2pipe -c:v mjpeg`, published as they are) or as raw I420 frames
 * (`-f rawvideo`, for the VP8 encoder). One ffmpeg process, two outputs: the video on stdout, the PCM on
 * fd 3 (`pipe:3`). `-re` on every input paces the decode at the media's own rate.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { Emitter } from '../../core/client/emitter.js';
import { ConfabError } from '../../core/errors.js';
import { findFfprobe } from '../ffmpeg.js';
import { ffmpegBinary, startFfmpeg } from './ffmpeg-process.js';
import { FrameChunker } from './frame-chunker.js';
import { JpegSplitter } from './jpeg-splitter.js';
import { PcmChunker, SAMPLE_RATE } from './pcm.js';

/** What to decode: a file, or ffmpeg's `testsrc` pattern with a sine tone. */
export type SourceInput = { file: string } | { testPattern: { frequency?: number } };

/** How video frames come out: JPEG images, or raw I420 (width × height × 1.5 bytes each). */
export type SourceVideoFormat = 'jpeg' | 'i420';

/** Options of `startSource`. */
export interface SourceOptions {
  input: SourceInput;
  /** Start again at the end (files only; the test pattern never ends). Default false. */
  loop?: boolean;
  /** Stop after this many seconds. Default: the end of the file, or never for the test pattern. */
  durationS?: number;
  /** Video size (scaled and padded to it); default 640×480. */
  width?: number;
  height?: number;
  /** Frames per second; default 15. */
  fps?: number;
  /** Video frames as `jpeg` (default) or `i420`. */
  videoFormat?: SourceVideoFormat;
  /** JPEG quality as ffmpeg's -q:v, 2 (best) to 31; default 5. */
  jpegQuality?: number;
  /** Decode the video; default true. */
  video?: boolean;
  /** Decode the audio; default true. */
  audio?: boolean;
}

/** Events of a running source. */
export type SourceEvents = {
  /** One video frame (a JPEG, or I420 bytes), with the wall-clock time it was decoded. */
  video: [frame: Buffer, captureMs: number];
  /** One 20 ms frame of PCM (960 samples). */
  audio: [samples: Int16Array, captureMs: number];
  /** ffmpeg finished: the file (or the duration) ended, or `stop()` was called. */
  end: [];
  /** ffmpeg failed; `end` follows. */
  error: [ConfabError];
};

/** A running ffmpeg decode. */
export interface MediaSource extends Pick<Emitter<SourceEvents>, 'on' | 'off' | 'once'> {
  /** Whether video and audio are decoded (the input has them and they were asked for). */
  readonly streams: { video: boolean; audio: boolean };
  /** The video frames' size and rate. */
  readonly video: { width: number; height: number; fps: number; format: SourceVideoFormat };
  /** Resolves once ffmpeg exited, whatever the reason. */
  readonly ended: Promise<void>;
  /** Stops ffmpeg. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts decoding. Frames arrive as `video` and `audio` events at the media's pace.
 *
 * @throws ConfabError BOT_INPUT_INVALID when the file does not exist or has neither stream,
 *   FFMPEG_NOT_FOUND when there is no ffmpeg.
 * @example
 *   const source = await startSource({ input: { testPattern: {} }, durationS: 5 });
 *   source.on('video', (jpeg, captureMs) => video.publish(jpeg, { captureMs, keyframe: true }));
 *   source.on('audio', (pcm) => audio.publish(pcm));
 *   await source.ended;
 */
export async function startSource(options: SourceOptions): Promise<MediaSource> {
  const width = options.width ?? 640;
  const height = options.height ?? 480;
  const fps = options.fps ?? 15;
  const format = options.videoFormat ?? 'jpeg';
  const wanted = { video: options.video ?? true, audio: options.audio ?? true };
  const inputs: string[] = [];
  let streams: { video: boolean; audio: boolean };
  let audioMap = '0:a:0';

  if ('file' in options.input) {
    const file = options.input.file;
    if (!existsSync(file)) throw new ConfabError('BOT_INPUT_INVALID', `no media file at ${file}`);
    const probed = await probeStreams(file);
    streams = { video: probed.video && wanted.video, audio: probed.audio && wanted.audio };
    inputs.push('-re', ...(options.loop ? ['-stream_loop', '-1'] : []), '-i', file);
  } else {
    const frequency = options.input.testPattern.frequency ?? 440;
    streams = wanted;
    inputs.push('-re', '-f', 'lavfi', '-i', `testsrc=size=${width}x${height}:rate=${fps}`);
    inputs.push('-re', '-f', 'lavfi', '-i', `sine=frequency=${frequency}:sample_rate=${SAMPLE_RATE}`);
    audioMap = '1:a:0';
  }
  if (!streams.video && !streams.audio) {
    throw new ConfabError('BOT_INPUT_INVALID', 'the input has no video or audio stream to publish (or both were turned off)');
  }
  const duration = options.durationS !== undefined ? ['-t', String(options.durationS)] : [];
  const outputs: string[] = [];
  if (streams.video) {
    const fit = `scale=${width}:${height}:force_original_aspect_ratio=decrease,pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2,fps=${fps}`;
    const encoding = format === 'jpeg'
      ? ['-f', 'image2pipe', '-c:v', 'mjpeg', '-pix_fmt', 'yuvj420p', '-q:v', String(options.jpegQuality ?? 5)]
      : ['-f', 'rawvideo', '-pix_fmt', 'yuv420p'];
    outputs.push('-map', '0:v:0', '-an', '-vf', fit, ...encoding, ...duration, 'pipe:1');
  }
  if (streams.audio) {
    outputs.push('-map', audioMap, '-vn', '-f', 's16le', '-acodec', 'pcm_s16le', '-ac', '1', '-ar', String(SAMPLE_RATE), ...duration, 'pipe:3');
  }

  const events = new Emitter<SourceEvents>();
  const ffmpeg = await startFfmpeg({ label: 'the media decode', args: [...inputs, ...outputs], pipes: ['out'] });
  if (streams.video) {
    const onFrame = (frame: Buffer) => events.emit('video', frame, Date.now());
    const splitter = format === 'jpeg' ? new JpegSplitter(onFrame) : new FrameChunker((width * height * 3) / 2, onFrame);
    ffmpeg.stdout.on('data', (chunk: Buffer) => splitter.push(chunk));
  }
  if (streams.audio) {
    const chunker = new PcmChunker((samples) => events.emit('audio', samples, Date.now()));
    (ffmpeg.pipes[0] as Readable).on('data', (chunk: Buffer) => chunker.push(chunk));
  }
  const ended = ffmpeg.exited.then(({ error }) => {
    if (error) events.emit('error', error);
    events.emit('end');
  });

  return {
    streams,
    video: { width, height, fps, format },
    ended,
    on: events.on.bind(events),
    off: events.off.bind(events),
    once: events.once.bind(events),
    async stop() {
      await ffmpeg.stop();
      await ended;
    },
  };
}

/** Which streams a media file has, from ffprobe. */
async function probeStreams(file: string): Promise<{ video: boolean; audio: boolean }> {
  const probe = await findFfprobe({ ffmpeg: await ffmpegBinary() });
  const result = spawnSync(probe.path, ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new ConfabError('BOT_INPUT_INVALID', `ffprobe cannot read ${file}: ${result.stderr.trim().split('\n').pop() ?? 'unknown error'}`);
  }
  const types = result.stdout.split('\n').map((line) => line.trim());
  return { video: types.includes('video'), audio: types.includes('audio') };
}
