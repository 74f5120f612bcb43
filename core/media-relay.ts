/**
 * The server side of layered media (VP8 camera and screen), shared by the media plugins: per-receiver
 * forwarding with temporal layers (core/media-forwarder.ts), keyframe requests throttled per publisher
 * (core/keyframe-requests.ts), and bitrate feedback to publishers once a second (core/bitrate-feedback.ts),
 * with their counters in `/metrics`. A plugin keeps its own channels, grants and subscriptions, and calls:
 *
 * - `published(sender, frame)` for every accepted frame of a sender;
 * - `forwards(receiver, sender, frame, allowedLayer)` as the broadcast filter of that frame;
 * - `afterBroadcast(sender)` once the frame went out, which asks the sender for a keyframe if a receiver
 *   waits for one;
 * - `requestKeyframe(sender, receiver?)` for a receiver's explicit request;
 * - `forget(session)` when a session leaves, `close()` when the server closes.
 */
import { PublisherBitrate } from './bitrate-feedback.js';
import { KeyframeRequestThrottle } from './keyframe-requests.js';
import { ForwardedStream, ReceiverLink } from './media-forwarder.js';
import type { MediaFrame } from './media.js';
import type { Metrics } from './metrics.js';
import type { Room } from './room.js';
import type { Session } from './session.js';

/** How often publishers are told what their receivers can take. */
export const FEEDBACK_INTERVAL_MS = 1000;

/** What a `LayeredRelay` needs from its plugin. */
export interface LayeredRelayOptions {
  /** Metric names start with this (`confab_video`, `confab_screen`). */
  metricsPrefix: string;
  metrics: Metrics;
  /** The server's `mediaHighWaterBytes`. */
  highWaterBytes: number;
  /** At most one keyframe request per publisher per this many ms. */
  keyframeIntervalMs: number;
  /** Every room of the server (for the feedback tick). */
  rooms(): Iterable<Room>;
  /** Tells a publisher to send a keyframe now. */
  sendKeyframeRequest(publisher: Session): void;
  /** Tells a publisher what its receivers can take (bits/s, null for no limit). */
  sendBitrate(publisher: Session, bps: number | null): void;
}

/** Per session: as a receiver, its link and what it gets of each sender; as a publisher, its feedback. */
interface RelayState {
  link: ReceiverLink;
  streams: Map<string, ForwardedStream>;
  bitrate: PublisherBitrate;
}

/** Layered forwarding, keyframe requests and bitrate feedback for one media plugin. */
export class LayeredRelay {
  readonly #options: LayeredRelayOptions;
  readonly #state = new WeakMap<Session, RelayState>();
  readonly #keyframes: KeyframeRequestThrottle;
  /** Publishers whose receivers wait for a keyframe, collected during a broadcast. */
  readonly #wanting = new Set<Session>();
  /** Sessions that published since the last feedback tick; the tick runs while there are any. */
  readonly #publishing = new Set<Session>();
  readonly #skipped: (reason: string) => void;
  readonly #layerChanges: (direction: string) => void;
  readonly #requests: (outcome: string) => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #tickAt = 0;

  constructor(options: LayeredRelayOptions) {
    this.#options = options;
    const { metrics, metricsPrefix: prefix } = options;
    this.#skipped = metrics.counter(`${prefix}_frames_skipped_total`, 'Frames not forwarded to a receiver, by reason.', 'reason');
    this.#layerChanges = metrics.counter(`${prefix}_layer_changes_total`, "Changes of the temporal layers a receiver's link takes.", 'direction');
    this.#requests = metrics.counter(`${prefix}_keyframe_requests_total`, 'Keyframe requests: forwarded to the publisher, merged into another, answered from a cache, or refused.', 'outcome');
    this.#keyframes = new KeyframeRequestThrottle(options.keyframeIntervalMs, options.sendKeyframeRequest);
  }

  /** Notes an accepted frame of `sender`: its bytes for the feedback, and a keyframe that answers requests. */
  published(sender: Session, frame: MediaFrame): void {
    this.#of(sender).bitrate.windowBytes += frame.data.length;
    this.#publishing.add(sender);
    if (this.#timer === undefined) {
      this.#tickAt = performance.now();
      this.#timer = setInterval(() => this.#giveFeedback(), FEEDBACK_INTERVAL_MS);
    }
    if (frame.keyframe) this.#keyframes.keyframeArrived(sender);
  }

  /**
   * The broadcast filter for a frame of a layered codec: true when `receiver` gets it. `allowedLayer` is
   * the highest layer the receiver asked for of this sender; its link may allow fewer. `now` is
   * performance.now(), taken once per frame by the caller.
   */
  forwards(receiver: Session, sender: Session, frame: MediaFrame, allowedLayer: number, now: number): boolean {
    const own = this.#of(receiver);
    const change = own.link.update(receiver.queuedBytes, receiver.link.queueDelayMs(now), this.#options.highWaterBytes, now);
    if (change !== 0) this.#layerChanges(change < 0 ? 'down' : 'up');
    let stream = own.streams.get(sender.id);
    if (!stream) own.streams.set(sender.id, (stream = new ForwardedStream()));
    const blocked = receiver.mediaBlocked;
    const decision = stream.decide(frame, Math.min(allowedLayer, own.link.cap), blocked);
    if (decision === 'send') {
      this.sent(receiver, stream, frame.data.length);
      return true;
    }
    this.#skipped(decision);
    if (decision === 'congested') own.link.windowCongested = true;
    if (stream.waitingForKeyframe && !blocked) this.#wanting.add(sender);
    return false;
  }

  /** Counts bytes forwarded to `receiver` outside `forwards` (a replayed cache). */
  sent(receiver: Session, stream: ForwardedStream, bytes: number): void {
    stream.windowBytes += bytes;
    this.#of(receiver).link.windowBytes += bytes;
  }

  /** After a frame's broadcast: asks its sender for a keyframe when a receiver waits for one. */
  afterBroadcast(sender: Session): void {
    if (this.#wanting.delete(sender)) this.#requests(this.#keyframes.request(sender));
  }

  /**
   * A receiver asked for a keyframe of `sender` (after a gap or a decoder error): its stream waits for one,
   * and the sender is asked (throttled).
   */
  requestKeyframe(sender: Session, receiver?: Session): void {
    if (receiver) this.stream(receiver, sender.id).restart();
    this.#requests(this.#keyframes.request(sender));
  }

  /** Counts a keyframe request by its outcome when the plugin handled it itself (`cached`, `refused`). */
  countRequest(outcome: 'cached' | 'refused'): void {
    this.#requests(outcome);
  }

  /** What `receiver` gets of `senderId`'s stream (created on first use). */
  stream(receiver: Session, senderId: string): ForwardedStream {
    const streams = this.#of(receiver).streams;
    let stream = streams.get(senderId);
    if (!stream) streams.set(senderId, (stream = new ForwardedStream()));
    return stream;
  }

  /** Forgets a session that left: its requests, and every receiver's stream of it. */
  forget(session: Session, room: Room): void {
    this.#keyframes.forget(session);
    this.#publishing.delete(session);
    for (const member of room.sessions) this.#state.get(member)?.streams.delete(session.id);
  }

  /** Stops the feedback tick and drops waiting requests. */
  close(): void {
    this.#stopTick();
    this.#keyframes.clear();
  }

  #stopTick(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #of(session: Session): RelayState {
    let state = this.#state.get(session);
    if (!state) this.#state.set(session, (state = { link: new ReceiverLink(), streams: new Map(), bitrate: new PublisherBitrate() }));
    return state;
  }

  /** Once a second: each publisher's limit from its receivers' links. */
  #giveFeedback(): void {
    const now = performance.now();
    const elapsed = now - this.#tickAt;
    this.#tickAt = now;
    if (this.#publishing.size === 0) return this.#stopTick();
    const links = new Map<Session, { bps: number; bytes: number }>();
    for (const room of this.#options.rooms()) {
      for (const receiver of room.sessions) {
        const link = this.#state.get(receiver)?.link;
        if (link) links.set(receiver, { bytes: link.windowBytes, bps: link.takeWindow(receiver.queuedBytes, elapsed, receiver.link.deliveryBps) });
      }
    }
    for (const publisher of this.#publishing) {
      const shares: number[] = [];
      for (const receiver of publisher.room.sessions) {
        const stream = receiver === publisher ? undefined : this.#state.get(receiver)?.streams.get(publisher.id);
        const link = links.get(receiver);
        if (!stream || !link) continue;
        shares.push(link.bps === Infinity ? Infinity : (link.bps * stream.windowBytes) / Math.max(1, link.bytes));
        stream.windowBytes = 0;
      }
      const bps = this.#of(publisher).bitrate.tick(shares, elapsed);
      if (bps !== undefined && publisher.state === 'active') this.#options.sendBitrate(publisher, bps);
    }
    this.#publishing.clear();
  }
}
