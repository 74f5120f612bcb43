/**
 * `confab token`: mints an access token for the auth plugin, signed with the secret in the server's data
 * directory (generated there if the server has not started yet, so both use the same one), and
 * `confab token revoke` writes a token's id to the revocation list in the server's store.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfabError } from '../core/errors.js';
import { GRANTS, isGrant, type Grant } from '../core/grants.js';
import { MAX_NAME_LENGTH } from '../core/room.js';
import { openStore } from '../core/store.js';
import { readTokenClaims } from '../plugins/auth/client.js';
import { openRevocations } from '../plugins/auth/revocations.js';
import { secretPath } from '../plugins/auth/server.js';
import { loadOrCreateSecret, signToken } from '../plugins/auth/token.js';

export const usage = `Usage: confab token --room <room> [--name <name>] [--grant <grant>]… [--ttl <time>]
       confab token revoke <jti or token> [--reason <text>]

Prints an access token for the auth plugin: it admits one person to one room, with the grants given,
until it expires or is revoked. Join with it: new ConfabClient({ …, token }) or the web client's ?token=…
Its id (jti) is printed on stderr.

revoke writes the token id (or the id inside a token) to the revocation list in <data-dir>/confab.db.
A running server with that data directory refuses the token at once and closes the sessions holding it
within 2 s (AUTH_TOKEN_REVOKED).

Options:
  --room <room>        the room it admits to (required)
  --name <name>        the display name it is for (the HELLO must ask for exactly this name); default any
  --grant <grants>     what the session may do, comma-separated or repeated; "all" for every grant.
                       Grants: ${GRANTS.join(', ')}.
                       Default: every grant except moderate.
  --ttl <time>         lifetime: 90s, 30m, 1h, 2d (default 1h; the server accepts at most 1d by default)
  --data-dir <dir>     the server's data directory, where the secret and the store are (default ./.confab)
  --reason <text>      revoke: why, kept with the revocation and told to the sessions closed
  -h, --help           show this help
`;

/** Mints a token and prints it on stdout; what it grants goes to stderr. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      room: { type: 'string' },
      name: { type: 'string' },
      grant: { type: 'string', multiple: true },
      ttl: { type: 'string', default: '1h' },
      'data-dir': { type: 'string', default: '.confab' },
      reason: { type: 'string', default: '' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const dataDir = resolve(process.cwd(), values['data-dir']);
  if (positionals[0] === 'revoke') return revoke(positionals.slice(1), dataDir, values.reason);
  if (positionals.length > 0) {
    process.stderr.write(`confab token: unexpected "${positionals[0]}"; the one subcommand is revoke (confab token --help)\n`);
    return 2;
  }
  if (values.room === undefined || values.room.trim() === '' || values.room.length > MAX_NAME_LENGTH) {
    process.stderr.write(`confab token: --room is required (1 to ${MAX_NAME_LENGTH} characters); run confab token --help\n`);
    return 2;
  }
  const grants = parseGrants(values.grant);
  const ttlSeconds = parseDuration(values.ttl);
  const secret = loadOrCreateSecret(secretPath(dataDir));
  const token = signToken(secret, { room: values.room.trim(), name: values.name?.trim(), grants, ttlSeconds });
  const until = new Date(Date.now() + ttlSeconds * 1000).toISOString();
  const jti = readTokenClaims(token)!.jti;
  process.stderr.write(`token for room "${values.room.trim()}"${values.name ? ` as "${values.name.trim()}"` : ''}, grants ${grants.join(', ')}, valid until ${until}\n`);
  process.stderr.write(`jti ${jti} (revoke it with: confab token revoke ${jti} --data-dir ${values['data-dir']})\n`);
  process.stdout.write(`${token}\n`);
  return 0;
}

/** `confab token revoke <jti or token>`: adds the token id to the revocation list of the store in `dataDir`. */
function revoke(args: string[], dataDir: string, reason: string): number {
  const [given, ...extra] = args;
  if (given === undefined || given.trim() === '' || extra.length > 0) {
    process.stderr.write('confab token revoke: give one token id (jti, printed when the token was made) or the token itself\n');
    return 2;
  }
  // A whole token: its jti, and its exp, so the revocation is forgotten when the token would have expired.
  const claims = given.includes('.') ? readTokenClaims(given.trim()) : undefined;
  if (given.includes('.') && (!claims || claims.jti === '')) {
    process.stderr.write('confab token revoke: this is not a token with a jti; give the jti instead\n');
    return 2;
  }
  const jti = claims?.jti ?? given.trim();
  if (jti.length > 64) {
    process.stderr.write('confab token revoke: a jti has at most 64 characters\n');
    return 2;
  }
  const store = openStore(dataDir);
  try {
    openRevocations(store.forPlugin('auth')).revoke(jti, { expiresAt: claims?.exp, reason });
  } finally {
    store.close();
  }
  process.stderr.write(`revoked ${jti} in ${store.path}; a server using this data directory closes its sessions within seconds\n`);
  return 0;
}

/** `--grant join,chat --grant publish:audio` → the grants; `all` is every grant. Throws CONFIG_INVALID. */
export function parseGrants(values: string[] | undefined): Grant[] {
  if (values === undefined || values.length === 0) return GRANTS.filter((grant) => grant !== 'moderate');
  const names = values.flatMap((value) => value.split(',')).map((name) => name.trim()).filter((name) => name !== '');
  if (names.includes('all')) return [...GRANTS];
  const unknown = names.filter((name) => !isGrant(name));
  if (unknown.length > 0) throw new ConfabError('CONFIG_INVALID', `unknown grant ${unknown.join(', ')}; the grants are ${GRANTS.join(', ')}`);
  const grants = [...new Set(names)] as Grant[];
  if (!grants.includes('join')) grants.unshift('join');
  return grants;
}

/** `90s`, `30m`, `1h`, `2d` or plain seconds → seconds. Throws CONFIG_INVALID. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*(s|m|h|d)?$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[(match[2] ?? 's') as 's'] : NaN;
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new ConfabError('CONFIG_INVALID', `--ttl must be a positive time like 90s, 30m, 1h or 2d, got "${text}"`);
  }
  return seconds;
}
