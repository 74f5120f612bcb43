/**
 * The files plugin's wire contract, shared by its server and client halves: the two channels, what flows on
 * each, the error codes, the check of what clients send, and the chunk header. No Node imports: the browser
 * uses it.
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
 *            server chunks …                                    client acks: an empty chunk at the offset written, every
 *                                                               quarter window (or {"op":"ack","transfer","offset"})
 * Resume:    client {"op":"status","transfer"}                  server {"op":"ack","transfer","offset"}
 * Other:     client {"op":"list","ref"}                         server {"op":"list","ref","files"}
 *            client {"op":"delete","ref","id"}                  server {"op":"removed","id","ref"?} (to all who saw it)
 *            client {"op":"cancel","transfer"}                  (no answer; the transfer is gone)
 * Errors:    ERROR frames with "channel":"files" and "ref": the request's ref (codes in FILES_ERRORS)
 *
 * An `offer` or `get` sent again with the `ref` of a transfer still running (a client re-sends a request it
 * got no answer to after a resume) is answered again, and starts nothing new.
 */
import { binaryChannel, jsonChannel, requestRef } from '../../core/channel-def.js';
import { defineErrors } from '../../core/errors.js';
import type { JsonObject } from '../../core/json.js';

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

/** What a client sends on the control channel, as `parseFilesRequest` checked it. */
export type FilesRequest =
  /** Offers a file: `name` as the sender calls it (the server cleans it), `to` a peer's session id. */
  | { op: 'offer'; ref: string; name: string; size: number; to?: string }
  /** Every byte of an upload was acknowledged: here is the SHA-256 the server must find. */
  | { op: 'end'; transfer: number; sha256: string }
  /** Asks for a transfer's confirmed offset (after a resume). */
  | { op: 'status'; transfer: number }
  /** A download's receiver wrote this many bytes (the same as an empty chunk on the data channel). */
  | { op: 'ack'; transfer: number; offset: number }
  /** Ends a transfer of this session; no answer. */
  | { op: 'cancel'; transfer: number }
  /** Downloads a file, from `offset` (a download continued in a new session). */
  | { op: 'get'; ref: string; id: string; offset?: number }
  /** Lists the files of the room this session may see. */
  | { op: 'list'; ref: string }
  /** Deletes a file (its sender's, or any with the `moderate` grant). */
  | { op: 'delete'; ref: string; id: string };

/** What the server sends on the control channel. */
export type FilesMessage =
  | { op: 'accepted'; ref: string; transfer: number; name: string; window: number }
  | { op: 'ack'; transfer: number; offset: number }
  | { op: 'stored'; ref: string; transfer: number; file: FileInfo }
  | { op: 'file'; file: FileInfo }
  | { op: 'sending'; ref: string; transfer: number; file: FileInfo; offset: number; window: number }
  | { op: 'list'; ref: string; files: FileInfo[] }
  | { op: 'removed'; id: string; ref?: string };

/**
 * The files plugin's error codes, all non-fatal, sent with `"channel":"files"` (FILES_BAD_CHUNK and
 * FILES_NO_SUCH_TRANSFER for a chunk with `"channel":"files-data"`). FILES_IO_FAILED and FILES_SESSION_LOST
 * are the client's own: a local file it could not read or write; a transfer whose session ended while it ran.
 */
export const FILES_ERRORS = defineErrors('files', {
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
  FILES_DISK_FULL: {
    message: "the server's disk cannot take this file now (it keeps a safety margin free); retryable: try again later",
    retryable: true,
  },
  FILES_TRANSFER_STALLED: 'the transfer made no progress for too long',
  FILES_CANCELLED: 'the transfer was cancelled (by the client, or because its session left)',
  FILES_IO_FAILED: 'the client could not read or write a local file',
  FILES_SESSION_LOST: 'the session the transfer ran in is gone (the server restarted, or the client was away too long): start the transfer again',
});

/**
 * Checks the shape of what a client sends on the control channel (the server checks limits, names and
 * whether the transfer or file exists): an op with fields of the right types, a `ref` on the ops answered
 * by ref, or FILES_BAD_REQUEST saying what was wrong (FILES_BAD_NAME for a name that is no string). The
 * core puts the message's `ref` on the refusal.
 */
export function parseFilesRequest(message: JsonObject): FilesRequest {
  const ref = requestRef(message);
  const bad = (shape: string) => FILES_ERRORS.FILES_BAD_REQUEST({ message: `${message.op} needs ${shape}` });
  const needsRef = (shape: string): string => {
    if (ref === undefined) throw bad(shape);
    return ref;
  };
  switch (message.op) {
    case 'offer': {
      const shape = '{"op":"offer","ref":string(1-64),"name":string,"size":integer ≥ 0,"to"?:string}';
      const { name, size, to } = message;
      if (!isSize(size) || (to !== undefined && typeof to !== 'string')) throw bad(shape);
      const offerRef = needsRef(shape);
      if (typeof name !== 'string') throw FILES_ERRORS.FILES_BAD_NAME({ message: 'the file name was refused: the name must be a non-empty string' });
      return to === undefined ? { op: 'offer', ref: offerRef, name, size } : { op: 'offer', ref: offerRef, name, size, to };
    }
    case 'end': {
      const { transfer, sha256 } = message;
      if (!isTransferId(transfer) || !isSha256Hex(sha256)) throw bad('{"op":"end","transfer":<an upload of this session>,"sha256":64 lowercase hex digits}');
      return { op: 'end', transfer, sha256 };
    }
    case 'status':
    case 'cancel': {
      const { op, transfer } = message;
      if (!isTransferId(transfer)) throw bad(`{"op":"${op}","transfer":<a transfer id of this session>}`);
      return { op, transfer };
    }
    case 'ack': {
      const { transfer, offset } = message;
      if (!isTransferId(transfer) || !isSize(offset)) throw bad('{"op":"ack","transfer":<a download of this session>,"offset":<bytes received>}');
      return { op: 'ack', transfer, offset };
    }
    case 'get': {
      const shape = '{"op":"get","ref":string(1-64),"id":string,"offset"?:integer ≥ 0}';
      const { id, offset } = message;
      if (typeof id !== 'string' || (offset !== undefined && !isSize(offset))) throw bad(shape);
      return offset === undefined ? { op: 'get', ref: needsRef(shape), id } : { op: 'get', ref: needsRef(shape), id, offset };
    }
    case 'list':
      return { op: 'list', ref: needsRef('{"op":"list","ref":string(1-64)}') };
    case 'delete': {
      const shape = '{"op":"delete","ref":string(1-64),"id":string}';
      if (typeof message.id !== 'string') throw bad(shape);
      return { op: 'delete', ref: needsRef(shape), id: message.id };
    }
    default:
      throw FILES_ERRORS.FILES_BAD_REQUEST({
        message: `unknown op ${JSON.stringify(message.op)}; the files ops are offer, end, status, ack, cancel, get, list, delete`,
      });
  }
}

/** The control channel (json). */
export const FILES = jsonChannel<FilesRequest, FilesMessage>('files', { parse: parseFilesRequest, maxPayload: 16 * 1024 });
/** The data channel (binary): chunks of uploads and downloads, and downloads' binary acks. */
export const FILES_DATA = binaryChannel('files-data', { maxPayload: CHUNK_HEADER_BYTES + MAX_CHUNK_BYTES });

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
 *   data.send(encodeChunk(7, 0, bytes));
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
function isSha256Hex(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}

/** True for a byte count or offset: a safe integer ≥ 0. */
function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** True for a transfer id: what fits the chunk header's u32. */
function isTransferId(value: unknown): value is number {
  return isSize(value) && value < 2 ** 32;
}
