/**
 * The servers of the file-transfer bench, each in a process of its own (so its peak RSS is its own):
 *
 *   node --import tsx bench/files-server.ts --mode confab   the real core with the files plugin (limits raised
 *                                                          to fit the bench file) and `seed-files`, the seeds'
 *                                                          approach: 4 KiB base64 chunks in JSON frames
 *   node --import tsx bench/files-server.ts --mode seed     the same, with the core's json rate limit lifted for
 *                                                          `seed-file` (the seeds had none; 4 KiB chunks are
 *                                                          thousands of messages a second)
 *   node --import tsx bench/files-server.ts --mode pipe     a plain `net` server piping each connection into
 *                                                          a file, answering one byte when it is on disk
 *
 * Prints `{"port":…,"pid":…}` once listening; SIGTERM, SIGINT or (with --exit-with-parent) the parent closing
 * stdin stops it and removes its temporary directory.
 */
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { definePlugin } from '../core/config.js';
import { createServer } from '../core/server.js';
import { SEED_FILE } from './seed-protocol.js';
import { files } from '../plugins/files/server.js';

const dataDir = mkdtempSync(join(tmpdir(), 'confab-bench-files-'));
const removeDataDir = () => rmSync(dataDir, { recursive: true, force: true });
process.on('exit', removeDataDir);
const mode = process.argv[process.argv.indexOf('--mode') + 1];

/** The seeds' file transfer: every chunk a JSON object with 4 KiB of base64, decoded and appended to a file. */
const seedFiles = definePlugin({
  name: 'seed-files',
  channels: [SEED_FILE],
  setup(ctx) {
    const channel = ctx.channel(SEED_FILE);
    const streams = ctx.perSession<{ out?: WriteStream }>(() => ({}));
    channel.onMessage((session, message) => {
      const state = streams.get(session);
      if (message.op === 'chunk') {
        state.out ??= createWriteStream(join(dataDir, `seed-${session.id}`));
        state.out.write(Buffer.from(message.data, 'base64'));
      } else if (message.op === 'end') {
        const out = state.out;
        state.out = undefined;
        if (!out) return channel.send(session, { op: 'done' });
        out.end(() => {
          rmSync(out.path, { force: true });
          channel.send(session, { op: 'done' });
        });
      }
    });
  },
});

async function startConfab(seedMode: boolean): Promise<{ port: number; close(): Promise<void> }> {
  const big = 64 * 2 ** 30;
  const rate = seedMode ? { jsonMessagesPerSecond: 1e9 } : {};
  const server = await createServer({
    server: { host: '127.0.0.1', port: 0, dataDir, logLevel: 'warn', udp: false, ...rate },
    plugins: [files({ maxFileBytes: big, roomQuotaBytes: big }), seedFiles],
  });
  const { port } = await server.listen();
  return { port, close: () => server.close() };
}

async function startPipe(): Promise<{ port: number; close(): Promise<void> }> {
  let count = 0;
  const server = createNetServer({ allowHalfOpen: true }, (socket) => {
    const path = join(dataDir, `pipe-${++count}`);
    const out = createWriteStream(path);
    socket.pipe(out);
    out.on('finish', () => {
      rmSync(path, { force: true });
      socket.end(Buffer.from([1]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

try {
  const server = mode === 'pipe' ? await startPipe() : await startConfab(mode === 'seed');
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void server.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop).on('SIGINT', stop);
  if (process.argv.includes('--exit-with-parent')) process.stdin.on('end', stop).resume();
  console.log(JSON.stringify({ port: server.port, pid: process.pid, dataDir }));
} catch (error) {
  console.error(`files-server: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
}
