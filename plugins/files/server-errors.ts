/**
 * The files plugin's error for a failed disk or store operation, coded by its cause, so a full disk is a
 * retryable FILES_DISK_FULL and a store that cannot write is the core's STORE_WRITE_FAILED, never an
 * internal error.
 */
import type { ConfabError } from '../../core/errors.js';
import { isStoreError, storeWriteError } from '../../core/store.js';
import { FILES_ERRORS } from './protocol.js';

/**
 * The error for a failed disk or store operation: FILES_DISK_FULL (retryable) when the disk is full,
 * STORE_WRITE_FAILED (retryable) when the store refused a write, else FILES_STORAGE_FAILED.
 */
export function storageError(error: unknown): ConfabError {
  const code = errnoCode(error);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return FILES_ERRORS.FILES_DISK_FULL({ message: `the server's disk is full (${code}); the transfer was ended: try again later`, cause: error });
  }
  if (isStoreError(error)) return storeWriteError(error);
  const reason = error instanceof Error ? error.message : String(error);
  return FILES_ERRORS.FILES_STORAGE_FAILED({ message: `the server could not store or read the file: ${reason}`, cause: error });
}

/** The `code` of a Node system error (`ENOSPC`…), if it has one. */
function errnoCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}
