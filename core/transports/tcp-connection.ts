/**
 * Native framed TCP: a byte stream of frames, reassembled by the core's FrameDecoder.
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { FrameDecoder } from '../frame-decoder.js';
import type { Connection, ConnectionEvents } from '../types.js';
import { destroyWhenStalled } from './linger.js';

/** Options of a TcpConnection. */
export interface TcpConnectionOptions {
  maxPayload: number;
  /** Bytes already read from the socket, decoded before anything else. */
  firstChunk?: Uint8Array;
  /** The client's address and transport when the socket is not the client's own (a node link relaying it). */
  client?: { remoteAddress: string; transport: string };
}

/** A framed TCP client, handed over by the one-port listener with the bytes it already read. */
export class TcpConnection implements Connection {
  readonly transport: string;
  readonly remoteAddress: string;
  #socket: Socket;
  #decoder: FrameDecoder;
  #events: ConnectionEvents | undefined;
  #pending: Uint8Array[] = [];
  #closed = false;

  readonly #listeners: Record<'data' | 'end' | 'drain' | 'error' | 'close', (chunk: Buffer) => void>;

  constructor(socket: Socket, options: TcpConnectionOptions) {
    this.#socket = socket;
    this.remoteAddress = options.client?.remoteAddress ?? socket.remoteAddress ?? '';
    this.transport = options.client?.transport ?? 'tcp';
    this.#decoder = new FrameDecoder({ maxPayload: options.maxPayload });
    socket.setNoDelay(true);
    if (options.firstChunk) this.#pending.push(options.firstChunk);
    this.#listeners = {
      data: (chunk: Buffer) => this.#onData(chunk),
      end: () => this.#onEnd(),
      drain: () => this.#events?.drain(),
      error: () => socket.destroy(),
      close: () => {
        this.#closed = true;
        this.#events?.close();
      },
    };
    for (const [event, listener] of Object.entries(this.#listeners)) socket.on(event, listener);
  }

  /** True when the socket is a plain TCP socket that another process can take over (not TLS, not relayed). */
  get passable(): boolean {
    return this.transport === 'tcp' && !this.#closed && !(this.#socket instanceof TLSSocket);
  }

  /**
   * Stops reading and gives the socket up, paused, with the bytes of an unfinished frame; the connection
   * emits nothing more. For a worker that passes the socket to the worker hosting the client's room.
   */
  detach(): { socket: Socket; pending: Uint8Array } {
    this.#closed = true;
    this.#socket.pause();
    for (const [event, listener] of Object.entries(this.#listeners)) this.#socket.off(event, listener);
    return { socket: this.#socket, pending: this.#decoder.takePending() };
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
