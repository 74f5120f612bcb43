/**
 * The video-relay plugin, server half: relays camera frames to the other members of the room with the
 * sender's id in the header, announces camera on/off (to late joiners too, and off when the sender loses
 * publish:video), and lets each receiver choose whose video it gets and at which temporal layer (only
 * receivers that hold `subscribe` when the frame is sent get it).
 *
 * The server never transcodes: one re-encode of the header per incoming frame (`withSender`), shared by
 * every receiver. VP8 (and any codec whose deltas need the frames before them) goes through a
 * `ForwardedStream` per receiver and sender (core/media-forwarder.ts): nothing before a keyframe, only the
 * layers the receiver asked for and its link takes, fewer layers as its queue grows. When a receiver needs
 * a keyframe, the sender is asked for one, at most once per KEYFRAME_INTERVAL_MS (core/keyframe-requests.ts),
 * and once a second each sender is told the bitrate its receivers can take (core/bitrate-feedback.ts).
 * JPEG frames, each a keyframe, keep the core's policy for slow receivers (newest wins) and `maxFps` pacing.
 */
import { definePlugin } from '../../core/config.js';
import { ConfabError } from '../../core/errors.js';
import type { JsonObject } from '../../core/json.js';
import { PublisherBitrate } from '../../core/bitrate-feedback.js';
import { KeyframeRequestThrottle } from '../../core/keyframe-requests.js';
import { ForwardedStream, ReceiverLink } from '../../core/media-forwarder.js';
import { createMediaInbox } from '../../core/media-inbox.js';
import { MediaCodec, withSender, type MediaFrame } from '../../core/media.js';
import { readOptions } from '../../core/options.js';
import type { Plugin, Session } from '../../core/index.js';
import { KEYFRAME_INTERVAL_MS, VIDEO_CHANNEL, VIDEO_CONTROL_CHANNEL, VIDEO_ERRORS, type VideoControlMessage } from './protocol.js';
import { paceAllows, parseSubscription, targetLayer, type Subscription } from './subscription.js';

/** Options of the video-relay plugin. */
export interface VideoRelayOptions {
  /** Largest encoded frame (header excluded), in bytes; a larger one is dropped as malformed. Default 512 KiB. */
  maxFrameBytes?: number;
  /** Malformed frames a session may send within 10 s before it is closed with MEDIA_MALFORMED. Default 50. */
  maxMalformed?: number;
  /** Keyframe requests a receiver may send a second (bursts of twice that); more get VIDEO_KEYFRAME_RATE. Default 10. */
  keyframeRequestsPerSecond?: number;
}

/** How often publishers are told what their receivers can take. */
const FEEDBACK_INTERVAL_MS = 1000;

/** Per session: as a publisher, its camera, rate and feedback; as a receiver, its subscription and link. */
interface VideoState {
  camera: boolean;
  /** Frames per second the session publishes (smoothed), for `maxFps` on layered codecs. */
  fps: FrameRate;
  bitrate: PublisherBitrate;
  subscription: Subscription | undefined;
  link: ReceiverLink;
  /** What this receiver gets of each sender, by sender id. */
  streams: Map<string, ForwardedStream>;
  /** Keyframe requests this receiver may still send now (a token bucket). */
  requestTokens: number;
  requestTokensAt: number;
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
    channels: {
      [VIDEO_CHANNEL]: { kind: 'media' },
      [VIDEO_CONTROL_CHANNEL]: { kind: 'json', maxPayload: 64 * 1024 },
    },
    setup(ctx) {
      const video = ctx.channel(VIDEO_CHANNEL);
      const control = ctx.channel(VIDEO_CONTROL_CHANNEL);
      const highWaterBytes = ctx.options.mediaHighWaterBytes;
      const state = ctx.perSession((): VideoState => ({
        camera: false,
        fps: new FrameRate(),
        bitrate: new PublisherBitrate(),
        subscription: undefined,
        link: new ReceiverLink(),
        streams: new Map(),
        requestTokens: keyframeRequestsPerSecond * 2,
        requestTokensAt: performance.now(),
      }));
      const inbox = createMediaInbox(ctx.metrics, {
        grant: 'publish:video',
        codecs: [MediaCodec.JPEG, MediaCodec.VP8, MediaCodec.H264],
        maxFrameBytes,
        maxMalformed,
        channel: VIDEO_CHANNEL,
      });
      const skipped = ctx.metrics.counter('confab_video_frames_skipped_total', 'Video frames not forwarded to a receiver, by reason.', 'reason');
      const layerChanges = ctx.metrics.counter('confab_video_layer_changes_total', "Changes of the temporal layers a receiver's link takes.", 'direction');
      const keyframeRequests = ctx.metrics.counter('confab_video_keyframe_requests_total', 'Keyframe requests: forwarded to the publisher, merged into another, or refused.', 'outcome');
      const send = (session: Session, message: VideoControlMessage) => control.send(session, message);
      const keyframes = new KeyframeRequestThrottle(KEYFRAME_INTERVAL_MS, (publisher) => send(publisher, { op: 'keyframe' }));
      /** Sessions that sent video since the last feedback tick; the tick runs while there are any. */
      const publishing = new Set<Session>();
      let feedbackTimer: ReturnType<typeof setInterval> | undefined;
      let feedbackAt = performance.now();

      const askForKeyframe = (publisher: Session) => keyframeRequests(keyframes.request(publisher));

      /** True when `receiver` may and wants to receive this JPEG frame now; updates its pacing. */
      const wantsJpeg = (receiver: Session, sender: string, now: number): boolean => {
        if (!receiver.grants.has('subscribe')) return false;
        const subscription = state.get(receiver).subscription;
        if (!subscription) return true;
        if (subscription.senders && !subscription.senders.has(sender)) return false;
        return paceAllows(subscription, sender, now);
      };

      /** Decides whether `receiver` gets a frame of a layered codec; notes a keyframe it waits for in `needs`. */
      const forwards = (receiver: Session, sender: Session, frame: MediaFrame, senderFps: number, now: number, needs: { keyframe: boolean }): boolean => {
        if (!receiver.grants.has('subscribe')) return false;
        const own = state.get(receiver);
        const subscription = own.subscription;
        if (subscription?.senders && !subscription.senders.has(sender.id)) return false;
        const change = own.link.update(receiver.queuedBytes, highWaterBytes, now);
        if (change !== 0) layerChanges(change < 0 ? 'down' : 'up');
        let stream = own.streams.get(sender.id);
        if (!stream) own.streams.set(sender.id, (stream = new ForwardedStream()));
        const blocked = receiver.mediaBlocked;
        const decision = stream.decide(frame, Math.min(targetLayer(subscription, sender.id, senderFps), own.link.cap), blocked);
        if (decision === 'send') {
          stream.windowBytes += frame.data.length;
          own.link.windowBytes += frame.data.length;
          return true;
        }
        skipped(decision);
        if (decision === 'congested') own.link.windowCongested = true;
        if (stream.waitingForKeyframe && !blocked) needs.keyframe = true;
        return false;
      };

      video.onMessage((sender, payload) => {
        const frame = inbox(sender, payload as Uint8Array);
        if (!frame) return;
        const now = performance.now();
        const own = state.get(sender);
        own.fps.add(now);
        own.bitrate.windowBytes += frame.data.length;
        publishing.add(sender);
        if (feedbackTimer === undefined) {
          feedbackAt = now;
          feedbackTimer = setInterval(giveFeedback, FEEDBACK_INTERVAL_MS);
        }
        if (frame.keyframe) keyframes.keyframeArrived(sender);
        const relayed = withSender(frame, sender.id);
        const media = { stream: `video:${sender.id}`, keyframe: frame.keyframe };
        if (frame.codec === MediaCodec.JPEG) {
          video.broadcast(sender.room, relayed, { except: sender, filter: (receiver) => wantsJpeg(receiver, sender.id, now), media });
          return;
        }
        const needs = { keyframe: false };
        const senderFps = own.fps.perSecond;
        video.broadcast(sender.room, relayed, { except: sender, filter: (receiver) => forwards(receiver, sender, frame, senderFps, now, needs), media });
        if (needs.keyframe) askForKeyframe(sender);
      });

      /** Once a second: each publisher's limit from its receivers' links (core/bitrate-feedback.ts). */
      function giveFeedback(): void {
        const now = performance.now();
        const elapsed = now - feedbackAt;
        feedbackAt = now;
        if (publishing.size === 0) return stopFeedback();
        const capacity = new Map<Session, { bps: number; bytes: number }>();
        for (const room of ctx.rooms()) {
          for (const receiver of room.sessions) {
            const link = state.get(receiver).link;
            const bytes = link.windowBytes;
            capacity.set(receiver, { bps: link.takeWindow(receiver.queuedBytes, elapsed), bytes });
          }
        }
        for (const publisher of publishing) {
          const shares: number[] = [];
          for (const receiver of publisher.room.sessions) {
            const stream = receiver === publisher ? undefined : state.get(receiver).streams.get(publisher.id);
            const link = capacity.get(receiver);
            if (!stream || !link) continue;
            shares.push(link.bps === Infinity ? Infinity : (link.bps * stream.windowBytes) / Math.max(1, link.bytes));
            stream.windowBytes = 0;
          }
          const bps = state.get(publisher).bitrate.tick(shares, elapsed);
          if (bps !== undefined && publisher.state === 'active') send(publisher, { op: 'bitrate', bps });
        }
        publishing.clear();
      }

      function stopFeedback(): void {
        clearInterval(feedbackTimer);
        feedbackTimer = undefined;
      }

      const setCamera = (session: Session, on: boolean) => {
        if (on && !session.grants.has('publish:video')) {
          throw new ConfabError('VIDEO_NOT_ALLOWED', VIDEO_ERRORS.VIDEO_NOT_ALLOWED, { fatal: false });
        }
        const own = state.get(session);
        if (own.camera === on) return;
        own.camera = on;
        control.broadcast(session.room, { op: 'camera', peer: session.id, on });
      };

      /** A receiver asks for a keyframe of `senderId`: its stream restarts, and the sender is asked (throttled). */
      const requestKeyframe = (receiver: Session, senderId: unknown) => {
        const own = state.get(receiver);
        const now = performance.now();
        own.requestTokens = Math.min(keyframeRequestsPerSecond * 2, own.requestTokens + ((now - own.requestTokensAt) / 1000) * keyframeRequestsPerSecond);
        own.requestTokensAt = now;
        const sender = typeof senderId === 'string' ? receiver.room.get(senderId) : undefined;
        if (!sender || sender === receiver) {
          keyframeRequests('refused');
          throw new ConfabError('VIDEO_UNKNOWN_SENDER', VIDEO_ERRORS.VIDEO_UNKNOWN_SENDER, { fatal: false });
        }
        if (own.requestTokens < 1) {
          keyframeRequests('refused');
          throw new ConfabError('VIDEO_KEYFRAME_RATE', VIDEO_ERRORS.VIDEO_KEYFRAME_RATE, { fatal: false });
        }
        own.requestTokens -= 1;
        own.streams.get(sender.id)?.restart();
        askForKeyframe(sender);
      };

      control.onMessage((session, message) => {
        const request = message as JsonObject;
        if (request.op === 'camera' && typeof request.on === 'boolean') return setCamera(session, request.on);
        if (request.op === 'keyframe') return requestKeyframe(session, request.sender);
        if (request.op === 'subscribe') {
          const subscription = parseSubscription(request);
          if (subscription) {
            state.get(session).subscription = subscription.echo.senders === null && subscription.echo.maxFps === null
              && subscription.echo.layer === null && subscription.echo.layers === null ? undefined : subscription;
            return send(session, { op: 'subscribed', ...subscription.echo });
          }
        }
        throw new ConfabError('VIDEO_BAD_REQUEST', VIDEO_ERRORS.VIDEO_BAD_REQUEST, { fatal: false });
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
        keyframes.forget(session);
        publishing.delete(session);
        // Receivers forget what they got of the sender that left.
        for (const member of room.sessions) {
          const own = state.get(member);
          own.streams.delete(session.id);
          own.subscription?.pace.delete(session.id);
        }
      });

      ctx.hooks.close.tapPromise('video-relay', async () => {
        stopFeedback();
        keyframes.clear();
      });
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
