/**
 * The server's handling of downloads: a `get` of a file the session may see starts a `Download`
 * (download.ts), answered with `sending`; chunks go out on the data channel while the session's downloads
 * together stay within one window of unconfirmed bytes, and the receiver's acks (binary, or `ack` as JSON)
 * move it. The window is at most half the core's resume buffer, so a resumed session gets back every chunk
 * it missed; after a resume, sending goes on.
 */
import type { Session } from '../../core/session.js';
import type { Catalog } from './catalog.js';
import { Download } from './download.js';
import { CHUNK_HEADER_BYTES, chunkBytesFor, FILES_ERRORS, type FilesMessage, type FilesRequest } from './protocol.js';
import { rate, type FilesServerContext } from './server-context.js';
import { storageError } from './server-errors.js';
import { progressOf } from './transfers.js';
import { publicInfo } from './visibility.js';

/** The downloads of one server. */
export class Downloads {
  readonly #files: FilesServerContext;
  readonly #catalog: Catalog;
  /** Unconfirmed bytes a session's downloads may have in flight together. */
  readonly #window: number;
  readonly #chunkBytes: number;

  constructor(files: FilesServerContext, catalog: Catalog) {
    this.#files = files;
    this.#catalog = catalog;
    const { settings, ctx } = files;
    this.#window = Math.max(CHUNK_HEADER_BYTES, Math.min(settings.windowBytes, Math.floor(ctx.options.resumeBufferBytes / 2)));
    this.#chunkBytes = chunkBytesFor(this.#window);
  }

  /**
   * Takes a `get`: starts sending a file the session may see, from `offset`, and answers `sending`. A get
   * sent again with the ref of a download still running gets the same answer again.
   */
  get(session: Session, request: Extract<FilesRequest, { op: 'get' }>): void {
    const { store, transfers, control } = this.#files;
    const running = transfers.byRef(session, request.ref);
    if (running instanceof Download) return control.send(session, this.#sending(running));
    const file = this.#catalog.visibleFile(request.id, session);
    const offset = request.offset ?? 0;
    if (offset > file.size) throw FILES_ERRORS.FILES_BAD_REQUEST({ message: `offset ${offset} is past the end of the file (${file.size} bytes)` });
    transfers.checkLimit(session);
    const download = new Download(transfers.nextId(session), session, file, request.ref, store.contentPath(file.id), offset);
    transfers.add(download);
    control.send(session, this.#sending(download));
    if (!download.complete) return this.pump(session);
    transfers.forget(download);
    download.close();
  }

  /**
   * Takes the receiver's confirmed offset for a download, from an `ack` or an empty chunk; false when it is
   * not between the confirmed and the sent offsets (the caller refuses it in its channel's terms).
   */
  ack(download: Download, offset: number): boolean {
    if (!download.ack(offset)) return false;
    const { transfers, hooks, throughput, ctx } = this.#files;
    if (hooks.progress.isUsed()) hooks.progress.call(progressOf(download));
    if (download.complete) {
      transfers.forget(download);
      download.close();
      throughput(rate(download.size - download.offset, download.startedAt), 'download');
      ctx.log.debug('download complete', { file: download.file.id, session: download.session.id });
    }
    this.pump(download.session);
    return true;
  }

  /** Reads and sends the next chunks of the session's downloads, as far as the window allows (none while it has no connection). */
  pump(session: Session): void {
    if (session.state !== 'active') return;
    const { transfers, data } = this.#files;
    for (const download of transfers.of(session)) {
      if (!(download instanceof Download)) continue;
      let inFlight = 0;
      for (const other of transfers.of(session)) if (other instanceof Download) inFlight += other.inFlight;
      download.readNext(this.#window - inFlight, this.#chunkBytes, (payload) => {
        if (session.state === 'closed' || !transfers.has(download)) return;
        data.send(session, payload);
        this.pump(session);
      }, (error) => transfers.fail(download, storageError(error)));
    }
  }

  #sending(download: Download): FilesMessage {
    return { op: 'sending', ref: download.ref, transfer: download.transfer, file: publicInfo(download.file), offset: download.offset, window: this.#window };
  }
}
