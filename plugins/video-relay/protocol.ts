/**
 * The video-relay plugin's messages, shared by its server and client halves. Two channels:
 *
 * `video` (media): camera frames, each a media frame (core/media.ts: header, then a JPEG by default).
 *   client → server  a frame with an empty sender (or the client's own session id)
 *   server → others  the same frame with the sender's session id in the header
 *
 * `video-control` (json):
 *   client → server  {"op":"camera","on":true}                           announce the camera on or off
 *   client → server  {"op":"subscribe","senders"?:["<id>",…],"maxFps"?:5} which video to receive (replaces the last)
 *   server → room    {"op":"camera","peer":"<id>","on":true}             a peer's camera went on or off
 *   server → joiner  {"op":"cameras","on":["<id>",…]}                    the peers whose camera is on, on join
 *   server → sender  {"op":"subscribed","senders":[…]|null,"maxFps":5|null}  the subscription now in force
 *   errors           ERROR frames with "channel":"video-control" (codes in VIDEO_ERRORS)
 */

/** The media channel that carries camera frames. */
export const VIDEO_CHANNEL = 'video';
/** The json channel for camera state and subscriptions. */
export const VIDEO_CONTROL_CHANNEL = 'video-control';

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
}

/** What a client sends on `video-control`. */
export type VideoControlRequest =
  | { op: 'camera'; on: boolean }
  | ({ op: 'subscribe' } & VideoSubscription);

/** What the server sends on `video-control`. */
export type VideoControlMessage =
  | { op: 'camera'; peer: string; on: boolean }
  | { op: 'cameras'; on: string[] }
  | { op: 'subscribed'; senders: string[] | null; maxFps: number | null };

/** The video-relay plugin's error codes, all non-fatal. */
export const VIDEO_ERRORS = {
  VIDEO_BAD_REQUEST: 'the message must be {"op":"camera","on":boolean} or {"op":"subscribe","senders"?:[string],"maxFps"?:number}',
  VIDEO_NOT_ALLOWED: 'this session may not publish video (it lacks the publish:video grant)',
} as const;
