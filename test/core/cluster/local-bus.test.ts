import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLocalBus } from '../../../core/cluster/local-bus.js';
import type { BusMessage } from '../../../core/cluster/types.js';
import { isConfabError } from '../../../core/errors.js';
import { waitFor } from '../../../core/testing.js';

test('localBus.publish() delivers to every subscriber of the topic, after publish returns', async () => {
  const bus = createLocalBus('n1');
  const got: BusMessage[] = [];
  const other: BusMessage[] = [];
  bus.subscribe('auth.revoked', (m) => got.push(m));
  bus.subscribe('auth.revoked', (m) => got.push(m));
  bus.subscribe('other', (m) => other.push(m));
  const published = bus.publish('auth.revoked', { jti: 'x' });
  assert.is(got.length, 0, 'not delivered inside publish');
  await published;
  await waitFor(() => got.length === 2, 'two deliveries');
  assert.equal(got[0], { topic: 'auth.revoked', from: 'n1', data: { jti: 'x' } });
  assert.equal(other, []);
  await bus.close();
});

test('localBus subscribers get their own copy of the data', async () => {
  const bus = createLocalBus();
  const seen: unknown[] = [];
  bus.subscribe('t', (m) => {
    (m.data as { list: number[] }).list.push(99);
  });
  bus.subscribe('t', (m) => seen.push(m.data));
  const data = { list: [1] };
  await bus.publish('t', data);
  await waitFor(() => seen.length === 1, 'the delivery');
  assert.equal(seen, [{ list: [1] }]);
  assert.equal(data, { list: [1] });
  await bus.close();
});

test('the function localBus.subscribe() returns unsubscribes; a throwing subscriber does not stop the others', async () => {
  const errors: unknown[] = [];
  const log = { debug() {}, info() {}, warn() {}, error: (_: string, fields?: Record<string, unknown>) => errors.push(fields), child: () => log };
  const bus = createLocalBus('local', log);
  const got: unknown[] = [];
  const off = bus.subscribe('t', (m) => got.push(['off', m.data.n]));
  bus.subscribe('t', () => {
    throw new Error('boom');
  });
  bus.subscribe('t', (m) => got.push(['kept', m.data.n]));
  off();
  await bus.publish('t', { n: 1 });
  await waitFor(() => got.length === 1, 'the delivery');
  assert.equal(got, [['kept', 1]]);
  assert.is(errors.length, 1);
  await bus.close();
});

test('localBus.once() is true once per key until its time is up', async () => {
  const bus = createLocalBus();
  assert.is(await bus.once('a', 60_000), true);
  assert.is(await bus.once('a', 60_000), false);
  assert.is(await bus.once('b', 60_000), true);
  assert.is(await bus.once('short', 1), true);
  const until = Date.now() + 5;
  while (Date.now() <= until) await new Promise((resolve) => setTimeout(resolve, 2));
  assert.is(await bus.once('short', 1), true);
  await bus.close();
});

test('a closed localBus delivers nothing and refuses to publish', async () => {
  const bus = createLocalBus();
  const got: unknown[] = [];
  bus.subscribe('t', (m) => got.push(m));
  const pending = bus.publish('t', {});
  await bus.close();
  await bus.close();
  await pending;
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(got, []);
  try {
    await bus.publish('t', {});
    assert.unreachable('publish after close');
  } catch (error) {
    assert.ok(isConfabError(error) && error.code === 'CLUSTER_UNAVAILABLE' && !error.retryable);
  }
});

test.run();
