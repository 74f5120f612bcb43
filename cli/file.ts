/**
 * `confab file send|list|get`: share a file with a room (or one participant), list a room's files, and
 * download one, with a progress bar on a terminal and plain lines otherwise. It joins as a quiet tool
 * (cli/one-shot.ts): the room's participants do not see it come and go.
 */
import { parseArgs } from 'node:util';
import type { ConfabClient } from '../core/client/node.js';
import { filesClient, type FileInfo, type FilesApi } from '../plugins/files/client-node.js';
import { FILES_ERRORS } from '../plugins/files/protocol.js';
import { downloadTarget } from './download-target.js';
import { withOneShotClient } from './one-shot.js';
import { formatBytes, ProgressBar } from './progress.js';
import { table } from './table.js';

export const usage = `Usage:
  confab file send PATH [--to NAME] [--name NAME] [connection options]
  confab file list [--json] [connection options]
  confab file get ID [--out PATH] [--force] [connection options]

Shares files through a Confab server's files plugin. send prints the new file's id. list shows the room's
files (--json for scripts). get checks the file's SHA-256 and writes it to --out: a directory (the file's
own name in it, as "name (1).ext" when that is taken), or a new file's path; an existing file only with
--force, and never a device or a pipe. It prints the path it wrote. A download cut short leaves a .part
file that the same get continues.

Options:
  --server <address>    the server: host:port or the http://host:port address confab serve prints
                        (default 127.0.0.1:5000)
  --room <room>         the room (default "default")
  --as <name>           the name to act as (default "confab-cli"); private files are visible by name
  --token <token>       access token, for a server with the auth plugin (default $CONFAB_TOKEN)
  --to <name>           send: share with this participant only (by display name)
  --name <name>         send: the file name to offer (default the file's own)
  --out <path>          get: where to write (default ".")
  --force               get: replace an existing file at --out
  --json                list: print the files as JSON
  -h, --help            show this help

A progress bar is drawn when stdout is a terminal; otherwise only the final lines are printed.
The command joins the room quietly: participants do not see it in their list, and Ctrl-C leaves at once.
`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      server: { type: 'string', default: '127.0.0.1:5000' },
      room: { type: 'string', default: 'default' },
      as: { type: 'string', default: 'confab-cli' },
      token: { type: 'string' },
      to: { type: 'string' },
      name: { type: 'string' },
      out: { type: 'string', default: '.' },
      force: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const [action, target, ...rest] = positionals;
  const needsTarget = action === 'send' || action === 'get';
  if (!['send', 'list', 'get'].includes(action ?? '') || (needsTarget && target === undefined) || (!needsTarget && target !== undefined) || rest.length > 0) {
    process.stderr.write(`confab file: expected send PATH, list, or get ID; run confab file --help\n`);
    return 2;
  }
  const options = {
    server: values.server,
    name: { value: values.as, flag: '--as' },
    room: values.room,
    token: values.token ?? (process.env.CONFAB_TOKEN || undefined),
  };
  return withOneShotClient(options, (client) => client.use(filesClient()), async (files, client) => {
    if (action === 'list') return list(files, values.room, values.json);
    if (action === 'send') return send(client, files, target!, values.to, values.name);
    return get(files, target!, values.room, values.out, values.force);
  });
}

async function send(client: ConfabClient, files: FilesApi, path: string, toName: string | undefined, name: string | undefined): Promise<number> {
  let to: string | undefined;
  if (toName !== undefined) {
    to = [...client.peers.values()].find((peer) => peer.name === toName)?.id;
    if (to === undefined) {
      const present = [...client.peers.values()].map((peer) => peer.name).join(', ') || 'nobody';
      throw FILES_ERRORS.FILES_NO_SUCH_PEER({ message: `nobody named "${toName}" is in the room (present: ${present})` });
    }
  }
  const upload = files.upload(path, { to, name });
  let bar: ProgressBar | undefined;
  upload.on('progress', ({ sent, total }) => {
    bar ??= new ProgressBar({ label: name ?? path, total });
    bar.update(sent);
  });
  const file = await finish(upload.done, () => bar);
  (bar ?? new ProgressBar({ label: file.name, total: file.size })).done('sent');
  process.stdout.write(`${file.id}  ${file.name}  ${file.size} bytes  sha256 ${file.sha256}${file.to ? `  to ${file.to.name}` : ''}\n`);
  return 0;
}

async function list(files: FilesApi, room: string, json: boolean): Promise<number> {
  const all = await files.list();
  if (json) {
    process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
    return 0;
  }
  if (all.length === 0) {
    process.stdout.write(`No files in room ${room}.\n`);
    return 0;
  }
  const rows = all.map((file) => [file.id, formatBytes(file.size), localTime(file.createdAt), file.from.name + (file.to ? ` → ${file.to.name}` : ''), file.name]);
  process.stdout.write(table(['ID', 'SIZE', 'SHARED', 'FROM', 'NAME'], rows));
  return 0;
}

async function get(files: FilesApi, id: string, room: string, out: string, force: boolean): Promise<number> {
  const file = (await files.list()).find((candidate) => candidate.id === id);
  if (!file) throw FILES_ERRORS.FILES_NO_SUCH_FILE({ message: `no file with id ${id} is shared in room ${room} (confab file list --room ${room} shows them)` });
  const path = await downloadTarget(out, file.name, { force });
  const download = files.download(id, path);
  let bar: ProgressBar | undefined;
  download.on('progress', ({ received, total }) => {
    bar ??= new ProgressBar({ label: file.name, total });
    bar.update(received);
  });
  await finish(download.done, () => bar);
  (bar ?? new ProgressBar({ label: file.name, total: file.size })).done('saved');
  process.stdout.write(`saved ${path}  ${file.size} bytes  sha256 ${file.sha256} verified\n`);
  return 0;
}

/** Awaits a transfer; on failure ends the bar with the reason before the error reaches main. */
async function finish(done: Promise<FileInfo>, bar: () => ProgressBar | undefined): Promise<FileInfo> {
  try {
    return await done;
  } catch (error) {
    bar()?.fail((error as Error).message);
    throw error;
  }
}

/** `2026-03-01 14:05` in this machine's time zone. */
function localTime(ms: number): string {
  const date = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
