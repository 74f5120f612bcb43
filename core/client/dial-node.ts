/**
 * The Node dialer: native framed TCP (`tcp://host:port`, reassembled by the core's FrameDecoder) and
 * WebSocket (`ws://host:port/ws`, one binary message per frame, through the `ws` package).
 */
import { connect as connectTcp } from 'node:net';
import WebSocket from 'ws';
import { ConfabError } from '../errors.js';
import { decodeSingleFrame } from '../frame.js';
import { FrameDecoder } from '../frame-decoder.js';
import { FRAME_HEADER_BYTES } from '../protocol.js';
import type { ClientConnection, ClientConnectionEvents, Dialer } from './types.js';

/** How long a graceful close may take before the connection is destroyed. */
const FORCE_CLOSE_MS = 1000;

/**
 * Dials `tcp://host:port`, `ws://host:port/ws` or `wss://…`.
 *
 * @example
 *   const client = new ConfabClient(options, dialNode); // what core/client/node.ts does
 */
export const dialNode: Dialer = (url, { maxPayload }) => {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed?.protocol === 'tcp:' && parsed.port !== '') return dialTcp(parsed, maxPayload);
  if (parsed?.protocol === 'ws:' || parsed?.protocol === 'wss:') return dialWebSocket(url, maxPayload);
  throw new ConfabError('CONNECT_FAILED', `cannot dial "${url}": use tcp://host:port or ws://host:port/ws`, { fatal: true });
};

function dialTcp(url: URL, maxPayload: number): ClientConnection {
  const socket = connectTcp({ host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port) });
  socket.setNoDelay(true);
  const decoder = new FrameDecoder({ maxPayload });
  let events: ClientConnectionEvents | undefined;
  let failure: Error | undefined;
  let forceTimer: NodeJS.Timeout | undefined;
  socket.on('connect', () => events?.open());
  socket.on('data', (chunk: Buffer) => {
    const { frames, error } = decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
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

function dialWebSocket(url: string, maxPayload: number): ClientConnection {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: maxPayload + FRAME_HEADER_BYTES });
  let events: ClientConnectionEvents | undefined;
  let failure: Error | undefined;
  let forceTimer: NodeJS.Timeout | undefined;
  ws.on('open', () => events?.open());
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
