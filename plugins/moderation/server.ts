/**
 * The moderation plugin, server half: moderators (grant `moderate`) mute participants, stop their video or
 * screen share, remove them, lock the room, and run a lobby. Every action is announced to the room.
 *
 * Muting and stopping take a grant away (core/grants.ts): the media plugins check grants on every frame
 * (core/media-inbox.ts), so the participant's frames are dropped from then on, whatever its client does.
 *
 * The lobby holds newcomers in the handshake: when a room has its lobby on, a HELLO from someone without
 * `moderate` gets no WELCOME yet; the newcomer is listed to the room's moderators and gets a non-fatal
 * MODERATION_IN_LOBBY now and then (which also keeps the client's handshake timer from firing). `admit`
 * lets the handshake finish (WELCOME, PEER_JOINED as usual); `deny`, the lobby timeout, or the room
 * emptying refuse it with a fatal code. A waiting newcomer is not in the room: it sees and hears nothing.
 */
import { randomBytes } from 'node:crypto';
import { definePlugin } from '../../core/config.js';
import { ConfabError } from '../../core/errors.js';
import { encodeJsonFrame } from '../../core/frame.js';
import type { Grant } from '../../core/grants.js';
import type { JsonObject } from '../../core/json.js';
import { readOptions } from '../../core/options.js';
import { FrameType } from '../../core/protocol.js';
import type { Room } from '../../core/room.js';
import type { Session } from '../../core/session.js';
import type { HandshakeInfo, Plugin, ValidHello } from '../../core/types.js';
import {
  ALLOWABLE_GRANTS,
  MODERATION_CHANNEL,
  MODERATION_ERRORS,
  TAKES_GRANT,
  type ModerationAction,
  type ModerationErrorCode,
  type ModerationParty,
} from './protocol.js';

/** Options of the moderation plugin. */
export interface ModerationOptions {
  /** How long a newcomer may wait in the lobby before it is refused. Default 600 000 ms (10 minutes). */
  lobbyTimeoutMs?: number;
  /** Newcomers waiting per room at most; more are refused with MODERATION_LOBBY_FULL. Default 50. */
  maxLobby?: number;
  /** How often a waiting newcomer is told it is in the lobby (keep it under the clients' handshake timeout). Default 4000 ms. */
  lobbyNoticeMs?: number;
}

/** A newcomer held in the handshake. */
interface Waiting extends ModerationParty {
  settle(refusal: ConfabError | undefined): void;
}

/** A room's moderation state (kept by room name: a lobby exists before its newcomers are members). */
interface RoomState {
  locked: boolean;
  lobby: boolean;
  waiting: Map<string, Waiting>;
}

/**
 * Creates the moderation plugin. List it after `auth` (which sets who has `moderate`).
 *
 * @example
 *   defineConfig({ plugins: [auth(), moderation({ maxLobby: 20 }), ...builtinPlugins()] });
 */
export function moderation(options: ModerationOptions = {}): Plugin {
  const { lobbyTimeoutMs, maxLobby, lobbyNoticeMs } = readOptions('moderation', options, {
    lobbyTimeoutMs: { type: 'integer', min: 1, max: 2 ** 31 - 1, default: 600_000 },
    maxLobby: { type: 'integer', min: 1, max: 10_000, default: 50 },
    lobbyNoticeMs: { type: 'integer', min: 100, max: 2 ** 31 - 1, default: 4000 },
  });

  return definePlugin({
    name: 'moderation',
    channels: { [MODERATION_CHANNEL]: { kind: 'json', maxPayload: 4096 } },
    setup(ctx) {
      const channel = ctx.channel(MODERATION_CHANNEL);
      const rooms = new Map<string, RoomState>();
      /** The grants each session joined with: `allow` never gives more. */
      const joinedWith = ctx.perSession((session) => new Set(session.grants));
      const stateOf = (name: string) => {
        let state = rooms.get(name);
        if (!state) {
          state = { locked: false, lobby: false, waiting: new Map() };
          rooms.set(name, state);
        }
        return state;
      };
      const waitingList = (state: RoomState | undefined): ModerationParty[] =>
        [...(state?.waiting.values() ?? [])].map(({ id, name }) => ({ id, name }));
      const isModerator = (session: Session) => session.grants.has('moderate');
      const announce = (room: Room, action: ModerationAction, by: Session, target?: ModerationParty, grant?: Grant) => {
        channel.broadcast(room, { op: 'event', action, by: by.info, ...(target ? { target } : {}), ...(grant ? { grant } : {}) });
      };
      const tellModerators = (room: Room | undefined, state: RoomState) => {
        if (room) channel.broadcast(room, { op: 'waiting', waiting: waitingList(state) }, { filter: isModerator });
      };

      ctx.hooks.handshake.tapPromise('moderation', (hello, info) => admission(hello, info));

      /** Locked rooms refuse newcomers; lobby rooms hold them until a moderator decides. Moderators pass. */
      function admission(hello: ValidHello, info: HandshakeInfo): Promise<ConfabError | undefined> {
        const state = rooms.get(hello.room);
        if (!state || info.grants.has('moderate')) return Promise.resolve(undefined);
        if (state.locked) return Promise.resolve(moderationError('MODERATION_ROOM_LOCKED', true));
        if (!state.lobby) return Promise.resolve(undefined);
        if (state.waiting.size >= maxLobby) return Promise.resolve(moderationError('MODERATION_LOBBY_FULL', true));
        return new Promise((resolve) => {
          const notice = encodeJsonFrame(FrameType.ERROR, moderationError('MODERATION_IN_LOBBY', false).toPayload());
          const waiting: Waiting = {
            id: `lobby-${randomBytes(6).toString('base64url')}`,
            name: hello.name,
            settle: (refusal) => {
              clearTimeout(timeout);
              clearInterval(reminder);
              info.signal.removeEventListener('abort', onAbort);
              if (state.waiting.delete(waiting.id)) tellModerators(ctx.room(hello.room), state);
              resolve(refusal);
            },
          };
          const onAbort = () => waiting.settle(undefined);
          const timeout = setTimeout(() => waiting.settle(moderationError('MODERATION_LOBBY_TIMEOUT', true)), lobbyTimeoutMs);
          const reminder = setInterval(() => info.connection.write(notice), lobbyNoticeMs);
          timeout.unref();
          reminder.unref();
          info.signal.addEventListener('abort', onAbort);
          state.waiting.set(waiting.id, waiting);
          info.connection.write(notice);
          tellModerators(ctx.room(hello.room), state);
        });
      }

      ctx.hooks.sessionJoined.tap('moderation', (session, room) => {
        joinedWith.get(session);
        const state = rooms.get(room.name);
        const message: JsonObject = { op: 'state', locked: state?.locked ?? false, lobby: state?.lobby ?? false, grants: [...session.grants] };
        if (session.grants.has('moderate')) message.waiting = waitingList(state);
        channel.send(session, message);
      });

      ctx.hooks.roomDisposed.tap('moderation', (room) => {
        const state = rooms.get(room.name);
        if (!state) return;
        rooms.delete(room.name);
        for (const waiting of [...state.waiting.values()]) waiting.settle(moderationError('MODERATION_LOBBY_CLOSED', true));
      });

      channel.onMessage((session, raw) => {
        const message = raw as JsonObject;
        if (!session.grants.has('moderate')) throw moderationError('MODERATION_NOT_ALLOWED', false);
        const room = session.room;
        const state = stateOf(room.name);
        const op = message.op;
        const id = typeof message.id === 'string' ? message.id : undefined;
        const target = () => {
          const found = id === undefined ? undefined : room.get(id);
          if (!found) throw moderationError('MODERATION_NO_SUCH_PEER', false);
          return found;
        };
        const changeGrant = (who: Session, grant: Grant, give: boolean, action: ModerationAction) => {
          if (give) who.grants.add(grant);
          else who.grants.delete(grant);
          channel.send(who, { op: 'grants', grants: [...who.grants] });
          announce(room, action, session, who.info, grant);
        };

        switch (op) {
          case 'mute':
            return changeGrant(target(), TAKES_GRANT.mute, false, 'muted');
          case 'stop-video':
            return changeGrant(target(), TAKES_GRANT['stop-video'], false, 'video-stopped');
          case 'stop-screen':
            return changeGrant(target(), TAKES_GRANT['stop-screen'], false, 'screen-stopped');
          case 'allow': {
            const who = target();
            const grant = message.grant as Grant;
            if (!ALLOWABLE_GRANTS.includes(grant) || !joinedWith.get(who).has(grant)) throw moderationError('MODERATION_NOT_ALLOWABLE', false);
            return changeGrant(who, grant, true, 'allowed');
          }
          case 'remove': {
            const who = target();
            const reason = typeof message.reason === 'string' ? message.reason.slice(0, 200) : '';
            announce(room, 'removed', session, who.info);
            who.fail(new ConfabError('MODERATION_REMOVED', `${session.name} removed you from the room${reason ? `: ${reason}` : ''}`, { fatal: true }));
            return;
          }
          case 'lock':
          case 'unlock':
            state.locked = op === 'lock';
            return announce(room, state.locked ? 'locked' : 'unlocked', session);
          case 'lobby':
            if (typeof message.on !== 'boolean') throw moderationError('MODERATION_BAD_REQUEST', false);
            state.lobby = message.on;
            announce(room, state.lobby ? 'lobby-on' : 'lobby-off', session);
            // Turning the lobby off lets everyone waiting in.
            if (!state.lobby) for (const waiting of [...state.waiting.values()]) waiting.settle(undefined);
            return;
          case 'admit':
          case 'deny': {
            const waiting = id === undefined ? undefined : state.waiting.get(id);
            if (!waiting) throw moderationError('MODERATION_NO_SUCH_PEER', false);
            announce(room, op === 'admit' ? 'admitted' : 'denied', session, { id: waiting.id, name: waiting.name });
            waiting.settle(op === 'admit' ? undefined : moderationError('MODERATION_DENIED', true));
            return;
          }
          default:
            throw moderationError('MODERATION_BAD_REQUEST', false);
        }
      });
    },
  });
}

function moderationError(code: ModerationErrorCode, fatal: boolean): ConfabError {
  return new ConfabError(code, MODERATION_ERRORS[code], { fatal });
}
