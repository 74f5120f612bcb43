/**
 * The files client half's public types, shared by the platform-neutral half (client.ts) and the Node half
 * (client-node.ts): what can be uploaded (`FileSource`, a `Blob`, a path in Node), where a download goes
 * (`FileSink`, a `WritableStream`, a path in Node), the transfers' progress and the API.
 */
import type { Emitter } from '../../core/client/emitter.js';
import type { Hasher } from './hasher.js';
import type { FileInfo } from './protocol.js';

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
