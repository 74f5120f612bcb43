/**
 * What the auth plugin offers other plugins, as a service (core/services.ts): moderation uses it to revoke a
 * participant's token and to bar a removed participant's token from the room; discovery to say that the
 * server needs a token. Other plugins use `ctx.optionalService(TOKENS)`: without auth there is none.
 */
import { defineService } from '../../core/services.js';
import type { Session } from '../../core/session.js';
import type { ValidHello } from '../../core/types.js';

/** A token as the auth plugin remembers it for a session: its id and expiry (seconds since the epoch). */
export interface TokenRef {
  jti: string;
  exp: number;
}

/** The auth plugin's service. */
export interface TokenAuthority {
  /** The token a session joined with (or last refreshed to); undefined for a session that used a password. */
  tokenOf(session: Session): TokenRef | undefined;
  /** The token of a HELLO this plugin accepted, for the handshake taps after it (a lobby, a ban list). */
  tokenOfHello(hello: ValidHello): TokenRef | undefined;
  /**
   * Revokes a token: written to the store, and once that committed every live session holding it closed
   * with AUTH_TOKEN_REVOKED. `expiresAt` (seconds) lets the row be pruned when the token would have expired.
   * Resolves to how many sessions were closed; rejects with the store's error (`isStoreError`) when the
   * store did not take it (nothing was revoked then).
   */
  revoke(jti: string, options?: { expiresAt?: number; reason?: string }): Promise<number>;
}

/** The key of the auth plugin's service. */
export const TOKENS = defineService<TokenAuthority>('auth:tokens');
