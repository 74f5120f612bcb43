/**
 * UDP media on the server's port number. Every datagram is sealed with the session's media key
 * (core/media-crypto.ts): one that does not open with the key its header names, or that repeats a sequence
 * number, is dropped without a reply. An address is bound to a session only by a sealed UDP_BIND, which
 * proves the sender holds the key; it is answered by a sealed UDP_BIND of exactly the same size, and media
 * goes only to bound addresses. So the server never sends to an address that has not proven itself, and
 * never answers with more bytes than it was sent.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { decodeSingleFrame, encodeFrame } from '../frame.js';
import { MediaSealer, openSealed, readSealedHeader, ReplayWindow } from '../media-crypto.js';
import { FrameType } from '../protocol.js';
import type { Session, UdpAddress } from '../session.js';

/** What the UDP endpoint needs from the server. */
export interface UdpHandlers {
  /** The active session holding this mediaToken, if any. */
  sessionByMediaToken(token: string): Session | undefined;
  /** A frame arrived from a bound address. */
  frame(session: Session, type: number, payload: Uint8Array): void;
  /** A datagram was ignored: `not-sealed`, `unknown-token`, `replayed`, `not-authentic`, `not-a-frame`, `address-not-bound`. */
  ignored(reason: string): void;
}

/** A session's sealing state: one sealer for what the server sends, one window for what it accepted. */
interface SessionCrypto {
  sealer: MediaSealer;
  window: ReplayWindow;
}

/** The server's UDP socket and its address bindings. */
export class UdpEndpoint {
  #socket: Socket;
  #handlers: UdpHandlers;
  #bound = new Map<string, Session>();
  /** Kept as long as the session lives: its key, and so its counters, stay the same across a resume. */
  #crypto = new WeakMap<Session, SessionCrypto>();

  constructor(host: string, handlers: UdpHandlers) {
    this.#handlers = handlers;
    this.#socket = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4' });
    this.#socket.on('message', (message, remote) => this.#onMessage(message, remote));
    this.#socket.on('error', () => undefined);
  }

  /** Binds the UDP port (this process's own, even in a worker of `--workers`). */
  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#socket.once('error', reject);
      this.#socket.bind({ port, address: host, exclusive: true }, () => {
        this.#socket.off('error', reject);
        resolve();
      });
    });
  }

  /** Seals a frame for the session bound to `to` and sends it there; nothing goes to an unbound address. */
  send(frame: Uint8Array, to: UdpAddress): void {
    const session = this.#bound.get(key(to));
    if (!session) return;
    this.#socket.send(this.#cryptoOf(session).sealer.seal(frame), to.port, to.address);
  }

  /** Forgets a session's binding (it left or detached). */
  unbind(session: Session): void {
    if (session.udpAddress && this.#bound.get(key(session.udpAddress)) === session) this.#bound.delete(key(session.udpAddress));
    session.udpAddress = undefined;
  }

  /** Closes the socket. Idempotent. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  #cryptoOf(session: Session): SessionCrypto {
    let state = this.#crypto.get(session);
    if (!state) {
      state = { sealer: new MediaSealer(session.mediaKey, session.mediaToken, 'to-client'), window: new ReplayWindow() };
      this.#crypto.set(session, state);
    }
    return state;
  }

  #onMessage(message: Buffer, remote: RemoteInfo): void {
    const ignored = this.#handlers.ignored;
    const header = readSealedHeader(message);
    if (!header) return ignored('not-sealed');
    const session = this.#handlers.sessionByMediaToken(header.token);
    if (!session) return ignored('unknown-token');
    const state = this.#cryptoOf(session);
    if (!state.window.fresh(header.seq)) return ignored('replayed');
    const bytes = openSealed(session.mediaKey, message, header, 'to-server');
    if (!bytes) return ignored('not-authentic');
    state.window.mark(header.seq);
    const frame = decodeSingleFrame(bytes);
    if (!frame) return ignored('not-a-frame');
    const from = { address: remote.address, port: remote.port };
    if (frame.type === FrameType.UDP_BIND) return this.#bind(session, from, frame.payload);
    if (!session.udpAddress || key(session.udpAddress) !== key(from)) return ignored('address-not-bound');
    this.#handlers.frame(session, frame.type, frame.payload);
  }

  /** Binds `from` to the session (it proved the key) and answers with the same payload, so the same size. */
  #bind(session: Session, from: UdpAddress, payload: Uint8Array): void {
    this.unbind(session);
    const previous = this.#bound.get(key(from));
    if (previous) this.unbind(previous);
    session.udpAddress = from;
    this.#bound.set(key(from), session);
    this.send(encodeFrame(FrameType.UDP_BIND, payload), from);
  }
}

function key(address: UdpAddress): string {
  return `${address.address}|${address.port}`;
}
