/**
 * A frame-level test client whose reading can be stopped and started again, over TCP or WebSocket: a slow
 * receiver that later catches up, for backpressure tests (RawClient can pause but not resume).
 *
 * @example
 *   const { client, welcome } = await PausableClient.join('tcp', port, { name: 'slow', room: 'r' });
 *   client.pause();
 *   // … the server's send queue for it fills up …
 *   client.resume();
 *   await client.next((f) => f.type === FrameType.ERROR);
 */
import { connect } from 'node:net';
import { WebSocket } from 'ws';
import { encodeFrame, encodeJsonFrame } from '../../core/frame.js';
import { FrameDecoder } from '../../core/frame-decoder.js';
import { FrameType, type Welcome } from '../../core/protocol.js';
import type { ReceivedFrame } from './raw-client.js';

interface Transport {
  write(bytes: Uint8Array): void;
  pause(): void;
  resume(): void;
  destroy(): void;
}

const OPEN_BRACE = 0x7b;

/** A raw frame client with pause() and resume(). */
export class PausableClient {
  /** Frames received and not yet taken by `next`. JSON is parsed only for payloads that start with `{`. */
  readonly frames: ReceivedFrame[] = [];
  /** Resolves when the connection is closed by either side. */
  readonly closed: Promise<void>;
  #transport: Transport;
  #waiters = new Set<() => void>();
  #isClosed = false;

  private constructor(transport: Transport, closed: Promise<void>) {
    this.#transport = transport;
    this.closed = closed.then(() => {
      this.#isClosed = true;
      this.#wake();
    });
  }

  /** Connects over `transport` and joins: sends HELLO and waits for WELCOME. */
  static async join(transport: 'tcp' | 'ws', port: number, hello: Record<string, unknown>): Promise<{ client: PausableClient; welcome: Welcome }> {
    const client = transport === 'tcp' ? await PausableClient.#tcp(port) : await PausableClient.#ws(port);
    client.sendJson(FrameType.HELLO, { v: 1, ...hello });
    const welcome = await client.next((f) => f.type === FrameType.WELCOME || f.type === FrameType.ERROR);
    if (welcome.type !== FrameType.WELCOME) {
      client.destroy();
      throw new Error(`join refused: ${JSON.stringify(welcome.json)}`);
    }
    return { client, welcome: welcome.json as Welcome };
  }

  static async #tcp(port: number): Promise<PausableClient> {
    const socket = connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.on('error', () => undefined);
    const decoder = new FrameDecoder();
    const client = new PausableClient({
      write: (bytes) => socket.write(bytes),
      pause: () => socket.pause(),
      resume: () => socket.resume(),
      destroy: () => socket.destroy(),
    }, new Promise((resolve) => socket.once('close', () => resolve())));
    socket.on('data', (chunk) => {
      for (const frame of decoder.push(chunk).frames) client.#receive(frame.type, frame.payload);
      client.#wake();
    });
    return client;
  }

  static async #ws(port: number): Promise<PausableClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.on('error', () => undefined);
    const client = new PausableClient({
      write: (bytes) => ws.send(bytes),
      pause: () => ws.pause(),
      resume: () => ws.resume(),
      destroy: () => ws.terminate(),
    }, new Promise((resolve) => ws.once('close', () => resolve())));
    ws.on('message', (data: Buffer) => {
      client.#receive(data[0], new Uint8Array(data.subarray(5)));
      client.#wake();
    });
    return client;
  }

  /** True once the connection is closed. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Stops reading: the server's writes pile up in the kernel, then in its send queue. */
  pause(): void {
    this.#transport.pause();
  }

  /** Reads again. */
  resume(): void {
    this.#transport.resume();
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.#transport.destroy();
  }

  /** Sends one frame. */
  send(type: number, payload: Uint8Array = new Uint8Array(0)): void {
    this.#transport.write(encodeFrame(type, payload));
  }

  /** Sends one frame with a JSON payload. */
  sendJson(type: number, value: unknown): void {
    this.#transport.write(encodeJsonFrame(type, value));
  }

  /**
   * The first received frame (taken out of `frames`) that matches, waiting up to `timeoutMs`.
   * Rejects on timeout or when the connection closes without one.
   */
  async next(match: (frame: ReceivedFrame) => boolean = () => true, timeoutMs = 3000): Promise<ReceivedFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex(match);
      if (index >= 0) return this.frames.splice(index, 1)[0]!;
      if (this.#isClosed) throw new Error('connection closed before the expected frame arrived');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms; received types: ${this.frames.map((f) => f.type).join(',')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        const waiter = () => done();
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#waiters.add(waiter);
      });
    }
  }

  #receive(type: number, payload: Uint8Array): void {
    const received: ReceivedFrame = { type, payload: Uint8Array.from(payload) };
    if (payload[0] === OPEN_BRACE) {
      try {
        received.json = JSON.parse(new TextDecoder().decode(payload));
      } catch {
        // Not JSON after all: the payload stays as bytes.
      }
    }
    this.frames.push(received);
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) waiter();
  }
}
