/**
 * A receiver for the congestion bench whose link is capped: a raw TCP client that reads the server's bytes
 * no faster than `capBps`, evenly (every PACE_MS it takes what the rate allows from the socket's buffer, as
 * a slow link would deliver it), answers the server's PINGs (the link probe) as any client does, and keeps
 * every video frame it gets, with when it got it. What it does not read waits in the kernels' buffers and
 * then in the server's queue, as it would behind a slow link.
 */
import net from 'node:net';
import { encodeFrame, encodeJsonFrame } from '../core/frame.js';
import { FrameDecoder } from '../core/frame-decoder.js';
import { decodeMediaFrame, type MediaFrame } from '../core/media.js';
import { FrameType, type Welcome } from '../core/protocol.js';

/** How often the capped receiver reads. */
const PACE_MS = 10;

/** A frame as a bench receiver got it. */
export interface ReceivedFrame {
  /** performance.now() at arrival. */
  at: number;
  frame: MediaFrame;
}

/** A connected capped receiver. */
export interface CappedReceiver {
  readonly frames: ReceivedFrame[];
  /** Closes the connection. */
  close(): void;
}

/** Joins `room` on `port` as `name`, reading at most `capBps` bits per second. */
export async function joinCapped(port: number, room: string, name: string, capBps: number): Promise<CappedReceiver> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const decoder = new FrameDecoder({ maxPayload: 16 * 1024 * 1024 });
  const frames: ReceivedFrame[] = [];
  let videoId = -1;
  let welcomed!: () => void;
  const welcome = new Promise<void>((resolve) => (welcomed = resolve));
  let heartbeat: ReturnType<typeof setInterval> | undefined;

  const take = (chunk: Buffer, now: number) => {
    for (const { type, payload } of decoder.push(chunk).frames) {
      if (type === FrameType.PING) socket.write(encodeFrame(FrameType.PONG, payload));
      else if (type === FrameType.WELCOME) {
        const value = JSON.parse(Buffer.from(payload).toString('utf8')) as Welcome;
        videoId = value.channels.video ?? -1;
        heartbeat = setInterval(() => socket.write(encodeFrame(FrameType.PING)), value.heartbeatMs);
        welcomed();
      } else if (type === videoId) {
        const decoded = decodeMediaFrame(payload);
        if (decoded.ok) frames.push({ at: now, frame: { ...decoded.frame, data: decoded.frame.data.slice() } });
      }
    }
  };
  // Pull mode: bytes stay in the socket until the pacer reads them.
  let budget = 0;
  socket.on('readable', () => undefined);
  const pacer = setInterval(() => {
    budget = Math.min(budget + (capBps / 8) * (PACE_MS / 1000), capBps / 8);
    const size = Math.min(Math.floor(budget), socket.readableLength);
    if (size <= 0) return;
    const chunk = socket.read(size) as Buffer | null;
    if (!chunk) return;
    budget -= chunk.length;
    take(chunk, performance.now());
  }, PACE_MS);
  socket.on('error', () => socket.destroy());
  socket.write(encodeJsonFrame(FrameType.HELLO, { v: 1, name, room, client: 'bench' }));
  await welcome;
  return {
    frames,
    close() {
      clearInterval(pacer);
      clearInterval(heartbeat);
      socket.destroy();
    },
  };
}
