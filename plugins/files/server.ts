/**
 * The files plugin, server half: share a file with the room or with one participant. Uploads stream in
 * binary chunks into a temporary file, hashed on the way, and enter the store only once size and SHA-256
 * check out; downloads stream out of the store under a window of confirmed bytes. Both continue from the
 * confirmed offset after a resume. Limits: file size, room quota, transfers per session, and the disk's free
 * space: an upload the disk cannot take plus a margin is refused (FILES_DISK_FULL), and once the disk is low a
 * stalled upload is ended sooner, so a full disk stays this plugin's problem.
 *
 * This file wires the parts, each in its own file: uploads.ts (offers, chunks, end), downloads.ts (get,
 * acks, sending), catalog.ts (who sees which file, list, delete, expiry), transfers.ts (what runs, per
 * session), sweep.ts (stalls and expiry). The plugin's own hooks are per server: `getFilesHooks` (hooks.ts).
 */
import { definePlugin } from '../../core/config.js';
import { isConfabError } from '../../core/wire.js';
import type { Session } from '../../core/session.js';
import type { Plugin, PluginContext } from '../../core/types.js';
import { Catalog } from './catalog.js';
import { Download } from './download.js';
import { Downloads } from './downloads.js';
import { getFilesHooks } from './hooks.js';
import { readFilesOptions, type FilesOptions, type FilesSettings } from './options.js';
import { decodeChunk, FILES, FILES_DATA, FILES_ERRORS, type FilesRequest } from './protocol.js';
import { throughputHistogram, type FilesServerContext } from './server-context.js';
import { storageError } from './server-errors.js';
import { FileStore } from './store.js';
import { startSweep } from './sweep.js';
import { Transfers } from './transfers.js';
import { Upload } from './upload.js';
import { Uploads } from './uploads.js';

export type { FilesOptions } from './options.js';
export { getFilesHooks, type FilesHooks, type TransferProgress } from './hooks.js';

/**
 * Creates the files plugin. Its hooks are the server's: `getFilesHooks(ctx)` in another plugin's setup,
 * `getFilesHooks(server)` for an application that embeds the server.
 *
 * @example
 *   const server = await createServer({ plugins: [chat(), files({ maxFileBytes: 500 * 2 ** 20, expireAfterMs: 24 * 3600_000 })] });
 *   getFilesHooks(server).stored.tap('audit', (file) => console.log(`${file.from.name} shared ${file.name}`));
 */
export function files(options: FilesOptions = {}): Plugin {
  const settings = readFilesOptions(options);
  return definePlugin({
    name: 'files',
    channels: [FILES, FILES_DATA],
    // Declared so that /metrics counts every files code from 0.
    errors: FILES_ERRORS,
    setup: (ctx) => setupFiles(ctx, settings),
  });
}

async function setupFiles(ctx: PluginContext, settings: FilesSettings): Promise<void> {
  const hooks = getFilesHooks(ctx);
  const files: FilesServerContext = {
    ctx,
    settings,
    hooks,
    control: ctx.channel(FILES),
    data: ctx.channel(FILES_DATA),
    store: await FileStore.open(ctx.store, ctx.dataDir, { shared: ctx.options.cluster !== undefined }),
    transfers: new Transfers(ctx, hooks, settings.maxTransfersPerSession),
    throughput: throughputHistogram(ctx),
  };
  const { control, data, transfers } = files;
  const catalog = new Catalog(files);
  const uploads = new Uploads(files, catalog);
  const downloads = new Downloads(files, catalog);

  /** Hands a control request to the part that owns its op. */
  const handle = (session: Session, request: FilesRequest): void => {
    switch (request.op) {
      case 'offer':
        return uploads.offer(session, request);
      case 'end':
        return uploads.end(session, request);
      case 'get':
        return downloads.get(session, request);
      case 'ack': {
        const download = transfers.find(session, request.transfer);
        if (!(download instanceof Download) || !downloads.ack(download, request.offset)) {
          throw FILES_ERRORS.FILES_BAD_REQUEST({ message: 'ack needs {"op":"ack","transfer":<a download of this session>,"offset":<bytes received, at most those sent>}' });
        }
        return;
      }
      case 'status': {
        const transfer = transfers.find(session, request.transfer);
        return control.send(session, { op: 'ack', transfer: transfer.transfer, offset: transfer.confirmed });
      }
      case 'cancel':
        return transfers.fail(transfers.find(session, request.transfer), FILES_ERRORS.FILES_CANCELLED({ message: 'the client cancelled the transfer' }), false);
      case 'list':
        return catalog.list(session, request);
      case 'delete':
        return catalog.delete(session, request);
    }
  };

  /**
   * In a cluster, a room that comes to this node has its files read again first (it may have lived on
   * another node); its requests wait for that, in order. Alone, there is nothing to read.
   */
  const roomFiles = ctx.perRoom((room) => ctx.options.cluster ? files.store.refreshRoom(room.name).catch((error: unknown) => {
    ctx.log.warn('the room\'s files could not be read again; listing what this node knew', { room: room.name, error: String(error) });
  }) : undefined);
  ctx.hooks.roomCreated.tap('files', (room) => void roomFiles.get(room));

  control.onMessage((session, request) => {
    if (!session.grants.has('files')) throw FILES_ERRORS.FILES_FORBIDDEN();
    const loading = roomFiles.get(session.room);
    if (!loading) return handle(session, request);
    void loading.then(() => {
      if (session.state !== 'closed') handle(session, request);
    }).catch((error: unknown) => {
      const failure = isConfabError(error) ? error : storageError(error);
      if ('ref' in request && request.ref !== undefined) failure.ref = request.ref;
      if (session.state !== 'closed') session.sendError(failure);
    });
  });

  data.onMessage((session, payload) => {
    const chunk = decodeChunk(payload);
    if (!chunk) throw FILES_ERRORS.FILES_BAD_CHUNK();
    const transfer = transfers.get(session, chunk.transfer);
    if (transfer instanceof Upload) return uploads.chunk(transfer, chunk);
    if (transfer instanceof Download) {
      // An empty chunk for a download is its binary ack: the offset written.
      if (chunk.bytes.length > 0 || !downloads.ack(transfer, chunk.offset)) {
        throw FILES_ERRORS.FILES_BAD_CHUNK({ message: `a chunk for download ${chunk.transfer} must be an ack: no bytes, an offset between the confirmed and the sent ones` });
      }
      return;
    }
    if (!transfers.endedLately(session, chunk.transfer)) {
      throw FILES_ERRORS.FILES_NO_SUCH_TRANSFER({ message: `no upload ${chunk.transfer} belongs to this session` });
    }
  });

  ctx.hooks.sessionResumed.tap('files', (session) => downloads.pump(session));
  ctx.hooks.sessionLeft.tap('files', (session) => transfers.sessionLeft(session));
  const stopSweep = startSweep(files, uploads, catalog);
  ctx.hooks.close.tapPromise('files', async () => {
    stopSweep();
    await transfers.closeAll();
  });
}
