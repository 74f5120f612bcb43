/**
 * The moderation plugin, server half: moderators (grant `moderate`) mute participants, stop their video or
 * screen share, remove them, lock the room, and run a lobby. Every action is announced to the room.
 *
 * Muting and stopping take a grant away (`session.removeGrant`, core/grants.ts): the media plugins check
 * grants on every frame (core/media-inbox.ts), so the participant's frames are dropped from then on, whatever
 * its client does, and the `grantsChanged` hook lets them end the share or turn the camera off for everyone.
 * Whatever changes a session's grants (moderation, an auth token refresh), the session is told its new ones.
 *
 * Removing someone also bars them from the room: their name, and their access token (read from the auth
 * plugin, when it runs), are refused with MODERATION_BARRED until the token expires (`barMs` without a
 * token). Bars are kept in the store (plugins/moderation/bars.ts), so they outlive the room and a restart, and
 * follow the room to another node of a cluster. `revoke`
 * revokes a participant's token through the auth plugin, for every room and every session holding it.
 *
 * The lobby holds newcomers in the handshake: when a room has its lobby on, a HELLO from someone without
 * `moderate` gets no WELCOME yet; the newcomer is listed to the room's moderators and gets a non-fatal
 * MODERATION_IN_LOBBY now and then (which also keeps the client's handshake timer from firing). `admit`
 * lets the handshake finish (WELCOME, PEER_JOINED as usual); `deny`, the lobby timeout, or the room
 * emptying refuse it with a fatal code. A waiting newcomer is not in the room: it sees and hears nothing.
 */
import { randomBytes } from 'node:crypto';
import { definePlugin } from '../../core/config.js';
import { TOKENS } from '../auth/service.js';
import { ConfabError, encodeJsonFrame, FrameType, type Grant } from '../../core/wire.js';
import { readOptions } from '../../core/options.js';
import type { Room } from '../../core/room.js';
import type { Session } from '../../core/session.js';
import type { HandshakeInfo, Plugin, ValidHello } from '../../core/types.js';
import { Bars, type Bar } from './bars.js';
import { ALLOWABLE_GRANTS, MODERATION, MODERATION_ERRORS, TAKES_GRANT, type ModerationAction, type ModerationParty } from './protocol.js';

/** Options of the moderation plugin. */
export interface ModerationOptions {
  /** How long a newcomer may wait in the lobby before it is refused. Default 600 000 ms (10 minutes). */
  lobbyTimeoutMs?: number;
  /** Newcomers waiting per room at most; more are refused with MODERATION_LOBBY_FULL. Default 50. */
  maxLobby?: number;
  /** How often a waiting newcomer is told it is in the lobby (keep it under the clients' handshake timeout). Default 4000 ms. */
  lobbyNoticeMs?: number;
  /** How long a removed participant's name stays barred when it joined without a token. Default 3 600 000 ms (1 h). */
  barMs?: number;
}

/** How long a join waits for the store's bars of its room before it goes on with those known here. */
const BARS_READ_TIMEOUT_MS = 1000;

/** Resolves as `promise` does, or rejects after `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** A newcomer held in the handshake. */
interface Waiting extends ModerationParty {
  settle(refusal: ConfabError | undefined): void;
}

/** A room's moderation state (its newcomers wait in its lobby before they are members). */
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
  const { lobbyTimeoutMs, maxLobby, lobbyNoticeMs, barMs } = readOptions('moderation', options, {
    lobbyTimeoutMs: { type: 'integer', min: 1, max: 2 ** 31 - 1, default: 600_000 },
    maxLobby: { type: 'integer', min: 1, max: 10_000, default: 50 },
    lobbyNoticeMs: { type: 'integer', min: 100, max: 2 ** 31 - 1, default: 4000 },
    barMs: { type: 'integer', min: 0, max: 366 * 86_400_000, default: 3_600_000 },
  });

  return definePlugin({
    name: 'moderation',
    channels: [MODERATION],
    errors: MODERATION_ERRORS,
    async setup(ctx) {
      const channel = ctx.channel(MODERATION);
      // Lock and lobby go with the room: anyone still waiting is refused then.
      const rooms = ctx.perRoom((): RoomState => ({ locked: false, lobby: false, waiting: new Map() }), {
        dispose: (state) => {
          for (const waiting of [...state.waiting.values()]) waiting.settle(MODERATION_ERRORS.MODERATION_LOBBY_CLOSED());
        },
      });
      const bars = new Bars(ctx.store);
      await bars.migrate();
      // The room may be hosted by another node before it comes back here: its bars are read again then.
      ctx.hooks.roomDisposed.tap('moderation', (room) => bars.forget(room.name));
      /** The auth plugin's service, when the server runs auth (moderation works without it). */
      const authority = () => ctx.optionalService(TOKENS);
      const sameName = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();
      /**
       * The bar that keeps this HELLO out of its room, if any. When the store does not answer within
       * BARS_READ_TIMEOUT_MS (PostgreSQL down), joins go on with the bars this node has in memory, and a warning.
       */
      const barFor = async (hello: ValidHello): Promise<Bar | undefined> => {
        const live = await withTimeout(bars.of(hello.room), BARS_READ_TIMEOUT_MS).catch((error: unknown) => {
          ctx.log.warn('bars not read from the store: the room\'s bars known here apply', { room: hello.room, error: String(error) });
          return bars.known(hello.room);
        });
        const jti = authority()?.tokenOfHello(hello)?.jti;
        return live.find((entry) => sameName(entry.name, hello.name) || (jti !== undefined && entry.jti === jti));
      };
      /** Bars a removed session's name and token from its room until the token expires (`barMs` without one). */
      const bar = (session: Session) => {
        const token = authority()?.tokenOf(session);
        const room = session.room.name;
        bars.add(room, { name: session.name, jti: token?.jti, untilMs: token ? token.exp * 1000 : Date.now() + barMs })
          .catch((error: unknown) => ctx.log.warn('bar not stored: it holds on this node only', { room, name: session.name, error: String(error) }));
      };
      /** The grants each session joined with: `allow` never gives more. */
      const joinedWith = ctx.perSession((session) => new Set(session.grants));
      const waitingList = (state: RoomState): ModerationParty[] => [...state.waiting.values()].map(({ id, name }) => ({ id, name }));
      const isModerator = (session: Session) => session.grants.has('moderate');
      const announce = (room: Room, action: ModerationAction, by: Session, target?: ModerationParty, grant?: Grant) => {
        channel.broadcast(room, { op: 'event', action, by: by.info, ...(target ? { target } : {}), ...(grant ? { grant } : {}) });
      };
      const tellModerators = (room: Room, state: RoomState) => {
        channel.broadcast(room, { op: 'waiting', waiting: waitingList(state) }, { filter: isModerator });
      };

      ctx.hooks.handshake.tapPromise('moderation', (hello, info) => admission(hello, info));

      /** Locked rooms refuse newcomers; lobby rooms hold them until a moderator decides. Moderators pass. */
      async function admission(hello: ValidHello, info: HandshakeInfo): Promise<ConfabError | undefined> {
        const barred = await barFor(hello);
        if (barred) {
          const until = new Date(barred.untilMs).toISOString();
          return Promise.resolve(MODERATION_ERRORS.MODERATION_BARRED({ message: `a moderator removed you from room "${hello.room}": you cannot join it again before ${until}` }));
        }
        // A room that does not exist yet has neither lock nor lobby.
        const room = ctx.room(hello.room);
        if (!room || info.grants.has('moderate')) return Promise.resolve(undefined);
        const state = rooms.get(room);
        if (state.locked) return Promise.resolve(MODERATION_ERRORS.MODERATION_ROOM_LOCKED());
        if (!state.lobby) return Promise.resolve(undefined);
        if (state.waiting.size >= maxLobby) return Promise.resolve(MODERATION_ERRORS.MODERATION_LOBBY_FULL());
        return new Promise((resolve) => {
          const notice = encodeJsonFrame(FrameType.ERROR, MODERATION_ERRORS.MODERATION_IN_LOBBY().toPayload());
          const waiting: Waiting = {
            id: `lobby-${randomBytes(6).toString('base64url')}`,
            name: hello.name,
            settle: (refusal) => {
              cancelTimeout();
              cancelReminder();
              info.signal.removeEventListener('abort', onAbort);
              if (state.waiting.delete(waiting.id)) tellModerators(room, state);
              resolve(refusal);
            },
          };
          const onAbort = () => waiting.settle(undefined);
          // Both die with the room (whose dispose refuses the newcomer) and with the server.
          const cancelTimeout = ctx.setTimeout(room, lobbyTimeoutMs, () => waiting.settle(MODERATION_ERRORS.MODERATION_LOBBY_TIMEOUT()));
          const cancelReminder = ctx.setInterval(room, lobbyNoticeMs, () => info.connection.write(notice));
          info.signal.addEventListener('abort', onAbort);
          state.waiting.set(waiting.id, waiting);
          info.connection.write(notice);
          tellModerators(room, state);
        });
      }

      ctx.hooks.sessionJoined.tap('moderation', (session, room) => {
        joinedWith.get(session);
        const { locked, lobby } = rooms.get(room);
        const grants = [...session.grants];
        channel.send(session, isModerator(session) ? { op: 'state', locked, lobby, grants, waiting: waitingList(rooms.get(room)) } : { op: 'state', locked, lobby, grants });
      });

      // Whoever changed them (a moderator here, an auth token refresh), the session learns its new grants.
      ctx.hooks.grantsChanged.tap('moderation', (session) => {
        if (session.state !== 'closed') channel.send(session, { op: 'grants', grants: [...session.grants] });
      });

      channel.onMessage((session, request) => {
        const { ref } = request;
        if (!isModerator(session)) throw MODERATION_ERRORS.MODERATION_NOT_ALLOWED({ ref });
        const room = session.room;
        const state = rooms.get(room);
        const target = (id: string) => {
          const found = room.get(id);
          if (!found) throw MODERATION_ERRORS.MODERATION_NO_SUCH_PEER({ ref });
          return found;
        };
        const changeGrant = (who: Session, grant: Grant, give: boolean, action: ModerationAction) => {
          announce(room, action, session, who.info, grant);
          if (give) who.addGrant(grant);
          else who.removeGrant(grant);
        };

        switch (request.op) {
          case 'mute':
            return changeGrant(target(request.id), TAKES_GRANT.mute, false, 'muted');
          case 'stop-video':
            return changeGrant(target(request.id), TAKES_GRANT['stop-video'], false, 'video-stopped');
          case 'stop-screen':
            return changeGrant(target(request.id), TAKES_GRANT['stop-screen'], false, 'screen-stopped');
          case 'allow': {
            const who = target(request.id);
            const grant = ALLOWABLE_GRANTS.find((allowable) => allowable === request.grant);
            if (!grant || !joinedWith.get(who).has(grant)) throw MODERATION_ERRORS.MODERATION_NOT_ALLOWABLE({ ref });
            return changeGrant(who, grant, true, 'allowed');
          }
          case 'remove': {
            const who = target(request.id);
            const reason = request.reason ? `: ${request.reason}` : '';
            announce(room, 'removed', session, who.info);
            bar(who);
            who.fail(MODERATION_ERRORS.MODERATION_REMOVED({ message: `${session.name} removed you from the room${reason}` }));
            return;
          }
          case 'revoke': {
            const who = target(request.id);
            const auth = authority();
            const token = auth?.tokenOf(who);
            if (!auth || !token) throw MODERATION_ERRORS.MODERATION_NO_TOKEN({ ref });
            const reason = request.reason ? `: ${request.reason}` : '';
            announce(room, 'revoked', session, who.info);
            auth.revoke(token.jti, { expiresAt: token.exp, reason: `${session.name} revoked it${reason}` });
            return;
          }
          case 'lock':
          case 'unlock':
            state.locked = request.op === 'lock';
            return announce(room, state.locked ? 'locked' : 'unlocked', session);
          case 'lobby':
            state.lobby = request.on;
            announce(room, state.lobby ? 'lobby-on' : 'lobby-off', session);
            // Turning the lobby off lets everyone waiting in.
            if (!state.lobby) for (const waiting of [...state.waiting.values()]) waiting.settle(undefined);
            return;
          case 'admit':
          case 'deny': {
            const waiting = state.waiting.get(request.id);
            if (!waiting) throw MODERATION_ERRORS.MODERATION_NO_SUCH_PEER({ ref });
            announce(room, request.op === 'admit' ? 'admitted' : 'denied', session, { id: waiting.id, name: waiting.name });
            waiting.settle(request.op === 'admit' ? undefined : MODERATION_ERRORS.MODERATION_DENIED());
            return;
          }
        }
      });
    },
  });
}
