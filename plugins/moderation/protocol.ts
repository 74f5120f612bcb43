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
import { defineErrors, jsonChannel, requestRef, type Grant, type JsonObject } from '../../core/wire.js';

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

/**
 * Grants a moderator may give back with `allow` (only those the session had when it joined): the media
 * grants that mute and stop take. Other grants, built-in or a plugin's own, are a token's to give.
 */
export const ALLOWABLE_GRANTS = ['publish:audio', 'publish:video', 'publish:screen'] as const satisfies readonly Grant[];

/** A grant `allow` gives back. */
export type AllowableGrant = (typeof ALLOWABLE_GRANTS)[number];

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
  /** The joiner's own grants, plugins' grants (`countdown:start`) included. */
  grants: Grant[];
  /** Who waits in the lobby (moderators only). */
  waiting?: ModerationParty[];
}

/** What a client sends. `allow`'s grant is any string here; the server gives back only ALLOWABLE_GRANTS. */
export type ModerationRequest =
  | { op: 'mute' | 'stop-video' | 'stop-screen'; id: string; ref?: string }
  | { op: 'allow'; id: string; grant: string; ref?: string }
  | { op: 'remove' | 'revoke'; id: string; reason?: string; ref?: string }
  | { op: 'lock' | 'unlock'; ref?: string }
  | { op: 'lobby'; on: boolean; ref?: string }
  | { op: 'admit' | 'deny'; id: string; ref?: string };

/** What the server sends on the channel. */
export type ModerationMessage =
  | ({ op: 'state' } & ModerationState)
  | ({ op: 'event' } & ModerationEvent)
  | { op: 'grants'; grants: Grant[] }
  | { op: 'waiting'; waiting: ModerationParty[] };

/** The moderation plugin's error codes: fatal ones end (or refuse) the session of the person concerned. */
export const MODERATION_ERRORS = defineErrors('moderation', {
  MODERATION_NOT_ALLOWED: 'this session may not moderate (it lacks the "moderate" grant)',
  MODERATION_BAD_REQUEST: 'unknown op or missing field; see plugins/moderation/README.md',
  MODERATION_NO_SUCH_PEER: 'no participant (or lobby newcomer) with this id is in the room',
  MODERATION_NOT_ALLOWABLE: 'allow gives back only publish:audio, publish:video or publish:screen, and only to a session that had it when it joined',
  MODERATION_REMOVED: { message: 'a moderator removed you from the room', fatal: true },
  MODERATION_BARRED: { message: 'a moderator removed you from this room: you cannot join it again until your access token expires', fatal: true },
  MODERATION_NO_TOKEN: 'this participant joined without an access token (a room password, or the server runs no auth plugin): nothing to revoke; use remove',
  MODERATION_ROOM_LOCKED: { message: 'the room is locked: a moderator must unlock it before anyone new can join', fatal: true },
  MODERATION_IN_LOBBY: 'you are in the lobby: a moderator will admit you shortly',
  MODERATION_DENIED: { message: 'a moderator did not admit you to the room', fatal: true },
  MODERATION_LOBBY_TIMEOUT: { message: 'nobody admitted you from the lobby in time', fatal: true },
  MODERATION_LOBBY_FULL: { message: 'the lobby of this room is full; try again later', fatal: true },
  MODERATION_LOBBY_CLOSED: { message: 'the meeting ended while you waited in the lobby', fatal: true },
});

/** Longest `reason` kept for remove and revoke, in characters. */
export const MAX_REASON_LENGTH = 200;

/**
 * Checks what a client sends: a known op with its fields (`id` a string, `grant` a string, `on` a boolean),
 * or MODERATION_BAD_REQUEST. A `reason` that is not a string is left out; a long one is cut.
 */
export function parseModerationRequest(message: JsonObject): ModerationRequest {
  const ref = requestRef(message);
  const bad = (text: string) => MODERATION_ERRORS.MODERATION_BAD_REQUEST({ ref, message: text });
  const { op, id, grant, reason, on } = message;
  const target = (): string => {
    if (typeof id !== 'string') throw bad(`${op} needs "id", a session id (a lobby id for admit and deny)`);
    return id;
  };
  switch (op) {
    case 'mute':
    case 'stop-video':
    case 'stop-screen':
    case 'admit':
    case 'deny':
      return { op, id: target(), ref };
    case 'allow': {
      const who = target();
      if (typeof grant !== 'string') throw bad('allow needs "grant", like "publish:audio"');
      return { op, id: who, grant, ref };
    }
    case 'remove':
    case 'revoke': {
      const who = target();
      return typeof reason === 'string' ? { op, id: who, reason: reason.slice(0, MAX_REASON_LENGTH), ref } : { op, id: who, ref };
    }
    case 'lock':
    case 'unlock':
      return { op, ref };
    case 'lobby':
      if (typeof on !== 'boolean') throw bad('lobby needs "on": true or false');
      return { op, on, ref };
    default:
      throw bad(`unknown op ${JSON.stringify(op)}; see plugins/moderation/README.md`);
  }
}

/** The moderation channel. */
export const MODERATION = jsonChannel<ModerationRequest, ModerationMessage>('moderation', { parse: parseModerationRequest, maxPayload: 4096 });
