/**
 * The files plugin's messages, shared by its server and client halves. No Node imports: the browser uses it.
 *
 * Two channels:
 * - `files` (json): control — offers, acks, announcements, lists, errors' refs;
 * - `files-data` (binary): chunks, each a 12-byte header (transfer u32, offset u64, big-endian) + raw bytes.
 *
 * Upload:    client {"op":"offer","ref","name","size","to"?}    server {"op":"accepted","ref","transfer","name","window"}
 *            client chunks …                                    server {"op":"ack","transfer","offset"} (written to disk)
 *            client {"op":"end","transfer","sha256"}            server {"op":"stored","ref","transfer","file"}
 *                                                               room   {"op":"file","file"} (or only the recipient)
 * Download:  client {"op":"get","ref","id","offset"?}           server {"op":"sending","ref","transfer","file","offset","window"}
 *            server chunks …                                    client {"op":"ack","transfer","offset"} (written; every window/2)
 * Resume:    client {"op":"status","transfer"}                  server {"op":"ack","transfer","offset"}
 * Other:     client {"op":"list","ref"}                         server {"op":"list","ref","files"}
 *            client {"op":"delete","ref","id"}                  server {"op":"removed","id","ref"?} (to all who saw it)
 *            client {"op":"cancel","transfer"}                  (no answer; the transfer is gone)
 * Errors:    ERROR frames with "channel":"files" and "ref": the request's ref (codes in FILES_ERRORS)
 */

/** The control channel (json). */
export const FILES_CHANNEL = 'files';
/** The data channel (binary): chunks of uploads and downloads. */
export const FILES_DATA_CHANNEL = 'files-data';

/** Bytes of a chunk header: transfer id (u32) and offset (u64), big-endian. */
export const CHUNK_HEADER_BYTES = 12;
/** Largest chunk body; the data channel's payload limit is this plus the header. */
export const MAX_CHUNK_BYTES = 1024 * 1024;
/** Smallest chunk body a sender picks (the last chunk of a file may be shorter). */
const MIN_CHUNK_BYTES = 16 * 1024;

/**
 * The chunk size a sender uses under a window of `window` bytes: an eighth of it (so eight chunks are in
 * flight and the pipe never runs dry waiting for one ack), between 16 KiB and MAX_CHUNK_BYTES.
 */
export function chunkBytesFor(window: number): number {
  return Math.max(MIN_CHUNK_BYTES, Math.min(MAX_CHUNK_BYTES, Math.floor(window / 8)));
}
/** Longest `ref` a client may give a request. */
export const MAX_REF_LENGTH = 64;

/** A participant as the files plugin shows it. */
export interface FileParty {
  id: string;
  name: string;
}

/** A stored file, as listed and announced. */
export interface FileInfo {
  /** Server-generated id (also the name of the stored content); never derived from the file name. */
  id: string;
  /** The cleaned file name to offer on download (see `name.ts`). */
  name: string;
  /** Size in bytes. */
  size: number;
  /** SHA-256 of the content, lowercase hex. */
  sha256: string;
  from: FileParty;
  /** The one participant it was shared with; absent when shared with the room. */
  to?: FileParty;
  /** When it was stored, ms since the epoch. */
  createdAt: number;
}

/** The server's control messages. */
export type FilesServerMessage =
  | { op: 'accepted'; ref: string; transfer: number; name: string; window: number }
  | { op: 'ack'; transfer: number; offset: number }
  | { op: 'stored'; ref: string; transfer: number; file: FileInfo }
  | { op: 'file'; file: FileInfo }
  | { op: 'sending'; ref: string; transfer: number; file: FileInfo; offset: number; window: number }
  | { op: 'list'; ref: string; files: FileInfo[] }
  | { op: 'removed'; id: string; ref?: string };

/** The files plugin's error codes, all non-fatal, sent with `"channel":"files"`. */
export const FILES_ERRORS = {
  FILES_BAD_REQUEST: 'the request is not one of the files ops, or a field has the wrong type',
  FILES_FORBIDDEN: 'this session may not share or download files (it lacks the "files" grant)',
  FILES_BAD_NAME: 'the file name is not acceptable',
  FILES_TOO_LARGE: 'the file is larger than the server accepts',
  FILES_QUOTA_EXCEEDED: 'the room has no space left for this file',
  FILES_TOO_MANY_TRANSFERS: 'this session already runs as many transfers as the server allows',
  FILES_NO_SUCH_PEER: 'the recipient is not in this room',
  FILES_NO_SUCH_FILE: 'no file with this id is visible to this session',
  FILES_NO_SUCH_TRANSFER: 'no transfer with this id belongs to this session',
  FILES_NOT_ALLOWED: 'only the sender of a file (or a moderator) may delete it',
  FILES_BAD_CHUNK: 'a data chunk must be a 12-byte header (transfer u32, offset u64) followed by its bytes',
  FILES_SIZE_MISMATCH: 'the bytes sent do not match the size announced',
  FILES_HASH_MISMATCH: 'the SHA-256 of the bytes received does not match the one announced',
  FILES_STORAGE_FAILED: 'the server could not write or read the file',
  FILES_DISK_FULL: "the server's disk cannot take this file now (it keeps a safety margin free); retryable: try again later",
  FILES_TRANSFER_STALLED: 'the transfer made no progress for too long',
  FILES_CANCELLED: 'the transfer was cancelled (by the client, or because its session left)',
} as const;

/** One of the files plugin's error codes. */
export type FilesErrorCode = keyof typeof FILES_ERRORS;

/** A decoded data chunk. `bytes` is a view into the frame's payload. */
export interface Chunk {
  transfer: number;
  offset: number;
  bytes: Uint8Array;
}

/**
 * Encodes a chunk: header then bytes, in one new buffer (the payload of one `files-data` frame).
 *
 * @example
 *   ctx.send(FILES_DATA_CHANNEL, encodeChunk(7, 0, bytes));
 */
export function encodeChunk(transfer: number, offset: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(CHUNK_HEADER_BYTES + bytes.length);
  writeChunkHeader(out, transfer, offset);
  out.set(bytes, CHUNK_HEADER_BYTES);
  return out;
}

/** Writes a chunk header at the start of `out` (which has room for it). */
export function writeChunkHeader(out: Uint8Array, transfer: number, offset: number): void {
  const view = new DataView(out.buffer, out.byteOffset, CHUNK_HEADER_BYTES);
  view.setUint32(0, transfer);
  view.setUint32(4, Math.floor(offset / 2 ** 32));
  view.setUint32(8, offset % 2 ** 32);
}

/** Decodes a chunk; undefined when the payload is shorter than a header or the offset is not a safe integer. */
export function decodeChunk(payload: Uint8Array): Chunk | undefined {
  if (payload.length < CHUNK_HEADER_BYTES) return undefined;
  const view = new DataView(payload.buffer, payload.byteOffset, CHUNK_HEADER_BYTES);
  const high = view.getUint32(4);
  if (high >= 2 ** 21) return undefined;
  const offset = high * 2 ** 32 + view.getUint32(8);
  return { transfer: view.getUint32(0), offset, bytes: payload.subarray(CHUNK_HEADER_BYTES) };
}

/** True for 64 lowercase hex digits. */
export function isSha256Hex(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}
