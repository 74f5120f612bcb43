/**
 * The injector bot: publishes a media file, or ffmpeg's test pattern and a sine tone, into a room as a
 * camera and microphone (or as a screen share) at real-time pace, looping on request.
 *
 * ffmpeg decodes with `-re`, so frames leave at the media's own rate; each frame carries the wall-clock time
 * it was decoded as its capture time.
 */
import { ConfabError } from '../core/errors.js';
import { createBotClient, botServerUrl } from './clients.js';
import { startSource, type SourceInput } from './media/source.js';

/** Options of `inject`. */
export interface InjectorOptions {
  server: string;
  room: string;
  /** What to publish: `{ file }` or `{ testPattern: { frequency? } }`. */
  input: SourceInput;
  /** Publish the video as a camera (default) or as a screen share. */
  as?: 'camera' | 'screen';
  /** Start the file again at its end. Default false. */
  loop?: boolean;
  /** Stop after this many seconds. */
  durationS?: number;
  /** Publish the audio too, when the server mixes audio. Default true. */
  audio?: boolean;
  /** Display name; default `injector`. */
  name?: string;
  /** Video size and rate; default 640×480 at 15 fps. */
  width?: number;
  height?: number;
  fps?: number;
  /** Stop when this aborts. */
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/** What an injection sent. */
export interface InjectionResult {
  /** Why it stopped: `end` (the media or the duration ended), `signal`, `disconnected`, `ffmpeg`. */
  reason: string;
  sent: { videoFrames: number; audioFrames: number };
  /** Frames not sent because the connection was backed up or closed. */
  dropped: { videoFrames: number; audioFrames: number };
}

/**
 * Joins, publishes until the media ends (or the signal, or the duration), leaves.
 *
 * @throws ConfabError BOT_NO_PLUGIN when the server cannot take what is to be published.
 * @example
 *   await inject({ server: '127.0.0.1:5000', room: 'lab', input: { testPattern: {} }, durationS: 10 });
 */
export async function inject(options: InjectorOptions): Promise<InjectionResult> {
  const log = options.log ?? (() => {});
  const as = options.as ?? 'camera';
  const bot = createBotClient({ url: botServerUrl(options.server), name: options.name ?? 'injector', room: options.room });
  await bot.client.connect();
  const sent = { videoFrames: 0, audioFrames: 0 };
  const dropped = { videoFrames: 0, audioFrames: 0 };
  try {
    const plugin = as === 'screen' ? 'screen' : 'video';
    if (!bot.has(plugin)) {
      throw new ConfabError('BOT_NO_PLUGIN', `the server has no ${as === 'screen' ? 'screen' : 'video-relay'} plugin to publish to`);
    }
    if (as === 'screen') await bot.screen.start();
    const withAudio = options.audio !== false && bot.has('audio');
    if (withAudio) await bot.audio.ready;

    const source = await startSource({
      input: options.input,
      loop: options.loop,
      durationS: options.durationS,
      width: options.width,
      height: options.height,
      fps: options.fps,
      audio: withAudio,
    });
    const audioNote = withAudio ? `, audio in ${bot.audio.sendCodec} (the server takes ${bot.audio.serverCodecs?.join(', ') ?? 'opus, pcm'})` : '';
    log(`publishing ${'file' in options.input ? options.input.file : 'a test pattern'} as ${as} in ${options.room}${audioNote}`);
    source.on('video', (jpeg, captureMs) => {
      const ok = as === 'screen'
        ? bot.screen.publish(jpeg, { captureMs, keyframe: true })
        : bot.video.publish(jpeg, { captureMs, keyframe: true });
      if (ok) sent.videoFrames++;
      else dropped.videoFrames++;
    });
    source.on('audio', (samples, captureMs) => {
      if (bot.audio.publish(samples, { captureMs })) sent.audioFrames++;
      else dropped.audioFrames++;
    });
    let failure: ConfabError | undefined;
    source.on('error', (error) => (failure = error));

    let reason = 'end';
    const onAbort = () => {
      reason = 'signal';
      void source.stop();
    };
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let lost: ConfabError | undefined;
    bot.client.on('close', ({ error }) => {
      if (reason === 'end') reason = 'disconnected';
      lost = error;
      void source.stop();
    });
    await source.ended;
    options.signal?.removeEventListener('abort', onAbort);
    if (failure) throw failure;
    if (lost) throw new ConfabError(lost.code, `the injector was disconnected: ${lost.message}`, { cause: lost });
    if (bot.client.state === 'open') {
      if (as === 'screen') bot.screen.stop();
      else bot.video.setCamera(false);
    }
    return { reason, sent, dropped };
  } finally {
    await bot.client.close();
  }
}
