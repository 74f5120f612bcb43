/**
 * One upload, client side: offer the file (a `channel.request`), send its chunks on the data channel with at
 * most the server's window unconfirmed, hash them on the way, then `end` with the SHA-256 and wait for
 * `stored`. The loop pauses while the connection is down; after a resume it goes back to the offset the
 * server confirmed and asks for its newest (`status`), and sends `end` again if it was waiting for `stored`.
 */
import { replyOf } from '../../core/client/requests.js';
import { checkStop, unlessStopped, type TransferContext, type TransferControl } from './client-transfer.js';
import type { FileSource, UploadProgress } from './client-types.js';
import { CHUNK_HEADER_BYTES, chunkBytesFor, FILES_ERRORS, writeChunkHeader, type FileInfo, type FilesMessage } from './protocol.js';

/** Runs an upload of the source `open` gives; resolves with the stored file. */
export async function runUpload(
  context: TransferContext,
  control: TransferControl<UploadProgress>,
  open: () => Promise<FileSource>,
  options: { to?: string; name?: string },
): Promise<FileInfo> {
  const source = await open();
  let transfer: number | undefined;
  /** True once the server ended the transfer itself (an error about it), or it went with the session. */
  let gone = false;
  let offer: Promise<FilesMessage> | undefined;
  try {
    const hasher = await context.createHasher();
    checkStop(context, control);
    offer = context.control.request({ op: 'offer', name: options.name ?? source.name, size: source.size, to: options.to });
    const accepted = replyOf(await unlessStopped(context, control, offer), 'accepted');
    const id = accepted.transfer;
    transfer = id;

    let hashed = 0;
    let acked = 0;
    let next = 0;
    let sha256: string | undefined;
    let stored: FileInfo | undefined;
    context.running.start(id, {
      ref: accepted.ref,
      onAck(offset) {
        if (offset <= acked) return;
        acked = offset;
        control.events.emit('progress', { sent: acked, total: source.size });
        control.wake();
      },
      onStored(file) {
        stored = file;
        control.wake();
      },
      onResumed() {
        // Chunks (and `end`) written into the broken connection may be lost: go back to what the server
        // confirmed, and ask it for its newest offset (its acks may have been lost too).
        next = acked;
        context.control.send({ op: 'status', transfer: id });
        if (sha256 !== undefined) context.control.send({ op: 'end', transfer: id, sha256 });
        control.wake();
      },
      fail(error) {
        gone = true;
        control.fail(error);
      },
    });

    // Chunks are read straight into one of two reused payload buffers (header room first), and the next read
    // starts before this chunk is hashed and sent, so the disk and the socket work at the same time. Sending
    // copies the payload into its frame, so a buffer is free again once its chunk is sent.
    const chunkBytes = chunkBytesFor(accepted.window);
    const buffers = [new Uint8Array(CHUNK_HEADER_BYTES + chunkBytes), new Uint8Array(CHUNK_HEADER_BYTES + chunkBytes)];
    let turn = 0;
    const lengthAt = (offset: number) => Math.min(chunkBytes, source.size - offset);
    const read = (offset: number) => readPayload(source, buffers[turn++ % 2], offset, lengthAt(offset));
    let ahead: { offset: number; payload: Promise<Uint8Array> } | undefined;
    while (acked < source.size) {
      checkStop(context, control);
      const length = lengthAt(next);
      if (context.client.state === 'open' && next < source.size && next + length - acked <= accepted.window) {
        const offset = next;
        if (ahead && ahead.offset !== offset) {
          await ahead.payload.catch(() => undefined); // a resume moved us: let the stale read end before reusing its buffer
          ahead = undefined;
        }
        const reading = ahead ? ahead.payload : read(offset);
        const following = offset + length;
        ahead = following < source.size ? { offset: following, payload: read(following) } : undefined;
        ahead?.payload.catch(() => undefined);
        const payload = await reading;
        checkStop(context, control);
        if (payload.length !== CHUNK_HEADER_BYTES + length) {
          throw FILES_ERRORS.FILES_SIZE_MISMATCH({ message: `the source ended at ${offset + payload.length - CHUNK_HEADER_BYTES} bytes; it announced ${source.size}` });
        }
        if (offset + length > hashed) {
          hasher.update(payload.subarray(CHUNK_HEADER_BYTES + hashed - offset));
          hashed = offset + length;
        }
        if (next !== offset) continue; // a resume moved us back while we read
        writeChunkHeader(payload, id, offset);
        context.data.send(payload);
        next = following;
        continue;
      }
      await control.wait();
    }
    sha256 = hasher.digest();
    context.control.send({ op: 'end', transfer: id, sha256 });
    while (!stored) {
      checkStop(context, control);
      await control.wait();
    }
    return stored;
  } catch (error) {
    if (!context.isClosed() && !gone) cancelOnServer(context, transfer, offer);
    throw error;
  } finally {
    if (transfer !== undefined) context.running.end(transfer);
    await source.close?.();
  }
}

/**
 * Ends on the server an upload the client gave up (cancelled, or its source failed): at once when it was
 * accepted, else when the offer's answer comes (an offer the server refused needs nothing).
 */
function cancelOnServer(context: TransferContext, transfer: number | undefined, offer: Promise<FilesMessage> | undefined): void {
  if (transfer !== undefined) return void context.control.send({ op: 'cancel', transfer });
  void offer?.then((reply) => {
    if (!context.isClosed() && reply.op === 'accepted') context.control.send({ op: 'cancel', transfer: reply.transfer });
  }, () => undefined);
}

/**
 * Reads the chunk at `offset` into `buffer` after room for the chunk header (with the source's `readInto`
 * when it has one, else `read` and a copy); returns the payload: header room + the bytes read.
 */
async function readPayload(source: FileSource, buffer: Uint8Array, offset: number, length: number): Promise<Uint8Array> {
  if (source.readInto) return buffer.subarray(0, CHUNK_HEADER_BYTES + await source.readInto(buffer, CHUNK_HEADER_BYTES, offset, length));
  const bytes = await source.read(offset, length);
  buffer.set(bytes.subarray(0, length), CHUNK_HEADER_BYTES);
  return buffer.subarray(0, CHUNK_HEADER_BYTES + Math.min(bytes.length, length));
}
