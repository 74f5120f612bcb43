/**
 * A media source for bots: ffmpeg decodes a file (or generates a test pattern and a tone) at real-time pace
 * into JPEG frames and 20 ms frames of 48 kHz mono s16 PCM.
 *
 * One ffmpeg process, two outputs: the JPEGs (`-f image2pipe -c:v mjpeg`) on stdout, the PCM (`-f s16le`)
 * over a loopback TCP socket, because fluent-ffmpeg cannot hand ffmpeg a second pipe. `-re` on every input
 * paces the decode at the media's own rate.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { Emitter } from '../../core/client/emitter.js';
import { ConfabError } from '../../core/errors.js';
import { configureFluentFfmpeg, findFfmpeg, findFfprobe } from '../ffmpeg.js';
import { JpegSplitter } from './jpeg-splitter.js';
import { listenLoopback, type LoopbackSocket } from './loopback-socket.js';
import { PcmChunker, SAMPLE_RATE } from './pcm.js';

/** What to decode: a file, or ffmpeg's `testsrc` pattern with a sine tone. */
export type SourceInput = { file: string } | { testPattern: { frequency?: number } };

/** Options of `startSource`. */
export interface SourceOptions {
  input: SourceInput;
  /** Start again at the end (files only; the test pattern never ends). Default false. */
  loop?: boolean;
  /** Stop after this many seconds. Default: the end of the file, or never for the test pattern. */
  durationS?: number;
  /** Video size; default 640×480. */
  width?: number;
  height?: number;
  /** Frames per second; default 15. */
  fps?: number;
  /** JPEG quality as ffmpeg's -q:v, 2 (best) to 31; default 5. */
  jpegQuality?: number;
  /** Decode the video; default true. */
  video?: boolean;
  /** Decode the audio; default true. */
  audio?: boolean;
}

/** Events of a running source. */
export type SourceEvents = {
  /** One JPEG image, with the wall-clock time it was decoded. */
  video: [jpeg: Buffer, captureMs: number];
  /** One 20 ms frame of PCM (960 samples). */
  audio: [samples: Int16Array, captureMs: number];
  /** ffmpeg finished: the file (or the duration) ended, or `stop()` was called. */
  end: [];
  /** ffmpeg failed; `end` follows. */
  error: [ConfabError];
};

/** A running ffmpeg decode. */
export interface MediaSource extends Pick<Emitter<SourceEvents>, 'on' | 'off' | 'once'> {
  /** Whether the input has a video and an audio stream (the test pattern has both). */
  readonly streams: { video: boolean; audio: boolean };
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
  const found = await findFfmpeg();
  configureFluentFfmpeg(found);
  const width = options.width ?? 640;
  const height = options.height ?? 480;
  const fps = options.fps ?? 15;
  const wanted = { video: options.video ?? true, audio: options.audio ?? true };
  const command = ffmpeg();
  let streams: { video: boolean; audio: boolean };
  let videoMap: string;
  let audioMap: string;

  if ('file' in options.input) {
    const file = options.input.file;
    if (!existsSync(file)) throw new ConfabError('BOT_INPUT_INVALID', `no media file at ${file}`);
    const probed = await probeStreams(file, found);
    streams = { video: probed.video && wanted.video, audio: probed.audio && wanted.audio };
    command.input(file).inputOptions(['-re', ...(options.loop ? ['-stream_loop', '-1'] : [])]);
    videoMap = '0:v:0';
    audioMap = '0:a:0';
  } else {
    const frequency = options.input.testPattern.frequency ?? 440;
    streams = wanted;
    command.input(`testsrc=size=${width}x${height}:rate=${fps}`).inputFormat('lavfi').inputOptions(['-re']);
    command.input(`sine=frequency=${frequency}:sample_rate=${SAMPLE_RATE}`).inputFormat('lavfi').inputOptions(['-re']);
    videoMap = '0:v:0';
    audioMap = '1:a:0';
  }
  if (!streams.video && !streams.audio) {
    throw new ConfabError('BOT_INPUT_INVALID', 'the input has no video or audio stream to publish (or both were turned off)');
  }
  const duration = options.durationS !== undefined ? ['-t', String(options.durationS)] : [];

  const events = new Emitter<SourceEvents>();
  let audioSocket: LoopbackSocket | undefined;
  if (streams.audio) {
    audioSocket = await listenLoopback();
    command
      .output(audioSocket.url)
      .outputOptions(['-map', audioMap, '-vn', '-f', 's16le', '-acodec', 'pcm_s16le', '-ac', '1', '-ar', String(SAMPLE_RATE), ...duration]);
    const chunker = new PcmChunker((samples) => events.emit('audio', samples, Date.now()));
    audioSocket.connection.then((socket) => socket.on('data', (chunk: Buffer) => chunker.push(chunk)), () => {});
  }
  if (streams.video) {
    const stdout = new PassThrough();
    stdout.on('error', () => {});
    const splitter = new JpegSplitter((jpeg) => events.emit('video', jpeg, Date.now()));
    stdout.on('data', (chunk: Buffer) => splitter.push(chunk));
    command.output(stdout).outputOptions([
      '-map', videoMap, '-an',
      '-vf', `scale=${width}:${height}:force_original_aspect_ratio=decrease,pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2,fps=${fps}`,
      '-f', 'image2pipe', '-c:v', 'mjpeg', '-pix_fmt', 'yuvj420p', '-q:v', String(options.jpegQuality ?? 5),
      ...duration,
    ]);
  }

  let stopping = false;
  const ended = new Promise<void>((resolve) => {
    const finish = (error?: Error, stderr?: string | null) => {
      audioSocket?.close();
      if (error && !stopping) {
        const tail = (stderr ?? '').trim().split('\n').slice(-3).join(' | ');
        events.emit('error', new ConfabError('BOT_FFMPEG_FAILED', `ffmpeg decode failed: ${error.message}${tail ? ` (${tail})` : ''}`));
      }
      events.emit('end');
      resolve();
    };
    command.on('end', () => finish());
    command.on('error', (error: Error, _stdout: string | null, stderr: string | null) => finish(error, stderr));
  });
  command.run();

  return {
    streams,
    ended,
    on: events.on.bind(events),
    off: events.off.bind(events),
    once: events.once.bind(events),
    async stop() {
      if (!stopping) {
        stopping = true;
        command.kill('SIGTERM');
      }
      await ended;
    },
  };
}

/** Which streams a media file has, from ffprobe. */
function probeStreams(file: string, found: { path: string; source: 'option' | 'FFMPEG_PATH' | 'ffmpeg-static' | 'PATH' }): Promise<{ video: boolean; audio: boolean }> {
  return findFfprobe({ ffmpeg: found }).then((probe) => {
    const result = spawnSync(probe.path, ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', file], { encoding: 'utf8' });
    if (result.status !== 0) {
      throw new ConfabError('BOT_INPUT_INVALID', `ffprobe cannot read ${file}: ${result.stderr.trim().split('\n').pop() ?? 'unknown error'}`);
    }
    const types = result.stdout.split('\n').map((line) => line.trim());
    return { video: types.includes('video'), audio: types.includes('audio') };
  });
}
