/**
 * Which errors are the store's (the database failed, not the request) and the coded error a request gets
 * when its write failed: STORE_WRITE_FAILED, non-fatal and retryable, with nothing of the request stored.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { ConfabError, isConfabError } from '../errors.js';

/** Node's codes of a lost or refused connection to the database server. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENOENT', 'EAI_AGAIN']);
/** What `pg` says when a connection is gone or could not be had (it throws plain Errors for these). */
const PG_CONNECTION_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed|Cannot use a pool after calling end)/;

/**
 * True for an error of the store's database, which the request did not cause: better-sqlite3's SqliteError
 * (SQLITE_FULL when the disk is full, SQLITE_IOERR_*, SQLITE_BUSY, SQLITE_READONLY…), a PostgreSQL server
 * error (`pg`'s DatabaseError: a full disk, a shutdown, a failed connection), a connection to PostgreSQL lost
 * or refused, and a STORE_WRITE_FAILED already made of one.
 */
export function isStoreError(error: unknown): boolean {
  if (error instanceof Database.SqliteError || error instanceof pg.DatabaseError) return true;
  if (isConfabError(error)) return error.code === 'STORE_WRITE_FAILED';
  return isConnectionError(error);
}

/** True when the database server could not be reached or the connection to it was lost. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  if (error instanceof AggregateError) return error.errors.some(isConnectionError);
  if (error instanceof pg.DatabaseError) return /^(08|57P)/.test(error.code ?? '');
  return PG_CONNECTION_MESSAGES.test(error.message);
}

/**
 * The error to answer a request with when writing it to the store failed: STORE_WRITE_FAILED, non-fatal and
 * retryable, with the request's `ref` and the database's reason (an unreachable PostgreSQL says so). Nothing
 * of the request was stored.
 *
 * @example
 *   try {
 *     await history.add(message);
 *   } catch (error) {
 *     if (isStoreError(error)) throw storeWriteError(error, request.clientId);
 *     throw error;
 *   }
 */
export function storeWriteError(error: unknown, ref?: string): ConfabError {
  if (isConfabError(error) && error.code === 'STORE_WRITE_FAILED') {
    const copy = new ConfabError('STORE_WRITE_FAILED', error.message, { cause: error.cause });
    if (ref !== undefined) copy.ref = ref;
    return copy;
  }
  const why = isConnectionError(error) ? `the store's database is unreachable: ${reason(error)}` : reason(error);
  const failure = new ConfabError('STORE_WRITE_FAILED',
    `the server could not store this (${why}); nothing was stored: send it again later`, { cause: error });
  if (ref !== undefined) failure.ref = ref;
  return failure;
}

/** An error's message, or the error as text. */
export function reason(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return reason(error.errors[0]);
  if (error instanceof Error) return error.message || (error as NodeJS.ErrnoException).code || error.name;
  return String(error);
}
