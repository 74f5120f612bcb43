/**
 * Signing and checking access tokens (HS256 only; see protocol.ts for the format), and the server's secret
 * file. Used by the auth plugin's server half and by `confab token`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfabError } from '../../core/errors.js';
import { isGrant, type Grant } from '../../core/grants.js';
import { AUTH_ERRORS, TOKEN_ALGORITHM, type AuthErrorCode, type TokenClaims } from './protocol.js';

/** Bytes of a generated secret. */
const SECRET_BYTES = 32;
/** Shortest secret accepted (bytes). */
export const MIN_SECRET_BYTES = 32;
const HEADER = base64url(Buffer.from(JSON.stringify({ alg: TOKEN_ALGORITHM, typ: 'JWT' })));
const BASE64URL = /^[A-Za-z0-9_-]*$/;

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
 * Signs an access token with the server's secret.
 *
 * @example
 *   const token = signToken(secret, { room: 'lab1', name: 'alice', grants: ['join', 'chat'], ttlSeconds: 3600 });
 */
export function signToken(secret: Uint8Array, options: SignOptions): string {
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  const claims: TokenClaims = {
    room: options.room,
    ...(options.name !== undefined ? { name: options.name } : {}),
    grants: [...options.grants],
    iat,
    exp: iat + options.ttlSeconds,
    jti: randomBytes(9).toString('base64url'),
  };
  const body = `${HEADER}.${base64url(Buffer.from(JSON.stringify(claims)))}`;
  return `${body}.${base64url(hmac(secret, body))}`;
}

/** What `verifyToken` checks besides the signature. */
export interface VerifyOptions {
  /** "Now" in ms since the epoch. Default Date.now(). */
  now?: number;
  /** Tolerated clock difference for `iat`, in seconds. Default 30. */
  clockSkewSeconds?: number;
  /** Longest lifetime (exp − iat) accepted, in seconds. */
  maxTtlSeconds: number;
}

/**
 * Checks a token: shape, algorithm (HS256 only), signature (in constant time), then the claims (exp required
 * and in the future, iat not in the future, lifetime within maxTtlSeconds, room, grants, jti). Returns the claims,
 * or a ConfabError (AUTH_TOKEN_INVALID, AUTH_TOKEN_EXPIRED). Never throws. The room and name are checked by
 * the caller, which knows the HELLO.
 */
export function verifyToken(token: string, secret: Uint8Array, options: VerifyOptions): TokenClaims | ConfabError {
  const invalid = (why: string) => authError('AUTH_TOKEN_INVALID', `the access token is not valid: ${why}`);
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => part.length > 0 && BASE64URL.test(part))) {
    return invalid('it must be three base64url parts separated by dots');
  }
  const [headerPart, claimsPart, signaturePart] = parts as [string, string, string];
  const header = parseJsonPart(headerPart);
  if (!header) return invalid('its header is not a JSON object');
  if (header.alg !== TOKEN_ALGORITHM) return invalid(`its algorithm is ${JSON.stringify(header.alg)}; only ${TOKEN_ALGORITHM} is accepted`);
  if (header.crit !== undefined) return invalid('its header has "crit" extensions, which are not supported');
  const expected = hmac(secret, `${headerPart}.${claimsPart}`);
  const given = Buffer.from(signaturePart, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return invalid('its signature does not match this server\'s secret');

  const claims = parseJsonPart(claimsPart);
  if (!claims) return invalid('its claims are not a JSON object');
  const { room, name, grants, iat, exp, jti } = claims;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return invalid('it has no "exp" (expiry); every token must expire');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return invalid('it has no "iat" (issued at)');
  if (typeof room !== 'string' || room === '') return invalid('it names no room');
  if (name !== undefined && typeof name !== 'string') return invalid('its "name" is not a string');
  if (!Array.isArray(grants) || !grants.every(isGrant)) return invalid('its "grants" must be a list of known grants (core/grants.ts)');
  if (typeof jti !== 'string' || jti === '' || jti.length > 64) return invalid('it has no "jti" (token id), which revocation needs');
  const nowSeconds = (options.now ?? Date.now()) / 1000;
  const skew = options.clockSkewSeconds ?? 30;
  if (iat > nowSeconds + skew) return invalid('it was issued in the future (check the clocks)');
  if (exp - iat > options.maxTtlSeconds) return invalid(`its lifetime is ${exp - iat} s; this server accepts at most ${options.maxTtlSeconds} s`);
  if (exp <= nowSeconds) return authError('AUTH_TOKEN_EXPIRED', `the access token expired ${Math.round(nowSeconds - exp)} s ago; ask for a new one`);
  return { room, ...(name !== undefined ? { name } : {}), grants: grants as Grant[], iat, exp, jti };
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
    throw authError('AUTH_SECRET_UNSAFE', `the auth secret ${path} can be read by other users; run: chmod 600 ${path}`);
  }
  const secret = Buffer.from(text.trim(), 'base64url');
  if (secret.length < MIN_SECRET_BYTES) {
    throw new ConfabError('CONFIG_INVALID', `the auth secret in ${path} has ${secret.length} bytes; at least ${MIN_SECRET_BYTES} are needed (delete it to generate one)`);
  }
  return secret;
}

/** An auth ConfabError, fatal unless told otherwise, with the code's default message unless one is given. */
export function authError(code: AuthErrorCode, message?: string, fatal = true): ConfabError {
  return new ConfabError(code, message ?? AUTH_ERRORS[code], { fatal });
}

function parseJsonPart(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function hmac(secret: Uint8Array, data: string): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

function base64url(bytes: Buffer): string {
  return bytes.toString('base64url');
}
