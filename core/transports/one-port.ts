/**
 * One TCP port for everything: the first byte of a connection tells what it speaks.
 *   0x01 (HELLO)            → native framed TCP
 *   an HTTP method letter   → HTTP (health, metrics, the web client) and WebSocket upgrades at /ws
 *   0x16 (TLS handshake)    → TLS, once a certificate is configured (not yet: refused like a broken client)
 *   anything else           → a framed client that broke the protocol: ERROR, then close
 */
import { createServer, type Server, type Socket } from 'node:net';
import { ConfabError } from '../errors.js';
import { encodeJsonFrame } from '../frame.js';
import { FrameType } from '../protocol.js';

/** What the one-port listener hands each kind of connection to. */
export interface OnePortHandlers {
  /** A native framed client; `firstChunk` holds the bytes already read. */
  framed(socket: Socket, firstChunk: Buffer): void;
  /** An HTTP client (maybe upgrading to WebSocket); the bytes read are put back on the socket. */
  http(socket: Socket): void;
}

/** First bytes of the HTTP methods we answer. */
const HTTP_FIRST_BYTES = new Set([...'GHPDOCT'].map((c) => c.charCodeAt(0)));

/** How long a connection may stay silent before its first byte. */
const FIRST_BYTE_TIMEOUT_MS = 10_000;

/** Creates the TCP listener that sniffs each connection's first byte. */
export function createOnePortListener(handlers: OnePortHandlers): Server {
  return createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      socket.setTimeout(0);
      const first = chunk[0];
      if (first === FrameType.HELLO) {
        handlers.framed(socket, chunk);
      } else if (HTTP_FIRST_BYTES.has(first)) {
        socket.pause();
        socket.unshift(chunk);
        handlers.http(socket);
        socket.resume();
      } else {
        const error = new ConfabError('NOT_A_FRAMED_CLIENT',
          `first byte 0x${first.toString(16).padStart(2, '0')} is not HELLO (0x01), an HTTP method or TLS (0x16)`);
        socket.end(encodeJsonFrame(FrameType.ERROR, error.toPayload()));
        setTimeout(() => socket.destroy(), 2000).unref();
      }
    });
  });
}
