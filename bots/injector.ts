/**
 * The injector bot: publishes a media file, or ffmpeg's test pattern and a sine tone, into a room as a
 * camera and microphone (or as a screen share) at real-time pace, looping on request.
 *
 * Video is VP8 with three temporal layers by default (libvpx through ffmpeg; it answers the server's keyframe
 * requests and follows its bitrate feedback, bots/media/video-publisher.ts), or JPEG with `codec: 'jpeg'`.
 * Audio is Opus (the audio-mix client half encodes it), or PCM when asked or when the server takes only PCM.
 * ffmpeg decodes with `-re`, so frames leave at the media's own rate; each frame carries the wall-clock time
 * it was decoded as its capture time.
 */
import { ConfabError } from '../core/errors.js';
import type { AudioCodecName } from '../plugins/audio-mix/protocol.js';
import { createBotClient, botServerUrl } from './clients.js';
import type { BitrateBounds } from './media/bitrate-policy.js';
import { startSource, type SourceInput } from './media/source.js';
import { cameraOutlet, screenOutlet, startVideoPublisher, type BotVideoCodec, type VideoPublisherStats } from './media/video-publisher.js';

/** Options of `inject`. */
export interface InjectorOptions {
  server: string;
  room: string;
  /** What to publish: `{ file }` or `{ testPattern: { frequency? } }`. */
  input: SourceInput;
  /** Publish the video as a camera (default) or as a screen share. */
  as?: 'camera' | 'screen';
  /** Video codec: `vp8` (default) or `jpeg`. */
  codec?: BotVideoCodec;
  /** Audio codec: `opus` (default; PCM where the server takes only PCM) or `pcm`. */
  audioCodec?: AudioCodecName;
  /** VP8 bitrate bounds, bits per second; it starts at the maximum. Default 150–500 kbit/s for a camera, 300–1500 for a screen. */
  bitrate?: BitrateBounds;
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
  /** Why it stopped: `end` (the media or the duration ended), `signal`, `disconnected`. */
  reason: string;
  /** The codecs used (audio: what the audio half sent, after any fallback to PCM; null without audio). */
  codecs: { video: BotVideoCodec; audio: AudioCodecName | null };
  sent: { videoFrames: number; audioFrames: number };
  /** Frames not sent because the connection was backed up or closed. */
  dropped: { videoFrames: number; audioFrames: number };
  /** The video publisher's counters: bytes, keyframe requests and their latency, bitrate changes. */
  video: VideoPublisherStats;
}

/** Default VP8 bounds of a screen share (text at up to 1920×1080, a few frames a second), as the web client's. */
const SCREEN_BITRATE: BitrateBounds = { minBps: 300_000, maxBps: 1_500_000 };

/**
 * Joins, publishes until the media ends (or the signal, or the duration), leaves.
 *
 * @throws ConfabError BOT_NO_PLUGIN when the server cannot take what is to be published, BOT_FFMPEG_FAILED.
 * @example
 *   await inject({ server: '127.0.0.1:5000', room: 'lab', input: { testPattern: {} }, durationS: 10 });
 */
export async function inject(options: InjectorOptions): Promise<InjectionResult> {
  const log = options.log ?? (() => {});
  const as = options.as ?? 'camera';
  const codec = options.codec ?? 'vp8';
  const bot = createBotClient({
    url: botServerUrl(options.server),
    name: options.name ?? 'injector',
    room: options.room,
    audio: { codec: options.audioCodec ?? 'opus' },
  });
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
      fps: options.fps ?? (as === 'screen' ? 5 : 15),
      videoFormat: codec === 'vp8' ? 'i420' : 'jpeg',
      audio: withAudio,
    });
    let failure: ConfabError | undefined;
    const fail = (error: ConfabError) => {
      failure ??= error;
      void source.stop();
    };
    const publisher = await startVideoPublisher({
      outlet: as === 'screen' ? screenOutlet(bot.screen) : cameraOutlet(bot.video),
      codec,
      ...source.video,
      content: as,
      bitrate: options.bitrate ?? (as === 'screen' ? SCREEN_BITRATE : undefined),
      onError: fail,
    }).catch(async (error: unknown) => {
      await source.stop();
      throw error;
    });
    const audioNote = withAudio ? `, audio in ${bot.audio.sendCodec} (the server takes ${bot.audio.serverCodecs?.join(', ') ?? 'opus, pcm'})` : '';
    const what = 'file' in options.input ? options.input.file : 'a test pattern';
    const rate = publisher.bitrateBps === undefined ? '' : ` at ${Math.round(publisher.bitrateBps / 1000)} kbit/s`;
    log(`publishing ${what} as ${as} in ${options.room}: ${codec}${rate}${audioNote}`);
    source.on('video', (frame, captureMs) => publisher.frame(frame, captureMs));
    source.on('audio', (samples, captureMs) => {
      if (bot.audio.publish(samples, { captureMs })) sent.audioFrames++;
      else dropped.audioFrames++;
    });
    source.on('error', fail);

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
    await publisher.close();
    if (failure) throw failure;
    if (lost) throw new ConfabError(lost.code, `the injector was disconnected: ${lost.message}`, { cause: lost });
    if (bot.client.state === 'open') {
      if (as === 'screen') bot.screen.stop();
      else bot.video.setCamera(false);
    }
    sent.videoFrames = publisher.stats.sent;
    dropped.videoFrames = publisher.stats.dropped;
    return { reason, codecs: { video: codec, audio: withAudio ? bot.audio.sendCodec : null }, sent, dropped, video: publisher.stats };
  } finally {
    await bot.client.close();
  }
}
