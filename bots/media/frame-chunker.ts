/**
 * Cuts a byte stream of fixed-size frames (raw video from ffmpeg: `-f rawvideo`) into whole frames.
 */

/**
 * Collects chunks and calls `onFrame` once per complete frame of `frameBytes`.
 *
 * @example
 *   const chunker = new FrameChunker(640 * 480 * 1.5, (i420) => encoder.encode(i420, Date.now()));
 *   ffmpegStdout.on('data', (chunk) => chunker.push(chunk));
 */
export class FrameChunker {
  readonly #frameBytes: number;
  readonly #onFrame: (frame: Buffer) => void;
  #parts: Buffer[] = [];
  #length = 0;

  /** `onFrame` receives each frame as a buffer of its own. */
  constructor(frameBytes: number, onFrame: (frame: Buffer) => void) {
    if (!(frameBytes > 0) || !Number.isInteger(frameBytes)) throw new RangeError(`a frame size is a whole number of bytes, got ${frameBytes}`);
    this.#frameBytes = frameBytes;
    this.#onFrame = onFrame;
  }

  /** Adds bytes; emits every frame they complete. */
  push(chunk: Buffer): void {
    this.#parts.push(chunk);
    this.#length += chunk.length;
    if (this.#length < this.#frameBytes) return;
    let bytes = Buffer.concat(this.#parts, this.#length);
    let offset = 0;
    while (bytes.length - offset >= this.#frameBytes) {
      this.#onFrame(Buffer.from(bytes.subarray(offset, offset + this.#frameBytes)));
      offset += this.#frameBytes;
    }
    bytes = bytes.subarray(offset);
    this.#parts = bytes.length > 0 ? [bytes] : [];
    this.#length = bytes.length;
  }
}
