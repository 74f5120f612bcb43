/**
 * The auth plugin, client half. Joining with a token or a password takes only a connect option:
 *
 *   new ConfabClient({ url, name: 'alice', room: 'lab1', token })        // or { password: '…' }
 *
 * and a refusal rejects `connect()` with the server's AUTH_* code. This file adds what a user interface
 * wants before joining: what a token says (room, name, grants, expiry), read without checking it (only
 * the server, which holds the secret, can check it); and, once joined, `authClient()` to swap in a fresh
 * token before the old one expires (the server closes a session whose token expired). Browser-safe (jose's
 * decodeJwt reads the token).
 */
import { decodeJwt } from 'jose';
import type { ClientPlugin } from '../../core/client/types.js';
import { Emitter } from '../../core/client/emitter.js';
import { ConfabError } from '../../core/errors.js';
import { isGrantName, type Grant } from '../../core/grants.js';
import { AUTH, type TokenClaims } from './protocol.js';

/** Events of the auth client half. */
export type AuthEvents = {
  /** The server warned that the session's token expires soon (AUTH_TOKEN_EXPIRING): refresh it now. */
  expiring: [ConfabError];
};

/** What a refresh gives: the new token's id and expiry, and the session's grants now. */
export interface Refreshed {
  jti: string;
  exp: number;
  grants: Grant[];
}

/** What `client.use(authClient())` returns. */
export interface AuthClientApi extends Pick<Emitter<AuthEvents>, 'on' | 'off' | 'once'> {
  /**
   * Sends a fresh token for the same room (and name) to keep the session past the old token's expiry; its
   * grants replace the session's (except grants a moderator took). Rejects with the AUTH_* code on refusal,
   * and the session keeps its old token.
   */
  refresh(token: string): Promise<Refreshed>;
}

/**
 * Creates the auth client half.
 *
 * @example
 *   const auth = client.use(authClient());
 *   auth.on('expiring', async () => auth.refresh(await fetchNewToken()));
 */
export function authClient(): ClientPlugin<AuthClientApi> {
  return {
    name: 'auth',
    attach(ctx) {
      const events = new Emitter<AuthEvents>();
      const channel = ctx.channel(AUTH);
      ctx.onError((error) => {
        if (error.code === 'AUTH_TOKEN_EXPIRING') events.emit('expiring', error);
      });
      return {
        on: events.on.bind(events),
        off: events.off.bind(events),
        once: events.once.bind(events),
        async refresh(token) {
          const { jti, exp, grants } = await channel.request({ op: 'refresh', token });
          return { jti, exp, grants };
        },
      };
    },
  };
}

/**
 * Reads a token's claims without verifying them: for showing "an invitation to lab1 as alice, valid until
 * 15:00". Undefined when the token is not shaped like one.
 *
 * @example
 *   const claims = readTokenClaims(token);
 *   if (claims && claims.exp * 1000 < Date.now()) console.log('this invitation has expired');
 */
export function readTokenClaims(token: string): TokenClaims | undefined {
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(token);
  } catch {
    return undefined;
  }
  const { room, name, grants, iat, exp, jti } = claims;
  if (typeof room !== 'string' || typeof exp !== 'number' || typeof iat !== 'number') return undefined;
  if (!Array.isArray(grants) || !grants.every(isGrantName)) return undefined;
  return { room, ...(typeof name === 'string' ? { name } : {}), grants, iat, exp, jti: typeof jti === 'string' ? jti : '' };
}
