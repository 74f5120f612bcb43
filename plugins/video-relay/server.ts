/**
 * The video-relay plugin, server half: relays camera frames to the other members of the room with the
 * sender's id in the header, announces camera on/off (to late joiners too, and off when the sender loses
 * publish:video), and lets each receiver choose whose video it gets and at what rate (only receivers that
 * hold `subscribe` when the frame is sent get it).
 *
 * The hot path is one re-encode per incoming frame (`withSender`, then the frame header), shared by every
 * receiver; per receiver there is only the subscription check. Slow receivers are the core's business:
 * `session.sendMediaFrame` holds the newest frame per stream and never replaces a keyframe by a delta frame.
 */
import { definePlugin } from '../../core/config.js';
import { ConfabError } from '../../core/errors.js';
import type { JsonObject } from '../../core/json.js';
import { createMediaInbox } from '../../core/media-inbox.js';
import { MediaCodec, withSender } from '../../core/media.js';
import { readOptions } from '../../core/options.js';
import type { Plugin, Session } from '../../core/index.js';
import {
  MAX_SUBSCRIBED_SENDERS,
  MAX_SUBSCRIPTION_FPS,
  VIDEO_CHANNEL,
  VIDEO_CONTROL_CHANNEL,
  VIDEO_ERRORS,
  type VideoSubscription,
} from './protocol.js';

/** Options of the video-relay plugin. */
export interface VideoRelayOptions {
  /** Largest encoded frame (header excluded), in bytes; a larger one is dropped as malformed. Default 512 KiB. */
  maxFrameBytes?: number;
  /** Malformed frames a session may send within 10 s before it is closed with MEDIA_MALFORMED. Default 50. */
  maxMalformed?: number;
}

/** A receiver's pacing of one sender, for `maxFps`. */
interface Pace {
  /** When (performance.now() ms) the next frame may go. */
  dueMs: number;
  /** A frame was dropped: delta frames wait for the next keyframe, which decodes on its own. */
  needKeyframe: boolean;
}

/** What one receiver asked for. */
interface Subscription {
  /** Senders to receive; undefined for everyone. */
  senders: ReadonlySet<string> | undefined;
  /** Minimum gap between two frames of a sender, in ms; 0 for every frame. */
  intervalMs: number;
  /** Pacing per sender (only with an interval). */
  pace: Map<string, Pace>;
}

/** Per session: its camera state and its subscription. */
interface VideoState {
  camera: boolean;
  subscription: Subscription | undefined;
}

/**
 * Creates the video-relay plugin.
 *
 * @example
 *   defineConfig({ plugins: [videoRelay({ maxFrameBytes: 256 * 1024 })] });
 */
export function videoRelay(options: VideoRelayOptions = {}): Plugin {
  const { maxFrameBytes, maxMalformed } = readOptions('video-relay', options, {
    maxFrameBytes: { type: 'integer', min: 1024, max: 16 * 1024 * 1024, default: 512 * 1024 },
    maxMalformed: { type: 'integer', min: 1, max: 1_000_000, default: 50 },
  });

  return definePlugin({
    name: 'video-relay',
    channels: {
      [VIDEO_CHANNEL]: { kind: 'media' },
      [VIDEO_CONTROL_CHANNEL]: { kind: 'json', maxPayload: 64 * 1024 },
    },
    setup(ctx) {
      const video = ctx.channel(VIDEO_CHANNEL);
      const control = ctx.channel(VIDEO_CONTROL_CHANNEL);
      const state = ctx.perSession((): VideoState => ({ camera: false, subscription: undefined }));
      const inbox = createMediaInbox(ctx.metrics, {
        grant: 'publish:video',
        codecs: [MediaCodec.JPEG, MediaCodec.VP8, MediaCodec.H264],
        maxFrameBytes,
        maxMalformed,
      });

      /** True when `receiver` may and wants to receive this frame now; updates its pacing. */
      const wants = (receiver: Session, sender: string, keyframe: boolean, now: number): boolean => {
        if (!receiver.grants.has('subscribe')) return false;
        const subscription = state.get(receiver).subscription;
        if (!subscription) return true;
        if (subscription.senders && !subscription.senders.has(sender)) return false;
        if (subscription.intervalMs === 0) return true;
        let pace = subscription.pace.get(sender);
        if (!pace) subscription.pace.set(sender, (pace = { dueMs: 0, needKeyframe: false }));
        if (pace.needKeyframe && !keyframe) return false;
        if (now < pace.dueMs) {
          // Dropping any frame breaks the chain of delta frames after it, so deltas wait for a keyframe.
          pace.needKeyframe = true;
          return false;
        }
        // The due time advances by the interval, so a frame that came a little late does not lower the rate;
        // but never to less than half an interval from now, so frames do not bunch up after a pause.
        pace.dueMs = Math.max(pace.dueMs + subscription.intervalMs, now + subscription.intervalMs / 2);
        if (keyframe) pace.needKeyframe = false;
        return true;
      };

      video.onMessage((sender, payload) => {
        const frame = inbox(sender, payload as Uint8Array);
        if (!frame) return;
        const relayed = withSender(frame, sender.id);
        const now = performance.now();
        video.broadcast(sender.room, relayed, {
          except: sender,
          filter: (receiver) => wants(receiver, sender.id, frame.keyframe, now),
          media: { stream: `video:${sender.id}`, keyframe: frame.keyframe },
        });
      });

      const setCamera = (session: Session, on: boolean) => {
        if (on && !session.grants.has('publish:video')) {
          throw new ConfabError('VIDEO_NOT_ALLOWED', VIDEO_ERRORS.VIDEO_NOT_ALLOWED, { fatal: false });
        }
        const own = state.get(session);
        if (own.camera === on) return;
        own.camera = on;
        control.broadcast(session.room, { op: 'camera', peer: session.id, on });
      };

      const subscribe = (session: Session, { senders, maxFps }: VideoSubscription) => {
        state.get(session).subscription = senders == null && maxFps == null ? undefined : {
          senders: senders == null ? undefined : new Set(senders),
          intervalMs: maxFps == null ? 0 : 1000 / maxFps,
          pace: new Map(),
        };
        control.send(session, { op: 'subscribed', senders: senders ?? null, maxFps: maxFps ?? null });
      };

      control.onMessage((session, message) => {
        const request = message as JsonObject;
        if (request.op === 'camera' && typeof request.on === 'boolean') return setCamera(session, request.on);
        if (request.op === 'subscribe') {
          const subscription = parseSubscription(request);
          if (subscription) return subscribe(session, subscription);
        }
        throw new ConfabError('VIDEO_BAD_REQUEST', VIDEO_ERRORS.VIDEO_BAD_REQUEST, { fatal: false });
      });

      ctx.hooks.sessionJoined.tap('video-relay', (session, room) => {
        const on: string[] = [];
        for (const member of room.sessions) if (member !== session && state.get(member).camera) on.push(member.id);
        control.send(session, { op: 'cameras', on });
      });

      // A sender that loses publish:video (a moderator stopped it) has its camera announced off to everyone.
      ctx.hooks.grantsChanged.tap('video-relay', (session, removed) => {
        if (removed.includes('publish:video') && session.state !== 'closed') setCamera(session, false);
      });

      ctx.hooks.sessionLeft.tap('video-relay', (session, room) => {
        if (state.get(session).camera && room.size > 0) control.broadcast(room, { op: 'camera', peer: session.id, on: false });
        // Receivers forget their pacing of the sender that left.
        for (const member of room.sessions) state.get(member).subscription?.pace.delete(session.id);
      });
    },
  });
}

/** Checks a `subscribe` request; undefined when it is malformed. */
function parseSubscription(request: JsonObject): VideoSubscription | undefined {
  const { senders, maxFps } = request;
  if (senders != null) {
    if (!Array.isArray(senders) || senders.length > MAX_SUBSCRIBED_SENDERS) return undefined;
    if (!senders.every((id) => typeof id === 'string' && id.length > 0 && id.length <= 64)) return undefined;
  }
  if (maxFps != null && (typeof maxFps !== 'number' || !(maxFps > 0) || maxFps > MAX_SUBSCRIPTION_FPS)) return undefined;
  return { senders: senders as string[] | null | undefined, maxFps: maxFps as number | null | undefined };
}
