/**
 * The moderation plugin, client half: the room's state (locked, lobby, who waits), this client's own grants,
 * the room's moderation events, and, for moderators, the actions.
 *
 * @example
 *   const mod = client.use(moderationClient());
 *   mod.on('event', (e) => console.log(`${e.by.name} ${e.action} ${e.target?.name ?? ''}`));
 *   mod.on('waiting', (list) => list.forEach((newcomer) => mod.admit(newcomer.id)));
 *   await client.connect();
 *   mod.setLobby(true);
 *   mod.mute(peer.id);
 */
import type { ClientPlugin } from '../../core/client/types.js';
import { Emitter } from '../../core/client/emitter.js';
import type { Grant } from '../../core/wire.js';
import { MODERATION, type AllowableGrant, type ModerationEvent, type ModerationParty, type ModerationRequest } from './protocol.js';

/** Events of the moderation client half. */
export type ModerationEvents = {
  /** Something a moderator did, announced to the room. */
  event: [ModerationEvent];
  /** This client's grants changed (it was muted, its video was stopped…). */
  grants: [Grant[]];
  /** Moderators only: the newcomers waiting in the lobby changed. */
  waiting: [ModerationParty[]];
  /** The room's state, sent on join. */
  state: [{ locked: boolean; lobby: boolean }];
};

/** What `client.use(moderationClient())` returns. Actions throw nothing locally; refusals come as serverError. */
export interface ModerationApi extends Pick<Emitter<ModerationEvents>, 'on' | 'off' | 'once'> {
  /** This client's grants, as the server last said. */
  readonly grants: readonly Grant[];
  /** True while the room refuses newcomers. */
  readonly locked: boolean;
  /** True while newcomers wait in the lobby. */
  readonly lobby: boolean;
  /** Moderators only: who waits in the lobby. */
  readonly waiting: readonly ModerationParty[];
  mute(id: string): void;
  stopVideo(id: string): void;
  stopScreen(id: string): void;
  /** Gives back a publish grant the participant had when it joined. */
  allow(id: string, grant: AllowableGrant): void;
  /** Ends the session and bars its name and token from the room until the token expires. */
  remove(id: string, reason?: string): void;
  /** Revokes the access token the participant joined with: every session holding it is closed (needs auth). */
  revoke(id: string, reason?: string): void;
  lock(): void;
  unlock(): void;
  setLobby(on: boolean): void;
  admit(lobbyId: string): void;
  deny(lobbyId: string): void;
}

/** Creates the moderation client half. */
export function moderationClient(): ClientPlugin<ModerationApi> {
  return {
    name: 'moderation',
    attach(ctx) {
      const events = new Emitter<ModerationEvents>();
      const state = { grants: [] as Grant[], locked: false, lobby: false, waiting: [] as ModerationParty[] };
      const channel = ctx.channel(MODERATION);
      const send = (request: ModerationRequest) => void channel.send(request);

      channel.onMessage((message) => {
        switch (message.op) {
          case 'state':
            state.grants = message.grants;
            state.locked = message.locked;
            state.lobby = message.lobby;
            state.waiting = message.waiting ?? [];
            events.emit('state', { locked: message.locked, lobby: message.lobby });
            return;
          case 'grants':
            state.grants = message.grants;
            events.emit('grants', message.grants);
            return;
          case 'waiting':
            state.waiting = message.waiting;
            events.emit('waiting', message.waiting);
            return;
          case 'event': {
            const { op: _op, ...event } = message;
            if (event.action === 'locked' || event.action === 'unlocked') state.locked = event.action === 'locked';
            if (event.action === 'lobby-on' || event.action === 'lobby-off') state.lobby = event.action === 'lobby-on';
            events.emit('event', event);
          }
        }
      });

      return {
        on: events.on.bind(events),
        off: events.off.bind(events),
        once: events.once.bind(events),
        get grants() {
          return state.grants;
        },
        get locked() {
          return state.locked;
        },
        get lobby() {
          return state.lobby;
        },
        get waiting() {
          return state.waiting;
        },
        mute: (id) => send({ op: 'mute', id }),
        stopVideo: (id) => send({ op: 'stop-video', id }),
        stopScreen: (id) => send({ op: 'stop-screen', id }),
        allow: (id, grant) => send({ op: 'allow', id, grant }),
        remove: (id, reason) => send({ op: 'remove', id, ...(reason !== undefined ? { reason } : {}) }),
        revoke: (id, reason) => send({ op: 'revoke', id, ...(reason !== undefined ? { reason } : {}) }),
        lock: () => send({ op: 'lock' }),
        unlock: () => send({ op: 'unlock' }),
        setLobby: (on) => send({ op: 'lobby', on }),
        admit: (id) => send({ op: 'admit', id }),
        deny: (id) => send({ op: 'deny', id }),
      };
    },
  };
}
