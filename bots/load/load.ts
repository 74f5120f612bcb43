/**
 * The load tester: ramps up N synthetic participants in one room, has them publish real media at a steady
 * rate for a while, and measures what every bot really received: join time, delivery latency per media kind,
 * loss, throughput and errors.
 *
 * Video is a VP8 clip with three temporal layers, encoded once and looped (clip.ts; `codec: 'jpeg'` for a
 * test card per bot), reported per layer (layers.ts). Audio is an Opus tone clip encoded once (PCM with
 * `audioCodec: 'pcm'`), and each bot listens to its mix. Chat at a given rate across the room.
 *
 * Media starts only once every bot has joined and stops a moment before they leave, so every frame sent has
 * every other bot as receiver. The first bot joins alone first: when it cannot connect, the run stops there
 * with BOT_CONNECT_FAILED instead of waiting out the duration.
 */
import { ConfabError, isConfabError } from '../../core/errors.js';
import { MediaCodec } from '../../core/media.js';
import { botServerUrl } from '../clients.js';
import type { BotVideoCodec } from '../media/video-publisher.js';
import { encodeAudioClip, encodeVideoClip } from './clip.js';
import { LayerStats, type LayeredReport } from './layers.js';
import { LoadParticipant, type LoadMedia, type ParticipantObserver } from './participant.js';
import { KindStats, LatencyRecorder, type KindReport, type LatencySummary } from './stats.js';

/** The most participants one run starts (each is a TCP connection from this process). */
export const MAX_LOAD_BOTS = 1000;

/** Options of `runLoad`. */
export interface LoadOptions {
  server: string;
  room: string;
  /** Participants to start, 1 to MAX_LOAD_BOTS. */
  bots: number;
  /** Seconds of traffic once everyone joined. */
  durationS: number;
  /** Spread the joins over this many seconds. Default: 20 ms per bot. */
  rampS?: number;
  /** Publish video. Default false. */
  video?: boolean;
  /** Video codec: `vp8` (default, the shared clip) or `jpeg` (a test card per bot). */
  codec?: BotVideoCodec;
  /** Video size; default 320×240. */
  width?: number;
  height?: number;
  /** VP8 clip bitrate, bits per second; default 300 000. */
  videoBitrateBps?: number;
  /** Video frames per second per bot. Default 15. */
  fps?: number;
  /** Publish audio (50 frames a second per bot) and listen to the mix. Default false. */
  audio?: boolean;
  /** Audio codec: `opus` (default) or `pcm`. */
  audioCodec?: 'opus' | 'pcm';
  /** Chat messages per second across the room. Default 0. */
  chatRate?: number;
  /** Bot name prefix; default `load`. */
  name?: string;
  /** Called about 4 times a second with where the run is. */
  onProgress?: (progress: LoadProgress) => void;
  /** Stops the run early (the report covers what ran). */
  signal?: AbortSignal;
}

/** Where a run is. */
export interface LoadProgress {
  phase: 'joining' | 'running' | 'draining' | 'leaving';
  joined: number;
  bots: number;
  /** Seconds of traffic so far, and planned. */
  elapsedS: number;
  durationS: number;
}

/** The video part of a report: the counts of every kind, and per layer for VP8. */
export interface VideoReport extends KindReport {
  codec: BotVideoCodec;
  /** VP8: delivery per temporal layer, base-layer loss, undecodable arrivals (`lost` above is `baseLost`). */
  layered?: LayeredReport;
}

/** The report of a run. */
export interface LoadReport {
  server: string;
  room: string;
  bots: number;
  /** Bots that joined. */
  joined: number;
  /** Seconds of traffic measured. */
  durationS: number;
  /** Time from dialling to WELCOME, per bot. */
  joinMs: LatencySummary;
  video?: VideoReport;
  audio?: KindReport & { codec: 'opus' | 'pcm' };
  chat?: KindReport;
  /** Errors by code (connect failures, server errors, client errors). */
  errors: Record<string, number>;
}

/** Seconds to keep listening after the media stops, for frames in flight. */
const DRAIN_S = 1;

/**
 * Runs a load test and resolves with its report.
 *
 * @throws ConfabError BOT_OPTION_INVALID for a bot count or duration out of range, BOT_CONNECT_FAILED when
 *   the first bot cannot join.
 * @example
 *   const report = await runLoad({ server: '127.0.0.1:5000', room: 'load', bots: 20, durationS: 5, video: true });
 *   console.log(report.video?.layered?.layers);
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  checkOptions(options);
  const url = botServerUrl(options.server);
  const prefix = options.name ?? 'load';
  const fps = options.fps ?? 15;
  const codec = options.codec ?? 'vp8';
  const chatRate = options.chatRate ?? 0;
  const rampMs = (options.rampS ?? options.bots * 0.02) * 1000;
  const errors: Record<string, number> = {};
  const countError = (code: string) => (errors[code] = (errors[code] ?? 0) + 1);
  const joinMs = new LatencyRecorder();
  const video = new KindStats();
  const layers = new LayerStats();
  const audio = new KindStats();
  const chat = new KindStats();
  const bots: LoadParticipant[] = [];
  let phase: LoadProgress['phase'] = 'joining';
  let trafficStart = 0;
  let measuring = false;
  let raw = 0;

  const media = await prepareMedia(options, codec, fps);
  const observer: ParticipantObserver = {
    rawVideo: (receiver, frame) => {
      if (!measuring || frame.codec !== MediaCodec.VP8) return;
      raw++;
      layers.arrived(receiver, frame);
    },
    video: (receiver, frame) => measuring && video.arrival(receiver, frame.sender, frame.seq, frame.captureMs, frame.data.length),
    mix: (receiver, seq, captureMs, bytes) => measuring && audio.arrival(receiver, 'mix', seq, captureMs, bytes),
    chat: (receiver, from, text) => {
      const match = /^load (\d+) (\d+(?:\.\d+)?)$/.exec(text);
      if (match && measuring) chat.arrival(receiver, from, Number(match[1]), Number(match[2]), text.length);
    },
    error: countError,
  };
  const progress = () => options.onProgress?.({
    phase,
    joined: bots.length,
    bots: options.bots,
    elapsedS: trafficStart === 0 ? 0 : Math.min(options.durationS, (performance.now() - trafficStart) / 1000),
    durationS: options.durationS,
  });
  const progressTimer = setInterval(progress, 250);

  const join = async (index: number): Promise<void> => {
    const started = performance.now();
    const bot = await LoadParticipant.join(url, options.room, `${prefix}-${index}`, index, media, observer, options.audio === true);
    joinMs.add(performance.now() - started);
    bots.push(bot);
  };

  try {
    await join(0).catch((error: unknown) => {
      const reason = isConfabError(error) ? `${error.code}: ${error.message}` : String(error);
      throw new ConfabError('BOT_CONNECT_FAILED', `the first load bot could not join ${options.room} at ${url} (${reason}); is the server running there?`, { cause: error });
    });
    // Ramp up: start each join at its slot, without waiting for the previous one.
    const joins: Promise<void>[] = [];
    for (let index = 1; index < options.bots && !options.signal?.aborted; index++) {
      await sleep(rampMs / options.bots, options.signal).catch(() => {});
      joins.push(join(index).catch((error: unknown) => void countError(isConfabError(error) ? error.code : 'CONNECT_FAILED')));
    }
    await Promise.all(joins);

    phase = 'running';
    measuring = true;
    trafficStart = performance.now();
    const receivers = bots.length - 1;
    const timers: Array<() => void> = [];
    if (media.video) {
      timers.push(paced(fps, () => {
        for (const bot of bots) {
          const layer = bot.publishVideo();
          if (layer === undefined) {
            video.notSent++;
            continue;
          }
          video.sent++;
          video.expected += receivers;
          layers.sent(layer, receivers);
        }
      }));
    }
    if (media.audio) {
      timers.push(paced(50, () => {
        for (const bot of bots) {
          if (bot.publishAudio()) audio.sent++;
          else audio.notSent++;
        }
      }));
    }
    if (chatRate > 0 && bots.length > 0) {
      let turn = 0;
      timers.push(paced(chatRate, () => {
        const bot = bots[turn++ % bots.length]!;
        chat.sent++;
        chat.expected += receivers;
        bot.bot.chat.send(`load ${bot.chatSeq++} ${Date.now()}`).catch((error: unknown) => countError(isConfabError(error) ? error.code : 'CHAT_FAILED'));
      }));
    }
    await sleep(options.durationS * 1000, options.signal).catch(() => {});
    for (const stop of timers) stop();
    const windowS = (performance.now() - trafficStart) / 1000;

    phase = 'draining';
    await sleep(DRAIN_S * 1000);
    measuring = false;
    phase = 'leaving';
    progress();
    return {
      server: url,
      room: options.room,
      bots: options.bots,
      joined: bots.length,
      durationS: Math.round(windowS * 10) / 10,
      joinMs: joinMs.summary(),
      ...(media.video ? { video: videoReport(video.report(windowS), codec, layers, raw, bots) } : {}),
      ...(media.audio ? { audio: { ...mixReport(audio.report(windowS)), codec: media.opus ? 'opus' as const : 'pcm' as const } } : {}),
      ...(chatRate > 0 ? { chat: chat.report(windowS) } : {}),
      errors,
    };
  } finally {
    clearInterval(progressTimer);
    await Promise.all(bots.map((bot) => bot.bot.client.close()));
  }
}

/** Checks the numbers before anything starts. */
function checkOptions(options: LoadOptions): void {
  if (!Number.isInteger(options.bots) || options.bots < 1 || options.bots > MAX_LOAD_BOTS) {
    throw new ConfabError(
      'BOT_OPTION_INVALID',
      `--bots takes a whole number from 1 to ${MAX_LOAD_BOTS}, got ${options.bots} (each bot is a connection from this one process; ` +
        'a default server takes 256 from one address: raise its maxConnectionsPerAddress for more)',
    );
  }
  if (!(options.durationS > 0)) throw new ConfabError('BOT_OPTION_INVALID', `--duration must be more than 0 s, got ${options.durationS}`);
}

/** The run's shared media: the VP8 clip and the Opus tone, each encoded once. */
async function prepareMedia(options: LoadOptions, codec: BotVideoCodec, fps: number): Promise<LoadMedia> {
  const width = options.width ?? 320;
  const height = options.height ?? 240;
  const clip = options.video && codec === 'vp8'
    ? await encodeVideoClip({ width, height, fps, bitrateBps: options.videoBitrateBps ?? 300_000 })
    : undefined;
  const opus = options.audio && options.audioCodec !== 'pcm' ? await encodeAudioClip(440) : undefined;
  return { video: options.video ? { codec, clip, width, height } : undefined, opus, audio: options.audio === true };
}

/** The video report; for VP8 `lost` is the base-layer loss and the layers are told. */
function videoReport(kind: KindReport, codec: BotVideoCodec, layers: LayerStats, raw: number, bots: LoadParticipant[]): VideoReport {
  if (codec !== 'vp8') return { ...kind, codec };
  const keyframeRequests = bots.reduce((sum, bot) => sum + bot.keyframeRequests, 0);
  const layered = layers.report({ undecodable: Math.max(0, raw - kind.received - kind.duplicates), keyframeRequests });
  return { ...kind, codec, lost: layered.baseLost, layered };
}

/** Mix frames keep coming while bots listen: expected is what the sequence numbers say was sent. */
function mixReport(report: KindReport): KindReport {
  return { ...report, expected: report.received + report.lost };
}

/**
 * Calls `tick` `rate` times a second on average, by the wall clock: a late timer catches up with the ticks
 * it missed, so a busy machine sends what it should rather than less. Returns the function that stops it.
 */
function paced(rate: number, tick: () => void): () => void {
  const started = performance.now();
  let done = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) * rate) / 1000);
    for (; done < due; done++) tick();
  }, Math.max(5, 1000 / rate / 2));
  return () => clearInterval(timer);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
