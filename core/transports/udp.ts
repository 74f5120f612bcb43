/**
 * UDP media on the server's port number. An address is bound to a session only by UDP_BIND carrying the
 * session's mediaToken, answered by a UDP_BIND of the same size; datagrams from unbound addresses are
 * dropped without a reply, so the server never sends to an address that has not proven itself.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { decodeSingleFrame, encodeFrame } from '../frame.js';
import { FrameType } from '../protocol.js';
import type { Session, UdpAddress } from '../session.js';

/** What the UDP endpoint needs from the server. */
export interface UdpHandlers {
  /** The active session holding this mediaToken, if any. */
  sessionByMediaToken(token: string): Session | undefined;
  /** A frame arrived from a bound address. */
  frame(session: Session, type: number, payload: Uint8Array): void;
  /** A datagram was ignored (unbound address, not a frame, …). */
  ignored(reason: string): void;
}

/** The server's UDP socket and its address bindings. */
export class UdpEndpoint {
  #socket: Socket;
  #handlers: UdpHandlers;
  #bound = new Map<string, Session>();

  constructor(host: string, handlers: UdpHandlers) {
    this.#handlers = handlers;
    this.#socket = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4' });
    this.#socket.on('message', (message, remote) => this.#onMessage(message, remote));
    this.#socket.on('error', () => undefined);
  }

  /** Binds the UDP port. */
  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#socket.once('error', reject);
      this.#socket.bind(port, host, () => {
        this.#socket.off('error', reject);
        resolve();
      });
    });
  }

  /** Sends a frame to a bound address. */
  send(frame: Uint8Array, to: UdpAddress): void {
    this.#socket.send(frame, to.port, to.address);
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

  #onMessage(message: Buffer, remote: RemoteInfo): void {
    const frame = decodeSingleFrame(message);
    if (!frame) return this.#handlers.ignored('not a frame');
    const from = { address: remote.address, port: remote.port };
    if (frame.type === FrameType.UDP_BIND) {
      const session = this.#handlers.sessionByMediaToken(Buffer.from(frame.payload).toString('utf8'));
      if (!session) return this.#handlers.ignored('unknown media token');
      this.unbind(session);
      const previous = this.#bound.get(key(from));
      if (previous) this.unbind(previous);
      session.udpAddress = from;
      this.#bound.set(key(from), session);
      this.send(encodeFrame(FrameType.UDP_BIND, frame.payload), from);
      return;
    }
    const session = this.#bound.get(key(from));
    if (!session || session.state !== 'active') return this.#handlers.ignored('address not bound');
    this.#handlers.frame(session, frame.type, frame.payload);
  }
}

function key(address: UdpAddress): string {
  return `${address.address}|${address.port}`;
}
