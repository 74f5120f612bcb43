/**
 * The stream reassembler: turns TCP chunks into frames, however the bytes were split, with a hard maximum
 * payload size checked before anything is allocated for the payload.
 */
import { ConfabError } from './errors.js';
import type { Frame } from './frame.js';
import { DEFAULT_MAX_PAYLOAD, FRAME_HEADER_BYTES } from './protocol.js';

/** What one `push` produced: the whole frames, and an error after which the stream cannot be trusted. */
export interface DecodeResult {
  frames: Frame[];
  error?: ConfabError;
}

/**
 * A decoder state machine for one byte stream.
 *
 * @example
 *   const decoder = new FrameDecoder({ maxPayload: 1 << 20 });
 *   socket.on('data', (chunk) => {
 *     const { frames, error } = decoder.push(chunk);
 *     for (const frame of frames) handle(frame);
 *     if (error) fail(error);
 *   });
 */
export class FrameDecoder {
  /** Largest payload accepted, in bytes. */
  readonly maxPayload: number;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #failed = false;

  constructor(options: { maxPayload?: number } = {}) {
    this.maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  }

  /** Bytes received that do not yet form a whole frame. */
  get pendingBytes(): number {
    return this.#buffered;
  }

  /** Adds bytes from the stream and returns every frame they complete. After an error, nothing more is decoded. */
  push(chunk: Uint8Array): DecodeResult {
    const frames: Frame[] = [];
    if (this.#failed) return { frames };
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    while (this.#buffered >= FRAME_HEADER_BYTES) {
      const header = this.#peek(FRAME_HEADER_BYTES);
      const length = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_BYTES).getUint32(1);
      if (length > this.maxPayload) {
        this.#failed = true;
        this.#chunks = [];
        this.#buffered = 0;
        const error = new ConfabError(
          'FRAME_TOO_LARGE',
          `frame type 0x${header[0].toString(16).padStart(2, '0')} announces ${length} bytes; the limit is ${this.maxPayload}`,
        );
        return { frames, error };
      }
      if (this.#buffered < FRAME_HEADER_BYTES + length) break;
      const type = header[0];
      this.#consume(FRAME_HEADER_BYTES);
      frames.push({ type, payload: this.#consume(length) });
    }
    return { frames };
  }

  /**
   * Called when the stream ends: returns FRAME_TRUNCATED if a partial frame is left.
   */
  end(): ConfabError | undefined {
    if (this.#failed || this.#buffered === 0) return undefined;
    const error = new ConfabError('FRAME_TRUNCATED', `the stream ended with ${this.#buffered} bytes of an unfinished frame`);
    this.#chunks = [];
    this.#buffered = 0;
    return error;
  }

  /**
   * Removes and returns the bytes of the unfinished frame (empty when there is none), for a connection handed
   * to another process with what it already read.
   */
  takePending(): Uint8Array {
    return this.#consume(this.#buffered).slice();
  }

  /** The first `n` buffered bytes, without consuming them (n ≤ buffered). */
  #peek(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first.length >= n) return first.subarray(0, n);
    return this.#gather(n, false);
  }

  /** Removes and returns the first `n` buffered bytes (n ≤ buffered). */
  #consume(n: number): Uint8Array {
    this.#buffered -= n;
    const first = this.#chunks[0];
    if (first === undefined) return new Uint8Array(0);
    if (first.length === n) {
      this.#chunks.shift();
      return first;
    }
    if (first.length > n) {
      this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    return this.#gather(n, true);
  }

  /** Copies the first `n` bytes out of several chunks, optionally removing them. */
  #gather(n: number, remove: boolean): Uint8Array {
    const out = new Uint8Array(n);
    let offset = 0;
    let index = 0;
    while (offset < n) {
      const chunk = this.#chunks[index];
      const take = Math.min(chunk.length, n - offset);
      out.set(chunk.subarray(0, take), offset);
      offset += take;
      if (remove) {
        if (take === chunk.length) this.#chunks.shift();
        else this.#chunks[0] = chunk.subarray(take);
      } else {
        index++;
      }
    }
    return out;
  }
}
