/**
 * The embedded store: one SQLite database (better-sqlite3) in the server's data directory, shared by the
 * plugins, each of which keeps its own tables and its own schema version.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ConfabError } from './errors.js';
import type { PluginStore } from './types.js';

/** The server's store: the database and a view of it per plugin. */
export interface Store {
  /** Path of the database file, `<dataDir>/confab.db`. */
  readonly path: string;
  /** The better-sqlite3 database. */
  readonly db: Database.Database;
  /** The plugin's view of the store; the same object for the same name. */
  forPlugin(name: string): PluginStore;
  /** Closes the database. Idempotent. */
  close(): void;
}

/** How long a statement waits for another connection's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating if needed) `<dataDir>/confab.db` in WAL mode. Throws STORE_OPEN_FAILED naming the path
 * when the directory cannot be created or the file is not a usable database.
 *
 * @example
 *   const store = openStore('/var/lib/confab');
 *   const chat = store.forPlugin('chat');
 *   chat.migrate([
 *     'CREATE TABLE chat_messages (id TEXT PRIMARY KEY, room TEXT NOT NULL, body TEXT NOT NULL, ts INTEGER NOT NULL)',
 *     'CREATE INDEX chat_messages_room_ts ON chat_messages (room, ts)',
 *   ]);
 *   chat.db.prepare('INSERT INTO chat_messages VALUES (?, ?, ?, ?)').run(id, room, body, Date.now());
 *   store.close();
 */
export function openStore(dataDir: string): Store {
  const path = join(dataDir, 'confab.db');
  let db: Database.Database | undefined;
  try {
    mkdirSync(dataDir, { recursive: true });
    db = new Database(path);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.exec('CREATE TABLE IF NOT EXISTS confab_migrations (plugin TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  } catch (error) {
    db?.close();
    throw new ConfabError('STORE_OPEN_FAILED', `cannot open the store at ${path}: ${reason(error)}`, { cause: error });
  }
  const opened = db;
  const views = new Map<string, PluginStore>();
  return {
    path,
    db: opened,
    forPlugin(name) {
      if (!opened.open) throw new ConfabError('STORE_CLOSED', `the store at ${path} is closed; plugin "${name}" cannot use it`);
      let view = views.get(name);
      if (!view) {
        view = pluginStore(opened, name);
        views.set(name, view);
      }
      return view;
    },
    close() {
      if (opened.open) opened.close();
    },
  };
}

function pluginStore(db: Database.Database, plugin: string): PluginStore {
  const readVersion = db.prepare<[string], { version: number }>('SELECT version FROM confab_migrations WHERE plugin = ?');
  const writeVersion = db.prepare<[string, number]>(
    'INSERT INTO confab_migrations (plugin, version) VALUES (?, ?) ON CONFLICT (plugin) DO UPDATE SET version = excluded.version',
  );
  const versionNow = () => readVersion.get(plugin)?.version ?? 0;
  const fail = (message: string, cause?: unknown) =>
    new ConfabError('STORE_MIGRATION_FAILED', `plugin "${plugin}": ${message}`, { cause });

  // Each step is its own write transaction; the version is read again inside it, so two processes
  // migrating the same file apply a step once.
  const applyStep = db.transaction((steps: readonly string[], index: number) => {
    if (versionNow() > index) return;
    try {
      db.exec(steps[index]!);
    } catch (error) {
      throw fail(`migration step ${index + 1} of ${steps.length} failed: ${reason(error)}`, error);
    }
    writeVersion.run(plugin, index + 1);
  });

  return {
    db,
    migrate(steps) {
      if (!db.open) throw new ConfabError('STORE_CLOSED', `the store is closed; plugin "${plugin}" cannot migrate`);
      if (!Array.isArray(steps) || steps.some((step) => typeof step !== 'string')) {
        throw fail('migrate() takes an array of SQL strings, one per schema version');
      }
      const current = versionNow();
      if (current > steps.length) {
        throw fail(
          `the store is at schema version ${current} but the plugin knows ${steps.length} steps; ` +
            'it was written by a newer version of the plugin (steps must only be appended)',
        );
      }
      for (let index = current; index < steps.length; index++) applyStep.immediate(steps, index);
    },
  };
}

/**
 * True for an error of the store's database, which the request did not cause: better-sqlite3's SqliteError
 * (SQLITE_FULL when the disk is full, SQLITE_IOERR_*, SQLITE_BUSY, SQLITE_READONLY…).
 */
export function isStoreError(error: unknown): boolean {
  return error instanceof Database.SqliteError;
}

/**
 * The error to answer a request with when writing it to the store failed: STORE_WRITE_FAILED, non-fatal and
 * retryable, with the request's `ref` and SQLite's reason. Nothing of the request was stored.
 *
 * @example
 *   try {
 *     history.add(message);
 *   } catch (error) {
 *     if (isStoreError(error)) throw storeWriteError(error, request.clientId);
 *     throw error;
 *   }
 */
export function storeWriteError(error: unknown, ref?: string): ConfabError {
  const failure = new ConfabError('STORE_WRITE_FAILED',
    `the server could not store this (${reason(error)}); nothing was stored: send it again later`, { cause: error });
  if (ref !== undefined) failure.ref = ref;
  return failure;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
