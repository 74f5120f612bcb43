/**
 * The client SDK's core: handshake, peers, heartbeat, plugin channels, reconnect and resume.
 *
 * Platform-agnostic on purpose (only Uint8Array, DataView, TextEncoder/TextDecoder and timers): the Node and
 * browser entry points (`node.ts`, `browser.ts`) inject how a connection is dialled.
 */
import { ConfabError, isConfabError } from '../errors.js';
import { encodeFrame, encodeJsonFrame } from '../frame.js';
import { decodeJsonObject } from '../json.js';
import { DEFAULT_MAX_PAYLOAD, FrameType, PROTOCOL_VERSION, type Hello, type Welcome } from '../protocol.js';
import { ClientChannels } from './channels.js';
import { Emitter } from './emitter.js';
import { errorFromPayload, parseByeReason, parsePeer, parseWelcome } from './parse.js';
import type {
  ChannelInfo,
  ClientConnection,
  ClientEvents,
  ClientOptions,
  ClientPlugin,
  ClientPluginContext,
  ClientState,
  CloseEvent,
  Dialer,
  MediaPath,
  MediaPathFactory,
  Peer,
  Self,
} from './types.js';

/** Frame types the resume count skips; frames of `media` channels are skipped too. */
const UNCOUNTED_TYPES: ReadonlySet<number> = new Set([
  FrameType.WELCOME,
  FrameType.PING,
  FrameType.PONG,
  FrameType.BYE,
  FrameType.UDP_BIND,
]);
/** A connection with no frame for this many heartbeats is dead. */
const DEAD_AFTER_HEARTBEATS = 5;

/** One dialled connection and what the client knows about it. */
interface Link {
  conn: ClientConnection;
  /** True once this connection got its WELCOME. */
  welcomed: boolean;
  /** Resolves when the transport reports `close`. */
  closed: Promise<void>;
}

/** What the client keeps for each attached plugin: the channels it uses, for routing server errors. */
interface PluginRecord {
  channels: Set<string>;
  errors: Emitter<{ error: [ConfabError] }>;
}

type ResolvedOptions = Required<Omit<ClientOptions, 'token' | 'password' | 'clientKind' | 'backoff' | 'tls'>> &
  Pick<ClientOptions, 'token' | 'password' | 'clientKind' | 'tls'> & { backoff: { initialMs: number; maxMs: number } };

/**
 * A connection to a Confab server, as one participant: joins a room, tracks peers, carries plugin channels,
 * and resumes its session after a lost connection. Use the entry points, which supply the dialer.
 *
 * @example
 *   import { ConfabClient } from 'confab/core/client/node.js';
 *   const client = new ConfabClient({ url: 'tcp://127.0.0.1:5000', name: 'alice' });
 *   const chat = client.use(chatClient());
 *   client.on('peerJoined', (peer) => console.log(`${peer.name} joined`));
 *   await client.connect();
 *   await client.close();
 */
export class ConfabClient extends Emitter<ClientEvents> {
  readonly #options: ResolvedOptions;
  readonly #dial: Dialer;
  #state: ClientState = 'idle';
  #link: Link | undefined;
  /** Resolves when the last connection's transport is closed. */
  #transportClosed: Promise<void> = Promise.resolve();
  #connecting: Promise<Welcome> | undefined;
  #settle: { resolve(welcome: Welcome): void; reject(error: ConfabError): void } | undefined;
  /** The newest WELCOME: its resume token is the one to use. */
  #welcome: Welcome | undefined;
  /** Reliable frames received since the session's first WELCOME, never reset: HELLO `received` on resume. */
  #received = 0;
  #peers = new Map<string, Peer>();
  readonly #channels: ClientChannels;
  #rttMs: number | undefined;
  #lastFrameAt = 0;
  #lostAt = 0;
  #attempt = 0;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Sends made before the first WELCOME, when channel ids are not known yet. */
  #pending: Array<{ channel: string; message: object | Uint8Array }> = [];
  /** Encoded reliable frames sent while reconnecting, flushed after the resumed WELCOME. */
  #outbox: Uint8Array[] = [];
  #plugins = new Map<string, PluginRecord>();
  readonly #openMediaPath: MediaPathFactory | undefined;
  /** The second path for media (sealed UDP), once WELCOME gave its key. */
  #mediaPath: MediaPath | undefined;

  /** Prefer the entry points (`core/client/node.ts`, `core/client/browser.ts`), which pass `dial`. */
  constructor(options: ClientOptions, dial: Dialer, openMediaPath?: MediaPathFactory) {
    super();
    this.#dial = dial;
    this.#openMediaPath = openMediaPath;
    this.#options = {
      url: options.url,
      name: options.name,
      room: options.room ?? 'default',
      token: options.token,
      password: options.password,
      udp: options.udp ?? false,
      clientKind: options.clientKind,
      tls: options.tls,
      reconnect: options.reconnect ?? true,
      backoff: { initialMs: options.backoff?.initialMs ?? 100, maxMs: options.backoff?.maxMs ?? 5000 },
      resumeGraceMs: options.resumeGraceMs ?? 30_000,
      maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
      maxQueuedFrames: options.maxQueuedFrames ?? 1000,
    };
    this.#channels = new ClientChannels(this.#options.maxPayload);
  }

  /** Where the client is in its life: `idle`, `connecting`, `open`, `reconnecting` or `closed`. */
  get state(): ClientState {
    return this.#state;
  }

  /** This client's session id, name (maybe renamed, `alice_1`) and room; undefined before the first WELCOME. */
  get self(): Self | undefined {
    const welcome = this.#welcome;
    return welcome && { id: welcome.session, name: welcome.name, room: welcome.room };
  }

  /** The other participants of the room, by session id. */
  get peers(): ReadonlyMap<string, Peer> {
    return this.#peers;
  }

  /** The server's plugin channels by name, from the last WELCOME (empty before). */
  get channels(): ReadonlyMap<string, ChannelInfo> {
    return this.#channels.byName;
  }

  /** The last round-trip time measured by PING/PONG, in milliseconds; undefined until the first PONG. */
  get rttMs(): number | undefined {
    return this.#rttMs;
  }

  /** True while media channels travel over sealed UDP (`udp: true` and the server answered the bind). */
  get mediaOverUdp(): boolean {
    return this.#mediaPath?.bound ?? false;
  }

  /** Bytes written to the connection but not yet sent (0 without a connection): back off media when high. */
  get bufferedBytes(): number {
    return this.#link?.conn.bufferedBytes ?? 0;
  }

  /**
   * Dials the server, sends HELLO and resolves with the WELCOME. Rejects with the server's ConfabError when it
   * refuses (e.g. HANDSHAKE_REFUSED), CONNECT_FAILED when the server cannot be reached, HANDSHAKE_TIMEOUT when
   * no WELCOME comes in time. Calling it again returns the same promise; once closed, it rejects NOT_CONNECTED.
   */
  connect(): Promise<Welcome> {
    if (this.#state === 'closed') {
      return Promise.reject(new ConfabError('NOT_CONNECTED', 'this client is closed; create a new ConfabClient'));
    }
    if (this.#connecting) return this.#connecting;
    this.#connecting = new Promise((resolve, reject) => (this.#settle = { resolve, reject }));
    this.#state = 'connecting';
    this.#dialLink();
    return this.#connecting;
  }

  /**
   * Leaves: sends BYE `{"reason":"bye"}`, closes the connection, emits `close`. Idempotent; resolves when the
   * transport is closed. A pending `connect()` rejects.
   */
  close(): Promise<void> {
    this.#finish({ reason: 'bye' }, true);
    return this.#transportClosed;
  }

  /**
   * Drops the transport without BYE, as a network failure would; used by tests and the resume demo.
   * The client then reconnects and resumes its session (or closes, with `reconnect: false`).
   */
  dropConnection(): void {
    if (!this.#link) return;
    this.#linkFailed(new ConfabError('CONNECTION_CLOSED', 'the connection was dropped by dropConnection()'));
  }

  /**
   * Attaches a plugin's client half and returns its API. Before `connect()` is best; messages that arrive on
   * a channel before any plugin handles it (the last 256 per reliable channel) are handed to its first handler.
   *
   * @example
   *   const chat = client.use(chatClient());
   *   chat.send('hello');
   */
  use<Api>(plugin: ClientPlugin<Api>): Api {
    if (this.#plugins.has(plugin.name)) {
      const message = `a client plugin named "${plugin.name}" is already attached`;
      throw new ConfabError('PLUGIN_INVALID', message, { fatal: false });
    }
    const record: PluginRecord = { channels: new Set(), errors: new Emitter() };
    const ctx: ClientPluginContext = {
      client: this,
      send: (channel, message) => {
        record.channels.add(channel);
        return this.#send(channel, message);
      },
      onMessage: (channel, handler) => {
        record.channels.add(channel);
        this.#channels.handle(channel, handler);
      },
      onError: (handler) => void record.errors.on('error', handler),
      on: (event, listener) => void this.on(event, listener),
    };
    this.#plugins.set(plugin.name, record);
    try {
      return plugin.attach(ctx);
    } catch (error) {
      this.#plugins.delete(plugin.name);
      throw error;
    }
  }

  /** Opens a new connection and sends HELLO (a resume HELLO once the session exists) when it is up. */
  #dialLink(): void {
    let conn: ClientConnection;
    try {
      conn = this.#dial(this.#options.url, { maxPayload: this.#options.maxPayload, tls: this.#options.tls });
    } catch (error) {
      const options = { fatal: true, cause: error };
      this.#linkFailed(isConfabError(error) ? error : new ConfabError('CONNECT_FAILED', String(error), options));
      return;
    }
    let markClosed!: () => void;
    const link: Link = { conn, welcomed: false, closed: new Promise((resolve) => (markClosed = resolve)) };
    this.#link = link;
    conn.listen({
      open: () => {
        if (this.#link === link) conn.write(encodeJsonFrame(FrameType.HELLO, this.#hello()));
      },
      frame: (type, payload) => {
        if (this.#link === link) this.#onFrame(link, type, payload);
      },
      protocolError: (error) => {
        if (this.#link !== link) return;
        this.emit('error', error);
        if (error.fatal && this.#link === link) this.#linkFailed(error);
      },
      close: (error) => {
        markClosed();
        if (this.#link === link) this.#linkFailed(this.#closedError(error));
      },
    });
    this.#restartHandshakeTimer();
  }

  /** (Re)starts the wait for WELCOME: HANDSHAKE_TIMEOUT when none comes within handshakeTimeoutMs. */
  #restartHandshakeTimer(): void {
    clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = setTimeout(() => {
      const message = `no WELCOME from ${this.#options.url} within ${this.#options.handshakeTimeoutMs} ms`;
      this.#linkFailed(new ConfabError('HANDSHAKE_TIMEOUT', message, { fatal: true }));
    }, this.#options.handshakeTimeoutMs);
  }

  /** A frame from the media path: only frames of media channels are taken from it. */
  #onMediaPathFrame(type: number, payload: Uint8Array): void {
    if (this.#state !== 'open' || this.#channels.byId(type)?.kind !== 'media') return;
    const error = this.#channels.receive(type, payload);
    if (error) this.emit('error', error);
  }

  #hello(): Hello {
    const welcome = this.#welcome;
    const hello: Hello = {
      v: PROTOCOL_VERSION,
      name: welcome?.name ?? this.#options.name,
      room: welcome?.room ?? this.#options.room,
    };
    if (this.#options.token !== undefined) hello.token = this.#options.token;
    if (this.#options.password !== undefined) hello.password = this.#options.password;
    if (this.#options.clientKind !== undefined) hello.client = this.#options.clientKind;
    if (welcome) {
      hello.resume = welcome.resume;
      hello.received = this.#received;
    }
    return hello;
  }

  #closedError(cause: Error | undefined): ConfabError {
    const why = `the connection closed${cause ? `: ${cause.message}` : ' by the server without BYE'}`;
    if (this.#state !== 'connecting') return new ConfabError('CONNECTION_CLOSED', why, { cause });
    return new ConfabError('CONNECT_FAILED', `could not join at ${this.#options.url}: ${why}`, { fatal: true, cause });
  }

  /** The current connection is gone: give up if not joined yet, else reconnect (or close, without reconnect). */
  #linkFailed(error: ConfabError): void {
    this.#detach();
    if (this.#state === 'connecting') return this.#finish({ reason: 'error', error });
    if (this.#state !== 'open' && this.#state !== 'reconnecting') return;
    if (!this.#options.reconnect) return this.#finish({ reason: 'disconnected', error });
    if (this.#state === 'open') {
      this.#state = 'reconnecting';
      this.#lostAt = now();
      this.#attempt = 0;
    }
    const { initialMs, maxMs } = this.#options.backoff;
    const delayMs = Math.min(initialMs * 2 ** this.#attempt, maxMs);
    const elapsed = Math.round(now() - this.#lostAt);
    if (elapsed + delayMs > this.#options.resumeGraceMs) {
      const message = `could not resume the session within ${this.#options.resumeGraceMs} ms `
        + `(${this.#attempt} attempts); last: ${error.message}`;
      return this.#finish({ reason: 'disconnected', error: new ConfabError('CONNECTION_CLOSED', message, { cause: error }) });
    }
    this.#attempt++;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#dialLink();
    }, delayMs);
    this.emit('reconnecting', { attempt: this.#attempt, delayMs });
  }

  /** Forgets the current connection (closing it) and stops its timers. */
  #detach(): void {
    const link = this.#link;
    this.#link = undefined;
    clearTimeout(this.#handshakeTimer);
    clearInterval(this.#heartbeat);
    if (!link) return;
    this.#transportClosed = link.closed;
    link.conn.close();
  }

  /** Ends the client for good (once): optional BYE, connection closed, `error` if any, then `close`. */
  #finish(event: CloseEvent, sendBye = false): void {
    if (this.#state === 'closed') return;
    if (sendBye && this.#link?.welcomed) this.#link.conn.write(encodeJsonFrame(FrameType.BYE, { reason: 'bye' }));
    this.#detach();
    clearTimeout(this.#retryTimer);
    this.#state = 'closed';
    this.#mediaPath?.close();
    this.#pending = [];
    this.#outbox = [];
    this.#channels.clear();
    if (this.#settle) {
      const why = `the client closed before WELCOME (${event.reason})`;
      this.#settle.reject(event.error ?? new ConfabError('CONNECTION_CLOSED', why));
      this.#settle = undefined;
    }
    if (event.error) this.emit('error', event.error);
    this.emit('close', event);
  }

  #onFrame(link: Link, type: number, payload: Uint8Array): void {
    this.#lastFrameAt = now();
    const counted = !UNCOUNTED_TYPES.has(type) && this.#channels.byId(type)?.kind !== 'media';
    if (link.welcomed && counted) this.#received++;
    switch (type) {
      case FrameType.WELCOME:
        return this.#onWelcome(link, payload);
      case FrameType.ERROR:
        return this.#onError(payload);
      case FrameType.PING:
        return link.conn.write(encodeFrame(FrameType.PONG, payload));
      case FrameType.PONG:
        if (payload.length === 8) this.#rttMs = now() - view(payload).getFloat64(0);
        return;
      case FrameType.PEER_JOINED:
        return this.#onPeerJoined(payload);
      case FrameType.PEER_LEFT:
        return this.#onPeerLeft(payload);
      case FrameType.BYE:
        return this.#finish({ reason: parseByeReason(payload) });
      case FrameType.HELLO:
      case FrameType.UDP_BIND:
        return;
      default: {
        const error = this.#channels.receive(type, payload);
        if (error) this.emit('error', error);
      }
    }
  }

  #onWelcome(link: Link, payload: Uint8Array): void {
    if (link.welcomed) return;
    const welcome = parseWelcome(payload);
    if (isConfabError(welcome)) return this.#finish({ reason: 'error', error: welcome });
    const resuming = this.#welcome !== undefined;
    link.welcomed = true;
    if (resuming && !welcome.resumed) {
      const error = new ConfabError('RESUME_FAILED', 'the server started a new session instead of resuming this one');
      return this.#finish({ reason: 'error', error }, true);
    }
    clearTimeout(this.#handshakeTimer);
    this.#welcome = welcome;
    this.#state = 'open';
    this.#attempt = 0;
    this.#channels.update(welcome);
    const previous = this.#peers;
    this.#peers = new Map(welcome.peers.map(({ id, name }) => [id, { id, name }]));
    this.#startHeartbeat(link, welcome.heartbeatMs);
    if (resuming) this.#mediaPath?.rebind();
    else if (this.#options.udp) this.#mediaPath = this.#openMediaPath?.(welcome, this.#options.url, (type, payload) => this.#onMediaPathFrame(type, payload));
    if (!resuming) {
      this.#flushPending(link);
      this.#settle?.resolve(welcome);
      this.#settle = undefined;
      this.emit('welcome', welcome);
      return;
    }
    for (const frame of this.#outbox) link.conn.write(frame);
    this.#outbox = [];
    for (const [id, peer] of previous) {
      if (!this.#peers.has(id) && this.#link === link) this.emit('peerLeft', { ...peer, reason: 'unknown' });
    }
    for (const [id, peer] of this.#peers) if (!previous.has(id) && this.#link === link) this.emit('peerJoined', peer);
    if (this.#link === link) this.emit('resumed', welcome);
  }

  /** Pings now and every heartbeat; a connection silent for 5 heartbeats is dead. */
  #startHeartbeat(link: Link, heartbeatMs: number): void {
    const beat = () => {
      const silentMs = now() - this.#lastFrameAt;
      if (silentMs > DEAD_AFTER_HEARTBEATS * heartbeatMs) {
        const message = `no frame from the server for ${Math.round(silentMs)} ms (${DEAD_AFTER_HEARTBEATS} × heartbeatMs)`;
        return this.#linkFailed(new ConfabError('IDLE_TIMEOUT', message));
      }
      const stamp = new Uint8Array(8);
      view(stamp).setFloat64(0, now());
      link.conn.write(encodeFrame(FrameType.PING, stamp));
    };
    beat();
    this.#heartbeat = setInterval(beat, heartbeatMs);
  }

  #onError(payload: Uint8Array): void {
    const decoded = decodeJsonObject(payload);
    if (isConfabError(decoded)) return void this.emit('error', decoded);
    const error = errorFromPayload(decoded);
    if (error.fatal) return this.#finish({ reason: 'error', error });
    // A non-fatal ERROR before WELCOME says why the server makes us wait (a lobby): it is alive, wait on.
    if (this.#link && !this.#link.welcomed) this.#restartHandshakeTimer();
    for (const plugin of this.#plugins.values()) {
      if (error.channel !== undefined && plugin.channels.has(error.channel)) plugin.errors.emit('error', error);
    }
    this.emit('serverError', error);
  }

  #onPeerJoined(payload: Uint8Array): void {
    const peer = parsePeer(payload);
    if (isConfabError(peer)) return void this.emit('error', peer);
    if (this.#peers.has(peer.id)) return;
    const joined = { id: peer.id, name: peer.name };
    this.#peers.set(joined.id, joined);
    this.emit('peerJoined', joined);
  }

  #onPeerLeft(payload: Uint8Array): void {
    const peer = parsePeer(payload);
    if (isConfabError(peer)) return void this.emit('error', peer);
    const known = this.#peers.get(peer.id);
    if (!known) return;
    this.#peers.delete(peer.id);
    this.emit('peerLeft', { ...known, reason: peer.reason });
  }

  #send(name: string, message: object | Uint8Array): boolean {
    if (this.#state === 'closed') throw new ConfabError('NOT_CONNECTED', `cannot send on "${name}": the client is closed`);
    if (!this.#welcome) {
      this.#checkQueue(this.#pending.length);
      this.#pending.push({ channel: name, message });
      return true;
    }
    const { channel, frame } = this.#channels.encode(name, message);
    if (channel.kind === 'media' && this.#mediaPath?.send(frame)) return true;
    if (this.#link?.welcomed) {
      this.#link.conn.write(frame);
      return true;
    }
    if (channel.kind === 'media') return false;
    this.#checkQueue(this.#outbox.length);
    this.#outbox.push(frame);
    return true;
  }

  #checkQueue(length: number): void {
    if (length < this.#options.maxQueuedFrames) return;
    const message = `${length} messages already wait for a connection (the client is ${this.#state}): maxQueuedFrames`;
    throw new ConfabError('SEND_QUEUE_OVERFLOW', message, { fatal: false });
  }

  /** Sends what was queued before the first WELCOME; what cannot be sent becomes an `error` event. */
  #flushPending(link: Link): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const { channel, message } of pending) {
      try {
        link.conn.write(this.#channels.encode(channel, message).frame);
      } catch (error) {
        const failure = isConfabError(error) ? error : new ConfabError('INVALID_PAYLOAD', String(error), { cause: error });
        this.emit('error', failure);
      }
    }
  }
}

function now(): number {
  return performance.now();
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
