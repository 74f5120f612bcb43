/**
 * The screen plugin's messages, shared by its server and client halves. Two channels:
 *
 * `screen` (media): the presenter's screen frames, each a media frame (core/media.ts: header, then a JPEG).
 *   presenter → server  a frame with an empty sender (or the presenter's own session id)
 *   server → others     the same frame with the presenter's session id in the header
 *   server → joiner     the latest keyframe of the share in progress, right after `started`
 *
 * `screen-control` (json):
 *   client → server  {"op":"start","ref"?:"s1"}      take the room's one presenter slot
 *   client → server  {"op":"stop"}                   give it back (presenter only)
 *   server → room    {"op":"started","presenter":{"id","name"}}
 *   server → room    {"op":"stopped","presenter":{"id","name"},"reason":"stopped"|"left"|"revoked"}
 *   server → joiner  {"op":"started","presenter":{…}} when a share is in progress
 *   errors           ERROR frames with "channel":"screen-control" and "ref" (codes in SCREEN_ERRORS)
 */

/** The media channel that carries screen frames. */
export const SCREEN_CHANNEL = 'screen';
/** The json channel for starting and stopping a share. */
export const SCREEN_CONTROL_CHANNEL = 'screen-control';

/** The presenter, as the messages name it. */
export interface Presenter {
  id: string;
  name: string;
}

/** Why a share ended: the presenter stopped it, left the room, or lost the publish:screen grant. */
export type StopReason = 'stopped' | 'left' | 'revoked';

/** What a client sends on `screen-control`. */
export type ScreenControlRequest = { op: 'start'; ref?: string } | { op: 'stop' };

/** What the server sends on `screen-control`. */
export type ScreenControlMessage =
  | { op: 'started'; presenter: Presenter }
  | { op: 'stopped'; presenter: Presenter; reason: StopReason };

/** The screen plugin's error codes, all non-fatal. */
export const SCREEN_ERRORS = {
  SCREEN_BAD_REQUEST: 'the message must be {"op":"start","ref"?:string} or {"op":"stop"}',
  SCREEN_BUSY: 'someone else is presenting in this room; wait until they stop',
  SCREEN_NOT_ALLOWED: 'this session may not share its screen (it lacks the publish:screen grant)',
  SCREEN_NOT_PRESENTER: 'only the presenter can stop the share',
} as const;

/** Longest `ref` accepted. */
export const MAX_REF_LENGTH = 64;
