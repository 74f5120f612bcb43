/**
 * The codec bench's rig: a Confab server in this process (video-relay, audio-mix, and the web plugin for the
 * browser publisher) whose message hooks count, per publisher, the media bytes that arrive on the wire
 * (each frame's payload, header included, plus the 5-byte frame header), and a receiving bot per room that
 * keeps every video frame it is sent, as a decoder would get them.
 */
import { MediaCodec, decodeMediaFrame } from '../core/media.js';
import { startTestServer, type TestClient, type TestServer } from '../core/testing.js';
import { audioMix } from '../plugins/audio-mix/server.js';
import { videoClient, type VideoApi } from '../plugins/video-relay/client.js';
import { videoRelay } from '../plugins/video-relay/server.js';
import { web } from '../plugins/web/server.js';

/** Bytes of a frame's own header on the wire (type u8, length u32). */
const FRAME_HEADER_BYTES = 5;

/** What one publisher sent of one kind, as the server received it. */
export interface WireCount {
  frames: number;
  bytes: number;
  /** Codecs seen (MediaCodec ids). */
  codecs: Set<number>;
  keyframes: number;
  /** When the first and last frame arrived (ms, performance.now()). */
  firstMs: number;
  lastMs: number;
}

/** A received video frame, kept. */
export interface ReceivedFrame {
  seq: number;
  codec: number;
  keyframe: boolean;
  data: Uint8Array;
  arrivedMs: number;
}

/** The rig. */
export interface CodecRig {
  readonly lab: TestServer;
  /** Counts by publisher name, then `video` or `audio`. */
  readonly wire: Map<string, { video: WireCount; audio: WireCount }>;
  /** Joins `room` as the receiving bot; its frames by sender name. */
  receive(room: string): Promise<Receiver>;
  close(): Promise<void>;
}

/** The receiving bot of one room. */
export interface Receiver {
  readonly client: TestClient<{ video: ReturnType<typeof videoClient> }>;
  readonly video: VideoApi;
  /** Video frames by sender name, in arrival order. */
  readonly frames: Map<string, ReceivedFrame[]>;
}

/** A fresh count. */
function emptyCount(): WireCount {
  return { frames: 0, bytes: 0, codecs: new Set(), keyframes: 0, firstMs: 0, lastMs: 0 };
}

/**
 * Starts the server and the counting.
 *
 * @example
 *   const rig = await startCodecRig();
 *   const receiver = await rig.receive('vp8');
 *   … publish into room vp8 …
 *   rig.wire.get('injector')!.video.bytes
 */
export async function startCodecRig(): Promise<CodecRig> {
  const lab = await startTestServer({ plugins: [videoRelay(), audioMix(), web({ minify: false })] });
  const wire = new Map<string, { video: WireCount; audio: WireCount }>();
  for (const kind of ['video', 'audio'] as const) {
    lab.server.hooks.message.for(kind).tap('codec-bench', (session, message) => {
      const payload = message as Uint8Array;
      const decoded = decodeMediaFrame(payload);
      if (!decoded.ok) return;
      let entry = wire.get(session.name);
      if (!entry) wire.set(session.name, (entry = { video: emptyCount(), audio: emptyCount() }));
      const count = entry[kind];
      const now = performance.now();
      if (count.frames === 0) count.firstMs = now;
      count.lastMs = now;
      count.frames++;
      count.bytes += payload.length + FRAME_HEADER_BYTES;
      count.codecs.add(decoded.frame.codec);
      if (decoded.frame.keyframe && decoded.frame.codec !== MediaCodec.OPUS && decoded.frame.codec !== MediaCodec.PCM_S16LE) count.keyframes++;
    });
  }
  return {
    lab,
    wire,
    async receive(room) {
      const client = await lab.connect('receiver', { room, plugins: { video: videoClient() } });
      const frames = new Map<string, ReceivedFrame[]>();
      client.video.on('frame', (frame) => {
        const name = client.client.peers.get(frame.sender)?.name ?? frame.sender;
        let list = frames.get(name);
        if (!list) frames.set(name, (list = []));
        list.push({ seq: frame.seq, codec: frame.codec, keyframe: frame.keyframe, data: frame.data.slice(), arrivedMs: performance.now() });
      });
      return { client, video: client.video, frames };
    },
    close: () => lab.close(),
  };
}

/** Bits per second of a count over its own window (first to last frame, plus one frame interval). */
export function bitsPerSecond(count: WireCount, frameMs: number): number {
  const seconds = (count.lastMs - count.firstMs + frameMs) / 1000;
  return count.frames === 0 || seconds <= 0 ? 0 : (count.bytes * 8) / seconds;
}
