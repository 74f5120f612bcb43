/**
 * `confab token`: mints an access token for the auth plugin, signed with the secret in the server's data
 * directory (which must hold one already, unless `--init` asks to create it, so a misspelled --data-dir
 * never makes a secret no server uses), and `confab token revoke` writes a token's id to the revocation
 * list in the server's store, after checking that it names a token of that server.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG_FILE, loadConfigFile } from '../core/config-loader.js';
import { ConfabError } from '../core/errors.js';
import { GRANTS, isGrant, type Grant } from '../core/grants.js';
import { MAX_NAME_LENGTH } from '../core/room.js';
import { openStore, parseStoreUrl, STORE_URL_ENV } from '../core/store.js';
import { readTokenClaims } from '../plugins/auth/client.js';
import { openRevocations } from '../plugins/auth/revocations.js';
import { secretPath } from '../plugins/auth/server.js';
import { loadOrCreateSecret, signToken, verifyToken } from '../plugins/auth/token.js';
import { builtinPlugins } from '../plugins/index.js';
import { cliError } from './errors.js';

/** How `confab token` mints a token id (jti): 9 random bytes in base64url. */
const MINTED_JTI = /^[A-Za-z0-9_-]{12}$/;
/** The auth plugin's default `maxTtlSeconds`. */
const SERVER_MAX_TTL = '1d';

export const usage = `Usage: confab token --room <room> [--name <name>] [--grant <grant>]… [--ttl <time>] [--data-dir <dir>]
       confab token revoke <jti or token> [--reason <text>] [--data-dir <dir>]

Prints an access token for the auth plugin: it admits one person to one room, with the grants given,
until it expires or is revoked. Join with it: new ConfabClient({ …, token }) or the web client's ?token=…
Its id (jti) is printed on stderr. The token is signed with the secret in the server's data directory;
a directory without one is refused (is it the server's?) unless --init creates the secret there.

revoke writes the token id (or the id inside a token) to the revocation list in <data-dir>/confab.db.
It refuses a data directory without a store, a token signed with another secret, and an id that is not
one confab token mints (12 characters; give the whole token otherwise). A running server with that data
directory refuses the token at once and closes the sessions holding it within 2 s (AUTH_TOKEN_REVOKED).

Options:
  --room <room>        the room it admits to (required)
  --name <name>        the display name it is for (the HELLO must ask for exactly this name); default any
  --grant <grants>     what the session may do, comma-separated or repeated; "all" for every grant.
                       Grants: ${GRANTS.join(', ')}, and those the config's plugins
                       declare (plugin:action, e.g. countdown:start). Default: every built-in grant except moderate.
  --config <file>      the config whose plugins' grants --grant may name (default ./${DEFAULT_CONFIG_FILE} if
                       there is one, else the built-in plugins)
  --ttl <time>         lifetime: 90s, 30m, 1h, 1d (default 1h); at most --max-ttl
  --max-ttl <time>     the longest lifetime the server accepts: its auth({ maxTtlSeconds }) (default ${SERVER_MAX_TTL})
  --data-dir <dir>     the server's data directory, where the secret and the store are (default ./.confab)
  --init               create the secret in --data-dir if it has none (before the server first starts)
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
      'max-ttl': { type: 'string', default: SERVER_MAX_TTL },
      'data-dir': { type: 'string', default: '.confab' },
      init: { type: 'boolean', default: false },
      reason: { type: 'string', default: '' },
      config: { type: 'string', short: 'c' },
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
  const grants = parseGrants(values.grant, await configGrants(values.grant, values.config));
  const ttlSeconds = parseDuration(values.ttl);
  const maxTtlSeconds = parseDuration(values['max-ttl'], '--max-ttl');
  if (ttlSeconds > maxTtlSeconds) {
    throw cliError('CLI_OPTION_INVALID', `--ttl ${values.ttl} is longer than the server accepts (${values['max-ttl']}, its auth option maxTtlSeconds): `
      + `give --ttl ${values['max-ttl']} or less, or --max-ttl if the server was configured to accept more`);
  }
  const secretFile = secretPath(dataDir);
  const created = !existsSync(secretFile);
  if (created && !values.init) {
    throw cliError('CLI_DATA_DIR_EMPTY', `${dataDir} has no auth secret (${secretFile}): is --data-dir the server's data directory? `
      + 'The server writes the secret when it first starts with the auth plugin; to create it now, add --init');
  }
  const secret = loadOrCreateSecret(secretFile);
  process.stderr.write(`${created ? 'created the secret' : 'signed with the secret'} in ${dataDir}\n`);
  const token = await signToken(secret, { room: values.room.trim(), name: values.name?.trim(), grants, ttlSeconds });
  const until = new Date(Date.now() + ttlSeconds * 1000).toISOString();
  const jti = readTokenClaims(token)!.jti;
  process.stderr.write(`token for room "${values.room.trim()}"${values.name ? ` as "${values.name.trim()}"` : ''}, grants ${grants.join(', ')}, valid until ${until}\n`);
  process.stderr.write(`jti ${jti} (revoke it with: confab token revoke ${jti} --data-dir ${values['data-dir']})\n`);
  process.stdout.write(`${token}\n`);
  return 0;
}

/**
 * `confab token revoke <jti or token>`: adds the token id to the revocation list of the store in `dataDir`,
 * once sure that the store is there, that a token was signed with this data directory's secret, and that
 * a bare id is one `confab token` mints.
 */
async function revoke(args: string[], dataDir: string, reason: string): Promise<number> {
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
  if (!claims && !MINTED_JTI.test(jti)) {
    process.stderr.write(`confab token revoke: "${jti}" is not a token id that confab token mints (12 letters, digits, - or _, `
      + 'printed as "jti …" when the token was made); give that id, or the whole token\n');
    return 2;
  }
  // The server's store: CONFAB_STORE_URL when it names PostgreSQL, else the SQLite file of the data directory.
  const location = parseStoreUrl(process.env[STORE_URL_ENV], dataDir);
  if (location.dialect === 'sqlite' && !existsSync(location.path)) {
    throw cliError('CLI_DATA_DIR_EMPTY', `${dataDir} has no store (confab.db): is --data-dir the server's data directory? Nothing was revoked`);
  }
  const secretFile = secretPath(dataDir);
  if (claims && existsSync(secretFile)) {
    const verdict = await verifyToken(given.trim(), loadOrCreateSecret(secretFile), { maxTtlSeconds: Number.MAX_SAFE_INTEGER, now: claims.iat * 1000 });
    if (verdict instanceof ConfabError && /signature/.test(verdict.message)) {
      throw cliError('CLI_NOT_A_TOKEN_ID', `this token was not signed with the secret in ${dataDir}: it is another server's (or --data-dir is wrong). Nothing was revoked`);
    }
  }
  const store = openStore({ dataDir, url: process.env[STORE_URL_ENV] });
  let already: boolean;
  try {
    const revocations = await openRevocations(store.forPlugin('auth'));
    already = !(await revocations.revoke(jti, { expiresAt: claims?.exp, reason }));
  } finally {
    await store.close();
  }
  const what = claims ? ` (room ${claims.room}${claims.name ? `, ${claims.name}` : ''}, valid until ${new Date(claims.exp * 1000).toISOString()})` : '';
  process.stderr.write(already
    ? `${jti}${what} was already revoked in ${store.location}\n`
    : `revoked ${jti}${what} in ${store.location}; a server using this store closes its sessions within seconds\n`);
  return 0;
}

/** `--grant join,chat --grant publish:audio` → the grants; `all` is every grant. Throws CONFIG_INVALID. */
export function parseGrants(values: string[] | undefined, pluginGrants: readonly Grant[] = []): Grant[] {
  if (values === undefined || values.length === 0) return GRANTS.filter((grant) => grant !== 'moderate');
  const names = grantNames(values);
  if (names.includes('all')) return [...GRANTS, ...pluginGrants];
  const known = (name: string): name is Grant => isGrant(name) || (pluginGrants as readonly string[]).includes(name);
  const unknown = names.filter((name) => !known(name));
  if (unknown.length > 0) {
    const theirs = pluginGrants.length > 0 ? `; the plugins' grants are ${pluginGrants.join(', ')}` : '; the plugins of the config declare none';
    throw new ConfabError('CONFIG_INVALID', `unknown grant ${unknown.join(', ')}; the grants are ${GRANTS.join(', ')}${theirs} (--config)`);
  }
  const grants = [...new Set(names.filter(known))];
  if (!grants.includes('join')) grants.unshift('join');
  return grants;
}

/** The grant names of the --grant flags, split at commas. */
function grantNames(values: readonly string[]): string[] {
  return values.flatMap((value) => value.split(',')).map((name) => name.trim()).filter((name) => name !== '');
}

/**
 * The grants the plugins declare, of `--config`, else ./plugins.config.ts when there is one, else the
 * built-in plugins: read only when a --grant names something other than a built-in grant.
 */
async function configGrants(values: string[] | undefined, configPath: string | undefined): Promise<Grant[]> {
  if (configPath === undefined && grantNames(values ?? []).every((name) => isGrant(name))) return [];
  const plugins = configPath !== undefined || existsSync(resolve(process.cwd(), DEFAULT_CONFIG_FILE))
    ? (await loadConfigFile(configPath)).config.plugins ?? []
    : builtinPlugins();
  return plugins.flatMap((plugin) => plugin.grants ?? []);
}

/** `90s`, `30m`, `1h`, `2d` or plain seconds → seconds. Throws CLI_OPTION_INVALID naming `flag`. */
export function parseDuration(text: string, flag = '--ttl'): number {
  const match = /^(\d+)\s*(s|m|h|d)?$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[(match[2] ?? 's') as 's'] : NaN;
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    throw cliError('CLI_OPTION_INVALID', `${flag} must be a positive time like 90s, 30m, 1h or 1d, got "${text}"`);
  }
  return seconds;
}
