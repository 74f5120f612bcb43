/**
 * The frames a session may have to replay when it resumes: the last reliable frames sent to it, bounded by
 * count and bytes, each numbered with the session's running count of reliable frames. A fixed-size ring:
 * a push is O(1) and allocates nothing, which matters because every broadcast pushes once per member.
 */

/** A bounded ring of numbered frames. */
export class ResumeBuffer {
  readonly maxFrames: number;
  readonly maxBytes: number;
  /** Slot i holds the frame numbered n where n % capacity === i. */
  #ring: Array<Uint8Array | undefined>;
  /** Frames held (the newest `#held` numbers up to lastSeq). */
  #held = 0;
  #bytes = 0;
  /** Sequence number of the newest frame pushed (0 before any). */
  #lastSeq = 0;

  constructor(maxFrames: number, maxBytes: number) {
    this.maxFrames = maxFrames;
    this.maxBytes = maxBytes;
    this.#ring = new Array(Math.max(1, maxFrames));
  }

  /** Sequence number of the newest frame pushed. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Sequence number of the oldest frame still held (lastSeq + 1 when empty). */
  get firstSeq(): number {
    return this.#lastSeq - this.#held + 1;
  }

  /** Adds the next frame; it gets sequence number lastSeq + 1. Old frames fall out past the bounds. */
  push(frame: Uint8Array): number {
    if (this.maxFrames === 0) return ++this.#lastSeq;
    if (this.#held === this.maxFrames) this.#dropOldest();
    const seq = ++this.#lastSeq;
    this.#ring[seq % this.#ring.length] = frame;
    this.#held++;
    this.#bytes += frame.length;
    while (this.#bytes > this.maxBytes && this.#held > 1) this.#dropOldest();
    return seq;
  }

  /**
   * The frames numbered after `received`, oldest first; undefined when some of them already fell out
   * (or `received` is ahead of what was sent), so a lossless replay is impossible.
   */
  framesAfter(received: number): Uint8Array[] | undefined {
    if (!Number.isInteger(received) || received < 0 || received > this.#lastSeq) return undefined;
    if (received + 1 < this.firstSeq) return undefined;
    const frames: Uint8Array[] = [];
    for (let seq = received + 1; seq <= this.#lastSeq; seq++) frames.push(this.#ring[seq % this.#ring.length]!);
    return frames;
  }

  #dropOldest(): void {
    const slot = this.firstSeq % this.#ring.length;
    this.#bytes -= this.#ring[slot]!.length;
    this.#ring[slot] = undefined;
    this.#held--;
  }
}
