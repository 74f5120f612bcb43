/**
 * The video-relay plugin, server half: relays camera frames to the other members of the room with the
 * sender's id in the header, announces camera on/off (to late joiners too, and off when the sender loses
 * publish:video), and lets each receiver choose whose video it gets and at which temporal layer (only
 * receivers that hold `subscribe` when the frame is sent get it).
 *
 * The server never transcodes: one re-encode of the header per incoming frame (`withSender`), shared by
 * every receiver. VP8 (and any codec whose deltas need the frames before them) goes through a
 * LayeredRelay (core/media-relay.ts): per receiver, nothing before a keyframe, only the layers it asked for
 * and its link takes, fewer layers as its queue grows; when a receiver needs a keyframe, the sender is asked
 * for one, at most once per KEYFRAME_INTERVAL_MS; once a second each sender is told the bitrate its
 * receivers can take.
 * JPEG frames, each a keyframe, keep the core's policy for slow receivers (newest wins) and `maxFps` pacing.
 */
import { definePlugin } from '../../core/config.js';
import { createMediaInbox } from '../../core/media-inbox.js';
import { LayeredRelay } from '../../core/media-relay.js';
import { MediaCodec, withSender } from '../../core/wire.js';
import { TokenBucket } from '../../core/limits.js';
import { readOptions } from '../../core/options.js';
import type { Plugin, Session } from '../../core/index.js';
import { KEYFRAME_INTERVAL_MS, VIDEO, VIDEO_CONTROL, VIDEO_ERRORS, type VideoControlMessage } from './protocol.js';
import { paceAllows, targetLayer, toSubscription, type Subscription } from './subscription.js';

/** Options of the video-relay plugin. */
export interface VideoRelayOptions {
  /** Largest encoded frame (header excluded), in bytes; a larger one is dropped as malformed. Default 512 KiB. */
  maxFrameBytes?: number;
  /** Malformed frames a session may send within 10 s before it is closed with MEDIA_MALFORMED. Default 50. */
  maxMalformed?: number;
  /** Keyframe requests a receiver may send a second (bursts of twice that); more get VIDEO_KEYFRAME_RATE. Default 10. */
  keyframeRequestsPerSecond?: number;
}

/** Per session: its camera and frame rate as a publisher, its subscription and request budget as a receiver. */
interface VideoState {
  camera: boolean;
  /** Frames per second the session publishes (smoothed), for `maxFps` on layered codecs. */
  fps: FrameRate;
  subscription: Subscription | undefined;
  /** Keyframe requests this receiver may send now. */
  requests: TokenBucket;
}

/**
 * Creates the video-relay plugin.
 *
 * @example
 *   defineConfig({ plugins: [videoRelay({ maxFrameBytes: 256 * 1024 })] });
 */
export function videoRelay(options: VideoRelayOptions = {}): Plugin {
  const { maxFrameBytes, maxMalformed, keyframeRequestsPerSecond } = readOptions('video-relay', options, {
    maxFrameBytes: { type: 'integer', min: 1024, max: 16 * 1024 * 1024, default: 512 * 1024 },
    maxMalformed: { type: 'integer', min: 1, max: 1_000_000, default: 50 },
    keyframeRequestsPerSecond: { type: 'number', min: 1, max: 1000, default: 10 },
  });

  return definePlugin({
    name: 'video-relay',
    channels: [VIDEO, VIDEO_CONTROL],
    errors: VIDEO_ERRORS,
    setup(ctx) {
      const video = ctx.channel(VIDEO);
      const control = ctx.channel(VIDEO_CONTROL);
      const send = (session: Session, message: VideoControlMessage) => control.send(session, message);
      const state = ctx.perSession((): VideoState => ({
        camera: false,
        fps: new FrameRate(),
        subscription: undefined,
        requests: new TokenBucket(keyframeRequestsPerSecond),
      }));
      const inbox = createMediaInbox(ctx.metrics, {
        grant: 'publish:video',
        codecs: [MediaCodec.JPEG, MediaCodec.VP8, MediaCodec.H264],
        maxFrameBytes,
        maxMalformed,
        channel: VIDEO.name,
      });
      const relay = new LayeredRelay({
        metricsPrefix: 'confab_video',
        metrics: ctx.metrics,
        highWaterBytes: ctx.options.mediaHighWaterBytes,
        keyframeIntervalMs: KEYFRAME_INTERVAL_MS,
        rooms: () => ctx.rooms(),
        sendKeyframeRequest: (publisher) => send(publisher, { op: 'keyframe' }),
        sendBitrate: (publisher, bps) => send(publisher, { op: 'bitrate', bps }),
      });

      /**
       * What `receiver` asked for, when it may and wants `sender`'s video: its subscription, or null when it
       * takes everything; undefined when it gets none of it.
       */
      const wants = (receiver: Session, sender: string): Subscription | null | undefined => {
        if (!receiver.grants.has('subscribe')) return undefined;
        const subscription = state.get(receiver).subscription;
        if (!subscription) return null;
        return subscription.senders && !subscription.senders.has(sender) ? undefined : subscription;
      };

      video.onMessage((sender, payload) => {
        const frame = inbox(sender, payload);
        if (!frame) return;
        const now = performance.now();
        const own = state.get(sender);
        own.fps.add(now);
        relay.published(sender, frame);
        const relayed = withSender(frame, sender.id);
        const media = { stream: `video:${sender.id}`, keyframe: frame.keyframe };
        if (frame.codec === MediaCodec.JPEG) {
          // Every JPEG is a keyframe: the core's policy for slow receivers (newest wins) and maxFps pacing do.
          const paced = (receiver: Session) => {
            const subscription = wants(receiver, sender.id);
            return subscription === null || (subscription !== undefined && paceAllows(subscription, sender.id, now));
          };
          video.broadcast(sender.room, relayed, { except: sender, filter: paced, media });
          return;
        }
        const senderFps = own.fps.perSecond;
        const forwards = (receiver: Session) => {
          const subscription = wants(receiver, sender.id);
          return subscription !== undefined && relay.forwards(receiver, sender, frame, targetLayer(subscription ?? undefined, sender.id, senderFps), now);
        };
        video.broadcast(sender.room, relayed, { except: sender, filter: forwards, media });
        relay.afterBroadcast(sender);
      });

      const setCamera = (session: Session, on: boolean) => {
        if (on && !session.grants.has('publish:video')) throw VIDEO_ERRORS.VIDEO_NOT_ALLOWED();
        const own = state.get(session);
        if (own.camera === on) return;
        own.camera = on;
        control.broadcast(session.room, { op: 'camera', peer: session.id, on });
      };

      /** A receiver asks for a keyframe of `senderId`. */
      const requestKeyframe = (receiver: Session, senderId: string) => {
        const sender = receiver.room.get(senderId);
        if (!sender || sender === receiver) {
          relay.countRequest('refused');
          throw VIDEO_ERRORS.VIDEO_UNKNOWN_SENDER();
        }
        if (!state.get(receiver).requests.take()) {
          relay.countRequest('refused');
          throw VIDEO_ERRORS.VIDEO_KEYFRAME_RATE();
        }
        relay.requestKeyframe(sender, receiver);
      };

      control.onMessage((session, request) => {
        switch (request.op) {
          case 'camera':
            return setCamera(session, request.on);
          case 'keyframe':
            return requestKeyframe(session, request.sender);
          case 'subscribe': {
            const subscription = toSubscription(request);
            state.get(session).subscription = subscription;
            return send(session, { op: 'subscribed', ...subscription.echo });
          }
        }
      });

      ctx.hooks.sessionJoined.tap('video-relay', (session, room) => {
        const on: string[] = [];
        for (const member of room.sessions) if (member !== session && state.get(member).camera) on.push(member.id);
        send(session, { op: 'cameras', on });
      });

      // A sender that loses publish:video (a moderator stopped it) has its camera announced off to everyone.
      ctx.hooks.grantsChanged.tap('video-relay', (session, removed) => {
        if (removed.includes('publish:video') && session.state !== 'closed') setCamera(session, false);
      });

      ctx.hooks.sessionLeft.tap('video-relay', (session, room) => {
        if (state.get(session).camera && room.size > 0) control.broadcast(room, { op: 'camera', peer: session.id, on: false });
        relay.forget(session, room);
        for (const member of room.sessions) state.get(member).subscription?.pace.delete(session.id);
      });

      ctx.hooks.close.tapPromise('video-relay', async () => relay.close());
    },
  });
}

/** A smoothed frame rate from arrival times. */
class FrameRate {
  /** Frames per second, smoothed over about the last 10 frames; 0 before two frames arrived. */
  perSecond = 0;
  #lastMs: number | undefined;
  #intervalMs = 0;

  /** Notes a frame that arrived at `nowMs` (performance.now()). */
  add(nowMs: number): void {
    if (this.#lastMs !== undefined) {
      const interval = nowMs - this.#lastMs;
      this.#intervalMs = this.#intervalMs === 0 ? interval : this.#intervalMs * 0.9 + interval * 0.1;
      this.perSecond = this.#intervalMs > 0 ? 1000 / this.#intervalMs : 0;
    }
    this.#lastMs = nowMs;
  }
}
