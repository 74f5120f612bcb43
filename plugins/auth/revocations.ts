/**
 * The list of revoked tokens, kept in the auth plugin's table of the store (`auth_revoked`). The server and
 * `confab token revoke` open the same SQLite file (WAL mode, so both may write while the server runs); the
 * server reads the table at every handshake and every few seconds for the tokens of live sessions.
 */
import type { PluginStore } from '../../core/types.js';

/** The auth plugin's schema steps (append only). */
const MIGRATIONS = [
  `CREATE TABLE auth_revoked (
     jti TEXT PRIMARY KEY,
     revoked_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     reason TEXT NOT NULL DEFAULT ''
   )`,
  'CREATE INDEX auth_revoked_expires ON auth_revoked (expires_at)',
];

/**
 * A revocation whose token's expiry is unknown (`confab token revoke JTI`) is kept this long: no token lives
 * longer than the largest `maxTtlSeconds` the plugin accepts (366 days).
 */
export const UNKNOWN_EXPIRY_KEEP_SECONDS = 366 * 86_400;

/** The revocation list. */
export interface Revocations {
  /**
   * Revokes the token with id `jti`. `expiresAt` (seconds since the epoch) is when the token expires anyway,
   * after which the row is pruned; unknown, it is kept for UNKNOWN_EXPIRY_KEEP_SECONDS. Revoking twice keeps
   * the first row.
   */
  revoke(jti: string, options?: { expiresAt?: number; reason?: string; now?: number }): void;
  /** True when `jti` is revoked. */
  isRevoked(jti: string): boolean;
  /** Those of `jtis` that are revoked (one query, whatever their number). */
  revokedAmong(jtis: readonly string[]): Set<string>;
  /** Forgets revocations of tokens that have expired anyway. Returns how many rows went. */
  prune(nowSeconds?: number): number;
}

/**
 * Opens the revocation list in the auth plugin's view of the store, creating its table on first use.
 *
 * @example
 *   const revocations = openRevocations(openStore(dataDir).forPlugin('auth'));
 *   revocations.revoke('Xq3…', { reason: 'laptop stolen' });
 */
export function openRevocations(store: PluginStore): Revocations {
  store.migrate(MIGRATIONS);
  const insert = store.db.prepare<[string, number, number, string]>(
    'INSERT INTO auth_revoked (jti, revoked_at, expires_at, reason) VALUES (?, ?, ?, ?) ON CONFLICT (jti) DO NOTHING',
  );
  const one = store.db.prepare<[string], { jti: string }>('SELECT jti FROM auth_revoked WHERE jti = ?');
  const among = store.db.prepare<[string], { jti: string }>('SELECT jti FROM auth_revoked WHERE jti IN (SELECT value FROM json_each(?))');
  const prune = store.db.prepare<[number]>('DELETE FROM auth_revoked WHERE expires_at < ?');
  const seconds = (ms: number) => Math.floor(ms / 1000);

  return {
    revoke(jti, { expiresAt, reason = '', now = Date.now() } = {}) {
      insert.run(jti, seconds(now), expiresAt ?? seconds(now) + UNKNOWN_EXPIRY_KEEP_SECONDS, reason.slice(0, 200));
    },
    isRevoked: (jti) => one.get(jti) !== undefined,
    revokedAmong(jtis) {
      if (jtis.length === 0) return new Set();
      return new Set(among.all(JSON.stringify(jtis)).map((row) => row.jti));
    },
    prune: (nowSeconds = seconds(Date.now())) => prune.run(nowSeconds).changes,
  };
}
