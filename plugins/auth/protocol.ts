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
import { jsonChannel, requestRef } from '../../core/channel-def.js';
import { defineErrors } from '../../core/errors.js';
import type { Grant } from '../../core/grants.js';
import type { JsonObject } from '../../core/json.js';

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

/** What a client sends on the `auth` channel: a fresh token for its session. */
export type AuthRequest = { op: 'refresh'; token: string; ref?: string };

/** What the server sends on the `auth` channel. */
export type AuthServerMessage = { op: 'refreshed'; jti: string; exp: number; grants: Grant[]; ref?: string };

/**
 * The auth plugin's error codes. Fatal when they refuse a handshake or end a session (expired, revoked);
 * a refused refresh gets a non-fatal copy, with "channel":"auth" and the request's ref.
 */
export const AUTH_ERRORS = defineErrors('auth', {
  AUTH_REQUIRED: { message: 'this server requires an access token (HELLO "token") or the room\'s password (HELLO "password")', fatal: true },
  AUTH_TOKEN_INVALID: { message: 'the access token is malformed, not signed by this server, or uses another algorithm than HS256', fatal: true },
  AUTH_TOKEN_EXPIRED: { message: 'the access token has expired; ask for a new one (confab token)', fatal: true },
  AUTH_WRONG_ROOM: { message: 'the access token is for another room', fatal: true },
  AUTH_WRONG_NAME: { message: 'the access token is for another display name', fatal: true },
  AUTH_NO_JOIN: { message: 'the access token does not grant "join"', fatal: true },
  AUTH_WRONG_PASSWORD: { message: 'the room password is wrong', fatal: true },
  AUTH_TOO_MANY_ATTEMPTS: { message: 'too many wrong passwords from this address; wait a minute', fatal: true },
  AUTH_SECRET_UNSAFE: { message: 'the auth secret file can be read by other users; chmod 600 it', fatal: true },
  AUTH_TOKEN_REVOKED: { message: 'the access token was revoked; ask for a new one', fatal: true },
  AUTH_TOKEN_EXPIRING: 'the access token expires soon: refresh it (auth channel, op "refresh") or the session will be closed',
  AUTH_BAD_REQUEST: 'the message must be {"op":"refresh","token":string,"ref"?:string}',
});

/** Checks what a client sends on `auth`; AUTH_BAD_REQUEST otherwise. */
export function parseAuthRequest(message: JsonObject): AuthRequest {
  if (message.op !== 'refresh' || typeof message.token !== 'string') throw AUTH_ERRORS.AUTH_BAD_REQUEST();
  return { op: 'refresh', token: message.token, ref: requestRef(message) };
}

/** The auth plugin's json channel, for refreshing a token. */
export const AUTH = jsonChannel<AuthRequest, AuthServerMessage>('auth', { parse: parseAuthRequest, maxPayload: 8192 });
