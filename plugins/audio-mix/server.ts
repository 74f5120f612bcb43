/**
 * The audio-mix plugin, server half: every 20 ms it mixes each room's speakers (jitter buffer, decode once,
 * conceal gaps) and sends every listener the mix minus its own voice (Opus or PCM, as it asked), relays each
 * speaker's own frames to the sessions that asked for them (track-relay.ts), reports speaker levels and mute
 * state to the room, and exposes the mixer's tick lateness in `/metrics`.
 */
import { definePlugin } from '../../core/config.js';
import { encodeFrame, MediaCodec } from '../../core/wire.js';
import type { Plugin, Room, Session } from '../../core/index.js';
import { createMediaInbox } from '../../core/media-inbox.js';
import { readOptions } from '../../core/options.js';
import { DEFAULT_OPUS_BITRATE, loadOpus } from './opus-codec.js';
import {
  AUDIO,
  AUDIO_CONTROL,
  AUDIO_ERRORS,
  FRAME_MS,
  MAX_OPUS_PACKET_BYTES,
  PCM_FRAME_BYTES,
  type AudioCodecName,
} from './protocol.js';
import { RoomMixer } from './room-mixer.js';
import { RollingSamples, TickScheduler } from './tick-scheduler.js';
import { TrackListeners } from './track-relay.js';

/** Options of the audio-mix plugin. */
export interface AudioMixOptions {
  /** Load an Opus codec (`@evan/opus`, else `opusscript`). With false, only PCM is accepted and sent. Default true. */
  opus?: boolean;
  /** Opus bitrate of the mixes, bits per second. Default 32 000. */
  bitrate?: number;
  /** Deepest a speaker's jitter buffer may grow, ms (a multiple of 20). Default 200. */
  maxJitterMs?: number;
}

/** Ticks between updates of the mixer's gauges in `/metrics` (1 s). */
const GAUGE_EVERY_TICKS = 50;
/** Buckets of the tick lateness histogram, seconds: 0.5 ms to a quarter second. */
const TICK_LATENESS_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25];

/**
 * Creates the audio-mix plugin.
 *
 * @example
 *   defineConfig({ plugins: [chat(), audioMix({ bitrate: 24_000 })] });
 */
export function audioMix(options: AudioMixOptions = {}): Plugin {
  const settings = readOptions('audio-mix', options, {
    opus: { type: 'boolean', default: true },
    bitrate: { type: 'integer', min: 6_000, max: 510_000, default: DEFAULT_OPUS_BITRATE },
    maxJitterMs: { type: 'integer', min: FRAME_MS, max: 1_000, default: 200 },
  });

  return definePlugin({
    name: 'audio-mix',
    channels: [AUDIO, AUDIO_CONTROL],
    errors: AUDIO_ERRORS,
    async setup(ctx) {
      const opus = settings.opus ? await loadOpus((line) => ctx.log.warn(line)) : undefined;
      ctx.log.info(`mixing with ${opus ? `Opus from ${opus.name}` : 'PCM only'}`);
      const media = ctx.channel(AUDIO);
      const control = ctx.channel(AUDIO_CONTROL);
      /** What every session is told on join: the codecs it may publish in and ask the mix in. */
      const codecs: AudioCodecName[] = opus ? ['opus', 'pcm'] : ['pcm'];
      // Opus frames are well-formed even where there is no Opus codec: the mixer drops and counts them
      // (audio-no-opus) rather than the inbox closing the session of a client that did not hear of `codecs`.
      const inbox = createMediaInbox(ctx.metrics, {
        grant: 'publish:audio',
        codecs: [MediaCodec.OPUS, MediaCodec.PCM_S16LE],
        maxFrameBytes: Math.max(PCM_FRAME_BYTES, MAX_OPUS_PACKET_BYTES),
        channel: AUDIO.name,
      });
      const lateness = ctx.metrics.histogram('confab_audio_tick_lateness_seconds',
        `How late each ${FRAME_MS} ms mixer tick started after its deadline, seconds.`, TICK_LATENESS_BUCKETS);
      const scheduler = new TickScheduler(FRAME_MS, (lateMs) => {
        lateness(lateMs / 1000);
        tickAll();
      });
      const mixMs = new RollingSamples();
      /** Rooms whose mixer has something to do; the scheduler runs while there is one. */
      const mixing = new Set<Room>();
      let ticks = 0;
      /** The last payload a mixer delivered and its frame: a shared mix is framed once per tick. */
      let lastPayload: Uint8Array | undefined;
      let lastFrame: Uint8Array | undefined;

      const mixers = ctx.perRoom((room) => new RoomMixer({
        opus,
        bitrate: settings.bitrate,
        jitter: { frameMs: FRAME_MS, maxDepth: Math.floor(settings.maxJitterMs / FRAME_MS) },
        deliver: (id, payload) => deliver(room, id, payload),
        reportLevels: (levels) => control.broadcast(room, { op: 'levels', levels }),
        count: (reason) => ctx.metrics.add(ctx.metrics.mediaRefused, reason),
      }));
      const tracks = ctx.perRoom(() => new TrackListeners());

      function deliver(room: Room, id: string, payload: Uint8Array): void {
        const session = room.get(id);
        if (!session || !session.grants.has('subscribe')) return;
        if (payload !== lastPayload) {
          lastPayload = payload;
          lastFrame = encodeFrame(media.id, payload);
        }
        session.sendMediaFrame(lastFrame!, AUDIO.name, true);
        ctx.metrics.add(ctx.metrics.framesOut, AUDIO.name);
      }

      function tickAll(): void {
        const started = performance.now();
        const now = Date.now();
        for (const room of mixing) {
          const mixer = mixers.get(room);
          mixer.tick(now);
          if (mixer.idle) mixing.delete(room);
        }
        lastPayload = lastFrame = undefined;
        if (mixing.size === 0) scheduler.stop();
        mixMs.add(performance.now() - started);
        if (++ticks % GAUGE_EVERY_TICKS === 0 || !scheduler.running) updateGauges();
      }

      function updateGauges(): void {
        const gauges = ctx.metrics.gauges;
        gauges.set('confab_audio_tick_lateness_p99_ms', round(scheduler.lateness.percentile(99)));
        gauges.set('confab_audio_tick_lateness_max_ms', round(scheduler.lateness.max()));
        gauges.set('confab_audio_mix_ms_p99', round(mixMs.percentile(99)));
        gauges.set('confab_audio_ticks_skipped', scheduler.skipped);
        gauges.set('confab_audio_rooms_mixing', mixing.size);
      }

      function activate(room: Room): void {
        mixing.add(room);
        scheduler.start();
      }

      media.onMessage((session, payload) => {
        const frame = inbox(session, payload);
        if (!frame) return;
        // Only a frame the mixer took goes to the track listeners: never a muted speaker's, a late one or a duplicate.
        if (mixers.get(session.room).receive(session.id, frame, performance.now())) {
          const forwarded = tracks.peek(session.room)?.forward(session, frame, media.id) ?? 0;
          if (forwarded > 0) ctx.metrics.add(ctx.metrics.framesOut, AUDIO.name, forwarded);
        }
        activate(session.room);
      });

      control.onMessage((session, request) => {
        const mixer = mixers.get(session.room);
        if (request.op === 'listen') {
          if (!session.grants.has('subscribe')) throw AUDIO_ERRORS.AUDIO_NOT_ALLOWED();
          const codec = mixer.listen(session.id, request.codec);
          control.send(session, { op: 'listening', codec });
          activate(session.room);
        } else if (request.op === 'unlisten') {
          mixer.unlisten(session.id);
          control.send(session, { op: 'listening', codec: null });
        } else if (request.op === 'tracks') {
          if (request.on && !session.grants.has('subscribe')) throw AUDIO_ERRORS.AUDIO_NOT_ALLOWED();
          tracks.get(session.room).set(session, request.on);
          control.send(session, { op: 'tracks', on: request.on });
        } else {
          mixer.setMuted(session.id, request.muted);
          control.broadcast(session.room, { op: 'muted', peer: session.id, muted: request.muted });
        }
      });

      ctx.hooks.sessionJoined.tap('audio-mix', (session: Session, room: Room) => {
        control.send(session, { op: 'codecs', codecs });
        const muted = mixers.get(room).muted;
        if (muted.length > 0) control.send(session, { op: 'state', muted });
      });
      // A session that loses publish:audio (a moderator's mute) is muted for the room to see; it unmutes
      // itself once the grant is back.
      ctx.hooks.grantsChanged.tap('audio-mix', (session: Session, removed) => {
        if (!removed.includes('publish:audio') || session.state === 'closed') return;
        mixers.get(session.room).setMuted(session.id, true);
        control.broadcast(session.room, { op: 'muted', peer: session.id, muted: true });
      });
      ctx.hooks.sessionLeft.tap('audio-mix', (session: Session, room: Room) => {
        mixers.get(room).remove(session.id);
        tracks.peek(room)?.set(session, false);
      });
      ctx.hooks.roomDisposed.tap('audio-mix', (room: Room) => mixing.delete(room));
      ctx.hooks.close.tapPromise('audio-mix', async () => scheduler.stop());
    },
  });
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
