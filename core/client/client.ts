/**
 * The client SDK's core: handshake, peers, heartbeat, plugin channels, reconnect, resume and rejoin.
 *
 * Platform-agnostic on purpose (only Uint8Array, DataView, TextEncoder/TextDecoder and timers): the Node and
 * browser entry points (`node.ts`, `browser.ts`) inject how a connection is dialled.
 */
import { ConfabError, isConfabError } from '../errors.js';
import { encodeJsonFrame } from '../frame.js';
import { decodeJsonObject } from '../json.js';
import { DEFAULT_MAX_PAYLOAD, FrameType, PROTOCOL_VERSION, type Hello, type Welcome } from '../protocol.js';
import { ClientChannels } from './channels.js';
import { Emitter } from './emitter.js';
import { Link } from './link.js';
import { errorFromPayload, parseByeReason, parsePeer, parseWelcome } from './parse.js';
import { PeerList } from './peers.js';
import { ClientPlugins } from './plugins.js';
import { RetryPlan } from './retry.js';
import { UnsentMessages } from './unsent.js';
import type {
  ChannelInfo,
  ClientEvents,
  ClientOptions,
  ClientPlugin,
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
/** The reason of the server's BYE when it shuts down (core/server.ts): a rejoining client comes back. */
const SERVER_CLOSING_REASON = 'server closing';
/** Fatal handshake errors that say "not now" rather than "never": a reconnecting client tries again. */
const RETRY_LATER: ReadonlySet<string> = new Set(['SERVER_CLOSING', 'CONNECTION_LIMIT', 'HELLO_TIMEOUT', 'CLUSTER_UNAVAILABLE', 'ROOM_UNREACHABLE']);

type ResolvedOptions = Required<Omit<ClientOptions, 'token' | 'password' | 'clientKind' | 'backoff' | 'tls'>> &
  Pick<ClientOptions, 'token' | 'password' | 'clientKind' | 'tls'>;

/**
 * A connection to a Confab server, as one participant: joins a room, tracks peers, carries plugin channels,
 * resumes its session after a lost connection, and joins again when the session is gone (a server restart).
 * Use the entry points, which supply the dialer.
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
  /** Reliable frames received since the session's first WELCOME (HELLO `received` on resume); 0 again when a rejoin starts a new session. */
  #received = 0;
  readonly #peers = new PeerList();
  readonly #channels: ClientChannels;
  #rttMs: number | undefined;
  readonly #retry: RetryPlan;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Reliable sends made without a joined connection, sent after the next WELCOME. */
  readonly #unsent: UnsentMessages;
  readonly #plugins = new ClientPlugins();
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
      rejoin: options.rejoin ?? options.reconnect ?? true,
      resumeGraceMs: options.resumeGraceMs ?? 30_000,
      maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
      maxQueuedFrames: options.maxQueuedFrames ?? 1000,
    };
    this.#retry = new RetryPlan({
      initialMs: options.backoff?.initialMs ?? 100,
      maxMs: options.backoff?.maxMs ?? 5000,
      resumeGraceMs: this.#options.resumeGraceMs,
      rejoin: this.#options.rejoin,
    });
    this.#channels = new ClientChannels(this.#options.maxPayload);
    this.#unsent = new UnsentMessages(this.#options.maxQueuedFrames);
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
    return this.#peers.map;
  }

  /** The server's plugin channels by name, from the last WELCOME (empty before). */
  get channels(): ReadonlyMap<string, ChannelInfo> {
    return this.#channels.byName;
  }

  /**
   * The names of the server's plugins from the last WELCOME, in the server's order (empty before the first
   * WELCOME, and from an older server that does not announce them).
   */
  get plugins(): readonly string[] {
    return this.#welcome?.plugins ?? [];
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
    return this.#link?.bufferedBytes ?? 0;
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
    return this.#plugins.attach(plugin, {
      client: this,
      send: (channel, message) => this.#send(channel, message),
      onMessage: (channel, handler) => this.#channels.handle(channel, handler),
      on: (event, listener) => void this.on(event, listener),
    });
  }

  /** Opens a new connection, which sends HELLO (a resume HELLO while the session may be resumed) when it is up. */
  #dialLink(): void {
    const { url, maxPayload, tls, handshakeTimeoutMs } = this.#options;
    const link: Link = new Link(this.#dial, { url, maxPayload, tls, handshakeTimeoutMs, closedError: (cause) => this.#closedError(cause) }, {
      hello: () => this.#hello(),
      frame: (type, payload) => {
        if (this.#link === link) this.#onFrame(link, type, payload);
      },
      // A fatal one before the first WELCOME ends connect(), which reports it (once).
      protocolError: (error) => {
        if (this.#link === link && !(error.fatal && this.#state === 'connecting')) this.emit('error', error);
      },
      lost: (error) => {
        if (this.#link === link) this.#linkFailed(error);
      },
    });
    this.#link = link;
  }

  /** A frame from the media path: only frames of media channels are taken from it. */
  #onMediaPathFrame(type: number, payload: Uint8Array): void {
    if (this.#state !== 'open' || this.#channels.byId(type)?.kind !== 'media') return;
    const error = this.#channels.receive(type, payload);
    if (error) this.emit('error', error);
  }

  /** The HELLO for the next connection: a resume while the session may be resumed, else a join (the first, or a rejoin under the name the server gave). */
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
    if (welcome && this.#retry.resumable) {
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

  /**
   * The current connection is gone: give up if not joined yet, else reconnect: resume, or join again once
   * the session is gone (or close, without reconnect, or without rejoin once resuming is over).
   */
  #linkFailed(error: ConfabError): void {
    this.#detach();
    if (this.#state === 'connecting') return this.#finish({ reason: 'error', error });
    if (this.#state !== 'open' && this.#state !== 'reconnecting') return;
    if (!this.#options.reconnect) return this.#finish({ reason: 'disconnected', error });
    if (this.#state === 'open') {
      this.#state = 'reconnecting';
      this.#retry.lost();
    }
    const next = this.#retry.next();
    if (!next) {
      const message = `could not resume the session within ${this.#options.resumeGraceMs} ms `
        + `(${this.#retry.attempts} attempts); last: ${error.message}`;
      return this.#finish({ reason: 'disconnected', error: new ConfabError('CONNECTION_CLOSED', message, { cause: error }) });
    }
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#dialLink();
    }, next.delayMs);
    this.emit('reconnecting', { ...next, error });
  }

  /** Forgets the current connection, closing it. */
  #detach(): void {
    const link = this.#link;
    this.#link = undefined;
    if (!link) return;
    this.#transportClosed = link.closed;
    link.close();
  }

  /** Ends the client for good (once): optional BYE, connection closed, `error` if any, then `close`. */
  #finish(event: CloseEvent, sendBye = false): void {
    if (this.#state === 'closed') return;
    if (sendBye && this.#link?.welcomed) this.#link.write(encodeJsonFrame(FrameType.BYE, { reason: 'bye' }));
    this.#detach();
    clearTimeout(this.#retryTimer);
    this.#state = 'closed';
    this.#mediaPath?.close();
    this.#unsent.clear();
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
    const counted = !UNCOUNTED_TYPES.has(type) && this.#channels.byId(type)?.kind !== 'media';
    if (link.welcomed && counted) this.#received++;
    switch (type) {
      case FrameType.WELCOME:
        return this.#onWelcome(link, payload);
      case FrameType.ERROR:
        return this.#onError(payload);
      case FrameType.PONG:
        this.#rttMs = link.rttMs ?? this.#rttMs;
        return;
      case FrameType.PEER_JOINED:
        return this.#onPeerJoined(payload);
      case FrameType.PEER_LEFT:
        return this.#onPeerLeft(payload);
      case FrameType.BYE:
        return this.#onBye(link, parseByeReason(payload));
      case FrameType.HELLO:
      case FrameType.PING:
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
    const previous = this.self;
    link.welcome(welcome.heartbeatMs);
    if (previous && !welcome.resumed && !this.#options.rejoin) {
      const error = new ConfabError('RESUME_FAILED', 'the server started a new session instead of resuming this one');
      return this.#finish({ reason: 'error', error }, true);
    }
    this.#welcome = welcome;
    this.#state = 'open';
    this.#retry.joined();
    this.#channels.update(welcome);
    const { left, joined } = this.#peers.replace(welcome.peers);
    if (welcome.resumed) this.#mediaPath?.rebind();
    else this.#openMediaPathFor(welcome);
    this.#unsent.flush(this.#channels, (frame) => link.write(frame), (error) => this.emit('error', error));
    if (!previous) {
      this.#settle?.resolve(welcome);
      this.#settle = undefined;
      this.emit('welcome', welcome);
      return;
    }
    if (welcome.resumed) {
      // The peers that came and went meanwhile, one by one (a listener may have closed the client).
      for (const peer of left) if (this.#link === link) this.emit('peerLeft', { ...peer, reason: 'unknown' });
      for (const peer of joined) if (this.#link === link) this.emit('peerJoined', peer);
      if (this.#link === link) this.emit('resumed', welcome);
      return;
    }
    // A new session: the count of received frames for a later resume starts again.
    this.#received = 0;
    this.emit('welcome', welcome);
    if (this.#link === link) this.emit('rejoined', { welcome, previous, left, joined });
  }

  /** Opens the UDP media path of a new session (closing the old session's), when asked for. */
  #openMediaPathFor(welcome: Welcome): void {
    this.#mediaPath?.close();
    this.#mediaPath = undefined;
    if (!this.#options.udp) return;
    this.#mediaPath = this.#openMediaPath?.(welcome, this.#options.url, (type, payload) => this.#onMediaPathFrame(type, payload));
  }

  /** The server's BYE: the end, unless it shuts down and this client joins again when it is back. */
  #onBye(link: Link, reason: string): void {
    if (reason !== SERVER_CLOSING_REASON || !link.welcomed || !this.#options.reconnect || !this.#options.rejoin) {
      return this.#finish({ reason });
    }
    this.#retry.sessionGone();
    this.#linkFailed(new ConfabError('SERVER_CLOSING', `the server at ${this.#options.url} is shutting down; joining again when it is back`));
  }

  #onError(payload: Uint8Array): void {
    const decoded = decodeJsonObject(payload);
    if (isConfabError(decoded)) return void this.emit('error', decoded);
    const error = errorFromPayload(decoded);
    if (error.fatal && this.#retryLater(error)) return this.#linkFailed(error);
    if (error.fatal) return this.#finish({ reason: 'error', error });
    // A non-fatal ERROR before WELCOME says why the server makes us wait (a lobby): it is alive, wait on.
    if (this.#link && !this.#link.welcomed) this.#link.waitForWelcome();
    this.#plugins.routeError(error);
    this.emit('serverError', error);
  }

  /**
   * True when a fatal ERROR answering a reconnect's HELLO is worth another attempt: RESUME_FAILED (then the
   * next attempt joins again) and the "not now" codes, for a client that rejoins.
   */
  #retryLater(error: ConfabError): boolean {
    if (this.#state !== 'reconnecting' || !this.#options.rejoin || !this.#link || this.#link.welcomed) return false;
    if (error.code === 'RESUME_FAILED') {
      this.#retry.sessionGone();
      return true;
    }
    return RETRY_LATER.has(error.code);
  }

  #onPeerJoined(payload: Uint8Array): void {
    const peer = parsePeer(payload);
    if (isConfabError(peer)) return void this.emit('error', peer);
    const joined = this.#peers.add(peer);
    if (joined) this.emit('peerJoined', joined);
  }

  #onPeerLeft(payload: Uint8Array): void {
    const peer = parsePeer(payload);
    if (isConfabError(peer)) return void this.emit('error', peer);
    const known = this.#peers.remove(peer.id);
    if (known) this.emit('peerLeft', { ...known, reason: peer.reason });
  }

  /**
   * Sends on a channel now, or keeps a reliable message for the next WELCOME when no joined connection is
   * there (media is dropped instead: returns false).
   */
  #send(name: string, message: object | Uint8Array): boolean {
    if (this.#state === 'closed') throw new ConfabError('NOT_CONNECTED', `cannot send on "${name}": the client is closed`);
    if (!this.#welcome) {
      this.#unsent.add(name, message, this.#state);
      return true;
    }
    const { channel, frame } = this.#channels.encode(name, message);
    if (channel.kind === 'media' && this.#mediaPath?.send(frame)) return true;
    if (this.#link?.welcomed) {
      this.#link.write(frame);
      return true;
    }
    if (channel.kind === 'media') return false;
    this.#unsent.add(name, message, this.#state);
    return true;
  }
}
