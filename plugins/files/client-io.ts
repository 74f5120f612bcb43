/**
 * Where the files client half reads uploads from and writes downloads to, in the browser and in Node: a
 * `Blob` (a browser `File`) or a `FileSource`; a `WritableStream` or a `FileSink`; anything else (a path) is
 * left to the platform's `FilesIo` (client-node.ts).
 */
import type { FileSink, FileSource, FilesIo } from './client-types.js';
import { FILES_ERRORS, type FileInfo } from './protocol.js';

/** Opens what `upload()` was given as a source. */
export async function openSource(source: Blob | FileSource | string, io: FilesIo): Promise<FileSource> {
  if (typeof Blob !== 'undefined' && source instanceof Blob) return blobSource(source);
  if (typeof source === 'object' && source !== null && 'read' in source) return source;
  if (io.openSource) return io.openSource(source);
  throw FILES_ERRORS.FILES_BAD_REQUEST({ message: 'upload() takes a Blob or a FileSource here; for file paths use filesClient from plugins/files/client-node.ts' });
}

/** Opens what `download()` was given as a destination. */
export async function openSink(destination: FileSink | WritableStream<Uint8Array> | string, file: FileInfo, io: FilesIo): Promise<FileSink> {
  if (typeof WritableStream !== 'undefined' && destination instanceof WritableStream) return streamSink(destination);
  if (typeof destination === 'object' && destination !== null && 'write' in destination) return destination;
  if (io.openSink) return io.openSink(destination, file);
  throw FILES_ERRORS.FILES_BAD_REQUEST({ message: 'download() takes a FileSink or a WritableStream here; for file paths use filesClient from plugins/files/client-node.ts' });
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
