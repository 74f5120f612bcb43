/**
 * One download, client side: find the file in the room's list, open the sink (which may already hold the
 * start of the file from an interrupted download), `get` it from there (a `channel.request`), write the
 * chunks in order while hashing them, and acknowledge what was written with empty chunks every quarter
 * window (again after a resume, so the server goes on). Done when every byte is written and the SHA-256 is
 * the file's.
 */
import { replyOf } from '../../core/client/requests.js';
import { checkStop, unlessStopped, type TransferContext, type TransferControl } from './client-transfer.js';
import type { DownloadProgress, FileSink } from './client-types.js';
import { cleanFileName } from './name.js';
import { encodeChunk, FILES_ERRORS, type FileInfo } from './protocol.js';

const EMPTY = new Uint8Array(0);

/** Runs a download of file `id` into the sink `open` gives; resolves with the file once verified. */
export async function runDownload(
  context: TransferContext,
  control: TransferControl<DownloadProgress>,
  id: string,
  open: (file: FileInfo) => Promise<FileSink>,
): Promise<FileInfo> {
  const listed = replyOf(await context.control.request({ op: 'list' }), 'list');
  const found = listed.files.find((file) => file.id === id);
  if (!found) throw FILES_ERRORS.FILES_NO_SUCH_FILE({ message: `no file "${id}" is visible to you in this room` });
  // The server's answer is network input too: its name is cleaned again before it names anything here.
  const clean = cleanFileName(found.name);
  const file = { ...found, name: clean.ok ? clean.name : `file-${found.id}` };
  const hasher = await context.createHasher();
  const sink = await open(file);
  let transfer: number | undefined;
  let failed = true;
  /** True once the server ended the transfer itself (an error about it), or it went with the session. */
  let gone = false;
  let expecting: (() => void) | undefined;
  try {
    const start = (await sink.resumeFrom?.(hasher)) ?? 0;
    // Chunks that arrive with the answer, before this loop has it, are kept until the download starts below.
    expecting = context.running.expect();
    const sending = replyOf(await unlessStopped(context, control, context.control.request({ op: 'get', id, offset: start })), 'sending');
    const downloading = sending.transfer;
    transfer = downloading;
    const size = sending.file.size;
    let received = start;
    let written = start;
    let writing = Promise.resolve();
    let writeError: unknown;
    // Acks are binary (an empty chunk at the written offset) and go out every quarter window, not per chunk.
    const ackEvery = Math.max(1, Math.floor(sending.window / 4));
    let ackedSent = start;
    const ack = () => {
      ackedSent = written;
      context.data.send(encodeChunk(downloading, written, EMPTY));
    };
    context.running.start(downloading, {
      ref: sending.ref,
      onChunk(offset, bytes) {
        if (offset !== received || received + bytes.length > size) return;
        received += bytes.length;
        hasher.update(bytes);
        writing = writing.then(async () => {
          if (writeError) return;
          try {
            await sink.write(bytes);
          } catch (error) {
            writeError = error;
            return control.wake();
          }
          written += bytes.length;
          if (context.client.state === 'open' && (written - ackedSent >= ackEvery || written === size)) ack();
          control.events.emit('progress', { received: written, total: size });
          control.wake();
        });
      },
      onResumed: ack,
      fail(error) {
        gone = true;
        control.fail(error);
      },
    });
    expecting();
    while (written < size) {
      checkStop(context, control);
      if (writeError) {
        const reason = writeError instanceof Error ? writeError.message : String(writeError);
        throw FILES_ERRORS.FILES_IO_FAILED({ message: `could not write the download: ${reason}`, cause: writeError });
      }
      await control.wait();
    }
    const sha256 = hasher.digest();
    if (sha256 !== sending.file.sha256) {
      throw FILES_ERRORS.FILES_HASH_MISMATCH({ message: `the download hashes to ${sha256}, not ${sending.file.sha256}; it was discarded` });
    }
    await sink.close();
    failed = false;
    return file;
  } catch (error) {
    if (transfer !== undefined && !gone && !context.isClosed()) context.control.send({ op: 'cancel', transfer });
    throw error;
  } finally {
    expecting?.();
    if (transfer !== undefined) context.running.end(transfer);
    if (failed) {
      // A lost connection or session may be resumed later by downloading again to the same place; other failures start over.
      await sink.abort(context.isClosed() !== undefined || (gone && control.stop?.code === 'FILES_SESSION_LOST')).catch(() => undefined);
    }
  }
}
