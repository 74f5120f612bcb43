import { Redis } from 'ioredis';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRedisBus } from '../../../core/cluster/redis-bus.js';
import type { BusMessage, ClusterBus } from '../../../core/cluster/types.js';
import { isConfabError } from '../../../core/errors.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';

const WAIT_MS = 15_000;

let redis: TestRedis;
let raw: Redis;
const open: ClusterBus[] = [];
let prefixes = 0;

test.before(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 100 });
  raw.on('error', () => {});
  await raw.connect();
});

test.after.each(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()));
});

test.after(async () => {
  raw.disconnect();
  await redis.stop();
});

function prefix(): string {
  return `t${++prefixes}:`;
}

function bus(node: string, keyPrefix: string): ClusterBus {
  const b = createRedisBus({ redis: redis.url, node, keyPrefix });
  open.push(b);
  return b;
}

async function eventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until `count` connections subscribe to the topic's channel (subscribing is asynchronous). */
async function subscribers(keyPrefix: string, topic: string, count: number): Promise<void> {
  const channel = `${keyPrefix}bus:${topic}`;
  await eventually(async () => {
    const reply = (await raw.pubsub('NUMSUB', channel).catch(() => [channel, 0])) as [string, number];
    return Number(reply[1]) === count;
  }, `${count} subscribers of ${channel}`);
}

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

test("bus.publish() reaches every subscriber on every node once, the publisher's own included", async () => {
  const p = prefix();
  const a = bus('a', p);
  const b = bus('b', p);
  const got: Record<string, BusMessage[]> = { a1: [], a2: [], b1: [] };
  a.subscribe('auth.revoked', (m) => got.a1!.push(m));
  a.subscribe('auth.revoked', (m) => got.a2!.push(m));
  b.subscribe('auth.revoked', (m) => got.b1!.push(m));
  b.subscribe('other', (m) => got.b1!.push(m));
  await subscribers(p, 'auth.revoked', 2);
  await a.publish('auth.revoked', { jti: 'x1' });
  await a.publish('auth.revoked', { jti: 'end' }); // after x1 on every connection: once it arrives, x1 has too
  await eventually(() => Object.values(got).every((list) => list.some((m) => m.data.jti === 'end')), 'the end marker everywhere');
  for (const [who, list] of Object.entries(got)) {
    assert.equal(list.filter((m) => m.data.jti === 'x1'), [{ topic: 'auth.revoked', from: 'a', data: { jti: 'x1' } }], who);
  }
});

test('the function subscribe() returns stops delivery to that handler only', async () => {
  const p = prefix();
  const a = bus('a', p);
  const kept: unknown[] = [];
  const dropped: unknown[] = [];
  a.subscribe('t', (m) => kept.push(m.data.n));
  const off = a.subscribe('t', (m) => dropped.push(m.data.n));
  await subscribers(p, 't', 1);
  await a.publish('t', { n: 1 });
  await eventually(() => kept.length === 1 && dropped.length === 1, 'the first message');
  off();
  off();
  await a.publish('t', { n: 2 });
  await eventually(() => kept.length === 2, 'the second message');
  assert.equal(dropped, [1]);
});

test('a subscriber that throws does not keep the message from the others', async () => {
  const p = prefix();
  const a = bus('a', p);
  const got: unknown[] = [];
  a.subscribe('t', () => {
    throw new Error('boom');
  });
  a.subscribe('t', (m) => got.push(m.data.n));
  await subscribers(p, 't', 1);
  await a.publish('t', { n: 1 });
  await eventually(() => got.length === 1, 'the message');
});

test('bus.publish() right after creation waits for the first connection', async () => {
  const a = bus('a', prefix());
  await a.publish('t', { n: 1 });
});

test('bus.once() is true for exactly one caller across two nodes, until its time is up', async () => {
  const p = prefix();
  const a = bus('a', p);
  const b = bus('b', p);
  for (let i = 0; i < 10; i++) {
    const results = await Promise.all([a.once(`meeting:${i}`, 60_000), b.once(`meeting:${i}`, 60_000), a.once(`meeting:${i}`, 60_000)]);
    assert.is(results.filter(Boolean).length, 1, `meeting:${i}: ${results}`);
  }
  assert.is(await a.once('short', 200), true);
  assert.is(await b.once('short', 200), false);
  await eventually(() => b.once('short', 200), 'the key to expire');
});

test('bus.publish() and once() reject with CLUSTER_UNAVAILABLE while Redis is down; subscriptions survive the restart', async () => {
  const p = prefix();
  const a = bus('a', p);
  const b = bus('b', p);
  const got: unknown[] = [];
  b.subscribe('before', (m) => got.push(m.data.n));
  await subscribers(p, 'before', 1);
  const late: unknown[] = [];
  await redis.restart(async () => {
    // The publisher's loss is noticed in a moment; until then a publish may still be written to the dead socket.
    await eventually(async () => {
      try {
        await a.publish('before', { n: 0 });
        return false;
      } catch (error) {
        return isConfabError(error) && error.code === 'CLUSTER_UNAVAILABLE';
      }
    }, 'a publish to be refused');
    await rejectsUnavailable(a.publish('before', { n: 0 }));
    await rejectsUnavailable(a.once('k', 1000));
    b.subscribe('during', (m) => late.push(m.data.n)); // subscribed while Redis is away
  });
  await subscribers(p, 'before', 1);
  await subscribers(p, 'during', 1);
  await eventually(async () => {
    await a.publish('before', { n: 1 }).catch(() => {});
    return got.includes(1);
  }, 'a message after the restart');
  await a.publish('during', { n: 2 });
  await eventually(() => late.includes(2), 'a message on the topic subscribed while Redis was down');
});

test('bus.close() is idempotent; a closed bus refuses to publish', async () => {
  const a = bus('a', prefix());
  await a.close();
  await a.close();
  try {
    await a.publish('t', {});
    assert.unreachable('publish after close');
  } catch (error) {
    assert.ok(isConfabError(error) && error.code === 'CLUSTER_UNAVAILABLE' && !error.retryable);
  }
});

test.run();
