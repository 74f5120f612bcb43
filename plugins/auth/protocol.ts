/**
 * The auth plugin's shared pieces: the claims an access token carries and the plugin's error codes.
 *
 * An access token is a JWT with a pinned algorithm, HS256 (HMAC-SHA256 with the server's secret):
 *
 *   base64url({"alg":"HS256","typ":"JWT"}) . base64url(claims) . base64url(HMAC-SHA256(secret, first two parts))
 *
 * and the HELLO carries it: {"v":1,"name":"alice","room":"lab1","token":"eyJ…"}. A room with a password
 * also accepts {"password":"…"} instead. Every refusal is a fatal ERROR with one of AUTH_ERRORS' codes.
 *
 * A session that joined with a token is closed (fatal ERROR) when the token expires (AUTH_TOKEN_EXPIRED) or
 * is revoked (AUTH_TOKEN_REVOKED). Before it expires the client may swap in a fresh token on the `auth`
 * json channel:
 *
 * client → server  {"op":"refresh","token":"eyJ…","ref"?:"r1"}     same room (and name, if the old one had one)
 * server → client  {"op":"refreshed","jti","exp","grants":[…],"ref"?}
 * server → client  non-fatal ERROR AUTH_TOKEN_EXPIRING (channel "auth") once, `expiryWarningSeconds` before exp
 * refusals         non-fatal ERRORs with "channel":"auth" and the `ref`: the session keeps its old token
 */
import type { Grant } from '../../core/grants.js';

/** The one algorithm a token may name. Any other (`none`, `RS256`, `HS512`…) is refused. */
export const TOKEN_ALGORITHM = 'HS256';

/** What a token says, in its middle part. */
export interface TokenClaims {
  /** The room it admits to. */
  room: string;
  /** The display name it is for; when present, the HELLO must ask for exactly this name. */
  name?: string;
  /** What the session may do (core/grants.ts); it must include `join`. */
  grants: Grant[];
  /** Issued at, seconds since the Unix epoch. */
  iat: number;
  /** Expires at, seconds since the Unix epoch. Required. */
  exp: number;
  /** The token's unique id (random, 12 base64url characters): what `confab token revoke` names. */
  jti: string;
}

/** The auth plugin's json channel, for refreshing a token. */
export const AUTH_CHANNEL = 'auth';

/** What the server sends on the `auth` channel. */
export type AuthServerMessage = { op: 'refreshed'; jti: string; exp: number; grants: Grant[]; ref?: string };

/**
 * The auth plugin's error codes. Fatal when they refuse a handshake or end a session (expired, revoked);
 * non-fatal, with "channel":"auth", when they refuse a refresh.
 */
export const AUTH_ERRORS = {
  AUTH_REQUIRED: 'this server requires an access token (HELLO "token") or the room\'s password (HELLO "password")',
  AUTH_TOKEN_INVALID: 'the access token is malformed, not signed by this server, or uses another algorithm than HS256',
  AUTH_TOKEN_EXPIRED: 'the access token has expired; ask for a new one (confab token)',
  AUTH_WRONG_ROOM: 'the access token is for another room',
  AUTH_WRONG_NAME: 'the access token is for another display name',
  AUTH_NO_JOIN: 'the access token does not grant "join"',
  AUTH_WRONG_PASSWORD: 'the room password is wrong',
  AUTH_TOO_MANY_ATTEMPTS: 'too many wrong passwords from this address; wait a minute',
  AUTH_SECRET_UNSAFE: 'the auth secret file can be read by other users; chmod 600 it',
  AUTH_TOKEN_REVOKED: 'the access token was revoked; ask for a new one',
  AUTH_TOKEN_EXPIRING: 'the access token expires soon: refresh it (auth channel, op "refresh") or the session will be closed',
  AUTH_BAD_REQUEST: 'the message must be {"op":"refresh","token":string,"ref"?:string}',
} as const;

/** An auth error code. */
export type AuthErrorCode = keyof typeof AUTH_ERRORS;
