/**
 * The auth plugin, client half. Joining with a token or a password takes only a connect option:
 *
 *   new ConfabClient({ url, name: 'alice', room: 'lab1', token })        // or { password: '…' }
 *
 * and a refusal rejects `connect()` with the server's AUTH_* code. This file adds what a user interface
 * wants before joining: what a token says (room, name, grants, expiry), read without checking it (only
 * the server, which holds the secret, can check it). Browser-safe: no Node imports.
 */
import { isGrant } from '../../core/grants.js';
import type { TokenClaims } from './protocol.js';

/**
 * Reads a token's claims without verifying them: for showing "an invitation to lab1 as alice, valid until
 * 15:00". Undefined when the token is not shaped like one.
 *
 * @example
 *   const claims = readTokenClaims(token);
 *   if (claims && claims.exp * 1000 < Date.now()) console.log('this invitation has expired');
 */
export function readTokenClaims(token: string): TokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const base64 = parts[1]!.replace(/-/g, '+').replace(/_/g, '/');
    const json = new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
    const claims: unknown = JSON.parse(json);
    if (typeof claims !== 'object' || claims === null) return undefined;
    const { room, name, grants, iat, exp, jti } = claims as Record<string, unknown>;
    if (typeof room !== 'string' || typeof exp !== 'number' || typeof iat !== 'number') return undefined;
    if (!Array.isArray(grants) || !grants.every(isGrant)) return undefined;
    return { room, ...(typeof name === 'string' ? { name } : {}), grants, iat, exp, jti: typeof jti === 'string' ? jti : '' };
  } catch {
    return undefined;
  }
}
