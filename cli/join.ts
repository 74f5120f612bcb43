/**
 * `confab join`: the terminal client. Joins a room and shows the chat (room-wide and private), the
 * participants, files with transfer progress, and upcoming meetings, in a keyboard-driven blessed UI that
 * stays in the room through lost connections and server restarts. Without `--server`, it lists the servers
 * heard through LAN discovery to pick one.
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { serverUrl } from '../core/client/server-url.js';
import { loadClientEntries } from './client-entries.js';
import { cliError } from './errors.js';
import { pickServer } from './join/picker.js';
import { runJoin } from './join/session.js';
import { checkName } from './names.js';

export const usage = `Usage: confab join [options]

Joins a room in a terminal UI: chat, participants, files and upcoming meetings. It stays in the room when
the connection drops or the server restarts (it joins again by itself), and keeps what you type meanwhile.

Options:
  --server <address>    server to join: host:port, or the http://host:port address confab serve prints;
                        without it, pick one of the servers heard on the LAN
  --room <name>         room to join (default "default")
  --name <name>         your display name (default: your user name); the server may add _1 if it is taken
  --token <token>       access token, for a server with the auth plugin
  --config <file>       a plugins.config.ts whose plugins' client entries to bring: their panels and
                        /commands show when the server runs them (e.g. the polls example's /poll)
  -h, --help            show this help

In the UI: type and Enter to send; /msg NAME text for a private message; /upload PATH; /download N;
/help for every command and key. Line editing as in a shell (←→, Home/End, Ctrl-A/E/U/W/K/Y, ↑↓ history,
Tab completes names and commands); PgUp/PgDn scroll; F3 switches panels; Ctrl-C asks, then leaves.
`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      server: { type: 'string' },
      room: { type: 'string', default: 'default' },
      name: { type: 'string', default: safeUserName() },
      token: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const name = checkName('--name', values.name);
  const room = checkName('--room', values.room);
  const entries = values.config === undefined ? [] : await loadClientEntries(values.config);
  let url: string;
  if (values.server !== undefined) {
    const given = serverUrl(values.server);
    if (given === undefined) throw cliError('CLI_OPTION_INVALID', `--server must be host:port or a URL such as http://127.0.0.1:5000; got "${values.server}"`);
    url = given;
  } else {
    const picked = await pickServer();
    if (!picked) {
      process.stderr.write('confab join: no server picked; give one with --server HOST:PORT\n');
      return 1;
    }
    url = picked.url;
  }
  return runJoin({ url, room, name, token: values.token, entries });
}

function safeUserName(): string {
  try {
    return userInfo().username || 'guest';
  } catch {
    return 'guest';
  }
}
