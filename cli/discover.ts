/**
 * `confab discover`: listens for servers' discovery beacons for a while and prints the servers heard.
 */
import { parseArgs } from 'node:util';
import { ConfabError } from '../core/errors.js';
import { discover, type DiscoveredServer } from '../plugins/discovery/client.js';
import { DEFAULT_BEACON_PORT } from '../plugins/discovery/protocol.js';

export const usage = `Usage: confab discover [options]

Listens for Confab servers announcing themselves on the LAN (UDP beacons, every 5 s) and prints those
heard. Only listens: it sends nothing.

Options:
  --timeout <seconds>  how long to listen (default 6, a little more than one beacon interval)
  --port <n>           UDP port the beacons go to (default ${DEFAULT_BEACON_PORT})
  --json               print a JSON array instead of a table
  -h, --help           show this help

Exit code 0 even when no server was heard (it says so). Use a printed address with other commands:
  confab schedule list --server 192.168.1.20:5000
`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      timeout: { type: 'string' },
      port: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const seconds = values.timeout === undefined ? 6 : Number(values.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    return usageError(`--timeout must be a number of seconds above 0 and at most 3600, got "${values.timeout}"`);
  }
  const port = values.port === undefined ? DEFAULT_BEACON_PORT : Number(values.port);
  if (!/^\d+$/.test(values.port ?? '1') || port < 1 || port > 65535) {
    return usageError(`--port must be a port number from 1 to 65535, got "${values.port}"`);
  }

  let servers: DiscoveredServer[];
  try {
    servers = await discover({ port, timeoutMs: Math.round(seconds * 1000) });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfabError('CONNECT_FAILED', `cannot listen for beacons on UDP port ${port}: ${reason}`);
  }
  process.stdout.write(values.json ? `${JSON.stringify(servers, null, 2)}\n` : table(servers, seconds));
  return 0;
}

/** The servers as an aligned table, or a line saying none was heard. */
function table(servers: DiscoveredServer[], seconds: number): string {
  if (servers.length === 0) return `No Confab server heard within ${seconds} s.\n`;
  const rows = [
    ['NAME', 'ADDRESS', 'VERSION', 'ROOMS', 'AUTH'],
    ...servers.map((s) => [s.name, `${s.host}:${s.port}`, s.version, String(s.rooms), s.auth ? 'token' : 'open']),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd()).join('\n') + '\n';
}

function usageError(message: string): number {
  process.stderr.write(`confab discover: ${message}\n`);
  return 2;
}
