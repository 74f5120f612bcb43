/**
 * The load tester: ramps up N synthetic participants in one room, has them publish video (a small test card),
 * audio (a tone, as PCM) and chat at a steady rate for a while, and measures what every bot really received:
 * join time, delivery latency per media kind, loss from sequence gaps, throughput and errors.
 *
 * Media starts only once every bot has joined and stops a moment before they leave, so every frame sent has
 * every other bot as receiver: received + lost should come to sent × (N − 1) for video and chat.
 */
import { ConfabError, isConfabError } from '../../core/errors.js';
import { createBotClient, botServerUrl, type BotClient } from '../clients.js';
import { SineTone } from '../media/pcm.js';
import { TestCard } from '../media/test-card.js';
import { KindStats, LatencyRecorder, type KindReport, type LatencySummary } from './stats.js';

/** Options of `runLoad`. */
export interface LoadOptions {
  server: string;
  room: string;
  /** Participants to start. */
  bots: number;
  /** Seconds of traffic once everyone joined. */
  durationS: number;
  /** Spread the joins over this many seconds. Default: 20 ms per bot. */
  rampS?: number;
  /** Publish video (a 160×120 test card per bot). Default false. */
  video?: boolean;
  /** Video frames per second per bot. Default 5. */
  fps?: number;
  /** Publish audio (a tone, 50 frames a second per bot) and listen to the mix. Default false. */
  audio?: boolean;
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
  video?: KindReport;
  audio?: KindReport;
  chat?: KindReport;
  /** Errors by code (connect failures, server errors, client errors). */
  errors: Record<string, number>;
}

interface LoadBot {
  index: number;
  bot: BotClient;
  id: string;
  jpeg?: Buffer;
  tone?: SineTone;
  chatSeq: number;
}

/** Seconds to keep listening after the media stops, for frames in flight. */
const DRAIN_S = 1;

/**
 * Runs a load test and resolves with its report.
 *
 * @example
 *   const report = await runLoad({ server: '127.0.0.1:5000', room: 'load', bots: 20, durationS: 5, video: true });
 *   console.log(report.video?.latencyMs.p95);
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  if (!Number.isInteger(options.bots) || options.bots < 1) throw new ConfabError('BOT_OPTION_INVALID', `--bots must be a whole number ≥ 1, got ${options.bots}`);
  if (!(options.durationS > 0)) throw new ConfabError('BOT_OPTION_INVALID', `--duration must be more than 0 s, got ${options.durationS}`);
  const url = botServerUrl(options.server);
  const prefix = options.name ?? 'load';
  const fps = options.fps ?? 5;
  const chatRate = options.chatRate ?? 0;
  const rampMs = (options.rampS ?? options.bots * 0.02) * 1000;
  const errors: Record<string, number> = {};
  const countError = (code: string) => (errors[code] = (errors[code] ?? 0) + 1);
  const joinMs = new LatencyRecorder();
  const video = new KindStats();
  const audio = new KindStats();
  const chat = new KindStats();
  const bots: LoadBot[] = [];
  let phase: LoadProgress['phase'] = 'joining';
  let trafficStart = 0;
  let measuring = false;

  const progress = () => options.onProgress?.({
    phase,
    joined: bots.length,
    bots: options.bots,
    elapsedS: trafficStart === 0 ? 0 : Math.min(options.durationS, (performance.now() - trafficStart) / 1000),
    durationS: options.durationS,
  });
  const progressTimer = setInterval(progress, 250);

  const join = async (index: number): Promise<void> => {
    const bot = createBotClient({
      url,
      name: `${prefix}-${index}`,
      room: options.room,
      audio: { codec: 'pcm', receive: 'pcm', listen: options.audio === true, opus: null },
    });
    const { client } = bot;
    const started = performance.now();
    try {
      await client.connect();
    } catch (error) {
      countError(isConfabError(error) ? error.code : 'CONNECT_FAILED');
      return;
    }
    // Counted from here on: a failed connect is counted once, above, not also as its error event.
    client.on('error', (error) => countError(error.code));
    client.on('serverError', (error) => countError(error.code));
    joinMs.add(performance.now() - started);
    const id = client.self!.id;
    const entry: LoadBot = { index, bot, id, chatSeq: 0 };
    if (options.video) entry.jpeg = new TestCard({ name: client.self!.name, width: 160, height: 120, quality: 0.6 }).jpeg();
    if (options.audio) entry.tone = new SineTone(300 + (index % 50) * 10, 0.1);
    bot.video.on('frame', (frame) => measuring && video.arrival(id, frame.sender, frame.seq, frame.captureMs, frame.data.length));
    bot.audio.on('mix', (mix) => measuring && audio.arrival(id, 'mix', mix.seq, mix.captureMs, mix.pcm.byteLength));
    bot.chat.on('message', (message) => {
      const match = /^load (\d+) (\d+(?:\.\d+)?)$/.exec(message.text);
      if (!match || message.from.id === id || !measuring) return;
      chat.arrival(id, message.from.id, Number(match[1]), Number(match[2]), message.text.length);
    });
    bots.push(entry);
  };

  try {
    // Ramp up: start each join at its slot, without waiting for the previous one.
    const joins: Promise<void>[] = [];
    for (let index = 0; index < options.bots && !options.signal?.aborted; index++) {
      joins.push(join(index));
      if (index < options.bots - 1) await sleep(rampMs / options.bots, options.signal).catch(() => {});
    }
    await Promise.all(joins);

    phase = 'running';
    measuring = true;
    trafficStart = performance.now();
    const receivers = bots.length - 1;
    const timers: Array<() => void> = [];
    if (options.video) {
      timers.push(paced(fps, () => {
        for (const entry of bots) {
          if (entry.bot.video.publish(entry.jpeg!, { captureMs: Date.now(), keyframe: true })) {
            video.sent++;
            video.expected += receivers;
          } else video.notSent++;
        }
      }));
    }
    if (options.audio) {
      timers.push(paced(50, () => {
        for (const entry of bots) {
          if (entry.bot.audio.publish(entry.tone!.next(), { captureMs: Date.now() })) audio.sent++;
          else audio.notSent++;
        }
      }));
    }
    if (chatRate > 0 && bots.length > 0) {
      let turn = 0;
      timers.push(paced(chatRate, () => {
        const entry = bots[turn++ % bots.length]!;
        const seq = entry.chatSeq++;
        chat.sent++;
        chat.expected += receivers;
        entry.bot.chat.send(`load ${seq} ${Date.now()}`).catch((error: unknown) => countError(isConfabError(error) ? error.code : 'CHAT_FAILED'));
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
    // Audio mix frames keep coming while bots listen: expected is what the sequence numbers say was sent.
    const audioReport = audio.report(windowS);
    audioReport.expected = audioReport.received + audioReport.lost;
    return {
      server: url,
      room: options.room,
      bots: options.bots,
      joined: bots.length,
      durationS: Math.round(windowS * 10) / 10,
      joinMs: joinMs.summary(),
      ...(options.video ? { video: video.report(windowS) } : {}),
      ...(options.audio ? { audio: audioReport } : {}),
      ...(chatRate > 0 ? { chat: chat.report(windowS) } : {}),
      errors,
    };
  } finally {
    clearInterval(progressTimer);
    await Promise.all(bots.map((entry) => entry.bot.client.close()));
  }
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
