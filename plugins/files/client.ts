/**
 * The files plugin, client half: share files with the room or one participant, list and download them,
 * with progress events and verified SHA-256. Platform-neutral (browser and Node): sources are `Blob`s or
 * `FileSource`s and destinations `FileSink`s or `WritableStream`s. In Node, import `filesClient` from
 * `client-node.ts` instead: it also takes file paths and hashes with `node:crypto`.
 *
 * Every request goes through the SDK's `channel.request` (sent again after a resume, refused by the
 * server's ERROR for it). Uploads keep at most the server's window of unconfirmed bytes in flight and pause
 * while the connection is down; after a resume they ask the server for its confirmed offset and continue
 * from there. Downloads confirm what they wrote and confirm again after a resume, so the server continues
 * where it stopped. A transfer whose session is gone (the client joined again as a new session) fails with
 * FILES_SESSION_LOST. The loops are in client-upload.ts and client-download.ts.
 *
 * @example
 *   const files = client.use(filesClient());
 *   files.on('file', (file) => console.log(`${file.from.name} shared ${file.name}`));
 *   const upload = files.upload(input.files[0], { to: peer.id });
 *   upload.on('progress', ({ sent, total }) => bar.value = sent / total);
 *   const info = await upload.done;
 */
import { Emitter } from '../../core/client/emitter.js';
import { replyOf } from '../../core/client/requests.js';
import type { ClientPlugin } from '../../core/client/types.js';
import { ConfabError } from '../../core/errors.js';
import { runDownload } from './client-download.js';
import { openSink, openSource } from './client-io.js';
import { RunningTransfers, startTransfer, type TransferContext } from './client-transfer.js';
import type { DownloadProgress, FilesApi, FilesEvents, FilesIo, UploadProgress } from './client-types.js';
import { runUpload } from './client-upload.js';
import { createSha256 } from './hasher.js';
import { decodeChunk, FILES, FILES_DATA, FILES_ERRORS } from './protocol.js';

export type { DownloadProgress, FileSink, FileSource, FilesApi, FilesEvents, FilesIo, Transfer, UploadProgress } from './client-types.js';
export type { Hasher } from './hasher.js';
export type { FileInfo } from './protocol.js';

/** Creates the files client half. Node code should use `filesClient` from client-node.ts. */
export function filesClient(io: FilesIo = {}): ClientPlugin<FilesApi> {
  return {
    name: 'files',
    attach(ctx) {
      const events = new Emitter<FilesEvents>();
      const control = ctx.channel(FILES);
      const data = ctx.channel(FILES_DATA);
      const running = new RunningTransfers();
      let closed: ConfabError | undefined;

      control.onMessage((message) => {
        switch (message.op) {
          case 'file':
            return void events.emit('file', message.file);
          case 'removed':
            return void events.emit('removed', { id: message.id });
          case 'ack':
            return running.get(message.transfer)?.onAck?.(message.offset);
          case 'stored':
            return running.get(message.transfer)?.onStored?.(message.file);
          default:
            // accepted, sending and list answer requests; the same answer again (to a request re-sent after a
            // resume) is not needed.
            return;
        }
      });
      data.onMessage((payload) => {
        const chunk = decodeChunk(payload);
        if (chunk) running.chunk(chunk.transfer, chunk.offset, chunk.bytes);
      });
      // The server's errors about a running transfer carry its offer's or get's ref.
      ctx.onError((error) => running.error(error));
      ctx.on('resumed', () => {
        for (const transfer of running.all()) transfer.onResumed();
      });
      ctx.on('rejoined', () => {
        for (const transfer of running.all()) transfer.fail(FILES_ERRORS.FILES_SESSION_LOST());
      });
      ctx.on('close', ({ error, reason }) => {
        closed = error ?? new ConfabError('CONNECTION_CLOSED', `the client closed (${reason})`);
        for (const transfer of running.all()) transfer.fail(closed);
      });

      const context: TransferContext = {
        client: ctx.client,
        control,
        data,
        running,
        createHasher: io.createHasher ?? createSha256,
        isClosed: () => closed,
      };
      return {
        on: events.on.bind(events),
        off: events.off.bind(events),
        once: events.once.bind(events),
        upload(source, options = {}) {
          return startTransfer<UploadProgress>((transfer) => runUpload(context, transfer, () => openSource(source, io), options));
        },
        download(id, destination) {
          return startTransfer<DownloadProgress>((transfer) => runDownload(context, transfer, id, (file) => openSink(destination, file, io)));
        },
        async list() {
          return replyOf(await control.request({ op: 'list' }), 'list').files;
        },
        async delete(id) {
          replyOf(await control.request({ op: 'delete', id }), 'removed');
          events.emit('removed', { id });
        },
      };
    },
  };
}
