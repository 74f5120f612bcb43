/**
 * IVF, the simple container libvpx and ffmpeg use for VP8 elementary streams: a 32-byte file header, then per
 * frame a 12-byte header (size u32 LE, timestamp u64 LE) and the frame's bytes.
 *
 *   file header  0 "DKIF"  4 version u16 (0)  6 header size u16 (32)  8 fourcc  12 width u16  14 height u16
 *                16 time base denominator u32  20 time base numerator u32  24 frame count u32  28 unused u32
 *
 * The bots read it from ffmpeg's encoder (`-f ivf pipe:1`) and write it to ffmpeg's decoder and to the track
 * recorder (`-f ivf -i pipe:0`). ffmpeg's IVF demuxer maps the fourcc to a codec, so `MJPG` carries JPEG
 * frames with exact timestamps too.
 */

/** Bytes of the file header. */
export const IVF_FILE_HEADER_BYTES = 32;
/** Bytes of each frame header. */
export const IVF_FRAME_HEADER_BYTES = 12;
/** The largest frame accepted from ffmpeg; a larger size means the stream is broken. */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** What an IVF file header says. */
export interface IvfHeader {
  /** `VP80`, `MJPG`… */
  fourcc: string;
  width: number;
  height: number;
  /** Timestamps count units of `timebaseNum / timebaseDen` seconds. */
  timebaseDen: number;
  timebaseNum: number;
}

/** One frame of an IVF stream. */
export interface IvfFrame {
  /** The timestamp, in the header's time base. */
  pts: number;
  /** The frame's bytes (its own copy). */
  data: Buffer;
}

/**
 * Parses an IVF byte stream as it arrives.
 *
 * @example
 *   const reader = new IvfReader((frame) => publish(frame.data));
 *   encoder.stdout.on('data', (chunk) => reader.push(chunk));
 */
export class IvfReader {
  #pending: Buffer = Buffer.alloc(0);
  #header: IvfHeader | undefined;
  readonly #onFrame: (frame: IvfFrame) => void;

  /** `onFrame` receives each complete frame. */
  constructor(onFrame: (frame: IvfFrame) => void) {
    this.#onFrame = onFrame;
  }

  /** The file header, once read. */
  get header(): IvfHeader | undefined {
    return this.#header;
  }

  /**
   * Adds bytes; emits every frame they complete.
   *
   * @throws RangeError when the bytes are not IVF (no DKIF signature, or an impossible frame size).
   */
  push(chunk: Buffer): void {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    if (!this.#header) {
      if (this.#pending.length < IVF_FILE_HEADER_BYTES) return;
      this.#header = parseIvfHeader(this.#pending);
      this.#pending = this.#pending.subarray(this.#pending.readUInt16LE(6));
    }
    let offset = 0;
    while (this.#pending.length - offset >= IVF_FRAME_HEADER_BYTES) {
      const size = this.#pending.readUInt32LE(offset);
      if (size > MAX_FRAME_BYTES) throw new RangeError(`an IVF frame of ${size} bytes: the stream is broken`);
      if (this.#pending.length - offset < IVF_FRAME_HEADER_BYTES + size) break;
      const pts = Number(this.#pending.readBigUInt64LE(offset + 4));
      const start = offset + IVF_FRAME_HEADER_BYTES;
      offset = start + size;
      this.#onFrame({ pts, data: Buffer.from(this.#pending.subarray(start, offset)) });
    }
    this.#pending = this.#pending.subarray(offset);
  }
}

/**
 * Reads an IVF file header.
 *
 * @throws RangeError when it is not one.
 */
export function parseIvfHeader(bytes: Buffer): IvfHeader {
  if (bytes.length < IVF_FILE_HEADER_BYTES || bytes.toString('latin1', 0, 4) !== 'DKIF') {
    throw new RangeError('not an IVF stream (no DKIF signature)');
  }
  return {
    fourcc: bytes.toString('latin1', 8, 12),
    width: bytes.readUInt16LE(12),
    height: bytes.readUInt16LE(14),
    timebaseDen: bytes.readUInt32LE(16),
    timebaseNum: bytes.readUInt32LE(20),
  };
}

/**
 * The 32-byte file header of a stream (frame count 0: unknown, as for a pipe).
 *
 * @example
 *   decoder.stdin.write(ivfFileHeader({ fourcc: 'VP80', width: 640, height: 480, timebaseDen: 1000, timebaseNum: 1 }));
 */
export function ivfFileHeader(header: IvfHeader): Buffer {
  const bytes = Buffer.alloc(IVF_FILE_HEADER_BYTES);
  bytes.write('DKIF', 0, 'latin1');
  bytes.writeUInt16LE(0, 4);
  bytes.writeUInt16LE(IVF_FILE_HEADER_BYTES, 6);
  bytes.write(header.fourcc.padEnd(4, ' ').slice(0, 4), 8, 'latin1');
  bytes.writeUInt16LE(header.width, 12);
  bytes.writeUInt16LE(header.height, 14);
  bytes.writeUInt32LE(header.timebaseDen, 16);
  bytes.writeUInt32LE(header.timebaseNum, 20);
  return bytes;
}

/**
 * One frame: its 12-byte header and its bytes, in one buffer.
 *
 * @example
 *   decoder.stdin.write(ivfFrame(Math.round(frame.captureMs - startedAt), frame.data));
 */
export function ivfFrame(pts: number, data: Uint8Array): Buffer {
  const bytes = Buffer.alloc(IVF_FRAME_HEADER_BYTES + data.length);
  bytes.writeUInt32LE(data.length, 0);
  bytes.writeBigUInt64LE(BigInt(Math.max(0, Math.round(pts))), 4);
  bytes.set(data, IVF_FRAME_HEADER_BYTES);
  return bytes;
}
