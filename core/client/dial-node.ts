/**
 * The Node dialer: native framed TCP (`tcp://host:port`, or `tls://host:port` over TLS, reassembled by the
 * core's FrameDecoder) and WebSocket (`ws://host:port/ws` or `wss://`, one binary message per frame, through
 * the `ws` package). TLS trusts the system's CAs, or `tls.ca`, or pins `tls.fingerprint`.
 */
import type { IncomingMessage } from 'node:http';
import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions, type TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { ConfabError } from '../errors.js';
import { decodeSingleFrame } from '../frame.js';
import { FrameDecoder } from '../frame-decoder.js';
import { FRAME_HEADER_BYTES } from '../protocol.js';
import { foreignGreeting } from './greeting.js';
import type { ClientConnection, ClientConnectionEvents, ClientTlsOptions, Dialer } from './types.js';

/** How long a graceful close may take before the connection is destroyed. */
const FORCE_CLOSE_MS = 1000;

/**
 * Dials `tcp://host:port`, `tls://host:port`, `ws://host:port/ws` or `wss://…`.
 *
 * @example
 *   const client = new ConfabClient(options, dialNode); // what core/client/node.ts does
 */
export const dialNode: Dialer = (url, { maxPayload, tls }) => {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if ((parsed?.protocol === 'tcp:' || parsed?.protocol === 'tls:') && parsed.port !== '') return dialTcp(parsed, maxPayload, tls);
  if (parsed?.protocol === 'ws:' || parsed?.protocol === 'wss:') return dialWebSocket(url, maxPayload, tls);
  const message = `cannot dial "${url}": use tcp://host:port, tls://host:port or ws(s)://host:port/ws`;
  throw new ConfabError('CONNECT_FAILED', message, { fatal: true });
};

/** Options for `tls.connect` (and `wss://`): the given CA, or no CA check when a fingerprint is pinned instead. */
function tlsConnectOptions(tls: ClientTlsOptions | undefined): ConnectionOptions {
  return { ca: tls?.ca, rejectUnauthorized: tls?.fingerprint === undefined };
}

/** TLS_FINGERPRINT_MISMATCH when a fingerprint is pinned and the server's certificate has another one. */
function fingerprintMismatch(socket: TLSSocket, tls: ClientTlsOptions | undefined): ConfabError | undefined {
  if (tls?.fingerprint === undefined) return undefined;
  const normalize = (value: string) => value.replace(/:/g, '').toUpperCase();
  const actual = socket.getPeerCertificate().fingerprint256 ?? '';
  if (normalize(actual) === normalize(tls.fingerprint)) return undefined;
  const message = `the server's certificate has SHA-256 fingerprint ${actual || '(none)'}, not ${tls.fingerprint}`;
  return new ConfabError('TLS_FINGERPRINT_MISMATCH', message, { fatal: true });
}

function dialTcp(url: URL, maxPayload: number, tls: ClientTlsOptions | undefined): ClientConnection {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port);
  const secure = url.protocol === 'tls:';
  const socket: Socket = secure
    ? connectTls({ host, port, servername: isIP(host) ? undefined : host, ...tlsConnectOptions(tls) })
    : connectTcp({ host, port });
  socket.setNoDelay(true);
  const decoder = new FrameDecoder({ maxPayload });
  let events: ClientConnectionEvents | undefined;
  let failure: Error | undefined;
  let forceTimer: NodeJS.Timeout | undefined;
  let greeted = false;
  socket.on(secure ? 'secureConnect' : 'connect', () => {
    const mismatch = secure ? fingerprintMismatch(socket as TLSSocket, tls) : undefined;
    if (!mismatch) return events?.open();
    events?.protocolError(mismatch);
    socket.destroy();
  });
  socket.on('data', (chunk: Buffer) => {
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
    const foreign = greeted ? undefined : foreignGreeting(bytes, `${url.hostname}:${port}`);
    greeted = true;
    if (foreign) {
      events?.protocolError(foreign);
      return void socket.destroy();
    }
    const { frames, error } = decoder.push(bytes);
    for (const frame of frames) events?.frame(frame.type, frame.payload);
    if (error) {
      events?.protocolError(error);
      socket.destroy();
    }
  });
  socket.on('end', () => {
    const error = decoder.end();
    if (error) events?.protocolError(error);
  });
  socket.on('error', (error) => (failure = error));
  socket.on('close', () => {
    clearTimeout(forceTimer);
    events?.close(failure);
  });
  return {
    get bufferedBytes() {
      return socket.writableLength;
    },
    write: (frame) => void socket.write(frame),
    close: () => {
      if (socket.destroyed || forceTimer) return;
      if (socket.connecting) return void socket.destroy();
      socket.end();
      forceTimer = setTimeout(() => socket.destroy(), FORCE_CLOSE_MS).unref();
    },
    listen: (listener) => (events = listener),
  };
}

function dialWebSocket(url: string, maxPayload: number, tls: ClientTlsOptions | undefined): ClientConnection {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: maxPayload + FRAME_HEADER_BYTES, ...tlsConnectOptions(tls) });
  let events: ClientConnectionEvents | undefined;
  let failure: Error | undefined;
  let forceTimer: NodeJS.Timeout | undefined;
  let mismatch: ConfabError | undefined;
  // The upgrade answer comes before `open`, over the TLS socket whose certificate is checked here.
  ws.on('upgrade', (response: IncomingMessage) => {
    if (url.startsWith('wss:')) mismatch = fingerprintMismatch(response.socket as TLSSocket, tls);
    if (!mismatch) return;
    events?.protocolError(mismatch);
    ws.terminate();
  });
  ws.on('open', () => {
    if (!mismatch) events?.open();
  });
  ws.on('message', (data, isBinary) => {
    if (!isBinary) {
      const error = new ConfabError('TEXT_FRAME_UNSUPPORTED', 'the server sent a text message; frames are binary');
      return events?.protocolError(error);
    }
    const buffer = data as Buffer; // binaryType 'nodebuffer' (the default): one Buffer per message
    const frame = decodeSingleFrame(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length));
    if (frame) return events?.frame(frame.type, frame.payload);
    const error = new ConfabError('FRAME_MALFORMED', `a ${buffer.length}-byte WebSocket message is not exactly one frame`);
    events?.protocolError(error);
  });
  ws.on('error', (error) => (failure = error));
  ws.on('close', () => {
    clearTimeout(forceTimer);
    events?.close(failure);
  });
  return {
    get bufferedBytes() {
      return ws.bufferedAmount;
    },
    write: (frame) => ws.send(frame),
    close: () => {
      if (ws.readyState === WebSocket.CLOSED || forceTimer) return;
      if (ws.readyState === WebSocket.CONNECTING) return ws.terminate();
      ws.close(1000);
      forceTimer = setTimeout(() => ws.terminate(), FORCE_CLOSE_MS).unref();
    },
    listen: (listener) => (events = listener),
  };
}
