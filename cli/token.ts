/**
 * `confab token`: mints an access token for the auth plugin, signed with the secret in the server's data
 * directory (generated there if the server has not started yet, so both use the same one).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfabError } from '../core/errors.js';
import { GRANTS, isGrant, type Grant } from '../core/grants.js';
import { MAX_NAME_LENGTH } from '../core/room.js';
import { secretPath } from '../plugins/auth/server.js';
import { loadOrCreateSecret, signToken } from '../plugins/auth/token.js';

export const usage = `Usage: confab token --room <room> [--name <name>] [--grant <grant>]… [--ttl <time>]

Prints an access token for the auth plugin: it admits one person to one room, with the grants given,
until it expires. Join with it: new ConfabClient({ …, token }) or the web client's ?token=…

Options:
  --room <room>        the room it admits to (required)
  --name <name>        the display name it is for (the HELLO must ask for exactly this name); default any
  --grant <grants>     what the session may do, comma-separated or repeated; "all" for every grant.
                       Grants: ${GRANTS.join(', ')}.
                       Default: every grant except moderate.
  --ttl <time>         lifetime: 90s, 30m, 1h, 2d (default 1h; the server accepts at most 1d by default)
  --data-dir <dir>     the server's data directory, where the secret is (default ./.confab)
  -h, --help           show this help
`;

/** Mints a token and prints it on stdout; what it grants goes to stderr. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      room: { type: 'string' },
      name: { type: 'string' },
      grant: { type: 'string', multiple: true },
      ttl: { type: 'string', default: '1h' },
      'data-dir': { type: 'string', default: '.confab' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (values.room === undefined || values.room.trim() === '' || values.room.length > MAX_NAME_LENGTH) {
    process.stderr.write(`confab token: --room is required (1 to ${MAX_NAME_LENGTH} characters); run confab token --help\n`);
    return 2;
  }
  const grants = parseGrants(values.grant);
  const ttlSeconds = parseDuration(values.ttl);
  const secret = loadOrCreateSecret(secretPath(resolve(process.cwd(), values['data-dir'])));
  const token = signToken(secret, { room: values.room.trim(), name: values.name?.trim(), grants, ttlSeconds });
  const until = new Date(Date.now() + ttlSeconds * 1000).toISOString();
  process.stderr.write(`token for room "${values.room.trim()}"${values.name ? ` as "${values.name.trim()}"` : ''}, grants ${grants.join(', ')}, valid until ${until}\n`);
  process.stdout.write(`${token}\n`);
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
