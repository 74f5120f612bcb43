/**
 * The files plugin, server half: share a file with the room or with one participant. Uploads stream in
 * binary chunks into a temporary file, hashed on the way, and enter the store only once size and SHA-256
 * check out; downloads stream out of the store under a window of confirmed bytes. Both continue from the
 * confirmed offset after a resume. Limits: file size, room quota, transfers per session, and the disk's free
 * space: an upload the disk cannot take plus a margin is refused (FILES_DISK_FULL), and once the disk is low a
 * stalled upload is ended sooner, so a full disk stays this plugin's problem.
 */
import { definePlugin } from '../../core/config.js';
import { ConfabError, defineErrors } from '../../core/errors.js';
import type { JsonObject } from '../../core/json.js';
import type { Session } from '../../core/session.js';
import type { Plugin, PluginContext } from '../../core/types.js';
import { DiskSpace } from './disk-space.js';
import { Download } from './download.js';
import { createFilesHooks, type FilesHooks, type TransferProgress } from './hooks.js';
import { cleanFileName } from './name.js';
import {
  CHUNK_HEADER_BYTES,
  chunkBytesFor,
  decodeChunk,
  FILES_CHANNEL,
  FILES_DATA_CHANNEL,
  FILES_ERRORS,
  isSha256Hex,
  MAX_CHUNK_BYTES,
  MAX_REF_LENGTH,
  type FilesErrorCode,
} from './protocol.js';
import { readFilesOptions, type FilesOptions, type FilesSettings } from './options.js';
import { chunkError, storageError } from './server-errors.js';
import { FileStore, type StoredFile } from './store.js';
import { isVisible, publicInfo } from './visibility.js';
import { Upload } from './upload.js';

export type { FilesOptions } from './options.js';
export type { FilesHooks, TransferProgress } from './hooks.js';

/** The files plugin, with its hooks. */
export type FilesPlugin = Plugin & { readonly hooks: FilesHooks };

type Transfer = Upload | Download;

/** Buckets of the transfer throughput histogram, bytes per second: 64 KiB/s to 1 GiB/s, by fours. */
const THROUGHPUT_BUCKETS = [2 ** 16, 2 ** 18, 2 ** 20, 2 ** 22, 2 ** 24, 2 ** 26, 2 ** 28, 2 ** 30];

/** A session's transfers. */
interface SessionTransfers {
  next: number;
  active: Map<number, Transfer>;
  /** Ids of transfers that ended, whose late chunks are ignored quietly (the last 64). */
  ended: number[];
}

/**
 * Creates the files plugin.
 *
 * @example
 *   const sharing = files({ maxFileBytes: 500 * 2 ** 20, expireAfterMs: 24 * 3600_000 });
 *   sharing.hooks.stored.tap('audit', (file) => console.log(`${file.from.name} shared ${file.name}`));
 *   defineConfig({ plugins: [chat(), sharing] });
 */
export function files(options: FilesOptions = {}): FilesPlugin {
  const settings = readFilesOptions(options);
  const hooks = createFilesHooks();
  const plugin = definePlugin({
    name: 'files',
    channels: {
      [FILES_CHANNEL]: { kind: 'json', maxPayload: 16 * 1024 },
      [FILES_DATA_CHANNEL]: { kind: 'binary', maxPayload: CHUNK_HEADER_BYTES + MAX_CHUNK_BYTES },
    },
    // Declared so that /metrics counts every files code from 0.
    errors: defineErrors('files', FILES_ERRORS),
    setup: (ctx) => setupFiles(ctx, settings, hooks),
  });
  return Object.assign(plugin, { hooks });
}

function setupFiles(ctx: PluginContext, settings: FilesSettings, hooks: FilesHooks): void {
  const control = ctx.channel(FILES_CHANNEL);
  const data = ctx.channel(FILES_DATA_CHANNEL);
  const store = new FileStore(ctx.store, ctx.dataDir);
  const bySession = ctx.perSession<SessionTransfers>(() => ({ next: 1, active: new Map(), ended: [] }));
  /** Sessions with transfers, for the stall check and shutdown. */
  const busy = new Set<Session>();
  /** Bytes reserved by uploads in progress, per room name. */
  const reserved = new Map<string, number>();
  const downloadWindow = Math.max(CHUNK_HEADER_BYTES, Math.min(settings.windowBytes, Math.floor(ctx.options.resumeBufferBytes / 2)));
  const downloadChunkBytes = chunkBytesFor(downloadWindow);
  const uploads = function* () {
    for (const session of busy) for (const transfer of bySession.get(session).active.values()) if (transfer instanceof Upload) yield transfer;
  };
  const disk = new DiskSpace(ctx.dataDir, settings.minFreeDiskBytes, () => {
    let pending = 0;
    for (const upload of uploads()) pending += upload.size - upload.written;
    return pending;
  });
  const throughput = ctx.metrics.histogram('confab_files_throughput_bytes_per_second',
    'Throughput of each completed transfer (offer or get to the last byte confirmed), bytes per second, by direction.',
    THROUGHPUT_BUCKETS, 'direction');

  const progressOf = (transfer: Transfer): TransferProgress => ({
    direction: transfer.direction,
    transfer: transfer.transfer,
    session: transfer.session,
    name: transfer instanceof Upload ? transfer.offer.name : transfer.file.name,
    bytes: transfer instanceof Upload ? transfer.written : transfer.acked,
    total: transfer.size,
  });

  /** Forgets a transfer (its late chunks are then ignored); releases an upload's reservation. */
  const forget = (transfer: Transfer) => {
    const state = bySession.get(transfer.session);
    if (!state.active.delete(transfer.transfer)) return false;
    state.ended.push(transfer.transfer);
    if (state.ended.length > 64) state.ended.shift();
    if (state.active.size === 0) busy.delete(transfer.session);
    if (transfer instanceof Upload) {
      const room = transfer.session.room.name;
      const left = (reserved.get(room) ?? 0) - transfer.size;
      if (left > 0) reserved.set(room, left);
      else reserved.delete(room);
    }
    return true;
  };

  /** Ends a transfer that failed: cleans up, tells the hook and (when given) the client. */
  const fail = (transfer: Transfer, error: ConfabError, tell = true) => {
    if (!forget(transfer)) return;
    if (transfer instanceof Upload) void transfer.abort();
    else transfer.close();
    error.channel = FILES_CHANNEL;
    error.ref = transfer instanceof Upload ? transfer.offer.ref : transfer.ref;
    if (hooks.failed.isUsed()) hooks.failed.call(progressOf(transfer), error);
    ctx.log.debug('transfer failed', { transfer: transfer.transfer, session: transfer.session.id, code: error.code });
    if (tell && transfer.session.state !== 'closed') transfer.session.sendError(error);
  };

  const pump = (session: Session) => {
    if (session.state !== 'active') return;
    const state = bySession.get(session);
    for (const transfer of state.active.values()) {
      if (!(transfer instanceof Download)) continue;
      let inFlight = 0;
      for (const other of state.active.values()) if (other instanceof Download) inFlight += other.inFlight;
      transfer.readNext(downloadWindow - inFlight, downloadChunkBytes, (payload) => {
        if (session.state === 'closed' || !state.active.has(transfer.transfer)) return;
        data.send(session, payload);
        pump(session);
      }, (error) => fail(transfer, storageError(error)));
    }
  };

  control.onMessage((session, raw) => {
    const message = raw as JsonObject;
    const ref = typeof message.ref === 'string' && message.ref.length <= MAX_REF_LENGTH ? message.ref : undefined;
    const refuse = (code: FilesErrorCode, text?: string) => {
      const error = new ConfabError(code, text ?? FILES_ERRORS[code], { fatal: false, retryable: code === 'FILES_DISK_FULL' });
      if (ref !== undefined) error.ref = ref;
      return error;
    };
    if (!session.grants.has('files')) throw refuse('FILES_FORBIDDEN');
    const state = bySession.get(session);

    switch (message.op) {
      case 'offer': {
        if (ref === undefined || !isSize(message.size) || (message.to !== undefined && typeof message.to !== 'string')) {
          throw refuse('FILES_BAD_REQUEST', 'offer needs {"op":"offer","ref":string(1-64),"name":string,"size":integer ≥ 0,"to"?:string}');
        }
        const clean = cleanFileName(message.name);
        if (!clean.ok) throw refuse('FILES_BAD_NAME', `the file name was refused: ${clean.reason}`);
        if (message.size > settings.maxFileBytes) {
          throw refuse('FILES_TOO_LARGE', `the file has ${message.size} bytes; this server accepts files up to ${settings.maxFileBytes} bytes`);
        }
        const room = session.room.name;
        const used = store.roomBytes(room) + (reserved.get(room) ?? 0);
        if (used + message.size > settings.roomQuotaBytes) {
          throw refuse('FILES_QUOTA_EXCEEDED', `the room "${room}" has ${Math.max(0, settings.roomQuotaBytes - used)} bytes left of its ${settings.roomQuotaBytes}-byte quota; this file has ${message.size}`);
        }
        const space = disk.check();
        if (!disk.fits(space, message.size)) {
          const error = refuse('FILES_DISK_FULL', `the server's disk has ${space.free} bytes free, ${space.pending} of them held for uploads in progress; `
            + `this file needs ${message.size} and ${space.margin} must stay free: try again later`);
          ctx.log.warn('upload refused: disk full', { room, size: message.size, free: space.free, pending: space.pending });
          throw error;
        }
        checkTransferLimit(state, refuse);
        let to;
        if (message.to !== undefined) {
          const recipient = session.room.get(message.to);
          if (!recipient || recipient === session) throw refuse('FILES_NO_SUCH_PEER', `no other participant with id "${message.to}" is in this room`);
          to = recipient.info;
        }
        const transfer = state.next++;
        const upload: Upload = new Upload(transfer, session, { ref, name: clean.name, size: message.size, to }, store.tempPath(), (error) => written(upload, error));
        state.active.set(transfer, upload);
        busy.add(session);
        reserved.set(room, (reserved.get(room) ?? 0) + message.size);
        control.send(session, { op: 'accepted', ref, transfer, name: clean.name, window: settings.windowBytes });
        return;
      }
      case 'end': {
        const upload = findTransfer(state, message.transfer, refuse);
        if (!(upload instanceof Upload) || !isSha256Hex(message.sha256)) {
          throw refuse('FILES_BAD_REQUEST', 'end needs {"op":"end","transfer":<an upload of this session>,"sha256":64 lowercase hex digits}');
        }
        if (upload.received !== upload.size) {
          return fail(upload, refuse('FILES_SIZE_MISMATCH', `the upload announced ${upload.size} bytes but ended after ${upload.received}`));
        }
        void finishUpload(upload, message.sha256);
        return;
      }
      case 'status': {
        const transfer = findTransfer(state, message.transfer, refuse);
        const offset = transfer instanceof Upload ? transfer.written : transfer.acked;
        control.send(session, { op: 'ack', transfer: transfer.transfer, offset });
        return;
      }
      case 'ack': {
        const download = findTransfer(state, message.transfer, refuse);
        if (!(download instanceof Download) || !isSize(message.offset) || !download.ack(message.offset)) {
          throw refuse('FILES_BAD_REQUEST', 'ack needs {"op":"ack","transfer":<a download of this session>,"offset":<bytes received, at most those sent>}');
        }
        return acknowledged(download);
      }
      case 'cancel': {
        const transfer = findTransfer(state, message.transfer, refuse);
        fail(transfer, refuse('FILES_CANCELLED', 'the client cancelled the transfer'), false);
        return;
      }
      case 'get': {
        if (ref === undefined || typeof message.id !== 'string' || (message.offset !== undefined && !isSize(message.offset))) {
          throw refuse('FILES_BAD_REQUEST', 'get needs {"op":"get","ref":string(1-64),"id":string,"offset"?:integer ≥ 0}');
        }
        const file = visibleFile(message.id, session, refuse);
        const offset = message.offset ?? 0;
        if (offset > file.size) throw refuse('FILES_BAD_REQUEST', `offset ${offset} is past the end of the file (${file.size} bytes)`);
        checkTransferLimit(state, refuse);
        const transfer = state.next++;
        const download = new Download(transfer, session, file, ref, store.contentPath(file.id), offset);
        state.active.set(transfer, download);
        busy.add(session);
        control.send(session, { op: 'sending', ref, transfer, file: publicInfo(file), offset, window: downloadWindow });
        if (!download.complete) return pump(session);
        forget(download);
        download.close();
        return;
      }
      case 'list': {
        if (ref === undefined) throw refuse('FILES_BAD_REQUEST', 'list needs {"op":"list","ref":string(1-64)}');
        const visible = store.list(session.room.name).filter((file) => isVisible(file, session)).map(publicInfo);
        control.send(session, { op: 'list', ref, files: visible });
        return;
      }
      case 'delete': {
        if (ref === undefined || typeof message.id !== 'string') throw refuse('FILES_BAD_REQUEST', 'delete needs {"op":"delete","ref":string(1-64),"id":string}');
        const file = visibleFile(message.id, session, refuse);
        if (file.from.id !== session.id && !session.grants.has('moderate')) throw refuse('FILES_NOT_ALLOWED');
        void removeFile(file, 'deleted', session, ref);
        return;
      }
      default:
        throw refuse('FILES_BAD_REQUEST', `unknown op ${JSON.stringify(message.op)}; the files ops are offer, end, status, ack, cancel, get, list, delete`);
    }
  });

  /** An upload's bytes reached its temporary file: confirm them to the sender (or fail on a write error). */
  const written = (upload: Upload, error: unknown) => {
    if (!bySession.get(upload.session).active.has(upload.transfer)) return;
    if (error) return fail(upload, storageError(error));
    control.send(upload.session, { op: 'ack', transfer: upload.transfer, offset: upload.written });
    if (hooks.progress.isUsed()) hooks.progress.call(progressOf(upload));
  };

  /** A download's receiver confirmed more bytes: report, finish or send more. */
  const acknowledged = (download: Download) => {
    if (hooks.progress.isUsed()) hooks.progress.call(progressOf(download));
    if (download.complete) {
      forget(download);
      download.close();
      throughput((download.size - download.offset) / Math.max(0.001, (Date.now() - download.startedAt) / 1000), 'download');
      ctx.log.debug('download complete', { file: download.file.id, session: download.session.id });
    }
    pump(download.session);
  };

  data.onMessage((session, raw) => {
    const chunk = decodeChunk(raw as Uint8Array);
    if (!chunk) throw chunkError('FILES_BAD_CHUNK');
    const state = bySession.get(session);
    const upload = state.active.get(chunk.transfer);
    if (upload instanceof Download) {
      // An empty chunk for a download is its binary ack: the offset written.
      if (chunk.bytes.length > 0 || !upload.ack(chunk.offset)) {
        throw chunkError('FILES_BAD_CHUNK', `a chunk for download ${chunk.transfer} must be an ack: no bytes, an offset between the confirmed and the sent ones`);
      }
      return acknowledged(upload);
    }
    if (!(upload instanceof Upload)) {
      if (state.ended.includes(chunk.transfer)) return;
      throw chunkError('FILES_NO_SUCH_TRANSFER', `no upload ${chunk.transfer} belongs to this session`);
    }
    if (!session.grants.has('files')) return fail(upload, new ConfabError('FILES_FORBIDDEN', FILES_ERRORS.FILES_FORBIDDEN, { fatal: false }));
    const outcome = upload.receive(chunk.offset, chunk.bytes);
    if (outcome === 'too-long') {
      return fail(upload, new ConfabError('FILES_SIZE_MISMATCH', `the upload announced ${upload.size} bytes; a chunk at offset ${chunk.offset} goes past that`, { fatal: false }));
    }
    if (upload.unwritten > 2 * settings.windowBytes) {
      return fail(upload, new ConfabError('FILES_BAD_CHUNK', `the sender has more than ${2 * settings.windowBytes} bytes unconfirmed; keep to the window`, { fatal: false }));
    }
  });

  /** Checks the hash, moves the file into the store, answers the sender and announces it. */
  async function finishUpload(upload: Upload, claimed: string): Promise<void> {
    const state = bySession.get(upload.session);
    let sha256: string;
    try {
      sha256 = await upload.finish();
    } catch (error) {
      return fail(upload, storageError(error));
    }
    if (!state.active.has(upload.transfer)) return;
    if (sha256 !== claimed) {
      return fail(upload, new ConfabError('FILES_HASH_MISMATCH', `the bytes received hash to ${sha256}, not ${claimed}; the upload was discarded`, { fatal: false }));
    }
    const session = upload.session;
    let stored: StoredFile;
    try {
      stored = await store.add(upload.tempPath, {
        room: session.room.name,
        name: upload.offer.name,
        size: upload.size,
        sha256,
        from: session.info,
        to: upload.offer.to,
        createdAt: Date.now(),
      });
    } catch (error) {
      return fail(upload, storageError(error));
    }
    forget(upload);
    throughput(upload.size / Math.max(0.001, (Date.now() - upload.startedAt) / 1000), 'upload');
    const file = publicInfo(stored);
    const room = ctx.room(stored.room);
    hooks.stored.call(file, room);
    ctx.log.info('file stored', { id: file.id, room: stored.room, size: file.size, from: file.from.name });
    if (session.state !== 'closed') control.send(session, { op: 'stored', ref: upload.offer.ref, transfer: upload.transfer, file });
    if (!room) return;
    for (const member of room.sessions) {
      if (member !== session && isVisible(stored, member)) control.send(member, { op: 'file', file });
    }
  }

  /**
   * Deletes a file and tells everyone who could see it (the requester with its ref). A store that cannot
   * take the deletion (a full disk) leaves the file in place; the requester is told STORE_WRITE_FAILED.
   */
  async function removeFile(file: StoredFile, why: 'deleted' | 'expired', requester?: Session, ref?: string): Promise<void> {
    try {
      await store.remove(file.id);
    } catch (error) {
      ctx.log.warn('file not removed', { id: file.id, why, error: String(error) });
      const failure = storageError(error);
      failure.channel = FILES_CHANNEL;
      failure.ref = ref;
      if (requester && requester.state !== 'closed') requester.sendError(failure);
      return;
    }
    hooks.removed.call(publicInfo(file), why);
    const room = ctx.room(file.room);
    if (!room) return;
    for (const member of room.sessions) {
      if (!isVisible(file, member)) continue;
      control.send(member, member === requester ? { op: 'removed', id: file.id, ref } : { op: 'removed', id: file.id });
    }
  }

  function visibleFile(id: string, session: Session, refuse: (code: FilesErrorCode, text?: string) => ConfabError): StoredFile {
    const file = store.get(id);
    if (!file || file.room !== session.room.name || !isVisible(file, session)) {
      throw refuse('FILES_NO_SUCH_FILE', `no file "${id}" is visible to you in this room`);
    }
    return file;
  }

  function checkTransferLimit(state: SessionTransfers, refuse: (code: FilesErrorCode, text?: string) => ConfabError): void {
    if (state.active.size >= settings.maxTransfersPerSession) {
      throw refuse('FILES_TOO_MANY_TRANSFERS', `this session already runs ${state.active.size} transfers; the server allows ${settings.maxTransfersPerSession} at once`);
    }
  }

  ctx.hooks.sessionResumed.tap('files', (session) => pump(session));
  ctx.hooks.sessionLeft.tap('files', (session) => {
    for (const transfer of [...bySession.get(session).active.values()]) {
      fail(transfer, new ConfabError('FILES_CANCELLED', 'the session left', { fatal: false }), false);
    }
  });

  const sweep = setInterval(() => {
    const now = Date.now();
    // Uploads hold disk space: once the disk is low, a stalled one is ended sooner.
    const uploadStallMs = !uploads().next().done && disk.isLow()
      ? Math.min(settings.stallTimeoutMs, settings.lowDiskStallTimeoutMs)
      : settings.stallTimeoutMs;
    for (const session of [...busy]) {
      if (session.state !== 'active') continue;
      for (const transfer of [...bySession.get(session).active.values()]) {
        const limit = transfer instanceof Upload ? uploadStallMs : settings.stallTimeoutMs;
        if (now - transfer.lastProgress > limit) {
          const why = limit < settings.stallTimeoutMs ? ' (the server\'s disk is low)' : '';
          fail(transfer, new ConfabError('FILES_TRANSFER_STALLED', `no progress for ${limit} ms${why}; the transfer was cancelled`, { fatal: false }));
        }
      }
    }
    if (settings.expireAfterMs > 0) {
      for (const file of store.olderThan(now - settings.expireAfterMs)) void removeFile(file, 'expired');
    }
  }, Math.min(10_000, settings.stallTimeoutMs / 4, settings.lowDiskStallTimeoutMs / 4, settings.expireAfterMs || Infinity));
  sweep.unref();

  ctx.hooks.close.tapPromise('files', async () => {
    clearInterval(sweep);
    const transfers = [...busy].flatMap((session) => [...bySession.get(session).active.values()]);
    busy.clear();
    await Promise.all(transfers.map((transfer) => (transfer instanceof Upload ? transfer.abort() : transfer.close())));
  });
}

/** Finds one of the session's transfers by the id a message gives. */
function findTransfer(state: SessionTransfers, id: unknown, refuse: (code: FilesErrorCode, text?: string) => ConfabError): Transfer {
  const transfer = typeof id === 'number' ? state.active.get(id) : undefined;
  if (!transfer) throw refuse('FILES_NO_SUCH_TRANSFER', `no transfer ${JSON.stringify(id)} of this session is running`);
  return transfer;
}

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
