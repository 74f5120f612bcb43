/**
 * The auth plugin, server half: refuses a HELLO without a valid access token (or the room's password) and
 * gives the new session exactly the grants its token carries. Off unless listed in plugins.config.ts:
 *
 *   plugins: [auth(), ...builtinPlugins()]
 *
 * Tokens are signed with a secret the server generates on first start in `<dataDir>/plugins/auth/secret`
 * (mode 0600); `confab token` signs them with the same file. A token admits to one room until it expires or
 * is revoked, and so does the session it opened: every `checkIntervalMs` the plugin closes the sessions whose
 * token expired (AUTH_TOKEN_EXPIRED) or was revoked (AUTH_TOKEN_REVOKED), reading the revocation list from
 * the store, where `confab token revoke` (another process) and moderators write. A client keeps its session
 * past `exp` by sending a fresh token on the `auth` channel (`refresh`), which may also change its grants.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { definePlugin } from '../../core/config.js';
import { ConfabError, isConfabError } from '../../core/errors.js';
import { GRANTS, isGrantName, type Grant } from '../../core/grants.js';
import { readOptions } from '../../core/options.js';
import type { Session } from '../../core/session.js';
import type { Connection, HandshakeInfo, Plugin, ValidHello } from '../../core/types.js';
import { AUTH, AUTH_ERRORS, type TokenClaims } from './protocol.js';
import { TOKENS, type TokenAuthority, type TokenRef } from './service.js';
import { openRevocations } from './revocations.js';
import { loadOrCreateSecret, verifyToken } from './token.js';

/** The bus topic of a revocation, for the other nodes of a cluster: `{ jti, reason }`. */
export const REVOKED_TOPIC = 'auth.revoked';

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
  /**
   * How often live sessions are checked against their token's expiry and the revocation list (which another
   * process, `confab token revoke`, may have written). Default 2000 ms.
   */
  checkIntervalMs?: number;
  /** A session is warned (non-fatal AUTH_TOKEN_EXPIRING) this long before its token expires. Default 60 s. */
  expiryWarningSeconds?: number;
}

/** What the plugin keeps per session: the token (if any) and the grants its credential gave. */
interface Credential {
  token: TokenRef | undefined;
  /** The grants of the token or the password: a refresh never gives back what was taken since. */
  grants: readonly Grant[];
  /** AUTH_TOKEN_EXPIRING was sent for this token. */
  warned: boolean;
  /** The name the HELLO asked for (the session's may have a `_1`): what a refreshed token must name, if any. */
  name: string;
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
  const { maxTtlSeconds, maxFailuresPerMinute, checkIntervalMs, expiryWarningSeconds } = readOptions('auth', rest, {
    maxTtlSeconds: { type: 'integer', min: 1, max: 366 * 86_400, default: 86_400 },
    maxFailuresPerMinute: { type: 'integer', min: 1, max: 1_000_000, default: 10 },
    checkIntervalMs: { type: 'integer', min: 10, max: 3_600_000, default: 2000 },
    expiryWarningSeconds: { type: 'integer', min: 0, max: 86_400, default: 60 },
  });
  const passwordHashes = checkPasswords(passwords);
  checkGrants(passwordGrants);

  return definePlugin({
    name: 'auth',
    channels: [AUTH],
    errors: AUTH_ERRORS,
    provides: [TOKENS],
    async setup(ctx) {
      const unknown = passwordGrants.filter((grant) => !ctx.grants.has(grant));
      if (unknown.length > 0) throw new ConfabError('CONFIG_INVALID', `plugin "auth": option passwordGrants names ${unknown.join(', ')}, which no plugin of this server declares`);
      const secret = loadOrCreateSecret(secretPath(ctx.options.dataDir));
      const revocations = await openRevocations(ctx.store);
      const channel = ctx.channel(AUTH);
      const failures = new Map<string, { since: number; count: number }>();
      const credentials = ctx.perSession((session): Credential => ({ token: undefined, grants: [], warned: false, name: session.name }));
      /** What a HELLO was accepted with, until its session exists (keyed by the connection that sent it). */
      const accepted = new WeakMap<Connection, Credential>();
      const helloTokens = new WeakMap<ValidHello, TokenRef>();
      const accept = (hello: ValidHello, info: HandshakeInfo, grants: readonly Grant[], claims?: TokenClaims) => {
        const token = claims ? { jti: claims.jti, exp: claims.exp } : undefined;
        if (token) helloTokens.set(hello, token);
        accepted.set(info.connection, { token, grants, warned: false, name: hello.name });
        setGrants(info, grants);
        return undefined;
      };

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

      const check = async (hello: ValidHello, info: HandshakeInfo): Promise<ConfabError | undefined> => {
        if (hello.token !== undefined) {
          const claims = await verifyToken(hello.token, secret, { maxTtlSeconds, knownGrants: ctx.grants });
          if (claims instanceof ConfabError) return refused(info, claims);
          if (claims.room !== hello.room) {
            return refused(info, AUTH_ERRORS.AUTH_WRONG_ROOM({ message: `the access token is for room "${claims.room}", not "${hello.room}"` }));
          }
          if (claims.name !== undefined && claims.name !== hello.name) {
            return refused(info, AUTH_ERRORS.AUTH_WRONG_NAME({ message: `the access token is for "${claims.name}"; join with that name` }));
          }
          if (!claims.grants.includes('join')) return refused(info, AUTH_ERRORS.AUTH_NO_JOIN());
          if (await isRevoked(claims.jti)) return refused(info, AUTH_ERRORS.AUTH_TOKEN_REVOKED());
          return accept(hello, info, claims.grants, claims);
        }
        const expected = passwordHashes.get(hello.room);
        if (hello.password !== undefined && expected) {
          const entry = failures.get(info.remoteAddress);
          if (entry && Date.now() - entry.since <= FAILURE_WINDOW_MS && entry.count >= maxFailuresPerMinute) {
            return refused(info, AUTH_ERRORS.AUTH_TOO_MANY_ATTEMPTS({ message: `${entry.count} wrong passwords from ${info.remoteAddress} within a minute; wait a minute` }));
          }
          if (!timingSafeEqual(sha256(hello.password), expected)) return passwordFailed(info, AUTH_ERRORS.AUTH_WRONG_PASSWORD());
          return accept(hello, info, passwordGrants);
        }
        return AUTH_ERRORS.AUTH_REQUIRED({ message: expected
          ? `room "${hello.room}" needs its password (HELLO "password") or an access token (HELLO "token")`
          : `room "${hello.room}" needs an access token (HELLO "token"); make one with: confab token --room ${hello.room} --name <name>` });
      };

      /**
       * Whether a token is revoked: what this process knows at once, else the store (another process may
       * have revoked it). When the store cannot answer (PostgreSQL unreachable), what this process knows.
       */
      async function isRevoked(jti: string): Promise<boolean> {
        if (revocations.known(jti)) return true;
        try {
          return await revocations.isRevoked(jti);
        } catch (error) {
          ctx.log.warn('revocation list not read; using the one in memory', { error: String(error) });
          return false;
        }
      }

      ctx.hooks.handshake.tapPromise('auth', (hello, info) => check(hello, info));

      ctx.hooks.sessionJoined.tap('auth', (session) => {
        const credential = session.connection && accepted.get(session.connection);
        if (credential) Object.assign(credentials.get(session), credential);
      });

      /** Every live session holding a token (detached ones too: they must not resume). */
      const tokenSessions = () => {
        const found: Array<[Session, TokenRef]> = [];
        for (const room of ctx.rooms()) {
          for (const session of room.sessions) {
            const token = credentials.get(session).token;
            if (token) found.push([session, token]);
          }
        }
        return found;
      };

      const revoke: TokenAuthority['revoke'] = (jti, options) => {
        const done = revokeNow(jti, options);
        // A caller that does not wait (a moderator's request) must not leave an unhandled rejection; one that awaits still sees it.
        done.catch((error: unknown) => ctx.log.error('token not revoked: the store did not take it', { jti, error: String(error) }));
        return done;
      };
      const revokeNow = async (jti: string, { expiresAt, reason = '' }: { expiresAt?: number; reason?: string } = {}) => {
        await revocations.revoke(jti, { expiresAt, reason });
        ctx.log.info('token revoked', { jti, reason });
        // The other nodes of a cluster end their sessions with it now (their sweep would, within checkIntervalMs).
        ctx.cluster?.bus.publish(REVOKED_TOPIC, { jti, reason })
          .catch((error: unknown) => ctx.log.warn('revocation not spread; the other nodes find it in the store', { jti, error: String(error) }));
        return closeRevoked(jti, reason);
      };
      /** Closes this node's sessions that hold the token; returns how many. */
      const closeRevoked = (jti: string, reason: string) => {
        let closed = 0;
        for (const [session, token] of tokenSessions()) {
          if (token.jti !== jti) continue;
          session.fail(AUTH_ERRORS.AUTH_TOKEN_REVOKED({ message: `the access token was revoked${reason ? `: ${reason}` : ''}; ask for a new one` }));
          closed++;
        }
        return closed;
      };
      ctx.hooks.listen.tap('auth', () => {
        ctx.cluster?.bus.subscribe(REVOKED_TOPIC, ({ data }) => {
          if (typeof data.jti === 'string') closeRevoked(data.jti, typeof data.reason === 'string' ? data.reason : '');
        });
      });

      /** Closes sessions whose token expired or was revoked (by any process); warns those about to expire. */
      let lastPrune = 0;
      const sweep = async () => {
        const sessions = tokenSessions();
        const revoked = await revocations.revokedAmong([...new Set(sessions.map(([, token]) => token.jti))]);
        const now = Date.now() / 1000;
        for (const [session, token] of sessions) {
          if (revoked.has(token.jti)) {
            session.fail(AUTH_ERRORS.AUTH_TOKEN_REVOKED());
          } else if (token.exp <= now) {
            session.fail(AUTH_ERRORS.AUTH_TOKEN_EXPIRED({ message: `the access token expired ${Math.round(now - token.exp)} s ago; join again with a new one` }));
          } else if (token.exp - now <= expiryWarningSeconds && !credentials.get(session).warned) {
            credentials.get(session).warned = true;
            const warning = AUTH_ERRORS.AUTH_TOKEN_EXPIRING({ message: `the access token expires in ${Math.round(token.exp - now)} s: refresh it (op "refresh") or the session will be closed` });
            warning.channel = AUTH.name;
            session.sendError(warning);
          }
        }
        if (now - lastPrune > 60) {
          lastPrune = now;
          await revocations.prune(Math.floor(now));
        }
      };
      let timer: NodeJS.Timeout | undefined;
      ctx.hooks.listen.tapPromise('auth', async () => {
        let sweeping = false;
        timer = setInterval(() => {
          if (sweeping) return;
          sweeping = true;
          sweep().catch((error: unknown) => ctx.log.error('token check failed', { error: String(error) })).finally(() => {
            sweeping = false;
          });
        }, checkIntervalMs);
        timer.unref();
      });
      ctx.hooks.close.tapPromise('auth', async () => clearInterval(timer));

      channel.onMessage((session, { token, ref }) => {
        // Checking the token's signature is asynchronous (WebCrypto): its refusal is sent here, not thrown.
        void refresh(session, token, ref).catch((error: unknown) => {
          if (!isConfabError(error)) ctx.log.error('refresh failed', { error: String(error) });
          const refused = refusal(isConfabError(error) ? error : new ConfabError('INTERNAL_ERROR', 'the "auth" plugin failed on this refresh'), ref);
          refused.channel = AUTH.name;
          ctx.metrics.add(ctx.metrics.errors, refused.code);
          if (session.state !== 'closed') session.sendError(refused);
        });
      });

      /** A session's `refresh`: checks the new token, then takes its expiry and grants. Rejects with the refusal. */
      async function refresh(session: Session, token: string, ref: string | undefined): Promise<void> {
        const claims = await verifyToken(token, secret, { maxTtlSeconds, knownGrants: ctx.grants });
        if (session.state === 'closed') return;
        const credential = credentials.get(session);
        if (claims instanceof ConfabError) throw claims;
        if (claims.room !== session.room.name) throw AUTH_ERRORS.AUTH_WRONG_ROOM({ message: `the access token is for room "${claims.room}", not "${session.room.name}"` });
        if (claims.name !== undefined && claims.name !== credential.name) throw AUTH_ERRORS.AUTH_WRONG_NAME({ message: `the access token is for "${claims.name}", not "${credential.name}"` });
        if (!claims.grants.includes('join')) throw AUTH_ERRORS.AUTH_NO_JOIN();
        if (await isRevoked(claims.jti)) throw AUTH_ERRORS.AUTH_TOKEN_REVOKED();
        // The new token's grants, except those the old credential gave but the session lost since (a moderator muted it).
        const grants = claims.grants.filter((grant) => session.grants.has(grant) || !credential.grants.includes(grant));
        credential.token = { jti: claims.jti, exp: claims.exp };
        credential.grants = claims.grants;
        credential.warned = false;
        session.setGrants(grants);
        channel.send(session, { op: 'refreshed', jti: claims.jti, exp: claims.exp, grants: [...session.grants], ...(ref !== undefined ? { ref } : {}) });
      }

      const authority: TokenAuthority = {
        tokenOf: (session) => credentials.get(session).token,
        tokenOfHello: (hello) => helloTokens.get(hello),
        revoke,
      };
      ctx.provide(TOKENS, authority);
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
  if (!Array.isArray(grants) || !grants.every(isGrantName)) {
    throw new ConfabError('CONFIG_INVALID', `plugin "auth": option passwordGrants must be a list of grants (${GRANTS.join(', ')}, or a plugin's plugin:action)`);
  }
}

/** Passwords are compared as hashes, so the comparison takes the same time whatever their lengths. */
function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** A refusal of one request: the error, non-fatal, with the request's ref. */
function refusal(error: ConfabError, ref: string | undefined): ConfabError {
  const refused = new ConfabError(error.code, error.message, { fatal: false });
  if (ref !== undefined) refused.ref = ref;
  return refused;
}
