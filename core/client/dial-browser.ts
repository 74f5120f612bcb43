/**
 * The browser dialer: the global `WebSocket`, one binary message per frame (`ws://host:port/ws`, or `wss://`
 * on a secure page).
 */
import { ConfabError } from '../errors.js';
import { decodeSingleFrame } from '../frame.js';
import { FRAME_HEADER_BYTES } from '../protocol.js';
import type { ClientConnectionEvents, Dialer } from './types.js';

/** How long a graceful close may take before the connection is reported closed anyway. */
const FORCE_CLOSE_MS = 1000;

/**
 * Dials a WebSocket URL with the browser's `WebSocket`.
 *
 * @example
 *   const client = new ConfabClient(options, dialBrowser); // what core/client/browser.ts does
 */
export const dialBrowser: Dialer = (url, { maxPayload }) => {
  let socket: WebSocket;
  try {
    socket = new WebSocket(url);
  } catch (error) {
    throw new ConfabError('CONNECT_FAILED', `cannot dial "${url}": ${(error as Error).message}`, { fatal: true, cause: error });
  }
  socket.binaryType = 'arraybuffer';
  let events: ClientConnectionEvents | undefined;
  let forceTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const reportClosed = (failure?: Error) => {
    if (closed) return;
    closed = true;
    clearTimeout(forceTimer);
    events?.close(failure);
  };
  socket.onopen = () => events?.open();
  socket.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
    if (typeof event.data === 'string') {
      const error = new ConfabError('TEXT_FRAME_UNSUPPORTED', 'the server sent a text message; frames are binary');
      return events?.protocolError(error);
    }
    const bytes = new Uint8Array(event.data);
    if (bytes.length > maxPayload + FRAME_HEADER_BYTES) {
      const message = `a ${bytes.length}-byte message exceeds maxPayload (${maxPayload}) plus the frame header`;
      return events?.protocolError(new ConfabError('FRAME_TOO_LARGE', message));
    }
    const frame = decodeSingleFrame(bytes);
    if (frame) return events?.frame(frame.type, frame.payload);
    const error = new ConfabError('FRAME_MALFORMED', `a ${bytes.length}-byte WebSocket message is not exactly one frame`);
    events?.protocolError(error);
  };
  socket.onclose = (event) => {
    const why = event.reason ? `: ${event.reason}` : '';
    reportClosed(event.code === 1000 ? undefined : new Error(`the WebSocket closed with code ${event.code}${why}`));
  };
  return {
    get bufferedBytes() {
      return socket.bufferedAmount;
    },
    write: (frame) => socket.send(frame),
    close: () => {
      if (closed || forceTimer !== undefined) return;
      socket.close(1000);
      forceTimer = setTimeout(() => reportClosed(), FORCE_CLOSE_MS);
    },
    listen: (listener) => (events = listener),
  };
};
