/**
 * The clients of the file-transfer bench, one transfer per process (so the peak RSS is the transfer's own).
 * Prints one JSON line: `{"seconds","bytes","maxRssMb","id"?}`.
 *
 *   node --import tsx bench/files-client.ts --mode upload   --port P --file PATH   Confab files: upload
 *   node --import tsx bench/files-client.ts --mode download --port P --id ID --out PATH   Confab files: download
 *   node --import tsx bench/files-client.ts --mode seed     --port P --file PATH   seeds' approach (base64 in JSON)
 *   node --import tsx bench/files-client.ts --mode pipe     --port P --file PATH   plain net pipe
 */
import { createReadStream, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { connect } from 'node:net';
import { ConfabClient } from '../core/client/node.js';
import type { ClientPluginContext } from '../core/client/types.js';
import { filesClient } from '../plugins/files/client-node.js';
import { SEED_FILE } from './seed-protocol.js';

const arg = (name: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const mode = arg('mode');
const port = Number(arg('port'));

/** Bytes of one chunk in the seeds' protocol. */
const SEED_CHUNK = 4096;
/** The seeds' client waits while this much is queued on its socket (theirs blocked in sendall). */
const SEED_HIGH_WATER = 4 * 1024 * 1024;

async function confab(): Promise<{ seconds: number; bytes: number; id?: string }> {
  const client = new ConfabClient({ url: `tcp://127.0.0.1:${port}`, name: `bench-${mode}`, room: 'bench' });
  const sharing = client.use(filesClient());
  await client.connect();
  try {
    const started = performance.now();
    if (mode === 'upload') {
      const file = await sharing.upload(arg('file')!).done;
      return { seconds: (performance.now() - started) / 1000, bytes: file.size, id: file.id };
    }
    const file = await sharing.download(arg('id')!, arg('out')!).done;
    return { seconds: (performance.now() - started) / 1000, bytes: file.size };
  } finally {
    await client.close();
  }
}

async function seed(): Promise<{ seconds: number; bytes: number }> {
  const client = new ConfabClient({ url: `tcp://127.0.0.1:${port}`, name: 'bench-seed', room: 'bench' });
  const channel = client.use({ name: 'seed', attach: (ctx: ClientPluginContext) => ctx.channel(SEED_FILE) });
  const done = new Promise<void>((resolve) => channel.onMessage(() => resolve()));
  await client.connect();
  const path = arg('file')!;
  const size = statSync(path).size;
  const started = performance.now();
  const handle = await open(path, 'r');
  const buffer = Buffer.allocUnsafe(SEED_CHUNK);
  for (let offset = 0, id = 0; offset < size; offset += SEED_CHUNK, id++) {
    const { bytesRead } = await handle.read(buffer, 0, SEED_CHUNK, offset);
    channel.send({ op: 'chunk', data: buffer.toString('base64', 0, bytesRead) });
    while (client.bufferedBytes > SEED_HIGH_WATER) await new Promise((resolve) => setImmediate(resolve));
  }
  await handle.close();
  channel.send({ op: 'end' });
  await done;
  const seconds = (performance.now() - started) / 1000;
  await client.close();
  return { seconds, bytes: size };
}

async function pipe(): Promise<{ seconds: number; bytes: number }> {
  const path = arg('file')!;
  const size = statSync(path).size;
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => createReadStream(path).pipe(socket));
    socket.on('data', () => resolve());
    socket.on('error', reject);
  });
  return { seconds: (performance.now() - started) / 1000, bytes: size };
}

const result = mode === 'pipe' ? await pipe() : mode === 'seed' ? await seed() : await confab();
console.log(JSON.stringify({ ...result, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
process.exit(0);
