/**
 * `confab serve --workers 2` on a private Redis, driven as a user would: clients that dial the one port land
 * on either worker (node:cluster spreads them) and all meet in their room, because a worker passes a socket
 * whose room another worker hosts to that worker; the room's UDP port is its worker's own. A worker killed
 * with kill -9 is started again by the primary, and its clients rejoin on a live worker within 10 s with the
 * acknowledged chat still there. SIGTERM to the primary stops every worker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import { waitFor } from '../../core/testing.js';
import { chatClient, type ChatApi } from '../../plugins/chat/client.js';
import { CLI } from '../cli/harness.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

const SECRET = 'the cluster secret for tests';

let redis: TestRedis;
let dir = '';
let primary: ChildProcess | undefined;
let output = '';
const clients: ConfabClient[] = [];

test.before(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'confab-workers-'));
});
test.after(async () => {
  await Promise.all(clients.map((client) => client.close()));
  if (primary && primary.exitCode === null && primary.signalCode === null) {
    const exited = new Promise((done) => primary!.once('exit', done));
    primary.kill('SIGKILL');
    await exited;
  }
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A TCP port that is free now, with the two after it (the workers' UDP ports) free for UDP too. */
async function freePortBlock(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((done) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: found } = server.address() as { port: number };
        server.close(() => done(found));
      });
    });
    if (port < 65000) return port;
  }
}

/** Worker id → PID, from the lines the workers print. */
function workers(): Map<string, number> {
  return new Map([...output.matchAll(/Cluster node (\S+) \(pid (\d+)\)/g)].map((match) => [match[1]!, Number(match[2])]));
}

async function joinRoom(port: number, name: string, room: string): Promise<{ client: ConfabClient; chat: ChatApi; udpPort: () => number }> {
  let welcome: { udpPort?: number } = {};
  const client = new ConfabClient({ url: `tcp://127.0.0.1:${port}`, name, room, udp: true, backoff: { initialMs: 100, maxMs: 500 } });
  clients.push(client);
  const chat = client.use(chatClient());
  client.on('welcome', (w) => (welcome = w));
  welcome = await client.connect();
  return { client, chat, udpPort: () => welcome.udpPort ?? 0 };
}

test('confab serve --workers 2: clients meet in their room whichever worker they reach; kill -9 of its worker: they rejoin, nothing acknowledged lost', async () => {
  const port = await freePortBlock();
  const serve = spawn(process.execPath, [CLI, 'serve', '--workers', '2', '--port', String(port), '--data-dir', join(dir, 'data'), '--log-level', 'warn'], {
    cwd: dir,
    env: { ...process.env, CONFAB_REDIS_URL: redis.url, CONFAB_CLUSTER_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  primary = serve;
  serve.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  serve.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  await waitFor(() => workers().size === 2 || serve.exitCode !== null, 'two workers listening', 60_000);
  assert.is(workers().size, 2, output);
  assert.match(output, /Confab primary: 2 workers on port \d+, cluster on redis:\/\/127\.0\.0\.1:\d+/);

  // Six clients, spread by node:cluster over both workers, all in one room.
  const people: Array<Awaited<ReturnType<typeof joinRoom>>> = [];
  for (let i = 0; i < 6; i++) people.push(await joinRoom(port, `p${i}`, 'lab'));
  await waitFor(() => people.every(({ client }) => client.peers.size === 5), 'everyone sees the five others', 10_000);
  const udpPorts = new Set(people.map((person) => person.udpPort()));
  assert.is(udpPorts.size, 1, 'one worker hosts the room');
  const hostUdp = [...udpPorts][0]!;
  assert.ok(hostUdp === port + 1 || hostUdp === port + 2, `the room's UDP port ${hostUdp} is its worker's`);
  await waitFor(() => people.every(({ client }) => client.mediaOverUdp), 'media over UDP to the worker hosting the room', 5000);

  // A message acknowledged before the crash is kept.
  await people[5]!.chat.send('before the crash');
  const hostIndex = hostUdp - port - 1;
  const [hostId, hostPid] = [...workers()].find(([id]) => id.includes(`-w${hostIndex}-`))!;
  const rejoined = people.map(({ client }) => new Promise((done) => client.once('rejoined', () => done(undefined))));
  process.kill(hostPid, 'SIGKILL');
  const killedAt = Date.now();
  await Promise.all(rejoined);
  const tookMs = Date.now() - killedAt;
  assert.ok(tookMs < 10_000, `everyone rejoined within 10 s (took ${tookMs} ms)`);
  await waitFor(() => people.every(({ client }) => client.peers.size === 5), 'everyone together again', 10_000);
  await waitFor(() => workers().size === 3, 'the primary started the killed worker again', 10_000);
  assert.ok([...workers().keys()].some((id) => id !== hostId && id.includes(`-w${hostIndex}-`)), output);

  const history = await new Promise<string[]>((done) => {
    const late = new ConfabClient({ url: `tcp://127.0.0.1:${port}`, name: 'late', room: 'lab' });
    clients.push(late);
    late.use(chatClient()).on('history', (messages) => done(messages.map((message) => message.text ?? '')));
    void late.connect();
  });
  assert.ok(history.includes('before the crash'), `history: ${history.join(' | ')}`);

  const exited = new Promise<number | null>((done) => serve.once('exit', (code) => done(code)));
  serve.kill('SIGTERM');
  assert.is(await exited, 0, output);
});

test.run();
