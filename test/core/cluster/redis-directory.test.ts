import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRedisDirectory, pickLeastLoaded, type RedisDirectoryOptions } from '../../../core/cluster/redis-directory.js';
import type { ClusterDirectory, NodeInfo, NodeLoad } from '../../../core/cluster/types.js';
import { isConfabError } from '../../../core/errors.js';
import type { Logger } from '../../../core/logger.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';

const FIXTURE = fileURLToPath(new URL('./directory-node.fixture.ts', import.meta.url));
/** Generous: a condition that the directory meets within a few seconds. */
const WAIT_MS = 15_000;

let redis: TestRedis;
/** A plain client to look at the keys. */
let raw: Redis;
const open: ClusterDirectory[] = [];
const children: ChildProcess[] = [];
let prefixes = 0;

test.before(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 100 });
  raw.on('error', () => {});
  await raw.connect();
});

test.after.each(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
  await Promise.all(children.splice(0).map(kill));
});

test.after(async () => {
  raw.disconnect();
  await redis.stop();
});

/** A fresh key prefix per test, so that tests do not see each other's nodes. */
function prefix(): string {
  return `t${++prefixes}:`;
}

function node(id: string): Omit<NodeInfo, 'load'> {
  return { id, linkHost: '127.0.0.1', linkPort: 7000 + prefixes, machine: 'test', startedAt: Date.now() };
}

/** A directory started with a constant load, closed after the test. */
async function directory(id: string, keyPrefix: string, load: Partial<NodeLoad> = {}, extra: Partial<RedisDirectoryOptions> = {}): Promise<ClusterDirectory> {
  const d = createRedisDirectory({ redis: redis.url, self: node(id), keyPrefix, ...extra });
  open.push(d);
  await d.start(() => ({ load: { sessions: 0, rooms: 0, cpu: 0, ...load }, rooms: [{ name: `${id}-room`, participants: 2 }] }));
  return d;
}

/** A directory node in a process of its own (to kill with SIGKILL); resolves once it holds `rooms`. */
async function nodeProcess(id: string, keyPrefix: string, sessions: number, rooms: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { ...process.env, REDIS_URL: redis.url, NODE_ID: id, KEY_PREFIX: keyPrefix, SESSIONS: String(sessions), ROOMS: rooms.join(',') },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`node ${id} exited (${code}) before it was ready`)));
  });
  return child;
}

/** SIGKILL by PID, and wait for the exit. */
function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    process.kill(child.pid!, 'SIGKILL');
  });
}

/** Waits until `check()` resolves true (checked every 50 ms), failing after `timeoutMs`. */
async function eventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const ids = (nodes: readonly NodeInfo[]) => nodes.map((n) => n.id).sort();

async function rejectsUnavailable(promise: Promise<unknown>): Promise<void> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isConfabError(error), `a ConfabError, not ${String(error)}`);
    assert.is(error.code, 'CLUSTER_UNAVAILABLE');
    assert.is(error.retryable, true);
    return;
  }
  assert.unreachable('should have rejected with CLUSTER_UNAVAILABLE');
}

test('directory.nodes() lists two started directories, each with its load; rooms() lists both reports', async () => {
  const p = prefix();
  const a = await directory('a', p, { sessions: 3, rooms: 1, cpu: 0.5 });
  const b = await directory('b', p);
  assert.equal(ids(await a.nodes()), ['a', 'b']);
  assert.equal(ids(await b.nodes()), ['a', 'b']);
  const seen = (await b.nodes()).find((n) => n.id === 'a')!;
  assert.equal(seen, { ...a.self, load: { sessions: 3, rooms: 1, cpu: 0.5 } });
  const rooms = (await a.rooms()).sort((x, y) => x.name.localeCompare(y.name));
  assert.equal(rooms, [{ name: 'a-room', participants: 2, node: 'a' }, { name: 'b-room', participants: 2, node: 'b' }]);
});

test('directory.status() shows the live nodes of the last renewal without a round trip', async () => {
  const p = prefix();
  const a = await directory('a', p);
  assert.is(a.status().state, 'connected');
  assert.ok(typeof a.status().renewedAt === 'number');
  await directory('b', p);
  await eventually(() => ids(a.status().nodes).join() === 'a,b', "b in a's status");
});

test('directory.close() removes the node and its leases at once', async () => {
  const p = prefix();
  const a = await directory('a', p);
  const b = await directory('b', p);
  assert.ok(await b.claim('lab'));
  await b.close();
  await b.close(); // idempotent
  assert.equal(ids(await a.nodes()), ['a']);
  assert.is(await raw.get(`${p}room:lab`), null);
});

test('directory.start() rejects with CLUSTER_UNAVAILABLE when Redis cannot be reached', async () => {
  const d = createRedisDirectory({ redis: 'redis://127.0.0.1:1', self: node('a') });
  open.push(d);
  await rejectsUnavailable(d.start(() => ({ load: { sessions: 0, rooms: 0, cpu: 0 }, rooms: [] })));
});

test('a node that stops renewing (SIGKILL) leaves nodes() within a few seconds', async () => {
  const p = prefix();
  const a = await directory('a', p);
  const child = await nodeProcess('doomed', p, 0, []);
  assert.equal(ids(await a.nodes()), ['a', 'doomed']);
  await kill(child);
  await eventually(async () => ids(await a.nodes()).join() === 'a', 'the killed node to disappear');
  await eventually(() => ids(a.status().nodes).join() === 'a', "the killed node to leave a's status");
});

test('directory.claim() takes a free room, confirms its own, and refuses one a live node holds; release() frees it', async () => {
  const p = prefix();
  const a = await directory('a', p);
  const b = await directory('b', p);
  assert.is(await a.claim('lab'), true);
  assert.is(await a.claim('lab'), true);
  assert.is(await b.claim('lab'), false);
  assert.is((await b.locate('lab')).id, 'a');
  const ttl = await raw.pttl(`${p}room:lab`);
  assert.ok(ttl > 0 && ttl <= 4000, `the lease lives at most 4 s after a renewal (pttl ${ttl})`);
  await a.release('lab');
  assert.is(await raw.get(`${p}room:lab`), null);
  assert.is(await b.claim('lab'), true);
  await a.release('lab'); // not a's: b keeps it
  assert.is(await raw.get(`${p}room:lab`), 'b');
});

test('a held lease outlives its TTL because the node renews it', async () => {
  const p = prefix();
  const a = await directory('a', p, {}, { renewMs: 100, nodeTtlMs: 300, leaseTtlMs: 400 });
  assert.ok(await a.claim('lab'));
  await eventually(async () => (await raw.get(`${p}node:a`)) !== null && a.status().renewedAt! > Date.now() - 50, 'a few renewals');
  await new Promise((resolve) => setTimeout(resolve, 1000)); // several lease lifetimes
  assert.is(await raw.get(`${p}room:lab`), 'a');
});

test('two nodes claiming one room at once: exactly one wins', async () => {
  const p = prefix();
  const a = await directory('a', p);
  const b = await directory('b', p);
  for (let i = 0; i < 20; i++) {
    const results = await Promise.all([a.claim(`race${i}`), b.claim(`race${i}`)]);
    assert.is(results.filter(Boolean).length, 1, `race${i}: ${results}`);
    const holder = await raw.get(`${p}room:race${i}`);
    assert.is(holder, results[0] ? 'a' : 'b');
  }
});

test('directory.locate() of a free room places it on the least loaded node and holds its lease in that name', async () => {
  const p = prefix();
  const a = await directory('a', p, { sessions: 10, rooms: 1 });
  const b = await directory('b', p, { sessions: 2, rooms: 5 });
  const c = await directory('c', p, { sessions: 2, rooms: 3, cpu: 0.9 });
  const [fromA, fromB, fromC] = await Promise.all([a.locate('new'), b.locate('new'), c.locate('new')]);
  assert.equal([fromA.id, fromB.id, fromC.id], ['c', 'c', 'c']);
  assert.is(await raw.get(`${p}room:new`), 'c');
  assert.is(await c.claim('new'), true);
  assert.is(await a.claim('new'), false);
});

test('pickLeastLoaded() orders by sessions, then rooms, then cpu', () => {
  const n = (id: string, sessions: number, rooms: number, cpu: number): NodeInfo => ({ ...node(id), load: { sessions, rooms, cpu } });
  assert.is(pickLeastLoaded([n('a', 3, 0, 0), n('b', 2, 9, 9)])!.id, 'b');
  assert.is(pickLeastLoaded([n('a', 2, 2, 0), n('b', 2, 1, 9)])!.id, 'b');
  assert.is(pickLeastLoaded([n('a', 2, 1, 0.5), n('b', 2, 1, 0.2)])!.id, 'b');
  assert.is(pickLeastLoaded([n('b', 1, 1, 1), n('a', 1, 1, 1)])!.id, 'a');
  assert.is(pickLeastLoaded([]), undefined);
});

test("a dead node's room is placed on a live node (its lease lives at most 4 s)", async () => {
  const p = prefix();
  const a = await directory('a', p, { sessions: 50 });
  const child = await nodeProcess('doomed', p, 0, ['lab']);
  assert.is((await a.locate('lab')).id, 'doomed');
  const ttl = await raw.pttl(`${p}room:lab`);
  assert.ok(ttl > 0 && ttl <= 4000, `pttl ${ttl}`);
  await kill(child);
  await eventually(async () => (await a.locate('lab')).id === 'a', 'lab to be placed on a');
  assert.is(await a.claim('lab'), true);
});

test('a Redis restart: rooms stay, new placements are refused as retryable, and the node and its leases come back', async () => {
  const p = prefix();
  const a = await directory('a', p);
  const b = await directory('b', p);
  assert.ok(await a.claim('lab'));
  assert.ok(await b.claim('other'));
  await eventually(() => ids(a.status().nodes).join() === 'a,b', "b in a's status");
  await redis.restart(async () => {
    await eventually(() => a.status().state === 'reconnecting', "a's status to say reconnecting");
    assert.is(await a.claim('lab'), true, 'a room the node holds stays its own');
    await rejectsUnavailable(a.claim('elsewhere'));
    await rejectsUnavailable(a.locate('brand-new'));
    await rejectsUnavailable(a.nodes());
    assert.equal(ids(a.status().nodes), ['a', 'b'], 'status keeps the last view');
  });
  await eventually(async () => (await raw.get(`${p}room:lab`).catch(() => null)) === 'a', "a's lease re-asserted");
  await eventually(async () => (await raw.get(`${p}room:other`).catch(() => null)) === 'b', "b's lease re-asserted");
  await eventually(async () => ids(await b.nodes().catch(() => [])).join() === 'a,b', 'both nodes registered again');
  await eventually(() => a.status().state === 'connected', "a's status to say connected");
  assert.is((await b.locate('lab')).id, 'a');
  assert.is(await b.claim('lab'), false);
});

test('a lease another live node took from a holder is left to it; the old holder logs the conflict once', async () => {
  const p = prefix();
  const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  const log: Logger = {
    debug: (message, fields) => lines.push({ level: 'debug', message, fields }),
    info: (message, fields) => lines.push({ level: 'info', message, fields }),
    warn: (message, fields) => lines.push({ level: 'warn', message, fields }),
    error: (message, fields) => lines.push({ level: 'error', message, fields }),
    child: () => log,
  };
  const a = await directory('a', p, {}, { log });
  await directory('b', p);
  assert.ok(await a.claim('lab'));
  // As after a Redis restart where b placed the room before a re-asserted its lease.
  await raw.set(`${p}room:lab`, 'b', 'PX', 4000);
  await eventually(() => lines.some((l) => l.level === 'warn' && l.fields?.room === 'lab' && l.fields?.holder === 'b'), 'the conflict logged');
  const renewed = a.status().renewedAt!;
  await eventually(() => a.status().renewedAt! > renewed, 'another renewal of a');
  assert.is(await raw.get(`${p}room:lab`), 'b');
  assert.is(lines.filter((l) => l.level === 'warn' && l.fields?.room === 'lab').length, 1);
  assert.is(await a.claim('lab'), false);
});

test.run();
