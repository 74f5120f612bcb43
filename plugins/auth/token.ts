/**
 * Signing and checking access tokens with jose (HS256 only; see protocol.ts for the format), and the server's
 * secret file. Used by the auth plugin's server half and by `confab token`.
 *
 * jose checks the compact form, the algorithm (HS256 and nothing else, so never `none`), the signature, the
 * `crit` header, the types of the registered claims, that `exp`, `iat` and `jti` are there, and that `exp` has
 * not passed. Confab's own policy follows: `iat` not in the future beyond the clock skew, a lifetime
 * (exp − iat) within the server's maximum, a room, known grants, a jti revocation can store; revocation itself
 * is the caller's (plugins/auth/revocations.ts).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { decodeProtectedHeader, errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { ConfabError } from '../../core/errors.js';
import { isGrantName, type Grant } from '../../core/grants.js';
import { AUTH_ERRORS, TOKEN_ALGORITHM, type TokenClaims } from './protocol.js';

/** Bytes of a generated secret. */
const SECRET_BYTES = 32;
/** Shortest secret accepted (bytes). */
export const MIN_SECRET_BYTES = 32;
/**
 * A random token id: 12 base64url characters (72 bits) that never start with `-`, so that
 * `confab token revoke <jti>` never reads it as an option.
 */
function newJti(): string {
  for (;;) {
    const jti = randomBytes(9).toString('base64url');
    if (!jti.startsWith('-')) return jti;
  }
}

/** Longest jti accepted (the revocation list keeps it). */
const MAX_JTI_LENGTH = 64;

/** What `signToken` needs. */
export interface SignOptions {
  room: string;
  name?: string;
  grants: readonly Grant[];
  /** Lifetime in seconds. */
  ttlSeconds: number;
  /** "Now" in ms since the epoch. Default Date.now(). */
  now?: number;
}

/**
 * Signs an access token with the server's secret (HS256, with iat, exp and a random jti).
 *
 * @example
 *   const token = await signToken(secret, { room: 'lab1', name: 'alice', grants: ['join', 'chat'], ttlSeconds: 3600 });
 */
export async function signToken(secret: Uint8Array, options: SignOptions): Promise<string> {
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  return new SignJWT({ room: options.room, ...(options.name !== undefined ? { name: options.name } : {}), grants: [...options.grants] })
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: 'JWT' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + options.ttlSeconds)
    .setJti(newJti())
    .sign(secret);
}

/** What `verifyToken` checks besides the signature. */
export interface VerifyOptions {
  /** "Now" in ms since the epoch. Default Date.now(). */
  now?: number;
  /** Tolerated clock difference for `iat`, in seconds. Default 30. */
  clockSkewSeconds?: number;
  /** Longest lifetime (exp − iat) accepted, in seconds. */
  maxTtlSeconds: number;
  /** The grants this server knows (built-in and its plugins'); a token granting another is refused. Default: any well-formed grant. */
  knownGrants?: ReadonlySet<string>;
}

/**
 * Checks a token: jose's checks (shape, HS256 only, signature, crit, exp, iat and jti present, exp in the
 * future), then the policy (iat not in the future, lifetime within maxTtlSeconds, room, grants, jti). Resolves
 * with the claims, or with a ConfabError (AUTH_TOKEN_INVALID, AUTH_TOKEN_EXPIRED); never rejects. The room
 * and name are checked by the caller, which knows the HELLO.
 *
 * @example
 *   const claims = await verifyToken(hello.token, secret, { maxTtlSeconds: 86_400 });
 *   if (claims instanceof ConfabError) return claims;
 */
export async function verifyToken(token: string, secret: Uint8Array, options: VerifyOptions): Promise<TokenClaims | ConfabError> {
  const now = options.now ?? Date.now();
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, secret, {
      algorithms: [TOKEN_ALGORITHM],
      requiredClaims: ['exp', 'iat', 'jti'],
      currentDate: new Date(now),
    }));
  } catch (error) {
    return refusal(error, token, now);
  }
  // jose checked that exp and iat are numbers and that jti is there (requiredClaims).
  const { room, name, grants, iat, exp, jti } = payload as Record<'room' | 'name' | 'grants' | 'jti', unknown> & { iat: number; exp: number };
  if (typeof room !== 'string' || room === '') return invalid('it names no room');
  if (name !== undefined && typeof name !== 'string') return invalid('its "name" is not a string');
  if (!Array.isArray(grants) || !grants.every(isGrantName)) return invalid('its "grants" must be a list of grants (core/grants.ts)');
  const unknown = options.knownGrants ? grants.filter((grant) => !options.knownGrants!.has(grant)) : [];
  if (unknown.length > 0) return invalid(`it grants ${unknown.join(', ')}, which no plugin of this server declares`);
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) return invalid('it has no "jti" (token id), which revocation needs');
  const skew = options.clockSkewSeconds ?? 30;
  if (iat > now / 1000 + skew) return invalid('it was issued in the future (check the clocks)');
  if (exp - iat > options.maxTtlSeconds) return invalid(`its lifetime is ${exp - iat} s; this server accepts at most ${options.maxTtlSeconds} s`);
  return { room, ...(name !== undefined ? { name } : {}), grants: grants as Grant[], iat, exp, jti };
}

/** What a token jose refused gets: AUTH_TOKEN_EXPIRED for an expired one, else AUTH_TOKEN_INVALID saying why. */
function refusal(error: unknown, token: string, now: number): ConfabError {
  if (error instanceof errors.JWTExpired) {
    const exp = typeof error.payload.exp === 'number' ? error.payload.exp : now / 1000;
    return AUTH_ERRORS.AUTH_TOKEN_EXPIRED({ message: `the access token expired ${Math.round(now / 1000 - exp)} s ago; ask for a new one` });
  }
  if (error instanceof errors.JWTClaimValidationFailed) return invalid(CLAIM_PROBLEMS[error.claim] ?? `its "${error.claim}" claim is not valid (${error.message})`);
  if (error instanceof errors.JOSEAlgNotAllowed) return invalid(`its algorithm is ${JSON.stringify(headerAlgorithm(token))}; only ${TOKEN_ALGORITHM} is accepted`);
  if (error instanceof errors.JWSSignatureVerificationFailed) return invalid('its signature does not match this server\'s secret');
  if (error instanceof errors.JOSENotSupported) return invalid(`it uses what this server does not support (${error.message})`);
  if (error instanceof errors.JOSEError) return invalid(`it is not a compact JWT: ${error.message}`);
  return invalid(`it could not be checked (${String(error)})`);
}

/** Why a token without (or with a wrong) registered claim is refused, by claim. */
const CLAIM_PROBLEMS: Record<string, string> = {
  exp: 'it has no valid "exp" (expiry); every token must expire',
  iat: 'it has no valid "iat" (issued at)',
  jti: 'it has no "jti" (token id), which revocation needs',
  nbf: 'it is not valid yet ("nbf")',
};

/** The `alg` a token's header names, if it can be read. */
function headerAlgorithm(token: string): unknown {
  try {
    return decodeProtectedHeader(token).alg;
  } catch {
    return undefined;
  }
}

function invalid(why: string): ConfabError {
  return AUTH_ERRORS.AUTH_TOKEN_INVALID({ message: `the access token is not valid: ${why}` });
}

/**
 * The server's secret: read from `path`, or generated (32 random bytes) and written there with mode 0600 on
 * first use. Throws AUTH_SECRET_UNSAFE when the file is readable by group or others, CONFIG_INVALID when it
 * is too short.
 */
export function loadOrCreateSecret(path: string): Buffer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(path, `${randomBytes(SECRET_BYTES).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (writeError) {
      // Another process (a `confab token` beside the server) wrote it first: use theirs.
      if ((writeError as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError;
    }
    chmodSync(path, 0o600);
    text = readFileSync(path, 'utf8');
  }
  if ((statSync(path).mode & 0o077) !== 0) {
    throw AUTH_ERRORS.AUTH_SECRET_UNSAFE({ message: `the auth secret ${path} can be read by other users; run: chmod 600 ${path}` });
  }
  const secret = Buffer.from(text.trim(), 'base64url');
  if (secret.length < MIN_SECRET_BYTES) {
    throw new ConfabError('CONFIG_INVALID', `the auth secret in ${path} has ${secret.length} bytes; at least ${MIN_SECRET_BYTES} are needed (delete it to generate one)`);
  }
  return secret;
}
