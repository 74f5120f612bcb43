/**
 * The list of revoked tokens, kept in the auth plugin's table of the store (`auth_revoked`), SQLite or
 * PostgreSQL. The server and `confab token revoke` open the same store (SQLite in WAL mode, so both may
 * write while the server runs). The server keeps the list in memory too (read at start, added to once a
 * revocation committed), and reads the table at every handshake and every few seconds for the tokens of
 * live sessions, so that what another process revoked is seen.
 */
import type { MigrationStep, PluginStore } from '../../core/index.js';

/** The auth plugin's table. */
export interface AuthTables {
  auth_revoked: { jti: string; revoked_at: number; expires_at: number; reason: string };
}

/** The auth plugin's schema steps (append only); steps 1 and 2 are version 1's SQL with the schema builder. */
export const AUTH_MIGRATIONS: MigrationStep[] = [
  (db, dialect) => db.schema.createTable('auth_revoked')
    .addColumn('jti', 'text', (c) => c.primaryKey())
    .addColumn('revoked_at', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull())
    .addColumn('expires_at', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull().defaultTo(''))
    .execute(),
  (db) => db.schema.createIndex('auth_revoked_expires').on('auth_revoked').column('expires_at').execute(),
];

/**
 * A revocation whose token's expiry is unknown (`confab token revoke JTI`) is kept this long: no token lives
 * longer than the largest `maxTtlSeconds` the plugin accepts (366 days).
 */
export const UNKNOWN_EXPIRY_KEEP_SECONDS = 366 * 86_400;

/** Ids looked up per query by `revokedAmong` (well under every database's parameter limit). */
const IDS_PER_QUERY = 500;

/** The revocation list. */
export interface Revocations {
  /**
   * Revokes the token with id `jti`; resolves once the row committed (and only then is it in memory).
   * `expiresAt` (seconds since the epoch) is when the token expires anyway, after which the row is pruned;
   * unknown, it is kept for UNKNOWN_EXPIRY_KEEP_SECONDS. Revoking twice keeps the first row. Resolves to
   * false when it was revoked already.
   */
  revoke(jti: string, options?: { expiresAt?: number; reason?: string; now?: number }): Promise<boolean>;
  /** True when `jti` is revoked, as far as this process knows (what it revoked or read): no query. */
  known(jti: string): boolean;
  /** True when `jti` is revoked: asks the store (another process may have revoked it). */
  isRevoked(jti: string): Promise<boolean>;
  /** Those of `jtis` that are revoked, asked of the store. */
  revokedAmong(jtis: readonly string[]): Promise<Set<string>>;
  /** Forgets revocations of tokens that have expired anyway. Resolves to how many rows went. */
  prune(nowSeconds?: number): Promise<number>;
}

/**
 * Opens the revocation list in the auth plugin's view of the store, creating its table on first use and
 * reading what is revoked.
 *
 * @example
 *   const revocations = await openRevocations(openStore({ dataDir }).forPlugin('auth'));
 *   await revocations.revoke('Xq3…', { reason: 'laptop stolen' });
 */
export async function openRevocations(pluginStore: PluginStore): Promise<Revocations> {
  const store = pluginStore as PluginStore<AuthTables>;
  await store.migrate(AUTH_MIGRATIONS);
  const seconds = (ms: number) => Math.floor(ms / 1000);
  /** Revoked ids this process knows, with their row's expiry (seconds). */
  const known = new Map<string, number>();
  for (const row of await store.db.selectFrom('auth_revoked').select(['jti', 'expires_at']).execute()) known.set(row.jti, Number(row.expires_at));

  return {
    async revoke(jti, { expiresAt, reason = '', now = Date.now() } = {}) {
      const expires = expiresAt ?? seconds(now) + UNKNOWN_EXPIRY_KEEP_SECONDS;
      const result = await store.db.insertInto('auth_revoked')
        .values({ jti, revoked_at: seconds(now), expires_at: expires, reason: reason.slice(0, 200) })
        .onConflict((conflict) => conflict.column('jti').doNothing())
        .executeTakeFirst();
      if (!known.has(jti)) known.set(jti, expires);
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    },
    known: (jti) => known.has(jti),
    async isRevoked(jti) {
      const row = await store.db.selectFrom('auth_revoked').select(['jti', 'expires_at']).where('jti', '=', jti).executeTakeFirst();
      if (row) known.set(row.jti, Number(row.expires_at));
      return row !== undefined || known.has(jti);
    },
    async revokedAmong(jtis) {
      const found = new Set<string>();
      for (let i = 0; i < jtis.length; i += IDS_PER_QUERY) {
        const rows = await store.db.selectFrom('auth_revoked').select(['jti', 'expires_at']).where('jti', 'in', jtis.slice(i, i + IDS_PER_QUERY)).execute();
        for (const row of rows) {
          found.add(row.jti);
          known.set(row.jti, Number(row.expires_at));
        }
      }
      for (const jti of jtis) if (known.has(jti)) found.add(jti);
      return found;
    },
    async prune(nowSeconds = seconds(Date.now())) {
      const result = await store.db.deleteFrom('auth_revoked').where('expires_at', '<', nowSeconds).executeTakeFirst();
      for (const [jti, expires] of known) if (expires < nowSeconds) known.delete(jti);
      return Number(result.numDeletedRows);
    },
  };
}
