/**
 * The auth plugin, server half: refuses a HELLO without a valid access token (or the room's password) and
 * gives the new session exactly the grants its token carries. Off unless listed in plugins.config.ts:
 *
 *   plugins: [auth(), ...builtinPlugins()]
 *
 * Tokens are signed with a secret the server generates on first start in `<dataDir>/plugins/auth/secret`
 * (mode 0600); `confab token` signs them with the same file. A token admits to one room until it expires;
 * the session it opened keeps its grants until it leaves (moderators can take grants away).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { definePlugin } from '../../core/config.js';
import { ConfabError } from '../../core/errors.js';
import { GRANTS, isGrant, type Grant } from '../../core/grants.js';
import { readOptions } from '../../core/options.js';
import type { HandshakeInfo, Plugin, ValidHello } from '../../core/types.js';
import { authError, loadOrCreateSecret, verifyToken } from './token.js';

/** Options of the auth plugin. */
export interface AuthOptions {
  /** Room name → password, for quick meetings without tokens. A room not listed needs a token. */
  passwords?: Record<string, string>;
  /** What a session that joined with a room password may do. Default every grant except `moderate`. */
  passwordGrants?: Grant[];
  /** Longest token lifetime (exp − iat) accepted, in seconds. Default 86 400 (one day). */
  maxTtlSeconds?: number;
  /**
   * Wrong room passwords per address within a minute before that address may not try a password for a minute.
   * Default 10. (Tokens are not guessable, so a bad token is refused without counting.)
   */
  maxFailuresPerMinute?: number;
}

/** Where the secret lives under a server's data directory (what `confab token` reads). */
export function secretPath(dataDir: string): string {
  return join(dataDir, 'plugins', 'auth', 'secret');
}

/** Grants of a password session by default: everything but moderating. */
const DEFAULT_PASSWORD_GRANTS: Grant[] = GRANTS.filter((grant) => grant !== 'moderate');
const FAILURE_WINDOW_MS = 60_000;
/** Addresses with recent failures remembered at most (a flood of addresses cannot grow memory). */
const MAX_TRACKED_ADDRESSES = 10_000;

/**
 * Creates the auth plugin. List it before the plugins whose grants it sets (before `moderation`).
 *
 * @example
 *   defineConfig({ plugins: [auth({ passwords: { standup: 'blue-falcon-42' } }), ...builtinPlugins()] });
 */
export function auth(options: AuthOptions = {}): Plugin {
  const { passwords = {}, passwordGrants = DEFAULT_PASSWORD_GRANTS, ...rest } = options;
  const { maxTtlSeconds, maxFailuresPerMinute } = readOptions('auth', rest, {
    maxTtlSeconds: { type: 'integer', min: 1, max: 366 * 86_400, default: 86_400 },
    maxFailuresPerMinute: { type: 'integer', min: 1, max: 1_000_000, default: 10 },
  });
  const passwordHashes = checkPasswords(passwords);
  checkGrants(passwordGrants);

  return definePlugin({
    name: 'auth',
    setup(ctx) {
      const secret = loadOrCreateSecret(secretPath(ctx.options.dataDir));
      const failures = new Map<string, { since: number; count: number }>();

      const passwordFailed = (info: HandshakeInfo, error: ConfabError) => {
        const now = Date.now();
        let entry = failures.get(info.remoteAddress);
        if (!entry || now - entry.since > FAILURE_WINDOW_MS) {
          if (failures.size >= MAX_TRACKED_ADDRESSES) failures.clear();
          entry = { since: now, count: 0 };
          failures.set(info.remoteAddress, entry);
        }
        entry.count++;
        return refused(info, error);
      };
      const refused = (info: HandshakeInfo, error: ConfabError) => {
        ctx.log.info('refused', { code: error.code, address: info.remoteAddress });
        return error;
      };

      const check = (hello: ValidHello, info: HandshakeInfo): ConfabError | undefined => {
        if (hello.token !== undefined) {
          const claims = verifyToken(hello.token, secret, { maxTtlSeconds });
          if (claims instanceof ConfabError) return refused(info, claims);
          if (claims.room !== hello.room) {
            return refused(info, authError('AUTH_WRONG_ROOM', `the access token is for room "${claims.room}", not "${hello.room}"`));
          }
          if (claims.name !== undefined && claims.name !== hello.name) {
            return refused(info, authError('AUTH_WRONG_NAME', `the access token is for "${claims.name}"; join with that name`));
          }
          if (!claims.grants.includes('join')) return refused(info, authError('AUTH_NO_JOIN'));
          setGrants(info, claims.grants);
          return undefined;
        }
        const expected = passwordHashes.get(hello.room);
        if (hello.password !== undefined && expected) {
          const entry = failures.get(info.remoteAddress);
          if (entry && Date.now() - entry.since <= FAILURE_WINDOW_MS && entry.count >= maxFailuresPerMinute) {
            return refused(info, authError('AUTH_TOO_MANY_ATTEMPTS', `${entry.count} wrong passwords from ${info.remoteAddress} within a minute; wait a minute`));
          }
          if (!timingSafeEqual(sha256(hello.password), expected)) return passwordFailed(info, authError('AUTH_WRONG_PASSWORD'));
          setGrants(info, passwordGrants);
          return undefined;
        }
        return authError('AUTH_REQUIRED', expected
          ? `room "${hello.room}" needs its password (HELLO "password") or an access token (HELLO "token")`
          : `room "${hello.room}" needs an access token (HELLO "token"); make one with: confab token --room ${hello.room} --name <name>`);
      };

      ctx.hooks.handshake.tapPromise('auth', async (hello, info) => check(hello, info));
    },
  });
}

/** Narrows the new session's grants to `grants`. */
function setGrants(info: HandshakeInfo, grants: readonly Grant[]): void {
  for (const grant of [...info.grants]) if (!grants.includes(grant)) info.grants.delete(grant);
}

function checkPasswords(passwords: unknown): Map<string, Buffer> {
  const fail = (why: string) => new ConfabError('CONFIG_INVALID', `plugin "auth": option passwords ${why}`);
  if (typeof passwords !== 'object' || passwords === null || Array.isArray(passwords)) throw fail('must be an object of room name → password');
  const hashes = new Map<string, Buffer>();
  for (const [room, password] of Object.entries(passwords)) {
    if (typeof password !== 'string' || password.length < 8) throw fail(`for room "${room}" must be a string of at least 8 characters`);
    hashes.set(room, sha256(password));
  }
  return hashes;
}

function checkGrants(grants: unknown): void {
  if (!Array.isArray(grants) || !grants.every(isGrant)) {
    throw new ConfabError('CONFIG_INVALID', `plugin "auth": option passwordGrants must be a list of grants (${GRANTS.join(', ')})`);
  }
}

/** Passwords are compared as hashes, so the comparison takes the same time whatever their lengths. */
function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
