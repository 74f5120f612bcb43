/**
 * The moderation plugin's messages, shared by its server and client halves. One json channel, `moderation`.
 * Every request needs the `moderate` grant; `id` is a session id (a lobby id for admit/deny).
 *
 * client → server  {"op":"mute","id"}            takes publish:audio
 *                  {"op":"stop-video","id"}      takes publish:video
 *                  {"op":"stop-screen","id"}     takes publish:screen
 *                  {"op":"allow","id","grant"}   gives back a publish:* grant the session had when it joined
 *                  {"op":"remove","id","reason"?} ends the session with MODERATION_REMOVED and bars its name
 *                                                 and token from the room (MODERATION_BARRED) until the token expires
 *                  {"op":"revoke","id","reason"?} revokes the session's access token (auth plugin): every session
 *                                                 holding it is closed with AUTH_TOKEN_REVOKED
 *                  {"op":"lock"} / {"op":"unlock"}   refuse / accept newcomers (MODERATION_ROOM_LOCKED)
 *                  {"op":"lobby","on":true|false}    newcomers wait until a moderator admits them
 *                  {"op":"admit","id"} / {"op":"deny","id"}   a newcomer waiting in the lobby
 * server → joiner  {"op":"state","locked","lobby","grants":[…],"waiting"?:[…]}   (waiting: moderators only)
 * server → room    {"op":"event","action","by":{id,name},"target"?:{id,name},"grant"?}
 * server → target  {"op":"grants","grants":[…]}                  its grants changed
 * server → moderators {"op":"waiting","waiting":[{id,name}…]}    the lobby changed
 * waiting newcomer non-fatal ERROR MODERATION_IN_LOBBY before WELCOME (repeated while it waits)
 */
import type { Grant } from '../../core/grants.js';

/** The channel name. */
export const MODERATION_CHANNEL = 'moderation';

/** A participant as moderation names it. */
export interface ModerationParty {
  id: string;
  name: string;
}

/** What a moderator can do to a participant: the grant each action takes. */
export const TAKES_GRANT = {
  mute: 'publish:audio',
  'stop-video': 'publish:video',
  'stop-screen': 'publish:screen',
} as const satisfies Record<string, Grant>;

/** Grants a moderator may give back with `allow` (only those the session had when it joined). */
export const ALLOWABLE_GRANTS: readonly Grant[] = ['publish:audio', 'publish:video', 'publish:screen'];

/** What happened, as announced to the room. */
export type ModerationAction =
  | 'muted' | 'video-stopped' | 'screen-stopped' | 'allowed' | 'removed' | 'revoked'
  | 'locked' | 'unlocked' | 'lobby-on' | 'lobby-off' | 'admitted' | 'denied';

/** An announcement to the room. */
export interface ModerationEvent {
  action: ModerationAction;
  by: ModerationParty;
  target?: ModerationParty;
  grant?: Grant;
}

/** The room's moderation state, sent to each joiner. */
export interface ModerationState {
  locked: boolean;
  lobby: boolean;
  /** The joiner's own grants. */
  grants: Grant[];
  /** Who waits in the lobby (moderators only). */
  waiting?: ModerationParty[];
}

/** What the server sends on the channel. */
export type ModerationServerMessage =
  | ({ op: 'state' } & ModerationState)
  | ({ op: 'event' } & ModerationEvent)
  | { op: 'grants'; grants: Grant[] }
  | { op: 'waiting'; waiting: ModerationParty[] };

/** The moderation plugin's error codes. */
export const MODERATION_ERRORS = {
  MODERATION_NOT_ALLOWED: 'this session may not moderate (it lacks the "moderate" grant)',
  MODERATION_BAD_REQUEST: 'unknown op or missing field; see plugins/moderation/README.md',
  MODERATION_NO_SUCH_PEER: 'no participant (or lobby newcomer) with this id is in the room',
  MODERATION_NOT_ALLOWABLE: 'allow gives back only publish:audio, publish:video or publish:screen, and only to a session that had it when it joined',
  MODERATION_REMOVED: 'a moderator removed you from the room',
  MODERATION_BARRED: 'a moderator removed you from this room: you cannot join it again until your access token expires',
  MODERATION_NO_TOKEN: 'this participant joined without an access token (a room password, or the server runs no auth plugin): nothing to revoke; use remove',
  MODERATION_ROOM_LOCKED: 'the room is locked: a moderator must unlock it before anyone new can join',
  MODERATION_IN_LOBBY: 'you are in the lobby: a moderator will admit you shortly',
  MODERATION_DENIED: 'a moderator did not admit you to the room',
  MODERATION_LOBBY_TIMEOUT: 'nobody admitted you from the lobby in time',
  MODERATION_LOBBY_FULL: 'the lobby of this room is full; try again later',
  MODERATION_LOBBY_CLOSED: 'the meeting ended while you waited in the lobby',
} as const;

/** A moderation error code. */
export type ModerationErrorCode = keyof typeof MODERATION_ERRORS;
