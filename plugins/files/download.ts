/**
 * One download in progress on the server: reads the stored file chunk by chunk and sends each on the data
 * channel, never more than the window ahead of what the receiver confirmed. The receiver's acks move the
 * window; a session without a connection gets nothing until it resumes.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { Session } from '../../core/session.js';
import { CHUNK_HEADER_BYTES, writeChunkHeader } from './protocol.js';
import type { StoredFile } from './store.js';

/** A download from the store. */
export class Download {
  readonly direction = 'download';
  readonly transfer: number;
  readonly session: Session;
  readonly file: StoredFile;
  /** The client's reference of the `get`. */
  readonly ref: string;
  /** The offset sending started at (0, or where a download resumed in a new session stopped). */
  readonly offset: number;
  /** When the download started (ms since the epoch), for its throughput. */
  readonly startedAt = Date.now();
  /** Bytes read and sent. */
  sent: number;
  /** Bytes the receiver confirmed it wrote. */
  acked: number;
  /** Last time a chunk was sent or acknowledged (ms since the epoch), to find stalled transfers. */
  lastProgress = Date.now();
  #file: Promise<FileHandle>;
  /** Bytes of the chunk being read, 0 when none is: they count against the window already. */
  #reading = 0;
  #closed = false;
  /** The payload buffer, reused for every chunk (one read at a time). */
  #buffer: Buffer | undefined;

  /** Opens the stored content; sending starts at `offset` (a download resumed in a new session). */
  constructor(transfer: number, session: Session, file: StoredFile, ref: string, path: string, offset: number) {
    this.transfer = transfer;
    this.session = session;
    this.file = file;
    this.ref = ref;
    this.offset = offset;
    this.sent = offset;
    this.acked = offset;
    this.#file = open(path, 'r');
    this.#file.catch(() => undefined);
  }

  /** The file's total size. */
  get size(): number {
    return this.file.size;
  }

  /** The file's name. */
  get name(): string {
    return this.file.name;
  }

  /** Bytes confirmed by the receiver. */
  get confirmed(): number {
    return this.acked;
  }

  /** Bytes sent (or being read to be sent) but not confirmed. */
  get inFlight(): number {
    return this.sent - this.acked + this.#reading;
  }

  /** True when every byte was sent and confirmed. */
  get complete(): boolean {
    return this.acked === this.size;
  }

  /**
   * Reads and hands out the next chunk, if none is being read, the file is not all sent, and `room` (bytes
   * the window still allows) is positive. `send` gets the chunk payload (header + bytes) in a buffer this
   * download reuses for its next chunk, so it must copy or send it at once (sending a frame copies it);
   * `onError` gets a read failure. Returns true when a read started.
   */
  readNext(room: number, chunkBytes: number, send: (payload: Uint8Array) => void, onError: (error: unknown) => void): boolean {
    if (this.#reading > 0 || this.#closed || this.sent >= this.size || room <= 0) return false;
    const length = Math.min(chunkBytes, this.size - this.sent, room);
    const offset = this.sent;
    if (!this.#buffer || this.#buffer.length < CHUNK_HEADER_BYTES + length) this.#buffer = Buffer.allocUnsafe(CHUNK_HEADER_BYTES + chunkBytes);
    const payload = this.#buffer.subarray(0, CHUNK_HEADER_BYTES + length);
    this.#reading = length;
    this.#file
      .then((file) => readFully(file, payload, CHUNK_HEADER_BYTES, length, offset))
      .then(() => {
        this.#reading = 0;
        if (this.#closed) return;
        writeChunkHeader(payload, this.transfer, offset);
        this.sent = offset + length;
        this.lastProgress = Date.now();
        send(payload);
      }, (error) => {
        this.#reading = 0;
        if (!this.#closed) onError(error);
      });
    return true;
  }

  /** Takes the receiver's confirmed offset; false when it is not between the confirmed and the sent offsets. */
  ack(offset: number): boolean {
    if (offset < this.acked || offset > this.sent) return false;
    if (offset > this.acked) this.lastProgress = Date.now();
    this.acked = offset;
    return true;
  }

  /** Stops reading and closes the file. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.then((file) => file.close()).catch(() => undefined);
  }
}

/** Reads exactly `length` bytes at `position` into `buffer` at `at`; a file that became shorter is an error. */
async function readFully(file: FileHandle, buffer: Buffer, at: number, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(buffer, at + done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`the stored file ended at ${position + done} bytes`);
    done += bytesRead;
  }
}
