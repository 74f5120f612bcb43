/**
 * WebSocket at `/ws`: one binary message is exactly one frame.
 */
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import { ConfabError } from '../errors.js';
import { decodeSingleFrame } from '../frame.js';
import type { Connection, ConnectionEvents } from '../types.js';

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
    ws.on('error', () => ws.terminate());
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
    setTimeout(() => this.#ws.terminate(), 2000).unref();
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
