/**
 * Per-plugin schema migrations: a plugin's steps are applied in order, each once, each in its own write
 * transaction that records the plugin's new version in `confab_migrations (plugin, version)`. Two processes
 * migrating the same database at once apply each step once: on SQLite the step's transaction is
 * `BEGIN IMMEDIATE` (the database's one writer), on PostgreSQL it first takes a transaction-scoped advisory
 * lock (`pg_advisory_xact_lock`); either way the version is read again inside, after the lock.
 */
import { sql, type Kysely } from 'kysely';
import { ConfabError } from '../errors.js';
import { reason } from './errors.js';
import type { StoreDialect } from './url.js';

/**
 * One schema step: a function of the database (bound to the step's transaction: use this `db`, not another
 * handle) and its dialect, written with Kysely's schema builder so that it runs on both dialects.
 */
export type MigrationStep = (db: Kysely<any>, dialect: StoreDialect) => Promise<unknown> | unknown;

/** The lock every migration on PostgreSQL takes: one number, the same in every Confab process. */
const PG_MIGRATION_LOCK = 0x636f6e66; // "conf"

/** Creates `confab_migrations` if it is missing (in a transaction that holds the migration lock on PostgreSQL). */
export async function ensureMigrationsTable(db: Kysely<any>, dialect: StoreDialect): Promise<void> {
  await inWriteTransaction(db, dialect, (trx) =>
    trx.schema.createTable('confab_migrations').ifNotExists()
      .addColumn('plugin', 'text', (column) => column.primaryKey())
      .addColumn('version', 'integer', (column) => column.notNull())
      .execute());
}

/**
 * Applies the steps of `plugin` that the database does not have yet. Throws STORE_MIGRATION_FAILED naming
 * the plugin and the step, or when the database is at a later version than the plugin knows.
 */
export async function migratePlugin(db: Kysely<any>, dialect: StoreDialect, plugin: string, steps: readonly MigrationStep[]): Promise<void> {
  const fail = (message: string, cause?: unknown) => new ConfabError('STORE_MIGRATION_FAILED', `plugin "${plugin}": ${message}`, { cause });
  if (!Array.isArray(steps) || steps.some((step) => typeof step !== 'function')) {
    throw fail('migrate() takes an array of functions, one per schema version, each given the Kysely instance');
  }
  const current = await versionOf(db, plugin);
  if (current > steps.length) {
    throw fail(
      `the store is at schema version ${current} but the plugin knows ${steps.length} steps; ` +
        'it was written by a newer version of the plugin (steps must only be appended)',
    );
  }
  for (let index = current; index < steps.length; index++) {
    await inWriteTransaction(db, dialect, async (trx) => {
      if ((await versionOf(trx, plugin)) > index) return;
      try {
        await steps[index]!(trx, dialect);
      } catch (error) {
        throw fail(`migration step ${index + 1} of ${steps.length} failed: ${reason(error)}`, error);
      }
      await trx.insertInto('confab_migrations').values({ plugin, version: index + 1 })
        .onConflict((conflict) => conflict.column('plugin').doUpdateSet({ version: index + 1 }))
        .execute();
    });
  }
}

/** The plugin's schema version in the database, 0 before its first step. */
export async function versionOf(db: Kysely<any>, plugin: string): Promise<number> {
  const row = await db.selectFrom('confab_migrations').select('version').where('plugin', '=', plugin).executeTakeFirst();
  return row === undefined ? 0 : Number(row.version);
}

/** Runs `body` in a write transaction that excludes every other migrating process. */
async function inWriteTransaction<T>(db: Kysely<any>, dialect: StoreDialect, body: (trx: Kysely<any>) => Promise<T>): Promise<T> {
  if (dialect === 'postgres') {
    return db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${PG_MIGRATION_LOCK})`.execute(trx);
      return body(trx);
    });
  }
  // Kysely's SQLite transactions begin DEFERRED; a migration must hold the write lock from its first read.
  return db.connection().execute(async (connection) => {
    await sql`BEGIN IMMEDIATE`.execute(connection);
    try {
      const result = await body(connection);
      await sql`COMMIT`.execute(connection);
      return result;
    } catch (error) {
      await sql`ROLLBACK`.execute(connection).catch(() => undefined);
      throw error;
    }
  });
}
