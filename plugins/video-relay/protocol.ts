/**
 * The video-relay plugin's messages, shared by its server and client halves. Two channels:
 *
 * `video` (media): camera frames, each a media frame (core/media.ts: header, then a VP8 frame with temporal
 * layers, or a JPEG from clients without a VP8 encoder).
 *   client → server  a frame with an empty sender (or the client's own session id)
 *   server → others  the same frame with the sender's session id in the header; for each receiver only the
 *                    layers it asked for and its link can take, and for VP8 nothing before a keyframe
 *
 * `video-control` (json):
 *   client → server  {"op":"camera","on":true}                           announce the camera on or off
 *   client → server  {"op":"subscribe","senders"?:["<id>",…],"maxFps"?:5,"layer"?:2,"layers"?:{"<id>":0}}
 *                                                                         which video to receive, at which
 *                                                                         temporal layer (replaces the last)
 *   client → server  {"op":"keyframe","sender":"<id>","reason"?:"join"|"gap"|"decode-error"}
 *                                                                         ask a sender for a keyframe
 *   server → room    {"op":"camera","peer":"<id>","on":true}             a peer's camera went on or off
 *   server → joiner  {"op":"cameras","on":["<id>",…]}                    the peers whose camera is on, on join
 *   server → sender  {"op":"subscribed","senders":[…]|null,"maxFps":5|null,"layer":2|null,"layers":{…}|null}
 *                                                                         the subscription now in force
 *   server → sender  {"op":"keyframe"}                                   send a keyframe now (receivers asked;
 *                                                                         at most one per KEYFRAME_INTERVAL_MS)
 *   server → sender  {"op":"bitrate","bps":400000|null}                 what the receivers can take now (null:
 *                                                                         no limit); encode at most that
 *   errors           ERROR frames with "channel":"video-control" (codes in VIDEO_ERRORS)
 */
import { defineErrors, jsonChannel, MAX_TEMPORAL_LAYER, mediaChannel, type JsonObject, type KeyframeReason } from '../../core/wire.js';

/** Most senders one subscription may name. */
export const MAX_SUBSCRIBED_SENDERS = 256;
/** Highest `maxFps` a subscription may ask for (a subscription without one gets every frame). */
export const MAX_SUBSCRIPTION_FPS = 120;

/** What a client asks for with `{"op":"subscribe"}`. */
export interface VideoSubscription {
  /** Session ids whose video to receive; absent (or null) for everyone's. */
  senders?: string[] | null;
  /** Most frames per second per sender; absent (or null) for every frame. */
  maxFps?: number | null;
  /**
   * Highest temporal layer to receive of every sender (0: base, a quarter of the rate; 2: every frame);
   * absent (or null) for 2. A link that cannot take it gets fewer layers for a while.
   */
  layer?: number | null;
  /** Highest temporal layer per sender, over `layer` (speaker view: the speaker 2, thumbnails 0). */
  layers?: Record<string, number> | null;
}

/** Why a receiver asks for a keyframe (core/media-reader.ts). */
export type { KeyframeReason };

/** What a client sends on `video-control`. */
export type VideoControlRequest =
  | { op: 'camera'; on: boolean }
  | ({ op: 'subscribe' } & Required<VideoSubscription>)
  | { op: 'keyframe'; sender: string; reason?: KeyframeReason };

/** What the server sends on `video-control`. */
export type VideoControlMessage =
  | { op: 'camera'; peer: string; on: boolean }
  | { op: 'cameras'; on: string[] }
  | { op: 'subscribed'; senders: string[] | null; maxFps: number | null; layer: number | null; layers: Record<string, number> | null }
  | { op: 'keyframe' }
  | { op: 'bitrate'; bps: number | null };

/** A publisher gets at most one keyframe request per this many ms (receivers' requests are merged). */
export const KEYFRAME_INTERVAL_MS = 300;

/** The video-relay plugin's error codes, all non-fatal. */
export const VIDEO_ERRORS = defineErrors('video-relay', {
  VIDEO_BAD_REQUEST: 'the message must be {"op":"camera","on":boolean}, {"op":"subscribe","senders"?:[string],"maxFps"?:number,"layer"?:0|1|2,"layers"?:{"<id>":0|1|2}} or {"op":"keyframe","sender":"<id>"}',
  VIDEO_NOT_ALLOWED: 'this session may not publish video (it lacks the publish:video grant)',
  VIDEO_UNKNOWN_SENDER: 'a keyframe request must name another participant of the room by session id ("sender")',
  VIDEO_KEYFRAME_RATE: 'keyframe requests arrive too fast; the sender is asked at most every few hundred ms anyway',
});

const KEYFRAME_REASONS: readonly unknown[] = ['join', 'gap', 'decode-error'] satisfies KeyframeReason[];

function isKeyframeReason(value: unknown): value is KeyframeReason {
  return KEYFRAME_REASONS.includes(value);
}

/** Checks what a client sends on `video-control`; VIDEO_BAD_REQUEST for anything else. */
export function parseVideoControlRequest(message: JsonObject): VideoControlRequest {
  switch (message.op) {
    case 'camera':
      if (typeof message.on === 'boolean') return { op: 'camera', on: message.on };
      break;
    case 'keyframe': {
      const { sender, reason } = message;
      if (typeof sender === 'string' && reason === undefined) return { op: 'keyframe', sender };
      if (typeof sender === 'string' && isKeyframeReason(reason)) return { op: 'keyframe', sender, reason };
      break;
    }
    case 'subscribe': {
      const subscription = parseSubscription(message);
      if (subscription) return { op: 'subscribe', ...subscription };
      break;
    }
  }
  throw VIDEO_ERRORS.VIDEO_BAD_REQUEST();
}

/** The fields of a `subscribe` request, checked; undefined when one is malformed. */
function parseSubscription(message: JsonObject): Required<VideoSubscription> | undefined {
  const { senders, maxFps, layer, layers } = message;
  let senderList: string[] | null = null;
  if (senders != null) {
    if (!Array.isArray(senders) || senders.length > MAX_SUBSCRIBED_SENDERS || !senders.every(isSessionId)) return undefined;
    senderList = senders;
  }
  let rate: number | null = null;
  if (maxFps != null) {
    if (typeof maxFps !== 'number' || !(maxFps > 0) || maxFps > MAX_SUBSCRIPTION_FPS) return undefined;
    rate = maxFps;
  }
  let highest: number | null = null;
  if (layer != null) {
    if (!isLayer(layer)) return undefined;
    highest = layer;
  }
  let perSender: Record<string, number> | null = null;
  if (layers != null) {
    if (typeof layers !== 'object' || Array.isArray(layers)) return undefined;
    const entries = Object.entries(layers);
    if (entries.length > MAX_SUBSCRIBED_SENDERS) return undefined;
    perSender = {};
    for (const [id, value] of entries) {
      if (!isSessionId(id) || !isLayer(value)) return undefined;
      perSender[id] = value;
    }
  }
  return { senders: senderList, maxFps: rate, layer: highest, layers: perSender };
}

function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 64;
}

function isLayer(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_TEMPORAL_LAYER;
}

/** The media channel that carries camera frames. */
export const VIDEO = mediaChannel('video');
/** The json channel for camera state, subscriptions, keyframe requests and bitrate feedback. */
export const VIDEO_CONTROL = jsonChannel<VideoControlRequest, VideoControlMessage>('video-control', { parse: parseVideoControlRequest, maxPayload: 64 * 1024 });
