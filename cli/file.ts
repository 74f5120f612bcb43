/**
 * `confab file send|list|get`: share a file with a room (or one participant), list a room's files, and
 * download one, with a progress bar on a terminal and plain lines otherwise.
 */
import { parseArgs } from 'node:util';
import { ConfabClient, serverUrl } from '../core/client/node.js';
import { ConfabError } from '../core/errors.js';
import { filesClient, type FileInfo, type FilesApi } from '../plugins/files/client-node.js';
import { formatBytes, ProgressBar } from './progress.js';

export const usage = `Usage:
  confab file send PATH [--to NAME] [--name NAME] [connection options]
  confab file list [connection options]
  confab file get ID [--out PATH] [connection options]

Shares files through a Confab server's files plugin. send prints the new file's id; get writes the file
to --out (a path, or a directory for the file's own name; default the current directory) after checking
its SHA-256. A download cut short leaves a .part file that the same get continues.

Options:
  --server <host:port>  the server (default 127.0.0.1:5000)
  --room <room>         the room (default "default")
  --as <name>           the name to join as (default "confab-cli")
  --to <name>           send: share with this participant only (by display name)
  --name <name>         send: the file name to offer (default the file's own)
  --out <path>          get: where to write (default ".")
  -h, --help            show this help

A progress bar is drawn when stdout is a terminal; otherwise only the final lines are printed.
`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      server: { type: 'string', default: '127.0.0.1:5000' },
      room: { type: 'string', default: 'default' },
      as: { type: 'string', default: 'confab-cli' },
      to: { type: 'string' },
      name: { type: 'string' },
      out: { type: 'string', default: '.' },
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

  const url = serverUrl(values.server);
  if (url === undefined) {
    process.stderr.write(`confab file: --server must be host:port or a URL; got "${values.server}"\n`);
    return 2;
  }
  const client = new ConfabClient({ url, name: values.as, room: values.room, clientKind: 'cli' });
  const files = client.use(filesClient());
  await client.connect();
  try {
    if (action === 'list') return await list(files);
    if (action === 'send') return await send(client, files, target!, values.to, values.name);
    return await get(files, target!, values.out);
  } finally {
    await client.close();
  }
}

async function send(client: ConfabClient, files: FilesApi, path: string, toName: string | undefined, name: string | undefined): Promise<number> {
  let to: string | undefined;
  if (toName !== undefined) {
    to = [...client.peers.values()].find((peer) => peer.name === toName)?.id;
    if (to === undefined) {
      const present = [...client.peers.values()].map((peer) => peer.name).join(', ') || 'nobody else';
      throw new ConfabError('FILES_NO_SUCH_PEER', `nobody named "${toName}" is in the room (present: ${present})`);
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

async function list(files: FilesApi): Promise<number> {
  const all = await files.list();
  if (all.length === 0) {
    if (process.stdout.isTTY) process.stdout.write('no files in this room\n');
    return 0;
  }
  const rows = all.map((file) => [file.id, formatBytes(file.size), new Date(file.createdAt).toISOString().slice(0, 16).replace('T', ' '), file.from.name + (file.to ? ` → ${file.to.name}` : ''), file.name]);
  if (!process.stdout.isTTY) {
    for (const file of all) process.stdout.write(`${[file.id, file.size, file.createdAt, file.from.name, file.to?.name ?? '', file.sha256, file.name].join('\t')}\n`);
    return 0;
  }
  const header = ['ID', 'SIZE', 'SHARED (UTC)', 'FROM', 'NAME'];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  for (const row of [header, ...rows]) process.stdout.write(`${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')}\n`);
  return 0;
}

async function get(files: FilesApi, id: string, out: string): Promise<number> {
  const download = files.download(id, out);
  let bar: ProgressBar | undefined;
  download.on('progress', ({ received, total }) => {
    bar ??= new ProgressBar({ label: id, total });
    bar.update(received);
  });
  const file = await finish(download.done, () => bar);
  (bar ?? new ProgressBar({ label: file.name, total: file.size })).done('saved');
  process.stdout.write(`${file.name}  ${file.size} bytes  sha256 ${file.sha256} verified\n`);
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
