/**
 * One upload in progress on the server: chunks are hashed as they arrive (in order) and written to a
 * temporary file, those that queued up during a write together in one `writev`; each write is confirmed to
 * the sender with its new offset. Nothing is kept in
 * memory but the chunks waiting for the disk, which the sender's window bounds.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import type { Session } from '../../core/session.js';
import type { FileParty } from './protocol.js';

/** What an upload was offered with. */
export interface UploadOffer {
  /** The client's reference of the offer, sent back with the answers and errors. */
  ref: string;
  /** The cleaned name. */
  name: string;
  /** The size announced; the sender may not send more, nor end with less. */
  size: number;
  /** The one recipient, for targeted sharing. */
  to?: FileParty;
}

/** What happened to a chunk given to `Upload.receive`. */
export type ChunkOutcome =
  /** Taken (possibly only its part past the bytes already received). */
  | 'taken'
  /** Ignored: already received (a re-send after a resume) or ahead of a gap (lost in a cut connection). */
  | 'ignored'
  /** Refused: it goes past the announced size. */
  | 'too-long';

/** Most chunks written with one `writev`. */
const MAX_BATCH = 256;

/** An upload into a temporary file. */
export class Upload {
  readonly direction = 'upload';
  readonly transfer: number;
  readonly session: Session;
  readonly offer: UploadOffer;
  readonly tempPath: string;
  /** Bytes received and hashed: the offset the next chunk must start at. */
  received = 0;
  /** Bytes written to the temporary file: the confirmed offset a resume continues from. */
  written = 0;
  /** When the upload was accepted (ms since the epoch), for its throughput. */
  readonly startedAt = Date.now();
  /** Last time a chunk arrived or was written (ms since the epoch), to find stalled transfers. */
  lastProgress = Date.now();
  /** True once `end` was taken: the upload is being verified and stored, and a repeated `end` is ignored. */
  ending = false;
  #hash: Hash = createHash('sha256');
  #file: Promise<FileHandle>;
  #onWritten: (error?: unknown) => void;
  /** Chunks received and not yet being written, in order. */
  #queue: Uint8Array[] = [];
  /** The write loop while it runs: it writes everything queued, batch by batch. */
  #draining: Promise<void> | undefined;
  #failure: unknown;

  /**
   * Creates the temporary file (exclusively) and starts the upload. `onWritten` runs after each batch of
   * chunks reached the file (`written` is the new confirmed offset), or once with the write error.
   */
  constructor(transfer: number, session: Session, offer: UploadOffer, tempPath: string, onWritten: (error?: unknown) => void) {
    this.transfer = transfer;
    this.session = session;
    this.offer = offer;
    this.tempPath = tempPath;
    this.#onWritten = onWritten;
    this.#file = open(tempPath, 'wx');
    this.#file.catch((error) => void (this.#failure ??= error));
  }

  /** The file's total size. */
  get size(): number {
    return this.offer.size;
  }

  /** The offer's ref, which the answers and errors about this upload carry. */
  get ref(): string {
    return this.offer.ref;
  }

  /** The file's clean name. */
  get name(): string {
    return this.offer.name;
  }

  /** Bytes confirmed to the sender: written to the temporary file. */
  get confirmed(): number {
    return this.written;
  }

  /** Bytes received but not written yet (held in memory). */
  get unwritten(): number {
    return this.received - this.written;
  }

  /**
   * Takes a chunk at `offset`: hashes the new bytes and queues their write. Chunks that arrive while a write
   * is under way go to the file together, in one `writev`, and are confirmed together.
   */
  receive(offset: number, bytes: Uint8Array): ChunkOutcome {
    if (offset > this.received || offset + bytes.length <= this.received) return 'ignored';
    const fresh = bytes.subarray(this.received - offset);
    if (this.received + fresh.length > this.size) return 'too-long';
    this.#hash.update(fresh);
    this.received += fresh.length;
    this.lastProgress = Date.now();
    this.#queue.push(fresh);
    this.#draining ??= this.#drain();
    return 'taken';
  }

  /**
   * Waits for every queued write and closes the file; resolves with the SHA-256 (hex) of what was
   * received. Rejects with the write error, if one happened.
   */
  async finish(): Promise<string> {
    while (this.#draining) await this.#draining;
    const file = await this.#file;
    if (this.#failure) throw this.#failure;
    await file.close();
    return this.#hash.digest('hex');
  }

  /** Stops the upload and removes the temporary file. Safe to call at any time, more than once. */
  async abort(): Promise<void> {
    this.#failure ??= new Error('aborted');
    while (this.#draining) await this.#draining;
    await this.#file.then((file) => file.close()).catch(() => undefined);
    await rm(this.tempPath, { force: true });
  }

  /** Writes the queue, batch by batch, until it is empty or a write failed. */
  async #drain(): Promise<void> {
    try {
      const file = await this.#file;
      while (this.#queue.length > 0 && !this.#failure) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        const bytes = await writeAll(file, batch, this.written);
        this.written += bytes;
        this.lastProgress = Date.now();
        this.#onWritten();
      }
    } catch (error) {
      if (!this.#failure) {
        this.#failure = error;
        this.#onWritten(error);
      }
    } finally {
      this.#draining = undefined;
    }
  }
}

/** Writes `buffers` one after another at `position` (a `writev`, finished piece by piece if it fell short); returns the bytes written. */
async function writeAll(file: FileHandle, buffers: Uint8Array[], position: number): Promise<number> {
  let total = 0;
  for (const buffer of buffers) total += buffer.length;
  let skip = (await file.writev(buffers, position)).bytesWritten;
  let at = position + skip;
  for (const buffer of buffers) {
    if (skip >= buffer.length) {
      skip -= buffer.length;
      continue;
    }
    for (let done = skip; done < buffer.length;) {
      const { bytesWritten } = await file.write(buffer, done, buffer.length - done, at);
      done += bytesWritten;
      at += bytesWritten;
    }
    skip = 0;
  }
  return total;
}
