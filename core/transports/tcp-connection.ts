/**
 * Native framed TCP: a byte stream of frames, reassembled by the core's FrameDecoder.
 */
import type { Socket } from 'node:net';
import { FrameDecoder } from '../frame-decoder.js';
import type { Connection, ConnectionEvents } from '../types.js';
import { destroyWhenStalled } from './linger.js';

/** A framed TCP client, handed over by the one-port listener with the bytes it already read. */
export class TcpConnection implements Connection {
  readonly transport = 'tcp';
  readonly remoteAddress: string;
  #socket: Socket;
  #decoder: FrameDecoder;
  #events: ConnectionEvents | undefined;
  #pending: Uint8Array[] = [];
  #closed = false;

  constructor(socket: Socket, options: { maxPayload: number; firstChunk?: Uint8Array }) {
    this.#socket = socket;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.#decoder = new FrameDecoder({ maxPayload: options.maxPayload });
    socket.setNoDelay(true);
    if (options.firstChunk) this.#pending.push(options.firstChunk);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('drain', () => this.#events?.drain());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.#closed = true;
      this.#events?.close();
    });
  }

  get bufferedBytes(): number {
    return this.#socket.writableLength;
  }

  listen(events: ConnectionEvents): void {
    this.#events = events;
    const pending = this.#pending;
    this.#pending = [];
    for (const chunk of pending) this.#onData(chunk);
  }

  write(frame: Uint8Array): void {
    if (!this.#closed && this.#socket.writable) this.#socket.write(frame);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.end();
    destroyWhenStalled(() => this.#socket.writableLength, () => this.#socket.destroyed, () => this.#socket.destroy());
  }

  #onData(chunk: Uint8Array): void {
    if (!this.#events) {
      this.#pending.push(chunk);
      return;
    }
    if (this.#closed) return;
    const { frames, error } = this.#decoder.push(chunk);
    for (const frame of frames) {
      if (this.#closed) return;
      this.#events.frame(frame.type, frame.payload);
    }
    if (error) this.#events.protocolError(error);
  }

  #onEnd(): void {
    const error = this.#decoder.end();
    if (error && this.#events) this.#events.protocolError(error);
    else this.close();
  }
}
