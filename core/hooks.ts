/**
 * Every hook of the core, declared in one place with tapable (webpack's hook library).
 *
 * Plugins tap them by name in `setup`:
 *
 * @example
 *   ctx.hooks.sessionJoined.tap('greeter', (session, room) => log.info(`${session.name} joined ${room.name}`));
 *   ctx.hooks.handshake.tapPromise('auth', async (hello) => hello.token ? undefined : new ConfabError('AUTH_REQUIRED'));
 *
 * Order of a session's life: connection → handshake → roomCreated (first member) → sessionJoined →
 * message… / outgoing… → sessionLeft → roomDisposed (last member). Server: listen … close.
 */
import { AsyncSeriesBailHook, AsyncSeriesHook, HookMap, SyncBailHook, SyncHook, SyncWaterfallHook } from 'tapable';
import type { ConfabError } from './errors.js';
import type { Grant } from './grants.js';
import type { Room } from './room.js';
import type { Session } from './session.js';
import type { ChannelMessage, Connection, HandshakeInfo, MediaSendOptions, OutgoingMessage, ValidHello } from './types.js';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Where the server listens, as the `listen` hook is told. */
export interface ListenInfo {
  host: string;
  port: number;
}

/** The server's hooks, one frozen object (see `createServerHooks`). */
export type ServerHooks = ReturnType<typeof createServerHooks>;

/** Creates the server's hooks. */
export function createServerHooks() {
  return Object.freeze({
    /** After the server listens on its port. Taps may start side services (discovery beacons). */
    listen: new AsyncSeriesHook<[ListenInfo]>(['info']),
    /** While the server closes, after every session got BYE. Taps release what they hold. */
    close: new AsyncSeriesHook<[]>([]),
    /** A transport connection opened, before its HELLO. Taps may watch or count connections. */
    connection: new SyncHook<[Connection]>(['connection']),
    /** A valid HELLO arrived for a new session. A tap returns a ConfabError to refuse it (auth, limits). */
    handshake: new AsyncSeriesBailHook<[ValidHello, HandshakeInfo], ConfabError | undefined>(['hello', 'info']),
    /** A room got its first member and now exists. */
    roomCreated: new SyncHook<[Room]>(['room']),
    /** A room lost its last member and is gone. Per-room state is dropped with it. */
    roomDisposed: new SyncHook<[Room]>(['room']),
    /** A session joined its room; it already has WELCOME and its peers have PEER_JOINED. Send it history here. */
    sessionJoined: new SyncHook<[Session, Room]>(['session', 'room']),
    /** A session lost its connection and waits for a resume. Its room still lists it. */
    sessionDetached: new SyncHook<[Session, Room]>(['session', 'room']),
    /** A detached session came back; the frames it missed have been replayed. */
    sessionResumed: new SyncHook<[Session, Room]>(['session', 'room']),
    /**
     * A session's grants changed (core/grants.ts): the grants it lost and the grants it gained (one list may be
     * empty, never both). Fired by `session.setGrants()` (and `removeGrant`/`addGrant`), the one place grants change after
     * the handshake. Taps make the change visible: a media plugin ends a share whose presenter lost its publish
     * grant; moderation tells the client its new grants.
     */
    grantsChanged: new SyncHook<[Session, Grant[], Grant[]]>(['session', 'removed', 'added']),
    /** A session left its room for good: `bye`, `timeout`, `disconnected`, `error`, or `shutdown` when the server closes. */
    sessionLeft: new SyncHook<[Session, Room, string]>(['session', 'room', 'reason']),
    /**
     * A message arrived on a channel, keyed by channel name. Channel handlers tap here; a tap with an
     * earlier `stage` that returns `true` stops it (a moderation plugin muting someone).
     */
    message: new HookMap(() => new SyncBailHook<[Session, ChannelMessage], true | void>(['session', 'message'])),
    /**
     * A plugin message is about to be sent. Taps may return a rewritten message, or `false` to stop it.
     * A tap that receives `false` must return it unchanged. Only called when tapped.
     */
    outgoing: new SyncWaterfallHook<[OutgoingMessage | false]>(['outgoing']),
    /**
     * An HTTP request arrived on the server's port. A tap that answers it returns `true`;
     * unanswered requests get /health, /metrics or 404.
     */
    http: new AsyncSeriesBailHook<[IncomingMessage, ServerResponse], true | undefined>(['request', 'response']),
    /**
     * A frame arrived from a joined session (any transport, UDP included), before it is handled: type id and
     * payload (a view: copy it to keep it). For inspectors and counters; a tap must not change the bytes.
     * Only called when tapped, so it costs nothing otherwise.
     */
    frameIn: new SyncHook<[Session, number, Uint8Array]>(['session', 'type', 'payload']),
    /**
     * A frame is being written to a session (connection or UDP): type id and payload (a view). Frames a
     * session misses while detached fire when they are replayed. Only called when tapped.
     */
    frameOut: new SyncHook<[Session, number, Uint8Array]>(['session', 'type', 'payload']),
    /**
     * A media frame (the whole encoded frame) is about to be sent to one session. A tap that returns `true`
     * takes it over: it drops it, or delivers it later with `session.deliverMediaFrame()` (network
     * impairment for labs). Only called when tapped.
     */
    mediaOut: new SyncBailHook<[Session, Uint8Array, MediaSendOptions], true | void>(['session', 'frame', 'media']),
  });
}
