/**
 * A receiver's subscription on the server: whose video it wants, at which temporal layer, and (for JPEG
 * senders, whose every frame is a keyframe) at most how many frames a second. Made from a `subscribe`
 * request that protocol.ts already checked, and turned into the highest layer to forward of one sender.
 */
import { MAX_TEMPORAL_LAYER } from '../../core/wire.js';
import type { VideoSubscription } from './protocol.js';

/** A receiver's pacing of one JPEG sender, for `maxFps`. */
export interface Pace {
  /** When (performance.now() ms) the next frame may go. */
  dueMs: number;
}

/** What one receiver asked for. */
export interface Subscription {
  /** Senders to receive; undefined for everyone. */
  senders: ReadonlySet<string> | undefined;
  /** Most frames a second per sender; undefined for every frame. */
  maxFps: number | undefined;
  /** Minimum gap between two frames of a JPEG sender, in ms; 0 for every frame. */
  intervalMs: number;
  /** Pacing per JPEG sender (only with an interval). */
  pace: Map<string, Pace>;
  /** Highest temporal layer of every sender. */
  layer: number;
  /** Highest temporal layer per sender, over `layer`. */
  layers: ReadonlyMap<string, number>;
  /** The request as the server understood it, echoed in `subscribed`. */
  echo: Required<VideoSubscription>;
}

/** The server's form of a checked `subscribe` request. */
export function toSubscription(request: Required<VideoSubscription>): Subscription {
  return {
    senders: request.senders === null ? undefined : new Set(request.senders),
    maxFps: request.maxFps ?? undefined,
    intervalMs: request.maxFps === null ? 0 : 1000 / request.maxFps,
    pace: new Map(),
    layer: request.layer ?? MAX_TEMPORAL_LAYER,
    layers: new Map(Object.entries(request.layers ?? {})),
    echo: { senders: request.senders, maxFps: request.maxFps, layer: request.layer, layers: request.layers },
  };
}

/**
 * The highest layer of `sender` to forward: the layer asked for it, lowered so that the rate stays within
 * `maxFps` (layer 2 is the sender's full rate `senderFps`, layer 1 half, layer 0 a quarter; the base layer
 * always goes, since every other frame builds on it).
 */
export function targetLayer(subscription: Subscription | undefined, sender: string, senderFps: number): number {
  if (!subscription) return MAX_TEMPORAL_LAYER;
  let layer = subscription.layers.get(sender) ?? subscription.layer;
  if (subscription.maxFps !== undefined) {
    while (layer > 0 && senderFps / 2 ** (MAX_TEMPORAL_LAYER - layer) > subscription.maxFps * 1.1) layer--;
  }
  return layer;
}

/** True when a JPEG frame of `sender` is due for this receiver under `maxFps`; updates the pacing. */
export function paceAllows(subscription: Subscription, sender: string, now: number): boolean {
  if (subscription.intervalMs === 0) return true;
  let pace = subscription.pace.get(sender);
  if (!pace) subscription.pace.set(sender, (pace = { dueMs: 0 }));
  if (now < pace.dueMs) return false;
  // The due time advances by the interval, so a frame that came a little late does not lower the rate;
  // but never to less than half an interval from now, so frames do not bunch up after a pause.
  pace.dueMs = Math.max(pace.dueMs + subscription.intervalMs, now + subscription.intervalMs / 2);
  return true;
}
