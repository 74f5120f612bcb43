/**
 * The files client half for Node: the same API as `client.ts`, plus file paths as upload sources and
 * download destinations, and hashing with `node:crypto`. Kept apart so the browser bundle has no Node imports.
 *
 * A download to a path is written to `<path>.<first 12 hex of its sha256>.part` and renamed when verified;
 * if the connection is lost for good, the `.part` file stays, and downloading the same file to the same
 * path again continues from its end.
 *
 * @example
 *   import { filesClient } from '../plugins/files/client-node.js';
 *   const files = client.use(filesClient());
 *   const upload = files.upload('./slides.pdf');
 *   upload.on('progress', ({ sent, total }) => console.log(`${sent}/${total}`));
 *   const file = await upload.done;
 *   await files.download(file.id, './downloads/').done; // a directory: the file's clean name inside it
 */
import { createHash } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { ClientPlugin } from '../../core/client/types.js';
import { filesClient as neutralFilesClient, type FileInfo, type FileSink, type FileSource, type FilesApi, type Hasher } from './client.js';
import { FILES_ERRORS } from './protocol.js';

export type { FileInfo, FileSink, FileSource, FilesApi, Hasher, Transfer, UploadProgress, DownloadProgress, FilesEvents } from './client.js';

/** Bytes read at once when hashing the existing part of a resumed download. */
const READ_BYTES = 1024 * 1024;

/**
 * Creates the files client half for Node: `upload(path)` and `download(id, path)` work with file paths.
 *
 * @example
 *   const files = client.use(filesClient());
 */
export function filesClient(): ClientPlugin<FilesApi> {
  return neutralFilesClient({
    openSource: (source) => {
      if (typeof source !== 'string') return Promise.reject(FILES_ERRORS.FILES_BAD_REQUEST({ message: 'upload() takes a path, a Blob or a FileSource' }));
      return fileSource(source);
    },
    openSink: (destination, file) => {
      if (typeof destination !== 'string') return Promise.reject(FILES_ERRORS.FILES_BAD_REQUEST({ message: 'download() takes a path, a FileSink or a WritableStream' }));
      return fileSink(destination, file);
    },
    createHasher: nodeHasher,
  });
}

/** A SHA-256 hasher from `node:crypto`. */
export function nodeHasher(): Hasher {
  const hash = createHash('sha256');
  return { update: (bytes) => void hash.update(bytes), digest: () => hash.digest('hex') };
}

/** Opens a file as an upload source (its base name is the name offered). */
export async function fileSource(path: string): Promise<FileSource> {
  const handle = await openOrExplain(path, 'r');
  const { size, isFile } = await handle.stat().then((s) => ({ size: s.size, isFile: s.isFile() }));
  if (!isFile) {
    await handle.close();
    throw FILES_ERRORS.FILES_IO_FAILED({ message: `${path} is not a regular file` });
  }
  /** Reads up to `length` bytes at `offset` into `target` at `at`; resolves with the count (short only at the end). */
  const readInto = async (target: Uint8Array, at: number, offset: number, length: number) => {
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(target, at + done, length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done;
  };
  return {
    name: basename(path),
    size,
    async read(offset, length) {
      const buffer = Buffer.allocUnsafe(length);
      return buffer.subarray(0, await readInto(buffer, 0, offset, length));
    },
    readInto,
    close: () => handle.close(),
  };
}

/**
 * A download sink for `destination`: a file path, or an existing directory (then the file's clean name in
 * it, with ` (1)`, ` (2)`… added rather than overwrite a file there).
 */
export async function fileSink(destination: string, file: FileInfo): Promise<FileSink> {
  const target = await targetPath(destination, file.name);
  const partPath = `${target}.${file.sha256.slice(0, 12)}.part`;
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  return {
    async resumeFrom(hasher) {
      const existing = await stat(partPath).then((s) => s.size, () => 0);
      if (existing > file.size) await rm(partPath, { force: true });
      handle = await openOrExplain(partPath, existing > file.size ? 'w' : 'a');
      if (existing === 0 || existing > file.size) return 0;
      const reader = await open(partPath, 'r');
      try {
        const buffer = Buffer.allocUnsafe(READ_BYTES);
        for (let at = 0; at < existing;) {
          const { bytesRead } = await reader.read(buffer, 0, Math.min(READ_BYTES, existing - at), at);
          if (bytesRead === 0) break;
          hasher.update(buffer.subarray(0, bytesRead));
          at += bytesRead;
        }
      } finally {
        await reader.close();
      }
      return existing;
    },
    async write(bytes) {
      handle ??= await openOrExplain(partPath, 'w');
      let done = 0;
      while (done < bytes.length) done += (await handle.write(bytes, done, bytes.length - done)).bytesWritten;
    },
    async close() {
      handle ??= await openOrExplain(partPath, 'w');
      await handle.close();
      await rename(partPath, target);
    },
    async abort(keepPartial) {
      await handle?.close().catch(() => undefined);
      if (!keepPartial) await rm(partPath, { force: true });
    },
  };
}

/** The path to write: `destination`, or a free name inside it when it is a directory. */
async function targetPath(destination: string, name: string): Promise<string> {
  const isDirectory = await stat(destination).then((s) => s.isDirectory(), () => false);
  if (!isDirectory) return destination;
  const extension = extname(name);
  const stem = name.slice(0, name.length - extension.length);
  for (let n = 0; ; n++) {
    const candidate = join(destination, n === 0 ? name : `${stem} (${n})${extension}`);
    if (!(await stat(candidate).then(() => true, () => false))) return candidate;
  }
}

async function openOrExplain(path: string, flags: string) {
  try {
    return await open(path, flags);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw FILES_ERRORS.FILES_IO_FAILED({ message: `cannot open ${path}: ${reason}`, cause: error });
  }
}
