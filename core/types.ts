/**
 * The core's public types, in one place: server options, plugins and what they are given, channels,
 * connections. Session, Room and the hooks are classes and live in their own files.
 */
import type { Kysely } from 'kysely';
import type { AnyChannelDef, ChannelDef } from './channel-def.js';
import type { ConfabError, PluginErrorSpec } from './errors.js';
import type { ClusterBus, ClusterOptions, RoomListing } from './cluster/types.js';
import type { Grant, PluginGrant } from './grants.js';
import type { JsonObject } from './json.js';
import type { Logger, LogLevel } from './logger.js';
import type { Metrics } from './metrics.js';
import type { ChannelKind, Hello } from './protocol.js';
import type { Room } from './room.js';
import type { ServerHooks } from './hooks.js';
import type { Session } from './session.js';
import type { MigrationStep } from './store/migrate.js';
import type { StoreDialect } from './store/url.js';
import type { AnyServiceKey, ServiceKey } from './services.js';

/** Options of the server, the `server` block of `plugins.config.ts`. Every field has a default. */
export interface ServerOptions {
  /** Address to bind. Default `127.0.0.1`; `0.0.0.0` opens the server to the LAN. */
  host?: string;
  /** TCP port for HTTP, WebSocket and framed TCP, and the UDP port for media. Default 5000; 0 picks a free one. */
  port?: number;
  /** Directory for the embedded store and plugin files. Default `.confab` under the working directory. */
  dataDir?: string;
  /**
   * Where the store is: a `postgres://user:password@host:port/db` (or `postgresql://`) URL, or `sqlite:<path>`.
   * Default: `CONFAB_STORE_URL` from the environment, else the SQLite file `<dataDir>/confab.db`. The
   * password is never logged or shown (docs/store.md).
   */
  store?: string;
  /** The name the server gives itself (discovery, /health). Default the host name. */
  name?: string;
  /** Largest frame payload accepted, in bytes. Default 16 MiB. */
  maxPayload?: number;
  /** How often clients ping, told to them in WELCOME. Default 3000 ms. */
  heartbeatMs?: number;
  /** A session silent for this long is closed. Default 5 × heartbeatMs. */
  idleTimeoutMs?: number;
  /** A connection that has not sent HELLO within this time is closed. Default 10 000 ms. */
  helloTimeoutMs?: number;
  /** How long a session that lost its connection can be resumed. Default 30 000 ms. */
  resumeGraceMs?: number;
  /** Reliable frames kept per session for resume. Default 1024. */
  resumeBufferFrames?: number;
  /** Bytes of reliable frames kept per session for resume. Default 4 MiB. */
  resumeBufferBytes?: number;
  /**
   * Bytes a session may have waiting to be written before it is closed with SEND_QUEUE_OVERFLOW. Default 8 MiB,
   * at least 64 KiB. A single frame larger than this is still accepted into an empty queue.
   */
  maxQueueBytes?: number;
  /** Above this many waiting bytes, media frames for the session are held back (newest wins). Default 256 KiB, at least 16 KiB. */
  mediaHighWaterBytes?: number;
  /** Listen for media on UDP at the same port number. Default true. */
  udp?: boolean;
  /** Open TCP connections (HTTP, WebSocket, framed) at most; more are closed at once. Default 1024. */
  maxConnections?: number;
  /** Open TCP connections from one address at most; more are closed at once. Default 256. */
  maxConnectionsPerAddress?: number;
  /** Messages per second per session on each json channel (and core frames): two seconds' worth may burst. Default 500. */
  jsonMessagesPerSecond?: number;
  /** Messages per second per session on each binary channel (file chunks). Default 2000. */
  binaryMessagesPerSecond?: number;
  /** Frames per second per session on each media channel. Default 1000. */
  mediaMessagesPerSecond?: number;
  /** Messages dropped for rate within 10 s before the session is closed with RATE_LIMIT_ABUSE. Default 1000. */
  maxDroppedMessages?: number;
  /** Largest JSON payload on a json channel, in bytes (a channel's own maxPayload may be smaller). Default 1 MiB. */
  maxJsonBytes?: number;
  /** Deepest nesting of arrays and objects in a JSON payload. Default 32. */
  maxJsonDepth?: number;
  /** Log level. Default `info`. */
  logLevel?: LogLevel;
  /**
   * Also export per-room gauges in `/metrics` (`confab_room_sessions{room}`, `confab_room_send_queue_bytes{room}`).
   * Off by default: one series per room grows with the number of rooms. Default false.
   */
  metricsPerRoom?: boolean;
  /**
   * TLS on the one port (HTTPS, WSS, `tls://`), told apart from plain traffic by its first byte 0x16.
   * `{ cert, key }`: PEM file paths. `'self-signed'`: a certificate generated once and kept in
   * `<dataDir>/tls/`. `'off'`: no TLS. Default: `'self-signed'` when `host` is not a loopback address
   * (browsers give camera and microphone only to secure pages), else `'off'`. See core/tls.ts.
   */
  tls?: TlsOption;
  /** UDP port for media when it is not the TCP port's number (each worker of `--workers` has its own). */
  udpPort?: number;
  /** Cluster mode: this server is one node of a cluster on Redis (core/cluster/, docs/cluster.md). */
  cluster?: ClusterOptions;
}

/** The `tls` server option: PEM file paths, a generated self-signed certificate, or none. */
export type TlsOption = { cert: string; key: string } | 'self-signed' | 'off';

/** Server options with every default filled in. */
export type ResolvedServerOptions = Required<Omit<ServerOptions, 'udpPort' | 'cluster'>> & Pick<ServerOptions, 'udpPort' | 'cluster'>;

/** The whole configuration: what `plugins.config.ts` exports through `defineConfig`. */
export interface ConfabConfig {
  server?: ServerOptions;
  plugins?: Plugin[];
}

/**
 * A plugin: a name, the channels it owns, what it declares to the server (error codes, grants, services)
 * and a `setup` that taps hooks and handles messages. Write one with `definePlugin`; a plugin with options
 * is a function that returns one.
 */
export interface Plugin {
  /** Unique name, used in logs, errors and the store (e.g. `chat`). */
  name: string;
  /**
   * The plugin's channels, as its protocol.ts defines them (`jsonChannel`, `binaryChannel`, `mediaChannel`);
   * the server assigns each a type id and tells clients in WELCOME.
   */
  channels?: readonly AnyChannelDef[];
  /** The plugin's error codes (`defineErrors`), listed in `/metrics` and docs/errors.md. */
  errors?: { readonly specs: readonly PluginErrorSpec[] };
  /** Grants of the plugin's own (`<plugin name>:<action>`): tokens may carry them, sessions start with them. */
  grants?: readonly PluginGrant[];
  /** Services the plugin offers others; it must `ctx.provide` each in its setup. */
  provides?: readonly AnyServiceKey[];
  /** Services the plugin needs: a plugin listed before it must provide each, or the server does not start. */
  requires?: readonly AnyServiceKey[];
  /**
   * The module of the plugin's client entry (`defineClientEntry`, core/client/entry.ts), whose default export
   * the web client bundles and `confab join --config` and `confab bot run --config` import, so the plugin
   * reaches every client by being in the plugins list. Built-in plugins leave it out: their entries are in
   * plugins/clients.ts.
   *
   * @example
   *   client: new URL('./entry.ts', import.meta.url),
   */
  client?: URL;
  /** Called once before the server listens. May be async (open files, prepare statements). */
  setup(ctx: PluginContext): void | Promise<void>;
}

/** A message received on a channel: a JSON object for `json` channels, bytes for `binary` and `media`. */
export type ChannelMessage = JsonObject | Uint8Array;

/** Options for sending a media frame. */
export interface MediaSendOptions {
  /** Frames of one stream replace each other while the receiver is slow (e.g. `video:<sender id>`). */
  stream: string;
  /** A keyframe is never replaced by a delta frame of the same stream. */
  keyframe?: boolean;
}

/** What `channel.send` and `channel.broadcast` may carry: an object for json channels, bytes otherwise. */
export type OutgoingPayload = unknown;

/**
 * A handle on one of the plugin's channels: it receives `Request`s (what the channel's `parse` made of a
 * client's message) and sends `Message`s.
 */
export interface Channel<Request = ChannelMessage, Message = OutgoingPayload> {
  readonly name: string;
  readonly kind: ChannelKind;
  /** The type id the server assigned. */
  readonly id: number;
  /** Sends to one session. Media needs `media` options; other kinds ignore them. */
  send(session: Session, message: Message, media?: MediaSendOptions): void;
  /**
   * Sends to every session of the room, except `except`, and with `filter` only to the sessions it accepts
   * (called once per member: selective subscriptions, rate limits). The frame is encoded once.
   */
  broadcast(room: Room, message: Message, options?: { except?: Session; filter?: (session: Session) => boolean; media?: MediaSendOptions }): void;
  /**
   * Handles what clients send on this channel, after `parse` checked it. Throwing a ConfabError (from parse
   * or the handler) sends it back as an ERROR naming the channel, with the request's `ref` when it had one.
   */
  onMessage(handler: (session: Session, request: Request) => void): void;
}

/** Options of `ctx.perRoom` and `ctx.perSession`. */
export interface StateOptions<Owner, T> {
  /** Called when the owner goes (the room is disposed, the session ends) or the server closes: stop timers here. */
  dispose?(value: T, owner: Owner): void;
}

/** Typed state a plugin keeps per room or per session, created on first use and gone with its owner. */
export interface StateSlot<Owner extends object, T> {
  /** The owner's state, created on first use. */
  get(owner: Owner): T;
  /** The owner's state if it has any, without creating it (for checks that only read). */
  peek(owner: Owner): T | undefined;
}

/**
 * A plugin's view of the store: one async, typed query interface (Kysely) over SQLite (better-sqlite3, the
 * default, `<dataDir>/confab.db`) or PostgreSQL (`server.store` / `CONFAB_STORE_URL` = `postgres://…`).
 * Give the plugin's tables as `Tables` (`ctx.store as PluginStore<ChatTables>`) to have typed queries.
 * See docs/store.md.
 *
 * @example
 *   interface NotesTables { notes_items: { id: string; room: string; text: string; created_at: number } }
 *   const store = ctx.store as PluginStore<NotesTables>;
 *   await store.migrate([
 *     (db) => db.schema.createTable('notes_items')
 *       .addColumn('id', 'text', (c) => c.primaryKey())
 *       .addColumn('room', 'text', (c) => c.notNull())
 *       .addColumn('text', 'text', (c) => c.notNull())
 *       .addColumn('created_at', 'bigint', (c) => c.notNull())
 *       .execute(),
 *   ]);
 *   await store.db.insertInto('notes_items').values({ id, room: room.name, text, created_at: Date.now() }).execute();
 */
export interface PluginStore<Tables = any> {
  /**
   * The Kysely instance. Name tables after the plugin (`chat_messages`). A write has committed once its
   * promise resolved: acknowledge a request only then. Failures that are the database's (a full disk, an
   * unreachable PostgreSQL) are recognised by `isStoreError` (core/store.ts) and answered with
   * `storeWriteError`, STORE_WRITE_FAILED, retryable.
   */
  readonly db: Kysely<Tables>;
  /** `sqlite` or `postgres`, for the rare step or query that must differ (an auto-increment key). */
  readonly dialect: StoreDialect;
  /**
   * Applies the plugin's schema migrations in order, each once, each in its own write transaction, recording
   * the version in `confab_migrations`; safe when several processes migrate at once. A step is a function
   * of the Kysely instance bound to its transaction (use that one) and the dialect, written with Kysely's
   * schema builder so that it runs on both dialects. Append new steps; never edit a step that has shipped.
   * Rejects with STORE_MIGRATION_FAILED (or STORE_OPEN_FAILED when the database cannot be reached).
   */
  migrate(steps: readonly MigrationStep[]): Promise<void>;
}

/** What `setup` receives: the server's hooks and the plugin's own channels, state, store and logger. */
export interface PluginContext {
  /** The server's hooks (see core/hooks.ts). */
  readonly hooks: ServerHooks;
  /** The server's resolved options. */
  readonly options: ResolvedServerOptions;
  /** A logger that names the plugin. */
  readonly log: Logger;
  /** The server's counters, rendered at `/metrics`; a plugin may add to them. */
  readonly metrics: Metrics;
  /** The store, SQLite by default or PostgreSQL (`server.store`): an async Kysely interface, see PluginStore and docs/store.md. */
  readonly store: PluginStore;
  /** Directory where this plugin may keep files (created on demand). */
  readonly dataDir: string;
  /** A handle on one of the plugin's declared channels, typed by its definition. */
  channel<Request, Message>(definition: ChannelDef<Request, Message>): Channel<Request, Message>;
  /**
   * Declares typed per-room state, created on first `get` and gone with its room; `dispose` runs when the
   * room is disposed (or the server closes).
   */
  perRoom<T>(create: (room: Room) => T, options?: StateOptions<Room, T>): StateSlot<Room, T>;
  /** Declares typed per-session state, gone when the session ends; `dispose` runs then. */
  perSession<T>(create: (session: Session) => T, options?: StateOptions<Session, T>): StateSlot<Session, T>;
  /**
   * Runs `run` once after `ms`, unless the owner (a room or a session) goes first, or the server closes.
   * Returns a function that cancels it.
   *
   * @example
   *   const cancel = ctx.setTimeout(room, 60_000, () => ticks.broadcast(room, { op: 'done' }));
   */
  setTimeout(owner: Room | Session, ms: number, run: () => void): () => void;
  /** Runs `run` every `ms` until cancelled, the owner goes, or the server closes. Returns the cancel function. */
  setInterval(owner: Room | Session, ms: number, run: () => void): () => void;
  /** Offers a service this plugin `provides` (call it in setup). */
  provide<T>(key: ServiceKey<T>, implementation: T): void;
  /** A service this plugin `requires`, provided by a plugin set up before it. */
  service<T>(key: ServiceKey<T>): T;
  /** A service, when some plugin provides it (one this plugin can do without). */
  optionalService<T>(key: ServiceKey<T>): T | undefined;
  /** Every grant a session may hold on this server: the built-in ones and the plugins' own. */
  readonly grants: ReadonlySet<Grant>;
  /** The room of that name, if it exists. */
  room(name: string): Room | undefined;
  /** Every room that exists now. */
  rooms(): Iterable<Room>;
  /**
   * In cluster mode, the cluster as this node sees it: `rooms()` lists every node's rooms (the join screen,
   * discovery), `bus` carries what crosses nodes. Undefined on a server alone, and until it listens.
   */
  readonly cluster: { rooms(): Promise<RoomListing[]>; readonly bus: ClusterBus } | undefined;
  /**
   * Hands the server a connection of a transport the plugin provides (a serial line, an in-process pipe,
   * QUIC…): from here on it goes through HELLO, WELCOME and the hooks like a TCP or WebSocket client.
   */
  accept(connection: Connection): void;
  /**
   * Names of every plugin the server runs, in order, so a plugin can adapt to another's presence
   * (discovery announces that auth is needed when a plugin named `auth` is loaded).
   */
  readonly plugins: readonly string[];
  /**
   * The plugin object of that name when the server runs it, else undefined. A plugin may offer functions to
   * others on its object (the scheduler's `upcomingMeetings`, which the web plugin lists); the caller checks
   * that what it wants is there, so it keeps working when that plugin is absent. Call it in hooks, not in
   * `setup`, when the other plugin may be set up later.
   */
  plugin(name: string): Plugin | undefined;
}

/** What the handshake hook is told about the connection that sent HELLO. */
export interface HandshakeInfo {
  /** Transport name: `tcp`, `ws`, or one a plugin added. */
  transport: string;
  remoteAddress: string;
  /**
   * The grants the new session will start with (every grant by default). A tap may narrow them: the auth
   * plugin sets them from the token, and the session is created with what is left.
   */
  grants: Set<Grant>;
  /** The connection that sent HELLO: a tap that keeps the client waiting (a lobby) may write to it. */
  connection: Connection;
  /** Aborted when the connection closes during the handshake, so a tap that waits can stop waiting. */
  signal: AbortSignal;
}

/** A message on its way out, as the `outgoing` hook sees it. */
export interface OutgoingMessage {
  channel: string;
  room: Room;
  /** The one recipient, or undefined for a room broadcast. */
  to?: Session;
  except?: Session;
  message: OutgoingPayload;
}

/** The events a connection emits to the server. */
export interface ConnectionEvents {
  /** A whole frame arrived. */
  frame(type: number, payload: Uint8Array): void;
  /** The byte stream broke (FRAME_TOO_LARGE, FRAME_TRUNCATED, FRAME_MALFORMED…). */
  protocolError(error: ConfabError): void;
  /** Buffered bytes were written out. */
  drain(): void;
  /** The connection is closed. */
  close(): void;
}

/**
 * One transport connection (TCP, WebSocket, or a plugin's): it carries whole frames both ways.
 * A plugin adds a transport by building Connections and handing them to `server.accept()`.
 */
export interface Connection {
  /** `tcp`, `ws`, … */
  readonly transport: string;
  readonly remoteAddress: string;
  /** Bytes written but not yet handed to the operating system. */
  readonly bufferedBytes: number;
  /** Writes one encoded frame. */
  write(frame: Uint8Array): void;
  /** Ends after what was written is flushed. Idempotent. */
  close(): void;
  /** Sets the single listener for the connection's events. */
  listen(events: ConnectionEvents): void;
}

/** The HELLO a handshake tap sees, already validated. */
export type ValidHello = Required<Pick<Hello, 'v' | 'name' | 'room'>> & Hello;
