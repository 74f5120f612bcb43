/**
 * The frames a session may have to replay when it resumes: the last reliable frames sent to it, bounded by
 * count and bytes, each numbered with the session's running count of reliable frames.
 */

/** A bounded ring of numbered frames. */
export class ResumeBuffer {
  readonly maxFrames: number;
  readonly maxBytes: number;
  #frames: Uint8Array[] = [];
  #start = 0;
  #bytes = 0;
  /** Sequence number of the newest frame pushed (0 before any). */
  #lastSeq = 0;

  constructor(maxFrames: number, maxBytes: number) {
    this.maxFrames = maxFrames;
    this.maxBytes = maxBytes;
  }

  /** Sequence number of the newest frame pushed. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Sequence number of the oldest frame still held (lastSeq + 1 when empty). */
  get firstSeq(): number {
    return this.#lastSeq - (this.#frames.length - this.#start) + 1;
  }

  /** Adds the next frame; it gets sequence number lastSeq + 1. Old frames fall out past the bounds. */
  push(frame: Uint8Array): number {
    this.#frames.push(frame);
    this.#bytes += frame.length;
    this.#lastSeq++;
    while (this.#frames.length - this.#start > this.maxFrames || (this.#bytes > this.maxBytes && this.#frames.length - this.#start > 1)) {
      this.#bytes -= this.#frames[this.#start].length;
      this.#start++;
    }
    if (this.#start > 1024 && this.#start * 2 > this.#frames.length) {
      this.#frames = this.#frames.slice(this.#start);
      this.#start = 0;
    }
    return this.#lastSeq;
  }

  /**
   * The frames numbered after `received`, oldest first; undefined when some of them already fell out
   * (or `received` is ahead of what was sent), so a lossless replay is impossible.
   */
  framesAfter(received: number): Uint8Array[] | undefined {
    if (!Number.isInteger(received) || received < 0 || received > this.#lastSeq) return undefined;
    if (received + 1 < this.firstSeq) return undefined;
    const skip = received + 1 - this.firstSeq;
    return this.#frames.slice(this.#start + skip);
  }
}
