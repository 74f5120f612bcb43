/**
 * The load generator's clients for the video relay bench: one publisher and N subscribers over `ws`, the
 * same code and the same bytes for both servers under test. Every message is a media frame
 * (core/media.ts): the publisher writes its seq and send time (`performance.now()`, shared by every client
 * in this process) into the header; a subscriber reads them back at fixed offsets, without copying.
 *
 *   Confab: HELLO → WELCOME (video channel id from it); frames wrapped in the 5-byte frame header;
 *           the server rewrites the sender id; PING every heartbeatMs
 *
 * With codec `vp8` the frames are what a VP8 publisher sends (frame 0 a keyframe, then deltas in the
 * L1T3 pattern, with VP8 frame tags the server checks), so Confab takes its layered forwarding path;
 * with `jpeg` every frame is a keyframe, the JPEG path.
 *   bare:   the media frame itself as one binary message, forwarded as it is
 */
import { WebSocket } from 'ws';
import { decodeSingleFrame, encodeFrame, encodeJsonFrame } from '../core/frame.js';
import { encodeMediaFrame, MediaCodec } from '../core/media.js';
import { FrameType, type Welcome } from '../core/protocol.js';

/** Which server a client talks to. */
export type RelayKind = 'bare' | 'confab';

/** What the frames are: VP8 with temporal layers, or JPEG. */
export type RelayCodec = 'vp8' | 'jpeg';

/** One connected bench client. */
export interface RelayClient {
  /** Sends one frame (publisher) with this seq and send time. */
  publish(seq: number, sentAt: number): void;
  /** Sends a heartbeat if the protocol needs one. */
  ping(): void;
  /** Closes the connection (Confab: BYE first). */
  close(): void;
  /** The heartbeat the server asked for (Confab), or undefined. */
  readonly heartbeatMs: number | undefined;
}

/** What a subscriber reports: a frame arrived with this seq, sent at `sentAt` (performance.now()). */
export type FrameListener = (seq: number, sentAt: number) => void;

/** Connects one client; `onFrame` is called for every video frame it receives. */
export function openRelayClient(kind: RelayKind, codec: RelayCodec, port: number, name: string, frameBytes: number, onFrame: FrameListener): Promise<RelayClient> {
  const frames = new FrameMaker(codec, frameBytes);
  return kind === 'confab' ? openConfab(port, name, frames, onFrame) : openBare(port, frames, onFrame);
}

/** Reads seq and send time from a media header that starts at `at`. */
function readHeader(data: Buffer, at: number, onFrame: FrameListener): void {
  onFrame(data.readUInt32BE(at + 4), data.readDoubleBE(at + 8));
}

/** Makes the publisher's media frames: frame `seq` of the stream, with its send time. */
class FrameMaker {
  readonly #codec: RelayCodec;
  readonly #keyframe: Uint8Array;
  readonly #delta: Uint8Array;

  constructor(codec: RelayCodec, frameBytes: number) {
    this.#codec = codec;
    this.#keyframe = new Uint8Array(frameBytes).fill(0x5a);
    this.#delta = new Uint8Array(frameBytes).fill(0x5a);
    if (codec === 'vp8') {
      // A VP8 keyframe's tag, start code and 640×480; a delta's tag has the inter-frame bit set.
      this.#keyframe.set([0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]);
      this.#delta.set([0x01, 0x00, 0x00]);
    }
  }

  frame(seq: number, sentAt: number): Uint8Array {
    if (this.#codec === 'jpeg') return encodeMediaFrame({ codec: MediaCodec.JPEG, keyframe: true, seq, captureMs: sentAt, sender: '', data: this.#keyframe });
    const position = seq % 4;
    return encodeMediaFrame({
      codec: MediaCodec.VP8, keyframe: seq === 0, layer: [0, 2, 1, 2][position], switchUp: position !== 3, baseIndex: Math.floor(seq / 4) % 16,
      seq, captureMs: sentAt, sender: '', data: seq === 0 ? this.#keyframe : this.#delta,
    });
  }
}

async function connectWs(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
  await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.on('error', () => ws.terminate());
  return ws;
}

async function openBare(port: number, frames: FrameMaker, onFrame: FrameListener): Promise<RelayClient> {
  const ws = await connectWs(`ws://127.0.0.1:${port}/`);
  ws.on('message', (message: Buffer) => readHeader(message, 0, onFrame));
  return {
    heartbeatMs: undefined,
    publish: (seq, sentAt) => ws.send(frames.frame(seq, sentAt)),
    ping: () => undefined,
    close: () => ws.close(),
  };
}

async function openConfab(port: number, name: string, frames: FrameMaker, onFrame: FrameListener): Promise<RelayClient> {
  const ws = await connectWs(`ws://127.0.0.1:${port}/ws`);
  let videoId = -1;
  const welcome = new Promise<Welcome>((resolve, reject) => {
    ws.once('close', () => reject(new Error(`${name}: the connection closed before WELCOME`)));
    ws.on('message', (message: Buffer) => {
      if (message[0] === videoId) return readHeader(message, 5, onFrame);
      const frame = decodeSingleFrame(message);
      if (frame?.type === FrameType.WELCOME) {
        const value = JSON.parse(Buffer.from(frame.payload).toString('utf8')) as Welcome;
        videoId = value.channels.video ?? -1;
        if (videoId < 0) reject(new Error('the server has no video channel'));
        resolve(value);
      } else if (frame?.type === FrameType.ERROR) {
        reject(new Error(`${name}: ERROR ${Buffer.from(frame.payload).toString('utf8')}`));
      }
    });
  });
  ws.send(encodeJsonFrame(FrameType.HELLO, { v: 1, name, room: 'relay', client: 'bench' }));
  const { heartbeatMs } = await welcome;
  const ping = encodeFrame(FrameType.PING);
  return {
    heartbeatMs,
    publish: (seq, sentAt) => ws.send(encodeFrame(videoId, frames.frame(seq, sentAt))),
    ping: () => ws.send(ping),
    close: () => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(encodeJsonFrame(FrameType.BYE, { reason: 'bench done' }));
      ws.close();
    },
  };
}
