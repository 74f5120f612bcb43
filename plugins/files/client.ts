/**
 * The files plugin, client half: share files with the room or one participant, list and download them,
 * with progress events and verified SHA-256. Platform-neutral (browser and Node): sources are `Blob`s or
 * `FileSource`s and destinations `FileSink`s or `WritableStream`s. In Node, import `filesClient` from
 * `client-node.ts` instead: it also takes file paths and hashes with `node:crypto`.
 *
 * Uploads keep at most the server's window of unconfirmed bytes in flight and pause while the connection
 * is down; after a resume they ask the server for its confirmed offset and continue from there. Downloads
 * confirm every chunk written and re-confirm after a resume, so the server continues where it stopped.
 *
 * @example
 *   const files = client.use(filesClient());
 *   files.on('file', (file) => console.log(`${file.from.name} shared ${file.name}`));
 *   const upload = files.upload(input.files[0], { to: peer.id });
 *   upload.on('progress', ({ sent, total }) => bar.value = sent / total);
 *   const info = await upload.done;
 */
import { ConfabError } from '../../core/errors.js';
import { Emitter } from '../../core/client/emitter.js';
import type { ClientPlugin, ClientPluginContext } from '../../core/client/types.js';
import { cleanFileName } from './name.js';
import {
  CHUNK_HEADER_BYTES,
  chunkBytesFor,
  decodeChunk,
  encodeChunk,
  FILES_CHANNEL,
  FILES_DATA_CHANNEL,
  writeChunkHeader,
  type FileInfo,
  type FilesServerMessage,
} from './protocol.js';
import { createSha256, type Hasher } from './hasher.js';

export type { FileInfo } from './protocol.js';
export type { Hasher } from './hasher.js';

/** Something to upload: a name, a size and random-access reads. */
export interface FileSource {
  name: string;
  size: number;
  /** Reads `length` bytes at `offset` (fewer only at the end). */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Optional, saves an allocation and a copy per chunk: reads `length` bytes at `offset` into `target` at
   * `at`; resolves with the number read (fewer only at the end).
   */
  readInto?(target: Uint8Array, at: number, offset: number, length: number): Promise<number>;
  /** Releases the source (closes a file). */
  close?(): Promise<void>;
}

/** Where a download is written, in order. */
export interface FileSink {
  /**
   * Bytes the sink already holds from an earlier, interrupted download of the same file, fed to `hasher`;
   * the download continues from there. Absent: starts at 0.
   */
  resumeFrom?(hasher: Hasher): Promise<number>;
  /** Appends bytes. */
  write(bytes: Uint8Array): Promise<void>;
  /** Every byte was written and the hash matched: make the file final. */
  close(): Promise<void>;
  /** The download failed or was cancelled; `keepPartial` when it may be resumed later. */
  abort(keepPartial: boolean): Promise<void>;
}

/** Platform helpers: how to open a path (Node) and how to hash. */
export interface FilesIo {
  /** Opens a source given as something other than a Blob or FileSource (a path in Node). */
  openSource?(source: unknown): Promise<FileSource>;
  /** Opens a sink given as something other than a FileSink or WritableStream (a path in Node). */
  openSink?(destination: unknown, file: FileInfo): Promise<FileSink>;
  /** A SHA-256 hasher. Default: hash-wasm's (hasher.ts). */
  createHasher?(): Hasher | Promise<Hasher>;
}

/** Progress of an upload. */
export interface UploadProgress {
  /** Bytes the server confirmed it wrote. */
  sent: number;
  total: number;
}

/** Progress of a download. */
export interface DownloadProgress {
  /** Bytes written to the destination. */
  received: number;
  total: number;
}

/** An upload or download under way. */
export interface Transfer<Progress> extends Pick<Emitter<{ progress: [Progress] }>, 'on' | 'off' | 'once'> {
  /** Resolves with the stored file once verified; rejects with a ConfabError (FILES_TOO_LARGE…). */
  readonly done: Promise<FileInfo>;
  /** Stops the transfer; `done` rejects with FILES_CANCELLED. */
  cancel(): void;
}

/** Events of the files client half. */
export type FilesEvents = {
  /** Someone shared a file with the room or with this client. */
  file: [FileInfo];
  /** A file this client could see was deleted or expired. */
  removed: [{ id: string }];
};

/** What `client.use(filesClient())` returns. */
export interface FilesApi extends Pick<Emitter<FilesEvents>, 'on' | 'off' | 'once'> {
  /**
   * Shares a file with the room, or with one participant (`to`: a peer's session id). `name` overrides the
   * source's name. Sources: a `Blob`/`File`, a `FileSource`, or a path with the Node client.
   */
  upload(source: Blob | FileSource | string, options?: { to?: string; name?: string }): Transfer<UploadProgress>;
  /**
   * Downloads a file into `destination` (a `FileSink`, a `WritableStream`, or a path with the Node client),
   * verifying its SHA-256 as it streams.
   */
  download(id: string, destination: FileSink | WritableStream<Uint8Array> | string): Transfer<DownloadProgress>;
  /** The files of the room this client may see, oldest first. */
  list(): Promise<FileInfo[]>;
  /** Deletes a file this client shared (or any, with the `moderate` grant). */
  delete(id: string): Promise<void>;
}

const EMPTY = new Uint8Array(0);

/** A request waiting for the server's answer, by ref. */
interface Pending {
  resolve(message: FilesServerMessage): void;
  reject(error: ConfabError): void;
}

/** A running transfer, as the message handlers see it, by the server's transfer id. */
interface Running {
  onAck?(offset: number): void;
  onChunk?(offset: number, bytes: Uint8Array): void;
  onResumed(): void;
  /** Wakes the transfer's loop (the client closed). */
  wake(): void;
  /** Chunks that arrived before the download's loop took over (it replays them). */
  early?: Array<[offset: number, bytes: Uint8Array]>;
}

/** Creates the files client half. Node code should use `filesClient` from client-node.ts. */
export function filesClient(io: FilesIo = {}): ClientPlugin<FilesApi> {
  return {
    name: 'files',
    attach(ctx) {
      const events = new Emitter<FilesEvents>();
      const pending = new Map<string, Pending>();
      const running = new Map<number, Running>();
      const refPrefix = Math.random().toString(36).slice(2, 8);
      let counter = 0;
      let closed: ConfabError | undefined;
      const createHasher = io.createHasher ?? createSha256;

      /** Sends a request with a new ref and resolves with the answer that carries it. */
      const request = (message: Record<string, unknown>): { ref: string; answer: Promise<FilesServerMessage> } => {
        const ref = `${refPrefix}-${++counter}`;
        const answer = new Promise<FilesServerMessage>((resolve, reject) => {
          if (closed) return reject(closed);
          pending.set(ref, { resolve, reject });
          try {
            ctx.send(FILES_CHANNEL, { ...message, ref });
          } catch (error) {
            pending.delete(ref);
            reject(error);
          }
        });
        return { ref, answer };
      };
      /** Waits for the next answer to a ref already sent (`stored` after `accepted`). */
      const later = (ref: string) => new Promise<FilesServerMessage>((resolve, reject) => {
        if (closed) return reject(closed);
        pending.set(ref, { resolve, reject });
      });

      ctx.onMessage(FILES_CHANNEL, (raw) => {
        const message = raw as unknown as FilesServerMessage;
        switch (message.op) {
          case 'file':
            return void events.emit('file', message.file);
          case 'ack':
            return running.get(message.transfer)?.onAck?.(message.offset);
          case 'removed':
            if (message.ref !== undefined) settle(message.ref, message);
            return void events.emit('removed', { id: message.id });
          case 'sending': {
            // The first chunks may come in the same read as this answer, before the download's loop (which
            // awaits the answer) takes over: keep them for it.
            const early: Array<[number, Uint8Array]> = [];
            running.set(message.transfer, { early, onChunk: (offset, bytes) => void early.push([offset, bytes.slice()]), onResumed: () => undefined, wake: () => undefined });
            return settle(message.ref, message);
          }
          default:
            if ('ref' in message && typeof message.ref === 'string') settle(message.ref, message);
        }
      });
      ctx.onMessage(FILES_DATA_CHANNEL, (raw) => {
        const chunk = decodeChunk(raw as Uint8Array);
        if (chunk) running.get(chunk.transfer)?.onChunk?.(chunk.offset, chunk.bytes);
      });
      ctx.onError((error) => {
        if (error.ref === undefined) return;
        const waiting = pending.get(error.ref);
        pending.delete(error.ref);
        waiting?.reject(error);
      });
      ctx.on('resumed', () => {
        for (const transfer of running.values()) transfer.onResumed();
      });
      ctx.on('close', ({ error, reason }) => {
        closed = error ?? new ConfabError('CONNECTION_CLOSED', `the client closed (${reason})`);
        for (const waiting of pending.values()) waiting.reject(closed);
        pending.clear();
        for (const transfer of running.values()) transfer.wake();
      });

      function settle(ref: string, message: FilesServerMessage): void {
        const waiting = pending.get(ref);
        pending.delete(ref);
        waiting?.resolve(message);
      }

      const context: TransferContext = { ctx, request, later, running, createHasher, isClosed: () => closed };
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
          const answer = await request({ op: 'list' }).answer;
          return answer.op === 'list' ? answer.files : [];
        },
        async delete(id) {
          await request({ op: 'delete', id }).answer;
        },
      };
    },
  };
}

/** What the upload and download loops share with the plugin. */
interface TransferContext {
  ctx: ClientPluginContext;
  request(message: Record<string, unknown>): { ref: string; answer: Promise<FilesServerMessage> };
  later(ref: string): Promise<FilesServerMessage>;
  running: Map<number, Running>;
  createHasher(): Hasher | Promise<Hasher>;
  isClosed(): ConfabError | undefined;
}

/** The inside of a transfer: its emitter, a wake-up for its loop, and cancellation. */
interface TransferControl<Progress> {
  events: Emitter<{ progress: [Progress] }>;
  /** Resolves at the next event that may let the loop go on (an ack, a chunk, a resume, a cancel). */
  wait(): Promise<void>;
  wake(): void;
  /** Set once cancelled or failed from outside the loop. */
  stop: ConfabError | undefined;
}

function startTransfer<Progress>(run: (control: TransferControl<Progress>) => Promise<FileInfo>): Transfer<Progress> {
  let waiting: Array<() => void> = [];
  const control: TransferControl<Progress> = {
    events: new Emitter(),
    stop: undefined,
    wait: () => new Promise((resolve) => waiting.push(resolve)),
    wake: () => {
      const woken = waiting;
      waiting = [];
      for (const resolve of woken) resolve();
    },
  };
  const done = run(control);
  return {
    on: control.events.on.bind(control.events),
    off: control.events.off.bind(control.events),
    once: control.events.once.bind(control.events),
    done,
    cancel() {
      control.stop ??= new ConfabError('FILES_CANCELLED', 'the transfer was cancelled', { fatal: false });
      control.wake();
    },
  };
}

/** Fails the loop when the transfer was cancelled or the client closed. */
function checkStop(context: TransferContext, control: TransferControl<unknown>): void {
  const closed = context.isClosed();
  if (control.stop) throw control.stop;
  if (closed) throw closed;
}

async function runUpload(
  context: TransferContext,
  control: TransferControl<UploadProgress>,
  open: () => Promise<FileSource>,
  options: { to?: string; name?: string },
): Promise<FileInfo> {
  const source = await open();
  let transfer: number | undefined;
  try {
    const hasher = await context.createHasher();
    const offer: Record<string, unknown> = { op: 'offer', name: options.name ?? source.name, size: source.size };
    if (options.to !== undefined) offer.to = options.to;
    const { ref, answer } = context.request(offer);
    const accepted = await Promise.race([answer, stopped(context, control)]);
    if (accepted.op !== 'accepted') throw new ConfabError('FILES_BAD_REQUEST', `unexpected answer ${accepted.op} to an offer`);
    transfer = accepted.transfer;
    const stored = context.later(ref);
    stored.catch(() => undefined);

    let hashed = 0;
    let acked = 0;
    let next = 0;
    context.running.set(transfer, {
      onAck(offset) {
        if (offset <= acked) return;
        acked = offset;
        control.events.emit('progress', { sent: acked, total: source.size });
        control.wake();
      },
      onResumed() {
        // Chunks written into the broken connection may be lost: go back to what the server confirmed, and
        // ask it for its newest offset (its acks may have been lost too).
        next = acked;
        context.ctx.send(FILES_CHANNEL, { op: 'status', transfer });
        control.wake();
      },
      wake: control.wake,
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
      if (context.ctx.client.state === 'open' && next < source.size && next + length - acked <= accepted.window) {
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
        if (payload.length !== CHUNK_HEADER_BYTES + length) {
          throw new ConfabError('FILES_SIZE_MISMATCH', `the source ended at ${offset + payload.length - CHUNK_HEADER_BYTES} bytes; it announced ${source.size}`);
        }
        if (offset + length > hashed) {
          hasher.update(payload.subarray(CHUNK_HEADER_BYTES + hashed - offset));
          hashed = offset + length;
        }
        if (next !== offset) continue; // a resume moved us back while we read
        writeChunkHeader(payload, transfer, offset);
        context.ctx.send(FILES_DATA_CHANNEL, payload);
        next = following;
        continue;
      }
      await control.wait();
    }
    context.ctx.send(FILES_CHANNEL, { op: 'end', transfer, sha256: hasher.digest() });
    const answer2 = await Promise.race([stored, stopped(context, control)]);
    if (answer2.op !== 'stored') throw new ConfabError('FILES_BAD_REQUEST', `unexpected answer ${answer2.op} to an upload`);
    return answer2.file;
  } catch (error) {
    if (transfer !== undefined && !context.isClosed() && (error as ConfabError).code === 'FILES_CANCELLED') {
      context.ctx.send(FILES_CHANNEL, { op: 'cancel', transfer });
    }
    throw error;
  } finally {
    if (transfer !== undefined) context.running.delete(transfer);
    await source.close?.();
  }
}

async function runDownload(
  context: TransferContext,
  control: TransferControl<DownloadProgress>,
  id: string,
  open: (file: FileInfo) => Promise<FileSink>,
): Promise<FileInfo> {
  const listed = await context.request({ op: 'list' }).answer;
  const found = listed.op === 'list' ? listed.files.find((file) => file.id === id) : undefined;
  if (!found) throw new ConfabError('FILES_NO_SUCH_FILE', `no file "${id}" is visible to you in this room`, { fatal: false });
  const clean = cleanFileName(found.name);
  const file = { ...found, name: clean.ok ? clean.name : `file-${found.id}` };
  const hasher = await context.createHasher();
  const sink = await open(file);
  let transfer: number | undefined;
  let failed = true;
  try {
    const start = (await sink.resumeFrom?.(hasher)) ?? 0;
    const { answer } = context.request({ op: 'get', id, offset: start });
    const sending = await Promise.race([answer, stopped(context, control)]);
    if (sending.op !== 'sending') throw new ConfabError('FILES_BAD_REQUEST', `unexpected answer ${sending.op} to a get`);
    transfer = sending.transfer;
    const size = sending.file.size;
    let received = start;
    let written = start;
    let writing = Promise.resolve();
    let writeError: unknown;
    // Acks are binary (an empty chunk at the written offset) and go out every quarter window, not per chunk.
    const ackEvery = typeof sending.window === 'number' ? Math.max(1, Math.floor(sending.window / 4)) : 1;
    let ackedSent = start;
    const ack = () => {
      ackedSent = written;
      context.ctx.send(FILES_DATA_CHANNEL, encodeChunk(transfer!, written, EMPTY));
    };
    const early = context.running.get(transfer)?.early ?? [];
    context.running.set(transfer, {
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
          if (context.ctx.client.state === 'open' && (written - ackedSent >= ackEvery || written === size)) ack();
          control.events.emit('progress', { received: written, total: size });
          control.wake();
        });
      },
      onResumed() {
        ack();
      },
      wake: control.wake,
    });
    for (const [offset, bytes] of early) context.running.get(transfer)!.onChunk!(offset, bytes);
    while (written < size) {
      checkStop(context, control);
      if (writeError) throw new ConfabError('FILES_IO_FAILED', `could not write the download: ${(writeError as Error).message}`, { fatal: false, cause: writeError });
      await control.wait();
    }
    const sha256 = hasher.digest();
    if (sha256 !== sending.file.sha256) {
      throw new ConfabError('FILES_HASH_MISMATCH', `the download hashes to ${sha256}, not ${sending.file.sha256}; it was discarded`, { fatal: false });
    }
    await sink.close();
    failed = false;
    return file;
  } catch (error) {
    if (transfer !== undefined && !context.isClosed() && context.running.has(transfer)) context.ctx.send(FILES_CHANNEL, { op: 'cancel', transfer });
    throw error;
  } finally {
    if (transfer !== undefined) context.running.delete(transfer);
    if (failed) {
      // A lost connection may be resumed later by downloading again to the same place; other failures start over.
      await sink.abort(context.isClosed() !== undefined).catch(() => undefined);
    }
  }
}

/** A promise that rejects when the transfer is cancelled (checked at every wake-up). */
function stopped(context: TransferContext, control: TransferControl<unknown>): Promise<never> {
  return new Promise((_resolve, reject) => {
    const check = () => {
      const why = control.stop ?? context.isClosed();
      if (why) return reject(why);
      void control.wait().then(check);
    };
    check();
  });
}

async function openSource(source: Blob | FileSource | string, io: FilesIo): Promise<FileSource> {
  if (typeof Blob !== 'undefined' && source instanceof Blob) return blobSource(source);
  if (typeof source === 'object' && source !== null && 'read' in source) return source;
  if (io.openSource) return io.openSource(source);
  throw new ConfabError('FILES_BAD_REQUEST', 'upload() takes a Blob or a FileSource here; for file paths use filesClient from plugins/files/client-node.ts', { fatal: false });
}

async function openSink(destination: FileSink | WritableStream<Uint8Array> | string, file: FileInfo, io: FilesIo): Promise<FileSink> {
  if (typeof WritableStream !== 'undefined' && destination instanceof WritableStream) return streamSink(destination);
  if (typeof destination === 'object' && destination !== null && 'write' in destination) return destination;
  if (io.openSink) return io.openSink(destination, file);
  throw new ConfabError('FILES_BAD_REQUEST', 'download() takes a FileSink or a WritableStream here; for file paths use filesClient from plugins/files/client-node.ts', { fatal: false });
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

/** A Blob (a browser `File`) as a source. */
function blobSource(blob: Blob): FileSource {
  return {
    name: 'name' in blob && typeof blob.name === 'string' ? blob.name : 'file',
    size: blob.size,
    read: async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()),
  };
}

/** A WritableStream (e.g. from the File System Access API) as a sink. */
function streamSink(stream: WritableStream<Uint8Array>): FileSink {
  const writer = stream.getWriter();
  return {
    write: (bytes) => writer.write(bytes),
    close: () => writer.close(),
    abort: () => writer.abort(),
  };
}
