/**
 * The server's handling of uploads: an `offer` checked against the limits (name, size, the room's quota,
 * the disk's free space, transfers per session, the recipient) and accepted with a window; chunks hashed,
 * written and confirmed; `end` verified (size and SHA-256), moved into the store, answered and announced.
 * One upload in progress is an `Upload` (upload.ts); a full disk stays this plugin's problem (disk-space.ts).
 */
import type { Session } from '../../core/session.js';
import type { Catalog } from './catalog.js';
import { DiskSpace } from './disk-space.js';
import { cleanFileName } from './name.js';
import { FILES_ERRORS, type Chunk, type FileParty, type FilesMessage, type FilesRequest } from './protocol.js';
import { rate, type FilesServerContext } from './server-context.js';
import { storageError } from './server-errors.js';
import type { StoredFile } from './store.js';
import { progressOf } from './transfers.js';
import { Upload } from './upload.js';
import { publicInfo } from './visibility.js';

/** The uploads of one server. */
export class Uploads {
  readonly #files: FilesServerContext;
  readonly #catalog: Catalog;
  readonly #disk: DiskSpace;

  constructor(files: FilesServerContext, catalog: Catalog) {
    this.#files = files;
    this.#catalog = catalog;
    this.#disk = new DiskSpace(files.ctx.dataDir, files.settings.minFreeDiskBytes, () => {
      let pending = 0;
      for (const upload of files.transfers.uploads()) pending += upload.size - upload.written;
      return pending;
    });
  }

  /** True when the disk is low; stalled uploads, which hold space others are refused, are then ended sooner. */
  diskIsLow(): boolean {
    return this.#disk.isLow();
  }

  /**
   * Takes an `offer`: refuses it with the first limit it breaks, else starts the upload and answers
   * `accepted`. An offer sent again with the ref of an upload still running gets the same answer again.
   */
  offer(session: Session, request: Extract<FilesRequest, { op: 'offer' }>): void {
    const { ctx, settings, store, transfers, control } = this.#files;
    const running = transfers.byRef(session, request.ref);
    if (running instanceof Upload) return control.send(session, this.#accepted(running));
    const clean = cleanFileName(request.name);
    if (!clean.ok) throw FILES_ERRORS.FILES_BAD_NAME({ message: `the file name was refused: ${clean.reason}` });
    const { size } = request;
    if (size > settings.maxFileBytes) {
      throw FILES_ERRORS.FILES_TOO_LARGE({ message: `the file has ${size} bytes; this server accepts files up to ${settings.maxFileBytes} bytes` });
    }
    const room = session.room.name;
    const used = store.roomBytes(room) + transfers.reserved(room);
    if (used + size > settings.roomQuotaBytes) {
      const left = Math.max(0, settings.roomQuotaBytes - used);
      throw FILES_ERRORS.FILES_QUOTA_EXCEEDED({ message: `the room "${room}" has ${left} bytes left of its ${settings.roomQuotaBytes}-byte quota; this file has ${size}` });
    }
    const space = this.#disk.check();
    if (!this.#disk.fits(space, size)) {
      ctx.log.warn('upload refused: disk full', { room, size, free: space.free, pending: space.pending });
      throw FILES_ERRORS.FILES_DISK_FULL({
        message: `the server's disk has ${space.free} bytes free, ${space.pending} of them held for uploads in progress; `
          + `this file needs ${size} and ${space.margin} must stay free: try again later`,
      });
    }
    transfers.checkLimit(session);
    const to = request.to === undefined ? undefined : recipient(session, request.to);
    const offer = { ref: request.ref, name: clean.name, size, to };
    const upload: Upload = new Upload(transfers.nextId(session), session, offer, store.tempPath(), (error) => this.#written(upload, error));
    transfers.add(upload);
    control.send(session, this.#accepted(upload));
  }

  /**
   * Takes `end`: an upload with every byte received is verified and stored (asynchronously); one with
   * fewer fails with FILES_SIZE_MISMATCH. A repeated `end` (sent again after a resume) is ignored.
   */
  end(session: Session, request: Extract<FilesRequest, { op: 'end' }>): void {
    const { transfers } = this.#files;
    if (transfers.endedLately(session, request.transfer)) return;
    const upload = transfers.find(session, request.transfer);
    if (!(upload instanceof Upload)) {
      throw FILES_ERRORS.FILES_BAD_REQUEST({ message: `end needs an upload of this session; transfer ${upload.transfer} is a download` });
    }
    if (upload.ending) return;
    if (upload.received !== upload.size) {
      return transfers.fail(upload, FILES_ERRORS.FILES_SIZE_MISMATCH({ message: `the upload announced ${upload.size} bytes but ended after ${upload.received}` }));
    }
    upload.ending = true;
    void this.#finish(upload, request.sha256);
  }

  /** Takes a chunk of an upload: hashed and queued for the disk, or the upload fails (too long, window ignored, grant gone). */
  chunk(upload: Upload, chunk: Chunk): void {
    const { transfers, settings } = this.#files;
    if (!upload.session.grants.has('files')) return transfers.fail(upload, FILES_ERRORS.FILES_FORBIDDEN());
    if (upload.receive(chunk.offset, chunk.bytes) === 'too-long') {
      return transfers.fail(upload, FILES_ERRORS.FILES_SIZE_MISMATCH({ message: `the upload announced ${upload.size} bytes; a chunk at offset ${chunk.offset} goes past that` }));
    }
    if (upload.unwritten > 2 * settings.windowBytes) {
      return transfers.fail(upload, FILES_ERRORS.FILES_BAD_CHUNK({ message: `the sender has more than ${2 * settings.windowBytes} bytes unconfirmed; keep to the window` }));
    }
  }

  #accepted(upload: Upload): FilesMessage {
    return { op: 'accepted', ref: upload.ref, transfer: upload.transfer, name: upload.name, window: this.#files.settings.windowBytes };
  }

  /** An upload's bytes reached its temporary file: confirm them to the sender (or fail on a write error). */
  #written(upload: Upload, error: unknown): void {
    const { transfers, control, hooks } = this.#files;
    if (!transfers.has(upload)) return;
    if (error) return transfers.fail(upload, storageError(error));
    control.send(upload.session, { op: 'ack', transfer: upload.transfer, offset: upload.written });
    if (hooks.progress.isUsed()) hooks.progress.call(progressOf(upload));
  }

  /** Checks the hash, moves the file into the store, answers the sender and announces it. */
  async #finish(upload: Upload, claimed: string): Promise<void> {
    const { ctx, store, transfers, control, hooks, throughput } = this.#files;
    let sha256: string;
    try {
      sha256 = await upload.finish();
    } catch (error) {
      return transfers.fail(upload, storageError(error));
    }
    if (!transfers.has(upload)) return;
    if (sha256 !== claimed) {
      return transfers.fail(upload, FILES_ERRORS.FILES_HASH_MISMATCH({ message: `the bytes received hash to ${sha256}, not ${claimed}; the upload was discarded` }));
    }
    const { session } = upload;
    let stored: StoredFile;
    try {
      stored = await store.add(upload.tempPath, {
        room: session.room.name,
        name: upload.name,
        size: upload.size,
        sha256,
        from: session.info,
        to: upload.offer.to,
        createdAt: Date.now(),
      });
    } catch (error) {
      return transfers.fail(upload, storageError(error));
    }
    transfers.forget(upload);
    throughput(rate(upload.size, upload.startedAt), 'upload');
    const file = publicInfo(stored);
    hooks.stored.call(file, ctx.room(stored.room));
    ctx.log.info('file stored', { id: file.id, room: stored.room, size: file.size, from: file.from.name });
    if (session.state !== 'closed') control.send(session, { op: 'stored', ref: upload.ref, transfer: upload.transfer, file });
    this.#catalog.announce(stored, session);
  }
}

/** The one participant an offer names (`to`): another member of the sender's room, or FILES_NO_SUCH_PEER. */
function recipient(session: Session, id: string): FileParty {
  const peer = session.room.get(id);
  if (!peer || peer === session) throw FILES_ERRORS.FILES_NO_SUCH_PEER({ message: `no other participant with id "${id}" is in this room` });
  return peer.info;
}
