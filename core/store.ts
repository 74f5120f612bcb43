/**
 * The store: one SQL database shared by the plugins, each of which keeps its own tables and its own schema
 * version. Plugins reach it through one async, typed query interface, Kysely: SQLite (better-sqlite3) in
 * the data directory by default, PostgreSQL (`pg`) when the store URL is `postgres://…` — the same queries and
 * the same migrations on both. See docs/store.md.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, sql, SqliteDialect } from 'kysely';
import pg from 'pg';
import { ConfabError } from './errors.js';
import { isConnectionError, reason } from './store/errors.js';
import { ensureMigrationsTable, migratePlugin } from './store/migrate.js';
import { parseStoreUrl, redactPassword, type StoreDialect } from './store/url.js';
import type { PluginStore } from './types.js';

export { isConnectionError, isStoreError, storeWriteError } from './store/errors.js';
export type { MigrationStep } from './store/migrate.js';
export { parseStoreUrl, redactStoreUrl, STORE_URL_ENV, type StoreDialect, type StoreLocation } from './store/url.js';

/** The server's store: the database and a view of it per plugin. */
export interface Store {
  /** `sqlite` or `postgres`. */
  readonly dialect: StoreDialect;
  /** Where the store is, safe to show: the SQLite file's path, or the PostgreSQL URL with its password as `***`. */
  readonly location: string;
  /** Path of the SQLite file (`<dataDir>/confab.db` by default); undefined on PostgreSQL. */
  readonly path: string | undefined;
  /** The Kysely instance over the whole database. */
  readonly db: Kysely<any>;
  /** False once `close()` was called. */
  readonly open: boolean;
  /** The plugin's view of the store; the same object for the same name. Throws STORE_CLOSED once closed. */
  forPlugin<Tables = any>(name: string): PluginStore<Tables>;
  /**
   * Asks the database a trivial query: resolves with how long it took, ms, or undefined when it did not
   * answer within `timeoutMs` or failed (PostgreSQL unreachable, the store closed). Never rejects.
   */
  ping(timeoutMs: number): Promise<number | undefined>;
  /** Closes the database (the SQLite file, or the PostgreSQL pool). Idempotent. */
  close(): Promise<void>;
}

/** Options of `openStore`. */
export interface OpenStoreOptions {
  /** The server's data directory: where the default SQLite file is, and relative SQLite paths start. */
  dataDir: string;
  /** `postgres://user:password@host:port/db`, `sqlite:<path>`, or undefined/empty for `<dataDir>/confab.db`. */
  url?: string;
}

/** How long a SQLite statement waits for another connection's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;
/** How long a PostgreSQL query waits for a connection before failing (so an unreachable server is an error, not a hang). */
const PG_CONNECT_TIMEOUT_MS = 5000;
/** PostgreSQL's type ids of int8 and numeric, which `pg` returns as strings: the store's ms times and sums fit a double. */
const PG_INT8 = 20;
const PG_NUMERIC = 1700;

/**
 * Opens the store: the SQLite file (created if needed, WAL mode), or a pool of connections to PostgreSQL,
 * which connects on first use. Throws STORE_OPEN_FAILED naming the (redacted) location when the SQLite file
 * is not usable; an unreachable PostgreSQL fails the first migration with STORE_OPEN_FAILED, and a later
 * query with an error that `isStoreError` recognises.
 *
 * @example
 *   const store = openStore({ dataDir: '/var/lib/confab' });
 *   const chat = store.forPlugin<{ chat_notes: { id: string; text: string } }>('chat');
 *   await chat.migrate([
 *     (db) => db.schema.createTable('chat_notes').addColumn('id', 'text', (c) => c.primaryKey()).addColumn('text', 'text', (c) => c.notNull()).execute(),
 *   ]);
 *   await chat.db.insertInto('chat_notes').values({ id: 'n1', text: 'hello' }).execute();
 *   await store.close();
 */
export function openStore(options: OpenStoreOptions | string): Store {
  const { dataDir, url } = typeof options === 'string' ? { dataDir: options, url: undefined } : options;
  const location = parseStoreUrl(url, dataDir);
  return location.dialect === 'postgres' ? openPostgres(location.url, location.display) : openSqlite(location.path);
}

function openSqlite(path: string): Store {
  let database: Database.Database | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    database = new Database(path);
    database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    database.exec('CREATE TABLE IF NOT EXISTS confab_migrations (plugin TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  } catch (error) {
    database?.close();
    throw new ConfabError('STORE_OPEN_FAILED', `cannot open the store at ${path}: ${reason(error)}`, { cause: error });
  }
  const opened = database;
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: opened }) });
  return makeStore({ dialect: 'sqlite', location: path, path, db, ready: Promise.resolve(), close: async () => {
    await db.destroy();
    if (opened.open) opened.close();
  } });
}

function openPostgres(url: string, display: string): Store {
  let pool: pg.Pool;
  try {
    pool = new pg.Pool({
      connectionString: url,
      connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
      max: 10,
      types: { getTypeParser: ((id: number, format?: string) => id === PG_INT8 || id === PG_NUMERIC ? Number : pg.types.getTypeParser(id, format as 'text')) as typeof pg.types.getTypeParser },
    });
  } catch (error) {
    throw new ConfabError('STORE_OPEN_FAILED', `cannot open the store at ${display}: ${redactPassword(reason(error), url)}`, { cause: error });
  }
  // An idle connection that the server drops (a restart) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  let ready: Promise<void> | undefined;
  const store = makeStore({
    dialect: 'postgres', location: display, path: undefined, db,
    get ready() {
      ready ??= ensureMigrationsTable(db, 'postgres').catch((error: unknown) => {
        ready = undefined;
        throw new ConfabError('STORE_OPEN_FAILED', `cannot open the store at ${display}: ${redactPassword(reason(error), url)}`, { cause: error });
      });
      return ready;
    },
    close: () => db.destroy(),
  });
  return store;
}

interface StoreParts {
  dialect: StoreDialect;
  location: string;
  path: string | undefined;
  db: Kysely<any>;
  /** Resolves once `confab_migrations` exists. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

function makeStore(parts: StoreParts): Store {
  const views = new Map<string, PluginStore>();
  let closing: Promise<void> | undefined;
  const closed = (plugin: string) => new ConfabError('STORE_CLOSED', `the store at ${parts.location} is closed; plugin "${plugin}" cannot use it`);
  return {
    dialect: parts.dialect,
    location: parts.location,
    path: parts.path,
    db: parts.db,
    get open() {
      return closing === undefined;
    },
    forPlugin<Tables>(name: string): PluginStore<Tables> {
      if (closing) throw closed(name);
      let view = views.get(name);
      if (!view) {
        view = {
          db: parts.db,
          dialect: parts.dialect,
          migrate: async (steps) => {
            if (closing) throw closed(name);
            await parts.ready;
            await migratePlugin(parts.db, parts.dialect, name, steps).catch((error: unknown) => {
              if (isConnectionError(error)) {
                throw new ConfabError('STORE_OPEN_FAILED', `cannot open the store at ${parts.location}: ${reason(error)}`, { cause: error });
              }
              throw error;
            });
          },
        };
        views.set(name, view);
      }
      return view as PluginStore<Tables>;
    },
    async ping(timeoutMs) {
      if (closing) return undefined;
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const answered = sql`select 1`.execute(parts.db).then(() => true, () => false);
      const late = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      const ok = await Promise.race([answered, late]);
      clearTimeout(timer);
      return ok ? performance.now() - started : undefined;
    },
    close() {
      closing ??= parts.close();
      return closing;
    },
  };
}
