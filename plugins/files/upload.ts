/**
 * One upload in progress on the server: chunks are hashed as they arrive (in order) and written to a
 * temporary file; each chunk written is confirmed to the sender with its new offset. Nothing is kept in
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
  /** Last time a chunk arrived or was written (ms since the epoch), to find stalled transfers. */
  lastProgress = Date.now();
  #hash: Hash = createHash('sha256');
  #file: Promise<FileHandle>;
  /** Writes run one after another; this is the last one queued. */
  #writes: Promise<void>;
  #failure: unknown;

  /** Creates the temporary file (exclusively) and starts the upload. */
  constructor(transfer: number, session: Session, offer: UploadOffer, tempPath: string) {
    this.transfer = transfer;
    this.session = session;
    this.offer = offer;
    this.tempPath = tempPath;
    this.#file = open(tempPath, 'wx');
    this.#writes = this.#file.then(() => undefined, (error) => void (this.#failure = error));
  }

  /** The file's total size. */
  get size(): number {
    return this.offer.size;
  }

  /** Bytes received but not written yet (held in memory). */
  get unwritten(): number {
    return this.received - this.written;
  }

  /**
   * Takes a chunk at `offset`: hashes the new bytes and queues their write; `onWritten` runs after the write
   * with the new confirmed offset (or with the error).
   */
  receive(offset: number, bytes: Uint8Array, onWritten: (error?: unknown) => void): ChunkOutcome {
    if (offset > this.received || offset + bytes.length <= this.received) return 'ignored';
    const fresh = bytes.subarray(this.received - offset);
    if (this.received + fresh.length > this.size) return 'too-long';
    const position = this.received;
    this.#hash.update(fresh);
    this.received += fresh.length;
    this.lastProgress = Date.now();
    this.#writes = this.#writes.then(async () => {
      if (this.#failure) return;
      try {
        const file = await this.#file;
        let done = 0;
        while (done < fresh.length) {
          const { bytesWritten } = await file.write(fresh, done, fresh.length - done, position + done);
          done += bytesWritten;
        }
        this.written += fresh.length;
        this.lastProgress = Date.now();
        onWritten();
      } catch (error) {
        this.#failure = error;
        onWritten(error);
      }
    });
    return 'taken';
  }

  /**
   * Waits for every queued write and closes the file; resolves with the SHA-256 (hex) of what was
   * received. Rejects with the write error, if one happened.
   */
  async finish(): Promise<string> {
    await this.#writes;
    if (this.#failure) throw this.#failure;
    await (await this.#file).close();
    return this.#hash.digest('hex');
  }

  /** Stops the upload and removes the temporary file. Safe to call at any time, more than once. */
  async abort(): Promise<void> {
    this.#failure ??= new Error('aborted');
    await this.#writes;
    await this.#file.then((file) => file.close()).catch(() => undefined);
    await rm(this.tempPath, { force: true });
  }
}
