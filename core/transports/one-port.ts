/**
 * One TCP port for everything: the first byte of a connection tells what it speaks.
 *   0x01 (HELLO)            → native framed TCP
 *   an HTTP method letter   → HTTP (health, metrics, the web client) and WebSocket upgrades at /ws
 *   0x16 (TLS handshake)    → when the server has TLS: decrypted, then sniffed again the same way
 *                             (HTTPS, WSS and `tls://` framed clients); without TLS it is refused like:
 *   anything else           → a framed client that broke the protocol: ERROR HELLO_REQUIRED, then close
 */
import { createServer, type Server, type Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
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

/** A TLS record's first byte: content type 22, handshake (the ClientHello). */
const TLS_HANDSHAKE = 0x16;

/**
 * Creates the TCP listener that sniffs each connection's first byte; a silent one is closed after
 * `firstByteTimeoutMs`. With `tls`, connections that start a TLS handshake are served over TLS too.
 */
export function createOnePortListener(handlers: OnePortHandlers, firstByteTimeoutMs: number, tls?: SecureContext): Server {
  return createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    sniff(socket, handlers, firstByteTimeoutMs, tls);
  });
}

/** Reads the first byte of `socket` and hands it to the right handler. */
function sniff(socket: Socket, handlers: OnePortHandlers, firstByteTimeoutMs: number, tls: SecureContext | undefined): void {
  socket.setTimeout(firstByteTimeoutMs, () => socket.destroy());
  // A client that hangs up before its first byte frees its place at once (not after the timeout).
  const hungUp = () => socket.destroy();
  socket.once('end', hungUp);
  socket.once('data', (chunk: Buffer) => {
    socket.setTimeout(0);
    socket.off('end', hungUp);
    const first = chunk[0];
    if (first === FrameType.HELLO) {
      handlers.framed(socket, chunk);
    } else if (HTTP_FIRST_BYTES.has(first)) {
      socket.pause();
      socket.unshift(chunk);
      handlers.http(socket);
      socket.resume();
    } else if (first === TLS_HANDSHAKE && tls) {
      // The TLS socket reads what was put back before it takes over the socket (Node's initRead).
      socket.pause();
      socket.unshift(chunk);
      const secure = new TLSSocket(socket, { isServer: true, secureContext: tls });
      secure.on('error', () => secure.destroy());
      // Inside TLS the same protocols are told apart again; TLS inside TLS is refused.
      sniff(secure, handlers, firstByteTimeoutMs, undefined);
    } else {
      const tlsNote = first === TLS_HANDSHAKE ? '; TLS is not enabled on this server (server.tls)' : '';
      const error = new ConfabError('HELLO_REQUIRED', `the first byte is 0x${first.toString(16).padStart(2, '0')}: a framed `
        + `client starts with HELLO (0x01), HTTP with a method name${tlsNote}`);
      socket.end(encodeJsonFrame(FrameType.ERROR, error.toPayload()));
      setTimeout(() => socket.destroy(), 2000).unref();
    }
  });
}
