/**
 * The screen plugin, server half: one presenter per room at a time (a second gets SCREEN_BUSY), start and
 * stop announced to the room, the presenter's frames relayed to the others, and the share since its latest
 * keyframe kept (that keyframe and the base-layer frames after it, which is all a decoder needs) so that a
 * late joiner, or a receiver that asks for a keyframe, sees the screen at once without a new keyframe from
 * the presenter. The share ends when the presenter stops it, leaves, or loses the publish:screen grant.
 *
 * VP8 shares go through the LayeredRelay (core/media-relay.ts) as camera video does: per-receiver layers,
 * keyframe requests to the presenter (only when the cache cannot answer), bitrate feedback. JPEG frames are
 * each a keyframe: the cache is the last one, and slow receivers get the core's newest-wins policy.
 */
import { definePlugin } from '../../core/config.js';
import { TokenBucket } from '../../core/limits.js';
import { encodeFrame, MAX_TEMPORAL_LAYER, MediaCodec, withSender } from '../../core/wire.js';
import { createMediaInbox } from '../../core/media-inbox.js';
import { LayeredRelay } from '../../core/media-relay.js';
import { readOptions } from '../../core/options.js';
import type { Plugin, Room, Session } from '../../core/index.js';
import { ShareCache } from './share-cache.js';
import { KEYFRAME_INTERVAL_MS, SCREEN, SCREEN_CONTROL, SCREEN_ERRORS, type ScreenControlMessage, type StopReason } from './protocol.js';

/** Options of the screen plugin. */
export interface ScreenOptions {
  /** Largest encoded frame (header excluded), in bytes; a larger one is dropped as malformed. Default 4 MiB. */
  maxFrameBytes?: number;
  /** Malformed frames a session may send within 10 s before it is closed with MEDIA_MALFORMED. Default 50. */
  maxMalformed?: number;
}

/** Per room: who presents, and the share since its latest keyframe (frames already with the presenter's id). */
interface ShareState {
  presenter: Session | undefined;
  cache: ShareCache;
}

/** Keyframe requests (each may replay the cache) a receiver may send a second. */
const KEYFRAME_REQUESTS_PER_SECOND = 2;


/**
 * Creates the screen plugin.
 *
 * @example
 *   defineConfig({ plugins: [screen({ maxFrameBytes: 2 * 1024 * 1024 })] });
 */
export function screen(options: ScreenOptions = {}): Plugin {
  const { maxFrameBytes, maxMalformed } = readOptions('screen', options, {
    maxFrameBytes: { type: 'integer', min: 1024, max: 16 * 1024 * 1024, default: 4 * 1024 * 1024 },
    maxMalformed: { type: 'integer', min: 1, max: 1_000_000, default: 50 },
  });

  return definePlugin({
    name: 'screen',
    channels: [SCREEN, SCREEN_CONTROL],
    errors: SCREEN_ERRORS,
    setup(ctx) {
      const frames = ctx.channel(SCREEN);
      const control = ctx.channel(SCREEN_CONTROL);
      const send = (session: Session, message: ScreenControlMessage) => control.send(session, message);
      const shares = ctx.perRoom((): ShareState => ({ presenter: undefined, cache: new ShareCache() }));
      const requestBudgets = ctx.perSession(() => new TokenBucket(KEYFRAME_REQUESTS_PER_SECOND));
      const inbox = createMediaInbox(ctx.metrics, {
        grant: 'publish:screen',
        codecs: [MediaCodec.JPEG, MediaCodec.VP8, MediaCodec.H264],
        maxFrameBytes,
        maxMalformed,
        channel: SCREEN.name,
      });
      const relay = new LayeredRelay({
        metricsPrefix: 'confab_screen',
        metrics: ctx.metrics,
        highWaterBytes: ctx.options.mediaHighWaterBytes,
        keyframeIntervalMs: KEYFRAME_INTERVAL_MS,
        rooms: () => ctx.rooms(),
        sendKeyframeRequest: (presenter) => send(presenter, { op: 'keyframe' }),
        sendBitrate: (presenter, bps) => send(presenter, { op: 'bitrate', bps }),
      });
      const subscribed = (session: Session) => session.grants.has('subscribe');

      /**
       * Sends `receiver` the cached share at once; true when it went out. For a layered codec its stream then
       * continues from the base layer.
       */
      const replay = (receiver: Session, share: ShareState): boolean => {
        const presenter = share.presenter;
        if (!presenter || !share.cache.ready || !subscribed(receiver)) return false;
        const cached = share.cache.frames;
        if (!receiver.sendMediaBurst(cached)) return false;
        ctx.metrics.add(ctx.metrics.framesOut, SCREEN.name, cached.length);
        if (share.cache.layered) {
          const stream = relay.stream(receiver, presenter.id);
          stream.resumeAtBase();
          relay.sent(receiver, stream, share.cache.bytes);
        }
        return true;
      };

      const endShare = (room: Room, reason: StopReason) => {
        const share = shares.get(room);
        const presenter = share.presenter;
        if (!presenter) return;
        share.presenter = undefined;
        share.cache.clear();
        if (room.size > 0) control.broadcast(room, { op: 'stopped', presenter: presenter.info, reason });
      };

      frames.onMessage((session, payload) => {
        const frame = inbox(session, payload);
        if (!frame) return;
        const share = shares.get(session.room);
        if (share.presenter !== session) {
          ctx.metrics.add(ctx.metrics.mediaRefused, 'not-presenter');
          return;
        }
        relay.published(session, frame);
        const now = performance.now();
        const relayed = withSender(frame, session.id);
        const media = { stream: `screen:${session.id}`, keyframe: frame.keyframe };
        const cached = share.cache.add(encodeFrame(frames.id, relayed), frame);
        // A cache that grew too long since its keyframe was dropped; a fresh keyframe starts the next one.
        if (cached === 'overflow') relay.requestKeyframe(session);
        if (frame.codec === MediaCodec.JPEG) {
          frames.broadcast(session.room, relayed, { except: session, filter: subscribed, media });
          return;
        }
        const forwards = (receiver: Session) => {
          if (!subscribed(receiver)) return false;
          // A receiver waiting for a keyframe gets the cached share instead, this frame included if cached.
          if (relay.stream(receiver, session.id).waitingForKeyframe && replay(receiver, share) && cached === 'cached') return false;
          return relay.forwards(receiver, session, frame, MAX_TEMPORAL_LAYER, now);
        };
        frames.broadcast(session.room, relayed, { except: session, filter: forwards, media });
        relay.afterBroadcast(session);
      });

      /** A receiver asks for a keyframe: answered from the cache when it can be, else by the presenter. */
      const requestKeyframe = (receiver: Session, share: ShareState) => {
        const presenter = share.presenter;
        if (!presenter || presenter === receiver) throw SCREEN_ERRORS.SCREEN_NO_SHARE();
        if (!requestBudgets.get(receiver).take()) {
          relay.countRequest('refused');
          throw SCREEN_ERRORS.SCREEN_KEYFRAME_RATE();
        }
        relay.stream(receiver, presenter.id).restart();
        if (replay(receiver, share)) relay.countRequest('cached');
        else relay.requestKeyframe(presenter, receiver);
      };

      control.onMessage((session, request) => {
        const { ref } = request;
        const share = shares.get(session.room);
        switch (request.op) {
          case 'keyframe':
            return requestKeyframe(session, share);
          case 'start': {
            if (!session.grants.has('publish:screen')) throw SCREEN_ERRORS.SCREEN_NOT_ALLOWED();
            // The presenter's own `started` carries its request's ref: the answer to `start`.
            const started = { op: 'started', presenter: session.info, ref } as const;
            if (share.presenter === session) return send(session, started);
            if (share.presenter) throw SCREEN_ERRORS.SCREEN_BUSY({ message: `${share.presenter.name} is presenting in this room; wait until they stop` });
            share.presenter = session;
            share.cache.clear();
            control.broadcast(session.room, { op: 'started', presenter: session.info }, { except: session });
            return send(session, started);
          }
          case 'stop':
            if (share.presenter !== session) throw SCREEN_ERRORS.SCREEN_NOT_PRESENTER();
            return endShare(session.room, 'stopped');
        }
      });

      ctx.hooks.sessionJoined.tap('screen', (session, room) => {
        const share = shares.get(room);
        if (!share.presenter) return;
        send(session, { op: 'started', presenter: share.presenter.info });
        replay(session, share);
      });

      // A presenter that loses publish:screen (a moderator stopped it) no longer presents, for everyone.
      ctx.hooks.grantsChanged.tap('screen', (session, removed) => {
        if (removed.includes('publish:screen') && shares.get(session.room).presenter === session) endShare(session.room, 'revoked');
      });

      ctx.hooks.sessionLeft.tap('screen', (session, room) => {
        if (shares.get(room).presenter === session) endShare(room, 'left');
        relay.forget(session, room);
      });

      ctx.hooks.close.tapPromise('screen', async () => relay.close());
    },
  });
}
