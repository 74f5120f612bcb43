/**
 * One dialled connection of a client: HELLO when it opens, the wait for WELCOME, then the heartbeat
 * (PING every heartbeatMs, PONG answered, round-trip time measured, silence detected). The client makes a
 * new Link for every attempt and forgets the old one; a Link reports its end once.
 */
import { ConfabError, isConfabError } from '../errors.js';
import { encodeFrame, encodeJsonFrame } from '../frame.js';
import { FrameType, type Hello } from '../protocol.js';
import type { ClientConnection, ClientTlsOptions, Dialer } from './types.js';

/** A connection with no frame for this many heartbeats is dead. */
const DEAD_AFTER_HEARTBEATS = 5;

/** What a Link tells its client. Nothing is reported after `close()`. */
export interface LinkHandlers {
  /** The transport is up: returns the HELLO to send. */
  hello(): Hello;
  /** A frame arrived (PING and PONG are answered and measured here, then passed on too). */
  frame(type: number, payload: Uint8Array): void;
  /** The server sent bytes that are not frames; when `error.fatal`, `lost` follows. */
  protocolError(error: ConfabError): void;
  /** The link is gone: failed to dial, closed, fatal bad bytes, no WELCOME in time, or silent too long. Once. */
  lost(error: ConfabError): void;
}

/** What a Link needs to dial. */
export interface LinkOptions {
  url: string;
  maxPayload: number;
  tls?: ClientTlsOptions;
  handshakeTimeoutMs: number;
  /** The error for a transport that closed (the client words it by whether it ever joined). */
  closedError(cause: Error | undefined): ConfabError;
}

/** One connection attempt, then connection. */
export class Link {
  /** Resolves when the transport reports `close` (at once when dialling failed). */
  readonly closed: Promise<void>;
  readonly #options: LinkOptions;
  readonly #handlers: LinkHandlers;
  #conn: ClientConnection | undefined;
  #welcomed = false;
  #ended = false;
  #lastFrameAt = performance.now();
  #rttMs: number | undefined;
  #handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  /** Dials now; a URL the dialer refuses is reported through `lost` in a microtask. */
  constructor(dial: Dialer, options: LinkOptions, handlers: LinkHandlers) {
    this.#options = options;
    this.#handlers = handlers;
    let markClosed!: () => void;
    this.closed = new Promise((resolve) => (markClosed = resolve));
    try {
      this.#conn = dial(options.url, { maxPayload: options.maxPayload, tls: options.tls });
    } catch (error) {
      markClosed();
      const failure = isConfabError(error) ? error : new ConfabError('CONNECT_FAILED', String(error), { fatal: true, cause: error });
      queueMicrotask(() => this.#lose(failure));
      return;
    }
    const conn = this.#conn;
    conn.listen({
      open: () => {
        if (!this.#ended) conn.write(encodeJsonFrame(FrameType.HELLO, handlers.hello()));
      },
      frame: (type, payload) => {
        if (!this.#ended) this.#onFrame(type, payload);
      },
      protocolError: (error) => {
        if (this.#ended) return;
        handlers.protocolError(error);
        if (error.fatal) this.#lose(error);
      },
      close: (cause) => {
        markClosed();
        this.#lose(options.closedError(cause));
      },
    });
    this.waitForWelcome();
  }

  /** True once WELCOME arrived on this connection. */
  get welcomed(): boolean {
    return this.#welcomed;
  }

  /** The last round-trip time measured, in ms. */
  get rttMs(): number | undefined {
    return this.#rttMs;
  }

  /** Bytes written but not yet sent. */
  get bufferedBytes(): number {
    return this.#conn?.bufferedBytes ?? 0;
  }

  /** (Re)starts the wait for WELCOME: HANDSHAKE_TIMEOUT when none comes within handshakeTimeoutMs. */
  waitForWelcome(): void {
    clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = setTimeout(() => {
      const message = `no WELCOME from ${this.#options.url} within ${this.#options.handshakeTimeoutMs} ms`;
      this.#lose(new ConfabError('HANDSHAKE_TIMEOUT', message, { fatal: true }));
    }, this.#options.handshakeTimeoutMs);
  }

  /** WELCOME arrived: stop waiting for it; ping now and every heartbeat, and watch for silence. */
  welcome(heartbeatMs: number): void {
    this.#welcomed = true;
    clearTimeout(this.#handshakeTimer);
    const beat = () => {
      const silentMs = performance.now() - this.#lastFrameAt;
      if (silentMs > DEAD_AFTER_HEARTBEATS * heartbeatMs) {
        const message = `no frame from the server for ${Math.round(silentMs)} ms (${DEAD_AFTER_HEARTBEATS} × heartbeatMs)`;
        return this.#lose(new ConfabError('IDLE_TIMEOUT', message));
      }
      const stamp = new Uint8Array(8);
      view(stamp).setFloat64(0, performance.now());
      this.write(encodeFrame(FrameType.PING, stamp));
    };
    beat();
    this.#heartbeat = setInterval(beat, heartbeatMs);
  }

  /** Writes one encoded frame (only once open; the client writes after WELCOME). */
  write(frame: Uint8Array): void {
    if (!this.#ended) this.#conn?.write(frame);
  }

  /** Stops the timers and closes the transport after what was written. Reports nothing more. Idempotent. */
  close(): void {
    this.#ended = true;
    clearTimeout(this.#handshakeTimer);
    clearInterval(this.#heartbeat);
    this.#conn?.close();
  }

  #onFrame(type: number, payload: Uint8Array): void {
    this.#lastFrameAt = performance.now();
    if (type === FrameType.PING) this.write(encodeFrame(FrameType.PONG, payload));
    if (type === FrameType.PONG && payload.length === 8) this.#rttMs = performance.now() - view(payload).getFloat64(0);
    this.#handlers.frame(type, payload);
  }

  #lose(error: ConfabError): void {
    if (this.#ended) return;
    this.close();
    this.#handlers.lost(error);
  }
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
