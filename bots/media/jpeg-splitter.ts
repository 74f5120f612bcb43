/**
 * Splits an MJPEG byte stream (ffmpeg's `-f image2pipe -c:v mjpeg` output) into whole JPEG images.
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
