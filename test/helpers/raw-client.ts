/**
 * A raw protocol client for tests: speaks frames byte by byte over TCP or WebSocket, so tests can send
 * exactly what a broken or hostile client would, and wait for what the server answers.
 */
import { connect, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import { encodeFrame, encodeJsonFrame, type Frame } from '../../core/frame.js';
import { FrameDecoder } from '../../core/frame-decoder.js';
import { FrameType, type Welcome } from '../../core/protocol.js';

/** A frame as the test sees it, with the payload parsed as JSON when it is JSON. */
export interface ReceivedFrame extends Frame {
  json?: any;
}

/** A frame-level client on a real socket. */
export class RawClient {
  readonly frames: ReceivedFrame[] = [];
  /** Resolves when the connection is closed by either side. */
  readonly closed: Promise<void>;
  #write: (bytes: Uint8Array) => void;
  #end: () => void;
  #waiters = new Set<() => void>();
  #isClosed = false;

  private constructor(write: (bytes: Uint8Array) => void, end: () => void, closed: Promise<void>) {
    this.#write = write;
    this.#end = end;
    this.closed = closed.then(() => {
      this.#isClosed = true;
      this.#wake();
    });
  }

  /** Opens a native framed TCP connection. */
  static async tcp(port: number): Promise<RawClient> {
    const socket: Socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.on('error', () => undefined);
    // Half-open so a test can end its side and still read the server's answer; close when the server ends.
    socket.on('end', () => socket.end());
    const decoder = new FrameDecoder();
    const client = new RawClient((bytes) => socket.write(bytes), () => socket.end(),
      new Promise((resolve) => socket.once('close', () => resolve())));
    socket.on('data', (chunk) => client.#receive(decoder.push(chunk).frames));
    client.destroy = () => socket.destroy();
    client.pause = () => socket.pause();
    client.resume = () => socket.resume();
    return client;
  }

  /** Opens a WebSocket connection at /ws. */
  static async ws(port: number): Promise<RawClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.on('error', () => undefined);
    const client = new RawClient((bytes) => ws.send(bytes), () => ws.close(),
      new Promise((resolve) => ws.once('close', () => resolve())));
    ws.on('message', (data: Buffer) => {
      client.#receive([{ type: data[0], payload: new Uint8Array(data.subarray(5)) }]);
    });
    client.destroy = () => ws.terminate();
    client.pause = () => ws.pause();
    client.resume = () => ws.resume();
    client.sendText = (text: string) => ws.send(text);
    return client;
  }

  /** Connects over `transport` and joins: sends HELLO and waits for WELCOME. */
  static async join(transport: 'tcp' | 'ws', port: number, hello: Record<string, unknown>): Promise<{ client: RawClient; welcome: Welcome }> {
    const client = transport === 'tcp' ? await RawClient.tcp(port) : await RawClient.ws(port);
    client.sendJson(FrameType.HELLO, { v: 1, ...hello });
    const welcome = await client.next((f) => f.type === FrameType.WELCOME || f.type === FrameType.ERROR);
    if (welcome.type !== FrameType.WELCOME) {
      client.destroy();
      throw new Error(`join refused: ${JSON.stringify(welcome.json)}`);
    }
    return { client, welcome: welcome.json as Welcome };
  }

  /** Drops the connection at once (no BYE, no FIN handshake wait). */
  destroy: () => void = () => undefined;
  /** Stops reading from the socket (a slow receiver). */
  pause: () => void = () => undefined;
  /** Reads again after `pause()` (the slow receiver catches up). */
  resume: () => void = () => undefined;
  /** Sends a text WebSocket message (WebSocket clients only). */
  sendText: (text: string) => void = () => {
    throw new Error('not a WebSocket client');
  };

  /** Writes raw bytes (TCP: onto the stream; WebSocket: as one binary message). */
  sendBytes(bytes: Uint8Array): void {
    this.#write(bytes);
  }

  /** Sends one frame. */
  send(type: number, payload: Uint8Array = new Uint8Array(0)): void {
    this.#write(encodeFrame(type, payload));
  }

  /** Sends one frame with a JSON payload. */
  sendJson(type: number, value: unknown): void {
    this.#write(encodeJsonFrame(type, value));
  }

  /** Half-closes (TCP) or closes (WebSocket) the connection. */
  end(): void {
    this.#end();
  }

  /** True once the connection is closed. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /**
   * The first received frame (consumed from `frames`) that matches, waiting up to `timeoutMs`.
   * Rejects on timeout or when the connection closes without one.
   */
  async next(match: (frame: ReceivedFrame) => boolean = () => true, timeoutMs = 3000): Promise<ReceivedFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex(match);
      if (index >= 0) return this.frames.splice(index, 1)[0];
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

  /** The next ERROR frame's payload. */
  async nextError(timeoutMs?: number): Promise<{ code: string; message: string; fatal: boolean; channel?: string; ref?: string }> {
    return (await this.next((f) => f.type === FrameType.ERROR, timeoutMs)).json;
  }

  #receive(frames: Frame[]): void {
    for (const frame of frames) {
      const received: ReceivedFrame = { type: frame.type, payload: frame.payload };
      // Only payloads that look like a JSON object are parsed: large binary floods stay cheap.
      if (frame.payload[0] === 0x7b) {
        try {
          received.json = JSON.parse(new TextDecoder().decode(frame.payload));
        } catch {
          // Not JSON after all: the bytes stay as they are.
        }
      }
      this.frames.push(received);
    }
    this.#wake();
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) waiter();
  }
}
