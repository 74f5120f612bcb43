/**
 * The Node client's UDP media path: a UDP socket that proves the session's media key to the server with a
 * sealed UDP_BIND (retried a few times), then carries media frames sealed both ways (core/media-crypto.ts).
 * Until the server answers, or if it never does (UDP blocked, `udp: false` on the server), `send` returns
 * false and the client keeps media on its connection.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { decodeSingleFrame, encodeFrame } from '../frame.js';
import { MEDIA_KEY_BYTES, MediaSealer, openSealed, readSealedHeader, ReplayWindow } from '../media-crypto.js';
import { FrameType, type Welcome } from '../protocol.js';
import type { MediaPath, MediaPathFactory } from './types.js';

/** Bind attempts after a WELCOME (or a resume) before media stays on the connection. */
const BIND_ATTEMPTS = 6;
/** Time between bind attempts. */
const BIND_RETRY_MS = 250;

/**
 * Opens the UDP media path for a session, to the host and port of the client's URL, or to WELCOME's `udpHost`
 * and `udpPort` when the server names them (a cluster node). Undefined when the WELCOME carries no usable
 * media key or the URL names no port.
 */
export const openUdpMediaPath: MediaPathFactory = (welcome, url, receive) => {
  const key = Buffer.from(typeof welcome.mediaKey === 'string' ? welcome.mediaKey : '', 'base64');
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return undefined;
  }
  const port = typeof welcome.udpPort === 'number' ? welcome.udpPort : Number(target.port || (target.protocol === 'wss:' ? 443 : 80));
  if (key.length !== MEDIA_KEY_BYTES || !Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  const host = typeof welcome.udpHost === 'string' && welcome.udpHost !== '' ? welcome.udpHost : target.hostname.replace(/^\[(.*)\]$/, '$1');
  return new UdpMediaPath(welcome, key, host, port, receive);
};

/** Sealed UDP to the server's port. */
class UdpMediaPath implements MediaPath {
  #socket: Socket;
  #host: string;
  #port: number;
  #key: Uint8Array;
  #sealer: MediaSealer;
  #window = new ReplayWindow();
  #receive: (type: number, payload: Uint8Array) => void;
  #bound = false;
  #closed = false;
  /** The payload of the bind being proven; the server's answer carries it back. */
  #bindNonce: Uint8Array | undefined;
  #retry: NodeJS.Timeout | undefined;

  constructor(welcome: Welcome, key: Uint8Array, host: string, port: number, receive: (type: number, payload: Uint8Array) => void) {
    this.#key = key;
    this.#host = host;
    this.#port = port;
    this.#receive = receive;
    this.#sealer = new MediaSealer(key, welcome.mediaToken, 'to-server');
    this.#socket = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4' });
    this.#socket.on('error', () => undefined);
    this.#socket.on('message', (message) => this.#onMessage(message));
    this.#socket.unref();
    this.rebind();
  }

  get bound(): boolean {
    return this.#bound;
  }

  send(frame: Uint8Array): boolean {
    if (!this.#bound || this.#closed) return false;
    this.#socket.send(this.#sealer.seal(frame), this.#port, this.#host);
    return true;
  }

  rebind(): void {
    if (this.#closed) return;
    this.#bound = false;
    this.#bindNonce = randomBytes(16);
    clearTimeout(this.#retry);
    let attempts = 0;
    const attempt = () => {
      if (this.#bound || this.#closed || attempts++ >= BIND_ATTEMPTS) return;
      this.#socket.send(this.#sealer.seal(encodeFrame(FrameType.UDP_BIND, this.#bindNonce)), this.#port, this.#host);
      this.#retry = setTimeout(attempt, BIND_RETRY_MS);
      this.#retry.unref();
    };
    attempt();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#bound = false;
    clearTimeout(this.#retry);
    try {
      this.#socket.close();
    } catch {
      // Already closed.
    }
  }

  #onMessage(message: Buffer): void {
    const header = readSealedHeader(message);
    if (!header || !this.#window.fresh(header.seq)) return;
    const bytes = openSealed(this.#key, message, header, 'to-client');
    if (!bytes) return;
    this.#window.mark(header.seq);
    const frame = decodeSingleFrame(bytes);
    if (!frame) return;
    if (frame.type === FrameType.UDP_BIND) {
      if (this.#bindNonce && Buffer.from(frame.payload).equals(this.#bindNonce)) {
        this.#bound = true;
        clearTimeout(this.#retry);
      }
      return;
    }
    this.#receive(frame.type, frame.payload);
  }
}
