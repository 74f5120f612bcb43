/**
 * One TCP port for everything: the first byte of a connection tells what it speaks.
 *   0x01 (HELLO)            → native framed TCP
 *   an HTTP method letter   → HTTP (health, metrics, the web client) and WebSocket upgrades at /ws
 *   anything else           → a framed client that broke the protocol: ERROR HELLO_REQUIRED, then close
 *                             (TLS, first byte 0x16, is not served yet and is refused the same way)
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

/** Creates the TCP listener that sniffs each connection's first byte; a silent one is closed after `firstByteTimeoutMs`. */
export function createOnePortListener(handlers: OnePortHandlers, firstByteTimeoutMs: number): Server {
  return createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.setTimeout(firstByteTimeoutMs, () => socket.destroy());
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
        const error = new ConfabError('HELLO_REQUIRED', `the first byte is 0x${first.toString(16).padStart(2, '0')}: a framed `
          + 'client starts with HELLO (0x01), HTTP with a method name; TLS is not enabled on this server');
        socket.end(encodeJsonFrame(FrameType.ERROR, error.toPayload()));
        setTimeout(() => socket.destroy(), 2000).unref();
      }
    });
  });
}
