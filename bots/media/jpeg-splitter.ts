/**
 * Splits an MJPEG byte stream (ffmpeg's `-f image2pipe -c:v mjpeg` output) into whole JPEG images, and reads a
 * JPEG's picture size.
 *
 * A JPEG starts with SOI (FF D8) and ends with EOI (FF D9). Inside the entropy-coded data a 0xFF byte is
 * always followed by 0x00 (byte stuffing) or a restart marker, so FF D9 marks the end of an image; ffmpeg's
 * encoder writes no embedded thumbnails that could hold a nested one.
 */

/** Largest image accepted; a stream that grows past it without an EOI is broken and its bytes are dropped. */
const MAX_IMAGE_BYTES = 8 * 1024 * 1024;

/**
 * Collects chunks and calls `onImage` once per complete JPEG.
 *
 * @example
 *   const splitter = new JpegSplitter((jpeg) => video.publish(jpeg));
 *   ffmpegStdout.on('data', (chunk) => splitter.push(chunk));
 */
export class JpegSplitter {
  #pending: Buffer = Buffer.alloc(0);
  #searchFrom = 0;
  readonly #onImage: (jpeg: Buffer) => void;

  /** `onImage` receives each whole image (its own copy). */
  constructor(onImage: (jpeg: Buffer) => void) {
    this.#onImage = onImage;
  }

  /** Bytes held waiting for the end of an image. */
  get pendingBytes(): number {
    return this.#pending.length;
  }

  /** Adds bytes from the stream; emits every image they complete. */
  push(chunk: Buffer): void {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    for (;;) {
      const start = this.#pending.indexOf(SOI);
      if (start < 0) {
        this.#keep(this.#pending.length - 1);
        return;
      }
      if (start > 0) this.#keep(start);
      const end = this.#pending.indexOf(EOI, Math.max(2, this.#searchFrom));
      if (end < 0) {
        if (this.#pending.length > MAX_IMAGE_BYTES) this.#keep(this.#pending.length - 1);
        else this.#searchFrom = Math.max(2, this.#pending.length - 1);
        return;
      }
      const image = Buffer.from(this.#pending.subarray(0, end + 2));
      this.#keep(end + 2);
      this.#onImage(image);
    }
  }

  /** Drops the bytes before `offset` (the search restarts there). */
  #keep(offset: number): void {
    this.#pending = this.#pending.subarray(Math.max(0, offset));
    this.#searchFrom = 0;
  }
}

const SOI = Buffer.from([0xff, 0xd8]);
const EOI = Buffer.from([0xff, 0xd9]);

/**
 * The size a JPEG's frame header (SOFn) announces, or undefined when there is none.
 *
 * @example
 *   jpegSize(jpeg)  // { width: 640, height: 480 }
 */
export function jpegSize(jpeg: Uint8Array): { width: number; height: number } | undefined {
  let offset = 2;
  while (offset + 9 < jpeg.length && jpeg[offset] === 0xff) {
    const marker = jpeg[offset + 1]!;
    const length = (jpeg[offset + 2]! << 8) | jpeg[offset + 3]!;
    // SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: (jpeg[offset + 5]! << 8) | jpeg[offset + 6]!, width: (jpeg[offset + 7]! << 8) | jpeg[offset + 8]! };
    }
    offset += 2 + length;
  }
  return undefined;
}
