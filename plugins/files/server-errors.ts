/**
 * The files plugin's errors that are not a refusal of one request: a bad data chunk, and a failed disk or
 * store operation (coded by cause, so a full disk is a retryable FILES_DISK_FULL, never an internal error).
 */
import { ConfabError } from '../../core/errors.js';
import { isStoreError, storeWriteError } from '../../core/store.js';
import { FILES_DATA_CHANNEL, FILES_ERRORS, type FilesErrorCode } from './protocol.js';

/** An error about a data chunk, on the data channel. */
export function chunkError(code: FilesErrorCode, text?: string): ConfabError {
  const error = new ConfabError(code, text ?? FILES_ERRORS[code], { fatal: false });
  error.channel = FILES_DATA_CHANNEL;
  return error;
}

/**
 * The error for a failed disk or store operation: FILES_DISK_FULL (retryable) when the disk is full,
 * STORE_WRITE_FAILED (retryable) when the store refused a write, else FILES_STORAGE_FAILED.
 */
export function storageError(error: unknown): ConfabError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new ConfabError('FILES_DISK_FULL', `the server's disk is full (${code}); the transfer was ended: try again later`, { fatal: false, retryable: true, cause: error });
  }
  if (isStoreError(error)) return storeWriteError(error);
  return new ConfabError('FILES_STORAGE_FAILED', `the server could not store or read the file: ${(error as Error).message ?? error}`, { fatal: false, cause: error });
}
