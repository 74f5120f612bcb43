/**
 * A session: one participant or bot, with a unique display name in one room, its connection (which may be
 * replaced on resume), an optional UDP address for media, and a bounded send queue.
 *
 * Reliable frames (core events, json and binary channels) are numbered, kept for resume and never silently
 * dropped: a session whose queue would pass `maxQueueBytes` is closed with SEND_QUEUE_OVERFLOW. Media frames
 * to a slow session are held back one per stream (newest wins, a keyframe is not replaced by a delta frame)
 * and written when the connection drains, so a slow client never slows the others or grows server memory.
 */
import { ConfabError } from './errors.js';
import { allGrants, type Grant } from './grants.js';
import { encodeJsonFrame } from './frame.js';
import type { ServerHooks } from './hooks.js';
import { LinkProbe } from './link-probe.js';
import type { MediaDropReason, Metrics } from './metrics.js';
import { FRAME_HEADER_BYTES, FrameType, type PeerInfo } from './protocol.js';
import { ResumeBuffer } from './resume-buffer.js';
import type { Room } from './room.js';
import type { Connection, ResolvedServerOptions } from './types.js';

/** A UDP address bound to a session by UDP_BIND. */
export interface UdpAddress {
  address: string;
  port: number;
}

/** Where a session is in its life. */
export type SessionState = 'active' | 'detached' | 'closed';

/** What a session needs from its server. */
export interface SessionHost {
  readonly options: ResolvedServerOptions;
  /** The server's hooks: a session calls `frameOut` and `mediaOut` (core/hooks.ts). */
  readonly hooks: ServerHooks;
  /** Sends a datagram to a bound UDP address. */
  sendUdp(frame: Uint8Array, to: UdpAddress): void;
  /** Ends the session with an error it cannot recover from. */
  fail(session: Session, error: ConfabError): void;
  /** Ends the session for good: out of its room (PEER_LEFT, `sessionLeft`), forgotten, connection closed. */
  endSession(session: Session, reason: string): void;
  /** Counts a media frame not written to a receiver, by why. */
  countDrop(reason: MediaDropReason): void;
  /** The server's metrics: a session measures the relay delay of sampled media frames as it writes them. */
  readonly metrics: Metrics;
}

interface HeldMediaFrame {
  frame: Uint8Array;
  keyframe: boolean;
  /** When the frame arrived at the server, for a frame whose relay delay is measured. */
  arrival: number | undefined;
}

/** Largest frame sent as one UDP datagram; larger media frames take the connection. */
const MAX_UDP_FRAME = 65_000;

/** One participant. */
export class Session {
  /** Unique session id (random, URL-safe). */
  readonly id: string;
  /** Display name, unique within the room. */
  readonly name: string;
  /** The room this session is in. */
  readonly room: Room;
  /** Secret that binds a UDP address to this session (UDP_BIND). */
  readonly mediaToken: string;
  /** The 32-byte AES-256-GCM key that seals this session's UDP datagrams (core/media-crypto.ts), sent in WELCOME. */
  readonly mediaKey: Uint8Array;
  /** What the client said it is in HELLO (`web`, `node`, `bot`…), if anything. */
  readonly clientKind: string | undefined;
  /** When the session joined (ms since epoch). */
  readonly joinedAt = Date.now();
  /** Secret the client presents to resume; replaced at every WELCOME. */
  resumeToken: string;
  /** The bound UDP address for media, if any. */
  udpAddress: UdpAddress | undefined;
  /** Last time any frame arrived from the client (ms since epoch). */
  lastSeen = Date.now();
  /**
   * What this session may do (see core/grants.ts). Plugins check it; to change it, call `setGrants`,
   * `removeGrant` or `addGrant`, which fire the `grantsChanged` hook so that the change takes effect visibly.
   */
  readonly grants: Set<Grant>;
  /** The link to the client as PING/PONG probes measure it (core/link-probe.ts): queueing delay, delivery rate. */
  readonly link = new LinkProbe();
  /** Why the connection was lost (`timeout`…): the PEER_LEFT reason if the session is not resumed. */
  lostReason: string | undefined;
  #bytesWritten = 0;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #state: SessionState = 'active';
  #connection: Connection | undefined;
  #host: SessionHost;
  #resume: ResumeBuffer;
  #heldMedia = new Map<string, HeldMediaFrame>();

  constructor(fields: {
    id: string;
    name: string;
    room: Room;
    mediaToken: string;
    mediaKey: Uint8Array;
    resumeToken: string;
    /** The grants it starts with; default every grant. */
    grants?: Set<Grant>;
    clientKind?: string;
    connection: Connection;
    host: SessionHost;
  }) {
    this.id = fields.id;
    this.name = fields.name;
    this.room = fields.room;
    this.mediaToken = fields.mediaToken;
    this.mediaKey = fields.mediaKey;
    this.grants = fields.grants ?? allGrants();
    this.resumeToken = fields.resumeToken;
    this.clientKind = fields.clientKind;
    this.#connection = fields.connection;
    this.#host = fields.host;
    this.#resume = new ResumeBuffer(fields.host.options.resumeBufferFrames, fields.host.options.resumeBufferBytes);
  }

  /** The session as its peers see it. */
  get info(): PeerInfo {
    return { id: this.id, name: this.name };
  }

  /** `active` with a connection, `detached` while waiting for a resume, or `closed`. */
  get state(): SessionState {
    return this.#state;
  }

  /** The current connection, if attached. */
  get connection(): Connection | undefined {
    return this.#connection;
  }

  /** Reliable frames sent so far (the number a resuming client compares with what it received). */
  get reliableSent(): number {
    return this.#resume.lastSeq;
  }

  /** Bytes of frames written on the session's connections so far, but for uncounted ones (PONG, probes…) and UDP. */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** Bytes waiting to be written on the connection. */
  get queuedBytes(): number {
    return this.#connection?.bufferedBytes ?? 0;
  }

  /**
   * Sends a reliable frame: numbered, kept for resume, written now if attached. Closes the session with
   * SEND_QUEUE_OVERFLOW rather than drop it when the client reads too slowly.
   */
  sendReliableFrame(frame: Uint8Array): void {
    if (this.#state === 'closed') return;
    this.#resume.push(frame);
    const connection = this.#connection;
    if (!connection) return;
    // An empty queue takes any frame (each is bounded by maxPayload); a backed-up one only up to the limit.
    if (connection.bufferedBytes > 0 && connection.bufferedBytes + frame.length > this.#host.options.maxQueueBytes) {
      this.#host.fail(this, new ConfabError('SEND_QUEUE_OVERFLOW',
        `${connection.bufferedBytes} bytes are waiting for this session; the limit is ${this.#host.options.maxQueueBytes}`));
      return;
    }
    this.#write(connection, frame);
  }

  /** Sends a reliable core JSON frame (PEER_JOINED, ERROR…). */
  sendReliableJson(type: number, value: unknown): void {
    this.sendReliableFrame(encodeJsonFrame(type, value));
  }

  /**
   * True when a media frame sent on the connection now would be held back rather than written: the
   * connection is above `mediaHighWaterBytes`, or frames are already held. A relay of a codec whose deltas
   * need every frame before them (VP8) checks this and drops whole layers itself, since a held frame may be
   * replaced by a newer one. False while media goes over UDP.
   */
  get mediaBlocked(): boolean {
    if (this.#state !== 'active') return true;
    if (this.udpAddress) return false;
    return this.#heldMedia.size > 0 || this.#connection!.bufferedBytes >= this.#host.options.mediaHighWaterBytes;
  }

  /**
   * Writes media frames that only decode together (a cached keyframe and the frames after it) on the
   * connection at once, past the high-water mark and without the `mediaOut` hook, so none of them can be
   * held and replaced. Returns false, writing nothing, when the session is not active or media is held.
   * The burst is bounded by its caller (the screen plugin caps its cache).
   */
  sendMediaBurst(frames: readonly Uint8Array[]): boolean {
    const connection = this.#connection;
    if (this.#state !== 'active' || !connection || this.#heldMedia.size > 0) return false;
    for (const frame of frames) this.#write(connection, frame);
    return true;
  }

  /**
   * Sends a media frame: the `mediaOut` hook may take it over (impairment); else `deliverMediaFrame`.
   */
  sendMediaFrame(frame: Uint8Array, stream: string, keyframe: boolean): void {
    if (this.#state !== 'active') {
      if (this.#state === 'detached') this.#host.countDrop('detached');
      return;
    }
    const hook = this.#host.hooks.mediaOut;
    if (hook.isUsed() && hook.call(this, frame, { stream, keyframe }) === true) return;
    this.deliverMediaFrame(frame, stream, keyframe);
  }

  /**
   * Writes a media frame without the `mediaOut` hook: over UDP when bound, else on the connection unless it
   * is backed up, in which case the frame waits as the newest of its stream (a held keyframe is only replaced
   * by another keyframe). A plugin that took a frame in `mediaOut` hands it back here.
   */
  deliverMediaFrame(frame: Uint8Array, stream: string, keyframe: boolean): void {
    if (this.#state !== 'active') {
      if (this.#state === 'detached') this.#host.countDrop('detached');
      return;
    }
    const arrival = this.#host.metrics.relayArrival;
    if (this.udpAddress && frame.length <= MAX_UDP_FRAME) {
      this.#host.sendUdp(frame, this.udpAddress);
      this.#frameOut(frame);
      if (arrival !== undefined) this.#host.metrics.observeRelayDelay(arrival);
      return;
    }
    const connection = this.#connection!;
    if (connection.bufferedBytes < this.#host.options.mediaHighWaterBytes && this.#heldMedia.size === 0) {
      this.#write(connection, frame);
      if (arrival !== undefined) this.#host.metrics.observeRelayDelay(arrival);
      return;
    }
    const held = this.#heldMedia.get(stream);
    if (held) {
      if (held.keyframe && !keyframe) {
        this.#host.countDrop('behind-keyframe');
        return;
      }
      this.#host.countDrop('replaced');
    }
    this.#heldMedia.set(stream, { frame, keyframe, arrival });
    this.flushHeldMedia();
  }

  /** Writes held media frames while the connection has room. Called when the connection drains. */
  flushHeldMedia(): void {
    const connection = this.#connection;
    if (!connection || this.#heldMedia.size === 0) return;
    for (const [stream, held] of this.#heldMedia) {
      if (connection.bufferedBytes >= this.#host.options.mediaHighWaterBytes) return;
      this.#heldMedia.delete(stream);
      this.#write(connection, held.frame);
      if (held.arrival !== undefined) this.#host.metrics.observeRelayDelay(held.arrival);
    }
  }

  /** Writes a frame that is neither counted nor kept (WELCOME, PONG, BYE, fatal ERROR). */
  sendUncounted(frame: Uint8Array): void {
    if (this.#connection) this.#write(this.#connection, frame, false);
  }

  /**
   * Replaces the session's grants and, when that changed anything, runs the `grantsChanged` hook with the
   * grants lost and gained. The one place grants change after the handshake (auth, moderation).
   *
   * @example
   *   session.setGrants(['join', 'subscribe', 'chat']); // a demotion to listener
   */
  setGrants(grants: Iterable<Grant>): void {
    const next = new Set(grants);
    const removed = [...this.grants].filter((grant) => !next.has(grant));
    const added = [...next].filter((grant) => !this.grants.has(grant));
    if (removed.length === 0 && added.length === 0) return;
    for (const grant of removed) this.grants.delete(grant);
    for (const grant of added) this.grants.add(grant);
    this.#host.hooks.grantsChanged.call(this, removed, added);
  }

  /** Takes one grant away (a moderator mutes: `removeGrant('publish:audio')`); see `setGrants`. */
  removeGrant(grant: Grant): void {
    this.setGrants([...this.grants].filter((held) => held !== grant));
  }

  /** Gives one grant; see `setGrants`. */
  addGrant(grant: Grant): void {
    this.setGrants([...this.grants, grant]);
  }

  /** Ends the session with a fatal error: the client gets the ERROR frame, its peers see it leave. */
  fail(error: ConfabError): void {
    this.#host.fail(this, error);
  }

  /**
   * Ends the session for good, as the server does when a client says BYE: it leaves its room (its peers
   * see PEER_LEFT with `reason`, plugins the `sessionLeft` hook), the server forgets it, and its connection
   * is closed. What a plugin calls to remove someone (with an ERROR first, call `fail`). Idempotent.
   *
   * @example
   *   session.end('kicked');
   */
  end(reason: string): void {
    this.#host.endSession(this, reason);
  }

  /** Sends a non-fatal error as a reliable ERROR frame. */
  sendError(error: ConfabError): void {
    this.sendReliableJson(FrameType.ERROR, error.toPayload());
  }

  /**
   * The reliable frames after `received`, for a resume; undefined when some already fell out of the buffer.
   */
  framesToReplay(received: number): Uint8Array[] | undefined {
    return this.#resume.framesAfter(received);
  }

  /** Attaches a (new) connection. Called by the server on join and on resume. */
  attach(connection: Connection): void {
    this.#connection = connection;
    this.#state = 'active';
    this.lastSeen = Date.now();
  }

  /**
   * Starts the resume grace period of a detached session: when it passes without a resume, the session
   * ends with its `lostReason` (default `disconnected`). Called by the server when the connection is lost.
   */
  startGrace(graceMs: number): void {
    clearTimeout(this.#graceTimer);
    this.#graceTimer = setTimeout(() => this.#host.endSession(this, this.lostReason ?? 'disconnected'), graceMs);
    this.#graceTimer.unref();
  }

  /** Stops the grace period (the session resumed, or ended) and forgets why the connection was lost. */
  stopGrace(): void {
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    this.lostReason = undefined;
  }

  /** Forgets the connection; the session waits for a resume. Held media is dropped. */
  detach(): void {
    if (this.#state === 'closed') return;
    this.#connection = undefined;
    this.udpAddress = undefined;
    this.#heldMedia.clear();
    this.#state = 'detached';
  }

  /** Writes a frame on the connection and tells the `frameOut` hook. */
  #write(connection: Connection, frame: Uint8Array, counted = true): void {
    connection.write(frame);
    if (counted) this.#bytesWritten += frame.length;
    this.#frameOut(frame);
  }

  /** Calls `frameOut` with the frame's type and payload, only when something tapped it. */
  #frameOut(frame: Uint8Array): void {
    const hook = this.#host.hooks.frameOut;
    if (hook.isUsed()) hook.call(this, frame[0]!, frame.subarray(FRAME_HEADER_BYTES));
  }

  /**
   * Marks the session closed and closes its connection. Idempotent. Only the server's ending path calls it
   * (after taking the session out of its room and registry); plugins call `end()`.
   *
   * @internal
   */
  closeConnection(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#heldMedia.clear();
    this.udpAddress = undefined;
    const connection = this.#connection;
    this.#connection = undefined;
    connection?.close();
  }
}
