/**
 * The cluster bench's load generator clients: native framed TCP (the transport whose socket a worker of
 * `confab serve --workers N` passes to the worker hosting the room), one `net` socket each, decoded with the
 * core's FrameDecoder. A client answers PING with PONG (as every client does, docs/protocol.md), so the
 * server's link probes see a live, uncongested link; it sends its own PING when `ping()` is called.
 *
 * - `openClient` connects (not timed), then times HELLO → WELCOME (`joinMs`).
 * - Media frames that arrive on `onMedia`'s channel are passed to it with the payload (the media header first).
 * - With `batchReads`, the client reads its socket at most once per READ_BATCH_MS after WELCOME (it pauses
 *   after each read): clients on other machines cost the server the same, and this process, which plays
 *   hundreds of them on a core it shares with a worker, makes a few large reads instead of one per frame.
 *   What arrives is then up to READ_BATCH_MS late, so a client that measures latency does not batch.
 */
import net from 'node:net';
import { encodeFrame, encodeJsonFrame } from '../core/frame.js';
import { FrameDecoder } from '../core/frame-decoder.js';
import { FrameType, type Welcome } from '../core/protocol.js';

/** One connected bench client. */
export interface BenchClient {
  readonly welcome: Welcome;
  /** HELLO written → WELCOME decoded, ms (performance.now(), this process's clock). */
  readonly joinMs: number;
  /** Writes one frame of `type` with `payload`. */
  send(type: number, payload: Uint8Array): void;
  /** Writes a JSON frame on the channel `channel` (by name). */
  sendJson(channel: string, value: unknown): void;
  /** Writes a heartbeat PING. */
  ping(): void;
  /** BYE, then waits until the server has closed the connection (at most 2 s, then it is destroyed). */
  close(): Promise<void>;
  /** Destroys the socket at once. */
  destroy(): void;
}

export interface OpenOptions {
  host: string;
  port: number;
  room: string;
  name: string;
  /** Called for every frame on a media channel of the server (type id, payload). */
  onMedia?: (type: number, payload: Uint8Array) => void;
  /** How long to wait for WELCOME. Default 15 s. */
  timeoutMs?: number;
  /** Read the socket at most once per READ_BATCH_MS once joined (see above). */
  batchReads?: boolean;
}

const PING = encodeFrame(FrameType.PING);

/** How often a batching client reads its socket. */
const READ_BATCH_MS = 20;
/** Batching clients' sockets paused since their last read, resumed together every READ_BATCH_MS. */
const pausedForBatch = new Set<net.Socket>();
let batchTimer: NodeJS.Timeout | undefined;

function readLater(socket: net.Socket): void {
  socket.pause();
  pausedForBatch.add(socket);
  batchTimer ??= setInterval(() => {
    for (const paused of pausedForBatch) paused.resume();
    pausedForBatch.clear();
  }, READ_BATCH_MS).unref();
}

/** Connects, sends HELLO, resolves at WELCOME (rejects on ERROR, close or timeout). */
export async function openClient(options: OpenOptions): Promise<BenchClient> {
  const socket = net.connect({ host: options.host, port: options.port, noDelay: true });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const decoder = new FrameDecoder({ maxPayload: 16 * 1024 * 1024 });
  let media: Set<number> | undefined;
  let closed = false;
  const gone = new Promise<void>((resolve) => socket.once('close', () => {
    closed = true;
    pausedForBatch.delete(socket);
    resolve();
  }));
  socket.on('error', () => socket.destroy());
  let started = 0;
  const welcome = await new Promise<{ value: Welcome; at: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${options.name}: no WELCOME within ${options.timeoutMs ?? 15_000} ms`)), options.timeoutMs ?? 15_000);
    void gone.then(() => reject(new Error(`${options.name}: the connection closed before WELCOME`)));
    socket.on('data', (chunk: Buffer) => {
      const { frames, error } = decoder.push(chunk);
      if (error) {
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        if (media?.has(frame.type)) {
          options.onMedia?.(frame.type, frame.payload);
        } else if (frame.type === FrameType.PING) {
          if (!socket.destroyed) socket.write(encodeFrame(FrameType.PONG, frame.payload));
        } else if (frame.type === FrameType.WELCOME) {
          const at = performance.now();
          const value = JSON.parse(Buffer.from(frame.payload).toString('utf8')) as Welcome;
          media = new Set(Object.entries(value.channels).filter(([name]) => value.channelKinds?.[name] === 'media').map(([, id]) => id));
          clearTimeout(timer);
          resolve({ value, at });
        } else if (frame.type === FrameType.ERROR && media === undefined) {
          clearTimeout(timer);
          reject(new Error(`${options.name}: ERROR ${Buffer.from(frame.payload).toString('utf8')}`));
        }
      }
      if (options.batchReads && media !== undefined && !closed) readLater(socket);
    });
    started = performance.now();
    socket.write(encodeJsonFrame(FrameType.HELLO, { v: 1, name: options.name, room: options.room, client: 'bench' }));
  }).catch((error: unknown) => {
    socket.destroy();
    throw error;
  });
  const channels = welcome.value.channels;
  return {
    welcome: welcome.value,
    joinMs: welcome.at - started,
    send(type, payload) {
      if (!closed) socket.write(encodeFrame(type, payload));
    },
    sendJson(channel, value) {
      const id = channels[channel];
      if (id === undefined) throw new Error(`the server has no channel "${channel}"`);
      if (!closed) socket.write(encodeJsonFrame(id, value));
    },
    ping() {
      if (!closed) socket.write(PING);
    },
    async close() {
      if (closed) return;
      // Read again until the server closes (a batching client may be paused).
      options.batchReads = false;
      pausedForBatch.delete(socket);
      socket.resume();
      socket.write(encodeJsonFrame(FrameType.BYE, { reason: 'bench done' }));
      const timer = setTimeout(() => socket.destroy(), 2000);
      await gone;
      clearTimeout(timer);
    },
    destroy() {
      socket.destroy();
    },
  };
}
