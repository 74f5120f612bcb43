/**
 * The media frame header, shared by every media plugin (video-relay, audio-mix, screen) and their clients.
 *
 * A media channel's payload is this header followed by the encoded bytes (a JPEG, an Opus packet, PCM…):
 *
 *   offset  size  field
 *   0       1     version (1)
 *   1       1     flags: bit 0     keyframe (a frame that decodes on its own)
 *                        bits 1–2  temporal layer id, 0 (base) to 2 (MAX_TEMPORAL_LAYER)
 *                        bit 3     switch-up point: this frame references base-layer frames only, so a receiver
 *                                  that had only lower layers may start taking its layer here
 *                        bits 4–7  base-layer index: counts base-layer frames (keyframes too) mod 16; every frame
 *                                  carries the index of the base-layer frame it builds on, so a receiver sees a
 *                                  lost base-layer frame as a jump (like RTP's TL0PICIDX)
 *   2       1     codec (MediaCodec)
 *   3       1     sender id length in bytes (0..255)
 *   4       4     sequence number, uint32 big-endian, per sender and stream, wrapping
 *   8       8     capture timestamp, float64 big-endian, milliseconds since the Unix epoch
 *   16      n     sender id (UTF-8): empty or the sender's own id from a client; always set by the server
 *   16+n    …     the encoded media
 *
 * A client may leave the sender empty; the server checks it owns any sender it names and rewrites the header
 * with the sender's session id before relaying, so receivers always know who a frame is from.
 *
 * Temporal layers (VP8 `L1T3`): every frame belongs to layer 0, 1 or 2; a frame never references a frame of a
 * higher layer, so a relay can leave out layers 2, or 1 and 2, for a slow receiver and the picture still
 * decodes at a half or a quarter of the rate. A client that knows nothing of layers sends 0 in bits 1–7 (every
 * frame base layer, index 0) and ignores them on receipt: the version stays 1.
 *
 * This module works in Node and in the browser (Uint8Array and DataView only).
 */

/** Codec ids on the wire. */
export const MediaCodec = {
  /** A JPEG image; every frame is a keyframe. */
  JPEG: 1,
  /** One Opus packet of 20 ms, 48 kHz mono. */
  OPUS: 2,
  /** Signed 16-bit little-endian PCM, 48 kHz mono, 960 samples (20 ms). */
  PCM_S16LE: 3,
  /** A VP8 frame (RFC 6386), as WebCodecs' `VideoEncoder` and libvpx make it; deltas need the frames before. */
  VP8: 4,
  /** An H.264 access unit in Annex B (reserved). */
  H264: 5,
} as const;

/** A codec id. */
export type MediaCodec = (typeof MediaCodec)[keyof typeof MediaCodec];

/** The header's version byte. */
export const MEDIA_HEADER_VERSION = 1;
/** Bytes before the sender id. */
export const MEDIA_HEADER_FIXED_BYTES = 16;
/** The highest temporal layer id (three layers: 0, 1, 2). */
export const MAX_TEMPORAL_LAYER = 2;
/** Base-layer indexes count modulo this (4 bits). */
export const BASE_INDEX_MODULO = 16;

const CODECS: ReadonlySet<number> = new Set(Object.values(MediaCodec));
const KEYFRAME_FLAG = 0x01;
const LAYER_SHIFT = 1;
const LAYER_MASK = 0x03;
const SWITCH_UP_FLAG = 0x08;
const BASE_INDEX_SHIFT = 4;
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** A media frame: the header's fields and the encoded bytes. */
export interface MediaFrame {
  /** Codec of `data`. */
  codec: MediaCodec;
  /** True when the frame decodes on its own (always for JPEG, PCM and Opus). */
  keyframe: boolean;
  /** Temporal layer id, 0 (base) to MAX_TEMPORAL_LAYER; 0 for every frame of a stream without layers. */
  layer: number;
  /** A switch-up point: the frame references base-layer frames only, so a receiver may start taking its layer here. */
  switchUp: boolean;
  /** The base-layer index (0–15) of the base-layer frame this frame builds on (its own, for a base-layer frame). */
  baseIndex: number;
  /** Sequence number, per sender and stream, wrapping at 2^32. */
  seq: number;
  /** Capture time, milliseconds since the Unix epoch (fractions allowed). */
  captureMs: number;
  /** The sender's session id; empty in a frame from a client that leaves it to the server. */
  sender: string;
  /** The encoded media. */
  data: Uint8Array;
}

/** What `encodeMediaFrame` takes: a frame whose layer fields may be left out (base layer, index 0). */
export type MediaFrameInit = Omit<MediaFrame, 'layer' | 'switchUp' | 'baseIndex'> & Partial<Pick<MediaFrame, 'layer' | 'switchUp' | 'baseIndex'>>;

/** Why a media frame was refused by `decodeMediaFrame`. */
export type MediaFrameProblem = 'short-header' | 'bad-version' | 'unknown-codec' | 'bad-sender' | 'bad-layer';

/** The result of decoding: the frame, or the problem that made it malformed. */
export type DecodedMediaFrame = { ok: true; frame: MediaFrame } | { ok: false; problem: MediaFrameProblem };

/** Encodes a media frame: header, sender id, data, in one new buffer. */
export function encodeMediaFrame(frame: MediaFrameInit): Uint8Array {
  const sender = utf8Encoder.encode(frame.sender);
  if (sender.length > 255) throw new RangeError('a media sender id is at most 255 bytes of UTF-8');
  const bytes = new Uint8Array(MEDIA_HEADER_FIXED_BYTES + sender.length + frame.data.length);
  writeHeader(bytes, frame, sender);
  bytes.set(frame.data, MEDIA_HEADER_FIXED_BYTES + sender.length);
  return bytes;
}

/**
 * Decodes a media frame. `data` is a view into `bytes`, not a copy. Never throws: a malformed frame comes
 * back as `{ ok: false, problem }` for the caller to count and drop.
 */
export function decodeMediaFrame(bytes: Uint8Array): DecodedMediaFrame {
  if (bytes.length < MEDIA_HEADER_FIXED_BYTES) return { ok: false, problem: 'short-header' };
  if (bytes[0] !== MEDIA_HEADER_VERSION) return { ok: false, problem: 'bad-version' };
  const codec = bytes[2]!;
  if (!CODECS.has(codec)) return { ok: false, problem: 'unknown-codec' };
  const flags = bytes[1]!;
  const keyframe = (flags & KEYFRAME_FLAG) !== 0;
  const layer = (flags >> LAYER_SHIFT) & LAYER_MASK;
  // A keyframe starts the base layer: a keyframe on a higher layer could be left out by a relay.
  if (layer > MAX_TEMPORAL_LAYER || (keyframe && layer !== 0)) return { ok: false, problem: 'bad-layer' };
  const senderLength = bytes[3]!;
  if (bytes.length < MEDIA_HEADER_FIXED_BYTES + senderLength) return { ok: false, problem: 'short-header' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let sender: string;
  try {
    sender = utf8Decoder.decode(bytes.subarray(MEDIA_HEADER_FIXED_BYTES, MEDIA_HEADER_FIXED_BYTES + senderLength));
  } catch {
    return { ok: false, problem: 'bad-sender' };
  }
  return {
    ok: true,
    frame: {
      codec: codec as MediaCodec,
      keyframe,
      layer,
      switchUp: (flags & SWITCH_UP_FLAG) !== 0,
      baseIndex: flags >> BASE_INDEX_SHIFT,
      seq: view.getUint32(4),
      captureMs: view.getFloat64(8),
      sender,
      data: bytes.subarray(MEDIA_HEADER_FIXED_BYTES + senderLength),
    },
  };
}

/**
 * Re-encodes a received frame with the server's idea of its sender: what a relay does before fan-out.
 * One allocation per relayed frame, shared by every receiver.
 */
export function withSender(frame: MediaFrame, sender: string): Uint8Array {
  return encodeMediaFrame({ ...frame, sender });
}

function writeHeader(bytes: Uint8Array, frame: MediaFrameInit, sender: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  bytes[0] = MEDIA_HEADER_VERSION;
  bytes[1] = (frame.keyframe ? KEYFRAME_FLAG : 0)
    | (((frame.layer ?? 0) & LAYER_MASK) << LAYER_SHIFT)
    | (frame.switchUp ? SWITCH_UP_FLAG : 0)
    | (((frame.baseIndex ?? 0) % BASE_INDEX_MODULO) << BASE_INDEX_SHIFT);
  bytes[2] = frame.codec;
  bytes[3] = sender.length;
  view.setUint32(4, frame.seq >>> 0);
  view.setFloat64(8, frame.captureMs);
  bytes.set(sender, MEDIA_HEADER_FIXED_BYTES);
}

/** What a publisher may say about one outgoing frame. */
export interface PublishOptions {
  /** Capture time, ms since the Unix epoch. Default now. */
  captureMs?: number;
  /** True when the frame decodes on its own. Default true (every JPEG does). */
  keyframe?: boolean;
  /** Codec of the bytes. Default the stream's codec. */
  codec?: MediaCodec;
  /** Temporal layer id (0–2) of the frame. Default 0. A keyframe is always layer 0. */
  layer?: number;
  /** Whether a receiver may start taking this frame's layer here (see the header). Default: layer 0 or keyframe. */
  switchUp?: boolean;
}

/**
 * Frames one outgoing stream of a client: sequence numbers from 0, wrapping at 2^32, and the sender left
 * empty for the server to fill in. A client half keeps one per stream it publishes.
 *
 * @example
 *   const camera = new MediaStreamWriter(MediaCodec.JPEG);
 *   ctx.send('video', camera.frame(jpeg, { captureMs: performance.timeOrigin + performance.now() }));
 */
export class MediaStreamWriter {
  /** The codec of frames that do not name one. */
  readonly codec: MediaCodec;
  #seq = 0;
  /** The base-layer index of the last base-layer frame written (-1: none yet, so the first one is 0). */
  #baseIndex = -1;

  constructor(codec: MediaCodec) {
    this.codec = codec;
  }

  /** Encodes the next frame of the stream. */
  frame(data: Uint8Array, options: PublishOptions = {}): Uint8Array {
    const keyframe = options.keyframe ?? true;
    const layer = keyframe ? 0 : options.layer ?? 0;
    if (!Number.isInteger(layer) || layer < 0 || layer > MAX_TEMPORAL_LAYER) throw new RangeError(`a temporal layer is 0 to ${MAX_TEMPORAL_LAYER}, got ${layer}`);
    if (layer === 0) this.#baseIndex = (this.#baseIndex + 1) % BASE_INDEX_MODULO;
    const frame = encodeMediaFrame({
      codec: options.codec ?? this.codec,
      keyframe,
      layer,
      switchUp: options.switchUp ?? layer === 0,
      baseIndex: Math.max(0, this.#baseIndex),
      seq: this.#seq,
      captureMs: options.captureMs ?? Date.now(),
      sender: '',
      data,
    });
    this.#seq = (this.#seq + 1) >>> 0;
    return frame;
  }
}
