/**
 * WebSocket at `/ws`: one binary message is exactly one frame.
 */
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import { ConfabError } from '../errors.js';
import { decodeSingleFrame } from '../frame.js';
import type { Connection, ConnectionEvents } from '../types.js';
import { destroyWhenStalled } from './linger.js';

/** A browser or Node client over WebSocket. */
export class WsConnection implements Connection {
  readonly transport = 'ws';
  readonly remoteAddress: string;
  #ws: WebSocket;
  #events: ConnectionEvents | undefined;
  #closed = false;

  constructor(ws: WebSocket, socket: Socket) {
    this.#ws = ws;
    this.remoteAddress = socket.remoteAddress ?? '';
    socket.setNoDelay(true);
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    // ws reports a broken stream (a message over maxPayload, a bad opcode) and closes it: the session ends.
    ws.on('error', (error: Error & { code?: string }) => {
      const tooLarge = error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
      this.#events?.protocolError(new ConfabError(tooLarge ? 'FRAME_TOO_LARGE' : 'FRAME_MALFORMED',
        `the WebSocket stream broke: ${error.message}`, { fatal: true }));
      ws.terminate();
    });
    socket.on('drain', () => this.#events?.drain());
    ws.on('close', () => {
      this.#closed = true;
      this.#events?.close();
    });
  }

  get bufferedBytes(): number {
    return this.#ws.bufferedAmount;
  }

  listen(events: ConnectionEvents): void {
    this.#events = events;
  }

  write(frame: Uint8Array): void {
    if (!this.#closed && this.#ws.readyState === this.#ws.OPEN) this.#ws.send(frame, { binary: true });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ws.close(1000);
    destroyWhenStalled(() => this.#ws.bufferedAmount, () => this.#ws.readyState === this.#ws.CLOSED, () => this.#ws.terminate());
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (this.#closed || !this.#events) return;
    if (!isBinary) {
      this.#events.protocolError(new ConfabError('TEXT_FRAME_UNSUPPORTED'));
      return;
    }
    const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    const frame = decodeSingleFrame(bytes);
    if (!frame) {
      this.#events.protocolError(new ConfabError('FRAME_MALFORMED',
        `a WebSocket message of ${bytes.length} bytes is not one whole frame (5-byte header, then exactly the length it gives)`));
      return;
    }
    this.#events.frame(frame.type, frame.payload);
  }
}
