/**
 * The screen plugin's messages, shared by its server and client halves. Two channels:
 *
 * `screen` (media): the presenter's screen frames, each a media frame (core/media.ts: header, then a VP8
 * frame, or a JPEG from clients without a VP8 encoder).
 *   presenter → server  a frame with an empty sender (or the presenter's own session id)
 *   server → others     the same frame with the presenter's session id in the header (for VP8, nothing
 *                       before a keyframe, and fewer temporal layers to a receiver whose link is backed up)
 *   server → joiner     the share so far from its latest keyframe (that keyframe and the base-layer frames
 *                       after it), right after `started`: the picture shows at once
 *
 * `screen-control` (json):
 *   client → server  {"op":"start","ref"?:"s1"}      take the room's one presenter slot
 *   client → server  {"op":"stop"}                   give it back (presenter only)
 *   server → room    {"op":"started","presenter":{"id","name"}}
 *   server → room    {"op":"stopped","presenter":{"id","name"},"reason":"stopped"|"left"|"revoked"}
 *   server → joiner  {"op":"started","presenter":{…}} when a share is in progress
 *   client → server  {"op":"keyframe","reason"?:"join"|"gap"|"decode-error"}  a receiver needs a keyframe:
 *                                               answered from the cached one, else asked of the presenter
 *   server → presenter {"op":"keyframe"}        send a keyframe now (at most one per KEYFRAME_INTERVAL_MS)
 *   server → presenter {"op":"bitrate","bps":800000|null}  what the receivers can take now (null: no limit)
 *   errors           ERROR frames with "channel":"screen-control" and "ref" (codes in SCREEN_ERRORS)
 */
import { defineErrors, jsonChannel, mediaChannel, requestRef, type JsonObject, type KeyframeReason } from '../../core/wire.js';

/** The presenter, as the messages name it. */
export interface Presenter {
  id: string;
  name: string;
}

/** Why a share ended: the presenter stopped it, left the room, or lost the publish:screen grant. */
export type StopReason = 'stopped' | 'left' | 'revoked';

/** What a client sends on `screen-control`. */
export type ScreenControlRequest =
  | { op: 'start'; ref?: string }
  | { op: 'stop'; ref?: string }
  | { op: 'keyframe'; reason?: KeyframeReason; ref?: string };

/** What the server sends on `screen-control`. */
export type ScreenControlMessage =
  | { op: 'started'; presenter: Presenter; ref?: string }
  | { op: 'stopped'; presenter: Presenter; reason: StopReason }
  | { op: 'keyframe' }
  | { op: 'bitrate'; bps: number | null };

/** The screen plugin's error codes, all non-fatal. */
export const SCREEN_ERRORS = defineErrors('screen', {
  SCREEN_BAD_REQUEST: 'the message must be {"op":"start","ref"?:string}, {"op":"stop"} or {"op":"keyframe"}',
  SCREEN_BUSY: 'someone else is presenting in this room; wait until they stop',
  SCREEN_NOT_ALLOWED: 'this session may not share its screen (it lacks the publish:screen grant)',
  SCREEN_NOT_PRESENTER: 'only the presenter can stop the share',
  SCREEN_NO_SHARE: 'nobody else is presenting in this room: there is no share to ask a keyframe of',
  SCREEN_KEYFRAME_RATE: 'keyframe requests arrive too fast; each one replays the share, so ask again only after a gap',
});

/** A presenter gets at most one keyframe request per this many ms (receivers' requests are merged). */
export const KEYFRAME_INTERVAL_MS = 300;

const KEYFRAME_REASONS: readonly unknown[] = ['join', 'gap', 'decode-error'] satisfies KeyframeReason[];

function isKeyframeReason(value: unknown): value is KeyframeReason {
  return KEYFRAME_REASONS.includes(value);
}

/** Checks what a client sends on `screen-control`; SCREEN_BAD_REQUEST for anything else. */
export function parseScreenControlRequest(message: JsonObject): ScreenControlRequest {
  const ref = requestRef(message);
  const { op, reason } = message;
  if (op === 'start' || op === 'stop') return { op, ref };
  if (op === 'keyframe' && reason === undefined) return { op, ref };
  if (op === 'keyframe' && isKeyframeReason(reason)) return { op, reason, ref };
  throw SCREEN_ERRORS.SCREEN_BAD_REQUEST();
}

/** The media channel that carries screen frames. */
export const SCREEN = mediaChannel('screen');
/** The json channel for starting and stopping a share, keyframe requests and bitrate feedback. */
export const SCREEN_CONTROL = jsonChannel<ScreenControlRequest, ScreenControlMessage>('screen-control', { parse: parseScreenControlRequest, maxPayload: 4096 });
