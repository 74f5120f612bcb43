/**
 * The client SDK's public types, in one place: options, events, plugin client halves and the connection
 * interface that the Node and browser dialers implement. No Node imports: the browser build uses these too.
 */
import type { ChannelDef } from '../channel-def.js';
import type { ConfabError } from '../errors.js';
import type { JsonObject } from '../json.js';
import type { ChannelKind, PeerInfo, Welcome } from '../protocol.js';
import type { ConfabClient } from './client.js';
import type { RequestOptions, WithoutRef } from './requests.js';

/** Options of a `ConfabClient`. Only `url` and `name` are required. */
export interface ClientOptions {
  /** Where the server is: `tcp://127.0.0.1:5000` or `ws://127.0.0.1:5000/ws` (Node), `ws(s)://…/ws` (browser). */
  url: string;
  /** The display name asked for; the server may make it unique (`alice_1`): see `client.self.name`. */
  name: string;
  /** The room to join. Default `default`. */
  room?: string;
  /** An access token for an auth plugin, sent in HELLO. */
  token?: string;
  /** A room password, for a room the server's auth plugin protects with one, sent in HELLO. */
  password?: string;
  /**
   * Node only: send and receive media channels over UDP, sealed with the session's key (core/media-crypto.ts).
   * Media takes the connection until the server answers the bind, and whenever UDP does not work. Default false.
   */
  udp?: boolean;
  /** What kind of client this is, sent in HELLO (`node`, `web`, `bot`…). The entry points set `node` or `web`. */
  clientKind?: string;
  /** Reconnect and resume the session when the connection is lost. Default true. */
  reconnect?: boolean;
  /**
   * When the session cannot be resumed (the server restarted, said it is shutting down, or `resumeGraceMs`
   * passed), join again with the same name and room as a new session, retrying with backoff until it works
   * or `close()` is called; `rejoined` then says so. Reliable messages sent meanwhile are kept and sent
   * after the rejoin. Default: the value of `reconnect`. With false, such a client closes instead.
   */
  rejoin?: boolean;
  /** Delays between reconnect attempts: start at `initialMs` (default 100), double, at most `maxMs` (default 5000). */
  backoff?: { initialMs?: number; maxMs?: number };
  /**
   * How long to keep trying to resume a lost session (the server's grace period): then the client joins
   * again (`rejoin`), or gives up with `close` (`rejoin: false`). Default 30 000 ms.
   */
  resumeGraceMs?: number;
  /** Largest frame payload sent or accepted, in bytes. Default 16 MiB, the server's default. */
  maxPayload?: number;
  /** How long to wait for WELCOME after dialling, per attempt. Default 10 000 ms. */
  handshakeTimeoutMs?: number;
  /**
   * Reliable messages held while not connected (before the first WELCOME, or while reconnecting or
   * rejoining). Default 1000.
   */
  maxQueuedFrames?: number;
  /** How to trust the server's certificate on `tls://` and `wss://` URLs (Node only; browsers decide themselves). */
  tls?: ClientTlsOptions;
}

/**
 * Trust for a TLS connection (Node). Without it the system's CAs are used, which a self-signed certificate
 * fails. `fingerprint` pins the certificate (what `confab serve` prints); `ca` trusts a PEM certificate.
 */
export interface ClientTlsOptions {
  /** PEM certificate(s) to trust, e.g. the server's `<dataDir>/tls/cert.pem`. */
  ca?: string;
  /** SHA-256 fingerprint of the server's certificate, `AB:CD:…` (colons and case do not matter). */
  fingerprint?: string;
}

/** Where the client is in its life. */
export type ClientState =
  /** Created; `connect()` not called yet. */
  | 'idle'
  /** Dialling or waiting for the first WELCOME. */
  | 'connecting'
  /** Joined: frames flow. */
  | 'open'
  /** The connection was lost; trying to resume the session, or to join again (`rejoin`). */
  | 'reconnecting'
  /** Done for good: `close` was emitted. */
  | 'closed';

/** Another participant of the room. */
export type Peer = PeerInfo;

/**
 * A participant that left, and why: `bye`, `timeout`, `disconnected`, `error`, or `unknown` when the
 * client only saw it missing from a resumed WELCOME's peer list.
 */
export interface PeerLeftEvent extends Peer {
  reason: string;
}

/** Who this client is in its session. */
export interface Self {
  /** The session id. */
  id: string;
  /** The name the server gave (may be `alice_1`). */
  name: string;
  room: string;
}

/** A channel of the server, as WELCOME listed it. */
export interface ChannelInfo {
  name: string;
  /** The frame type id (0x10–0xFF). */
  id: number;
  kind: ChannelKind;
}

/** Why the client closed. */
export interface CloseEvent {
  /**
   * `bye` (the app called `close()`), the server's BYE reason (`server closing` only with `rejoin: false`:
   * otherwise the client joins again when the server is back), `error` (a fatal error, a refused rejoin) or
   * `disconnected` (lost for good, without reconnect or rejoin).
   */
  reason: string;
  /** The error that ended the client, if one did. */
  error?: ConfabError;
}

/** A reconnect attempt is scheduled. */
export interface ReconnectingEvent {
  /** 1 for the first attempt after the loss, then 2, 3… (back to 1 when a resume failed and a rejoin starts). */
  attempt: number;
  /** When the attempt starts, from now. */
  delayMs: number;
  /** True when the attempt joins again as a new session (the old one cannot be resumed any more). */
  rejoin: boolean;
  /** Why the last connection or attempt failed (SERVER_CLOSING when the server said it is shutting down). */
  error: ConfabError;
}

/**
 * The client joined again as a new session after its old one could not be resumed (the server restarted
 * or the grace period passed). Messages of the time away may have been missed: plugins send what the room
 * has (chat sends its history). `client.peers` and `client.self` are already the new session's.
 */
export interface RejoinedEvent {
  /** The new session's WELCOME. */
  welcome: Welcome;
  /** Who the client was in the old session (its id is gone; the name may differ from the new one). */
  previous: Self;
  /** The old session's peers that are not in the room now (by session id). */
  left: Peer[];
  /** The room's members that the old session did not know (by session id: after a server restart, all). */
  joined: Peer[];
}

/** The events of a `ConfabClient`, for applications and bots. */
export type ClientEvents = {
  /**
   * A new session began: the first WELCOME, and again after each rejoin (then `rejoined` follows).
   * `client.peers` already lists the others. Plugins set up their session state here.
   */
  welcome: [Welcome];
  /** A participant joined the room (never twice for the same id). */
  peerJoined: [Peer];
  /** A participant left the room. */
  peerLeft: [PeerLeftEvent];
  /** The connection was lost; the next attempt to resume (or, with `rejoin: true`, to join again) starts in `delayMs`. */
  reconnecting: [ReconnectingEvent];
  /** The session was resumed on a new connection; the messages missed were replayed. */
  resumed: [Welcome];
  /**
   * The client joined again as a new session (option `rejoin`), after `welcome`. Peers are not announced
   * one by one: `left` and `joined` list the difference. Messages sent while away are sent now.
   */
  rejoined: [RejoinedEvent];
  /** The server reported a non-fatal error (a plugin refused a request): code, message, channel, ref. */
  serverError: [ConfabError];
  /** Something went wrong that the app should know about: a fatal server error, bad bytes from the server. */
  error: [ConfabError];
  /** The client is closed for good. After a fatal error, `error` is emitted first. */
  close: [CloseEvent];
};

/** A message on a plugin channel: a JSON object on `json` channels, bytes on `binary` and `media` ones. */
export type ClientMessage = JsonObject | Uint8Array;

/**
 * A plugin channel as its client half uses it, typed by the channel's definition in the plugin's
 * protocol.ts: it sends `Request`s and receives `Message`s.
 */
export interface ClientChannel<Message, Request> {
  /**
   * Sends a request. Returns false when a media message was dropped because the client is not connected.
   * Throws as `ctx.send` does.
   */
  send(request: Request): boolean;
  /** Handles what the server sends on the channel (but the answers to `request()`s, which go to them). */
  onMessage(handler: (message: Message) => void): void;
  /**
   * Sends a request with a new `ref` and resolves with the server's answer that carries it back; rejects
   * with the server's ERROR for it, with REQUEST_TIMEOUT, or when the client closes. Sent again (same
   * `ref`) after a resume or a rejoin while it waits. (core/client/requests.ts)
   */
  request(request: WithoutRef<Request>, options?: RequestOptions): Promise<Message>;
}

/**
 * What a plugin's client half is given when attached with `client.use()`.
 *
 * Incoming bytes are views into what was received: copy them (`bytes.slice()`) to keep them long.
 */
export interface ClientPluginContext {
  /** The client: `self`, `peers`, `channels`, `state` and its events. */
  readonly client: ConfabClient;
  /** One of the plugin's channels, typed by its definition (`jsonChannel(…)` in the plugin's protocol.ts). */
  channel<Request, Message>(definition: ChannelDef<Request, Message>): ClientChannel<Message, Request>;
  /**
   * The untyped way, for tools and tests that speak to any channel by name (a test recorder, a hostile
   * client): client halves use `channel(definition)`.
   *
   * Sends on a channel: an object (JSON-encoded) on a `json` channel, bytes on a `binary` or `media` one.
   * Returns false when a media message was dropped because the client is not connected.
   * Throws UNKNOWN_CHANNEL when the server has no such channel, INVALID_PAYLOAD for the wrong kind of
   * message, FRAME_TOO_LARGE above `maxPayload`, SEND_QUEUE_OVERFLOW when too many messages wait for a
   * connection, NOT_CONNECTED once the client is closed. Before the first WELCOME, messages wait (channel
   * checks happen then, and failures become `error` events).
   */
  send(channel: string, message: object | Uint8Array): boolean;
  /** Handles the messages the server sends on a channel. */
  onMessage(channel: string, handler: (message: ClientMessage) => void): void;
  /** Handles the server's non-fatal errors about this plugin's channels (those it sends on or handles). */
  onError(handler: (error: ConfabError) => void): void;
  /** Listens to a client event (`welcome`, `peerJoined`, `resumed`…). */
  on<K extends keyof ClientEvents>(event: K, listener: (...args: ClientEvents[K]) => void): void;
}

/**
 * The client half of a plugin: attached once to a client, it returns the API the app uses.
 *
 * @example
 *   // CHAT = jsonChannel<ChatSend, ChatServerMessage>('chat', …), the definition in plugins/chat/protocol.ts
 *   export function chatClient(): ClientPlugin<ChatApi> {
 *     return {
 *       name: 'chat',
 *       attach(ctx) {
 *         const channel = ctx.channel(CHAT);
 *         channel.onMessage((message) => …);
 *         return { send: async (text: string) => replyOf(await channel.request({ op: 'send', text }), 'ack') };
 *       },
 *     };
 *   }
 *   const chat = client.use(chatClient());
 */
export interface ClientPlugin<Api> {
  /** Unique among the plugins of a client; the server half's name by convention. */
  name: string;
  /** Called once by `client.use()`, before or after connecting. */
  attach(ctx: ClientPluginContext): Api;
}

/** The events a client connection reports. */
export interface ClientConnectionEvents {
  /** The transport is connected: the client may write HELLO. */
  open(): void;
  /** A whole frame arrived. */
  frame(type: number, payload: Uint8Array): void;
  /** Bad bytes from the server; when `error.fatal`, the stream cannot be trusted any more. */
  protocolError(error: ConfabError): void;
  /** The transport is closed (`error` says why, when it failed). Reported once, last. */
  close(error?: Error): void;
}

/** One transport connection to the server, carrying whole frames both ways (TCP or WebSocket). */
export interface ClientConnection {
  /** Bytes written but not yet sent. */
  readonly bufferedBytes: number;
  /** Writes one encoded frame. Only after `open`. */
  write(frame: Uint8Array): void;
  /** Ends the connection after what was written is flushed (forced after a short wait). Idempotent. */
  close(): void;
  /** Sets the single listener for the connection's events; called right after dialling. */
  listen(events: ClientConnectionEvents): void;
}

/** Opens a connection to `url`; throws a ConfabError for a URL it cannot dial. */
export type Dialer = (url: string, options: { maxPayload: number; tls?: ClientTlsOptions }) => ClientConnection;

/**
 * A second path for media frames beside the connection (sealed UDP in Node, `core/client/udp-node.ts`).
 * The client sends a media frame through it while `send` returns true, else over the connection.
 */
export interface MediaPath {
  /** True once the server confirmed the path (a UDP_BIND answer). */
  readonly bound: boolean;
  /** Sends one encoded media frame; false when the path is not bound (the caller uses the connection). */
  send(frame: Uint8Array): boolean;
  /** Proves the path again after a resume (the server forgets UDP addresses when a connection is lost). */
  rebind(): void;
  /** Closes the path. Idempotent. */
  close(): void;
}

/**
 * Opens a media path for a session from its WELCOME; `receive` takes the frames that arrive on it (the
 * client passes on only frames of media channels). Returns undefined when the WELCOME offers none.
 */
export type MediaPathFactory = (welcome: Welcome, url: string, receive: (type: number, payload: Uint8Array) => void) => MediaPath | undefined;
