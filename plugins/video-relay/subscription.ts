/**
 * A receiver's subscription on the server: whose video it wants, at which temporal layer, and (for JPEG
 * senders, whose every frame is a keyframe) at most how many frames a second. Parsed from the untrusted
 * `subscribe` request, and turned into the highest layer to forward of one sender.
 */
import type { JsonObject } from '../../core/json.js';
import { MAX_TEMPORAL_LAYER } from '../../core/media.js';
import { MAX_SUBSCRIBED_SENDERS, MAX_SUBSCRIPTION_FPS, type VideoSubscription } from './protocol.js';

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

/** Checks a `subscribe` request; undefined when it is malformed. */
export function parseSubscription(request: JsonObject): Subscription | undefined {
  const { senders, maxFps, layer, layers } = request;
  if (senders != null) {
    if (!Array.isArray(senders) || senders.length > MAX_SUBSCRIBED_SENDERS) return undefined;
    if (!senders.every(isSessionId)) return undefined;
  }
  if (maxFps != null && (typeof maxFps !== 'number' || !(maxFps > 0) || maxFps > MAX_SUBSCRIPTION_FPS)) return undefined;
  if (layer != null && !isLayer(layer)) return undefined;
  let perSender: [string, number][] = [];
  if (layers != null) {
    if (typeof layers !== 'object' || Array.isArray(layers)) return undefined;
    perSender = Object.entries(layers) as [string, unknown][] as [string, number][];
    if (perSender.length > MAX_SUBSCRIBED_SENDERS || !perSender.every(([id, value]) => isSessionId(id) && isLayer(value))) return undefined;
  }
  const senderList = senders == null ? null : (senders as string[]);
  return {
    senders: senderList === null ? undefined : new Set(senderList),
    maxFps: maxFps == null ? undefined : (maxFps as number),
    intervalMs: maxFps == null ? 0 : 1000 / (maxFps as number),
    pace: new Map(),
    layer: layer == null ? MAX_TEMPORAL_LAYER : (layer as number),
    layers: new Map(perSender),
    echo: {
      senders: senderList,
      maxFps: maxFps == null ? null : (maxFps as number),
      layer: layer == null ? null : (layer as number),
      layers: layers == null ? null : Object.fromEntries(perSender),
    },
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

function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 64;
}

function isLayer(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_TEMPORAL_LAYER;
}
