/**
 * Per-receiver forwarding of a media stream whose delta frames need the frames before them (VP8), as an SFU
 * does it: every frame is encoded once by its sender and the same bytes go to every receiver, but each
 * receiver gets only the temporal layers it asked for and its link can take.
 *
 * Two objects per receiver:
 * - a `ReceiverLink` (one per receiver and plugin) watches how long data waits on its way to the receiver
 *   (the link probe's queueing delay, core/link-probe.ts) and the bytes waiting in the server's own queue,
 *   and lowers the highest layer it gets (2 → 1 → 0) as they grow, before anything it needs is dropped;
 *   once both have stayed low for LINK_CLIMB_MS it raises it again, one layer at a time;
 * - a `ForwardedStream` (one per receiver and sender) decides frame by frame: nothing before a keyframe, a
 *   higher layer only from one of its switch-up points on, and after a base-layer frame had to be dropped,
 *   nothing until the next keyframe (the caller asks the sender for one).
 *
 * Leaving out layer 1 or 2 never breaks the picture: no lower-layer frame references them (core/media.ts).
 */
import { MAX_TEMPORAL_LAYER, type MediaFrame } from './media.js';

/** The link steps down to layer 1 when this share of the high-water mark waits for the receiver... */
const STEP_DOWN_SHARE = 1 / 4;
/** ...or data waits this long on its way. */
const STEP_DOWN_DELAY_MS = 120;
/** It takes the base layer only from this share of the high-water mark... */
const BASE_ONLY_SHARE = 1 / 2;
/** ...or this delay on. */
const BASE_ONLY_DELAY_MS = 300;
/** The link counts as calm below this share of the high-water mark and this delay. */
const CALM_SHARE = 1 / 16;
const CALM_DELAY_MS = 40;
/** How long the link must stay calm before it takes one more layer. */
export const LINK_CLIMB_MS = 1000;

/** What a `ForwardedStream` decided for one frame; every value but `send` is a reason the frame was skipped. */
export type ForwardDecision =
  /** Write it to the receiver. */
  | 'send'
  /** A layer above what the receiver asked for or its link takes, or one it has not switched up to yet. */
  | 'layer'
  /** The stream waits for a keyframe (the receiver joined late, or a base-layer frame was lost). */
  | 'wait-keyframe'
  /** The link is full: the frame is lost to this receiver (a lost base-layer frame means waiting for a keyframe). */
  | 'congested';

/** One receiver's link, for the streams it gets from one plugin. */
export class ReceiverLink {
  /** Highest temporal layer the link takes now. */
  cap = MAX_TEMPORAL_LAYER;
  /** Bytes forwarded to the receiver since the last `takeWindow()`. */
  windowBytes = 0;
  /** Whether the link was below full layers, or full, at some point since the last `takeWindow()`. */
  windowCongested = false;
  #calmSince: number | undefined;
  #windowQueued = 0;

  /**
   * Updates the cap from the bytes waiting in the server's queue for the receiver and the time data waits
   * on its way (`queueDelayMs`); returns -1 when it stepped down, 1 when it stepped up, else 0.
   */
  update(queuedBytes: number, queueDelayMs: number, highWaterBytes: number, now: number): -1 | 0 | 1 {
    const wanted = queuedBytes >= highWaterBytes * BASE_ONLY_SHARE || queueDelayMs >= BASE_ONLY_DELAY_MS ? 0
      : queuedBytes >= highWaterBytes * STEP_DOWN_SHARE || queueDelayMs >= STEP_DOWN_DELAY_MS ? 1 : MAX_TEMPORAL_LAYER;
    if (wanted < this.cap) {
      this.cap = wanted;
      this.#calmSince = undefined;
      this.windowCongested = true;
      return -1;
    }
    if (this.cap === MAX_TEMPORAL_LAYER) return 0;
    this.windowCongested = true;
    if (queuedBytes >= highWaterBytes * CALM_SHARE || queueDelayMs >= CALM_DELAY_MS) {
      this.#calmSince = undefined;
      return 0;
    }
    this.#calmSince ??= now;
    if (now - this.#calmSince < LINK_CLIMB_MS) return 0;
    this.cap++;
    this.#calmSince = now;
    return 1;
  }

  /**
   * Ends a measuring window: what the link carried, bits/s, while it was congested, or Infinity when it
   * was not. That is the delivery rate the link probe measured when there is one (it sees through the
   * kernels' buffers), else the bytes that left the server's queue.
   */
  takeWindow(queuedBytes: number, elapsedMs: number, deliveryBps: number | undefined): number {
    const drained = this.windowBytes - (queuedBytes - this.#windowQueued);
    const congested = this.windowCongested;
    this.windowBytes = 0;
    this.windowCongested = this.cap < MAX_TEMPORAL_LAYER;
    this.#windowQueued = queuedBytes;
    if (!congested || elapsedMs <= 0) return Infinity;
    return deliveryBps ?? (Math.max(0, drained) * 8 * 1000) / elapsedMs;
  }
}

/** What one receiver gets of one sender's stream. */
export class ForwardedStream {
  /** Bytes forwarded since the last `takeWindow()`. */
  windowBytes = 0;
  #waitingForKeyframe = true;
  /** Per layer above the base: whether every frame of it since a keyframe or switch-up point was forwarded. */
  readonly #synced = [true, false, false];

  /** True while nothing can be forwarded until a keyframe. */
  get waitingForKeyframe(): boolean {
    return this.#waitingForKeyframe;
  }

  /**
   * Decides for one frame. `allowed` is the highest layer the receiver takes now (its choice and its link's
   * cap); `blocked` says the link cannot take a frame at all now (`session.mediaBlocked`).
   */
  decide(frame: Pick<MediaFrame, 'keyframe' | 'layer' | 'switchUp'>, allowed: number, blocked: boolean): ForwardDecision {
    if (frame.keyframe) {
      if (blocked) return this.#loseBase();
      this.#waitingForKeyframe = false;
      this.#synced.fill(true);
      return 'send';
    }
    if (this.#waitingForKeyframe) return 'wait-keyframe';
    const layer = frame.layer;
    if (layer === 0) return blocked ? this.#loseBase() : 'send';
    if (layer > allowed) return this.#unsync(layer, 'layer');
    if (frame.switchUp) this.#synced[layer] = true;
    else if (!this.#syncedThrough(layer)) return 'layer';
    return blocked ? this.#unsync(layer, 'congested') : 'send';
  }

  /**
   * The receiver was just sent a keyframe and every base-layer frame since (a cached share): it continues
   * from the base layer, and higher layers from their next switch-up points.
   */
  resumeAtBase(): void {
    this.#waitingForKeyframe = false;
    this.#synced.fill(false);
    this.#synced[0] = true;
  }

  /** Forgets the stream's state: the next frame forwarded is a keyframe (a receiver's decoder failed). */
  restart(): void {
    this.#waitingForKeyframe = true;
  }

  #syncedThrough(layer: number): boolean {
    for (let l = 1; l <= layer; l++) if (!this.#synced[l]) return false;
    return true;
  }

  /** A frame of `layer` was not forwarded: frames of it and above may reference it, until a switch-up point. */
  #unsync(layer: number, decision: ForwardDecision): ForwardDecision {
    for (let l = layer; l <= MAX_TEMPORAL_LAYER; l++) this.#synced[l] = false;
    return decision;
  }

  #loseBase(): ForwardDecision {
    this.#waitingForKeyframe = true;
    return 'congested';
  }
}
