import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectRedis, defineScript, redactUrl } from '../../../core/cluster/redis.js';
import { createRedisBus } from '../../../core/cluster/redis-bus.js';
import { createRedisDirectory } from '../../../core/cluster/redis-directory.js';
import { isConfabError } from '../../../core/errors.js';
import type { Logger } from '../../../core/logger.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';

const PASSWORD = 'secret-Pa55word';
let redis: TestRedis;

test.before(async () => {
  redis = await startRedis({ password: PASSWORD });
});

test.after(async () => {
  await redis.stop();
});

/** A logger that keeps every line, message and fields, as text. */
function capture(): { log: Logger; text: () => string } {
  const lines: string[] = [];
  const log: Logger = {
    debug: (message, fields) => lines.push(message + JSON.stringify(fields ?? {})),
    info: (message, fields) => lines.push(message + JSON.stringify(fields ?? {})),
    warn: (message, fields) => lines.push(message + JSON.stringify(fields ?? {})),
    error: (message, fields) => lines.push(message + JSON.stringify(fields ?? {})),
    child: () => log,
  };
  return { log, text: () => lines.join('\n') };
}

/** The error `promise` rejects with, which must be CLUSTER_UNAVAILABLE. */
async function unavailable(promise: Promise<unknown>): Promise<Error & { code: string; retryable: boolean }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isConfabError(error), `a ConfabError, not ${String(error)}`);
    assert.is(error.code, 'CLUSTER_UNAVAILABLE');
    return error;
  }
  throw new Error('should have rejected with CLUSTER_UNAVAILABLE');
}

/** Every message of an error and of its causes. */
function messages(error: unknown): string {
  const out: string[] = [];
  for (let e = error as { message?: unknown; cause?: unknown; stack?: unknown } | undefined; e; e = e.cause as typeof e) {
    out.push(String(e.message), String(e.stack));
  }
  return out.join('\n');
}

test('redactUrl() replaces the password and keeps the rest', () => {
  assert.is(redactUrl('redis://:s3cret@10.0.0.5:6379/0'), 'redis://:***@10.0.0.5:6379/0');
  assert.is(redactUrl('redis://confab:s3cret@db.lan:6379'), 'redis://confab:***@db.lan:6379');
  assert.is(redactUrl('rediss://:p%40ss@db.lan:6380'), 'rediss://:***@db.lan:6380');
  assert.is(redactUrl('redis://db.lan:6379?password=s3cret&db=2'), 'redis://db.lan:6379?password=***&db=2');
  assert.is(redactUrl('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
  assert.not.match(redactUrl('not a url s3cret'), 's3cret');
});

test('connectRedis(): run() waits for the first connection, then answers', async () => {
  const conn = connectRedis(redis.url);
  try {
    assert.is(conn.ready, false);
    assert.is(await conn.run('pinging', (client) => client.ping()), 'PONG');
    assert.is(conn.ready, true);
    assert.is(conn.url, redis.url.replace(PASSWORD, '***'));
  } finally {
    await conn.close();
    await conn.close();
  }
});

test('connectRedis(): a start() waiting for a reconnection rejects when the connection is closed', async () => {
  const conn = connectRedis('redis://127.0.0.1:1');
  await unavailable(conn.start());
  assert.is(conn.client.status, 'reconnecting');
  const waiting = conn.start().then(() => undefined, (error: unknown) => error);
  await conn.close();
  const error = await waiting;
  assert.ok(isConfabError(error) && error.code === 'CLUSTER_UNAVAILABLE');
});

test('defineScript() runs again after Redis forgot it (a restart)', async () => {
  const script = defineScript("return ARGV[1] .. '!'");
  const conn = connectRedis(redis.url);
  try {
    assert.is(await conn.run('running', (client) => script.run(client, [], ['a'])), 'a!');
    await conn.run('flushing scripts', (client) => client.script('FLUSH'));
    assert.is(await conn.run('running', (client) => script.run(client, [], ['b'])), 'b!');
  } finally {
    await conn.close();
  }
});

test('a wrong password: start() rejects with CLUSTER_UNAVAILABLE and neither password appears in the error or the log', async () => {
  const wrong = redis.url.replace(PASSWORD, 'wrong-Pa55word');
  const { log, text } = capture();
  const directory = createRedisDirectory({ redis: wrong, self: { id: 'a', linkHost: '127.0.0.1', linkPort: 1, machine: 'm', startedAt: 0 }, log });
  const error = await unavailable(directory.start(() => ({ load: { sessions: 0, rooms: 0, cpu: 0 }, rooms: [] })));
  await directory.close();
  assert.match(error.message, `redis://:***@127.0.0.1:${redis.port}`);
  for (const secret of ['wrong-Pa55word', PASSWORD]) {
    assert.not.match(messages(error), secret);
    assert.not.match(text(), secret);
  }
});

test('redis://:secret@… of a Redis that is not there: the start error names the URL as redis://:***@…', async () => {
  const { log, text } = capture();
  const url = 'redis://:secret@127.0.0.1:1';
  const directory = createRedisDirectory({ redis: url, self: { id: 'a', linkHost: '127.0.0.1', linkPort: 1, machine: 'm', startedAt: 0 }, log });
  const error = await unavailable(directory.start(() => ({ load: { sessions: 0, rooms: 0, cpu: 0 }, rooms: [] })));
  await directory.close();
  assert.is(error.retryable, true);
  assert.match(error.message, 'redis://:***@127.0.0.1:1');
  assert.not.match(messages(error), 'secret');
  assert.not.match(text(), 'secret');
  const bus = createRedisBus({ redis: url, node: 'a', log });
  const published = await unavailable(bus.publish('t', {}));
  await bus.close();
  assert.not.match(messages(published), 'secret');
  assert.not.match(text(), 'secret');
});

test('with Redis down, no error or log line of the directory, the bus or a connection names the password', async () => {
  const { log, text } = capture();
  const conn = connectRedis(redis.url, { log });
  const directory = createRedisDirectory({ redis: redis.url, self: { id: 'a', linkHost: '127.0.0.1', linkPort: 1, machine: 'm', startedAt: 0 }, log });
  const bus = createRedisBus({ redis: redis.url, node: 'a', log });
  const errors: unknown[] = [];
  try {
    await directory.start(() => ({ load: { sessions: 0, rooms: 0, cpu: 0 }, rooms: [] }));
    await conn.start();
    await bus.publish('t', {});
    await redis.restart(async () => {
      // Until each connection notices the loss, a command may still be written to the dead socket.
      for (const attempt of [() => conn.run('pinging', (c) => c.ping()), () => bus.publish('t', {}), () => directory.locate('new')]) {
        for (let i = 0; i < 100; i++) {
          const error = await attempt().then(() => undefined, (e: unknown) => e);
          if (error) {
            errors.push(error);
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      errors.push(await unavailable(conn.start()));
      errors.push(await unavailable(directory.nodes()));
      errors.push(await unavailable(bus.once('k', 100)));
    });
  } finally {
    await Promise.all([directory.close(), bus.close(), conn.close()]);
  }
  assert.is(errors.length, 6);
  for (const error of errors) {
    assert.ok(isConfabError(error) && error.code === 'CLUSTER_UNAVAILABLE' && error.retryable, messages(error));
    assert.match((error as Error).message, '***');
    assert.not.match(messages(error), PASSWORD);
  }
  assert.match(text(), 'Redis');
  assert.not.match(text(), PASSWORD);
});

test('connectRedis() refuses a URL that does not parse with CONFIG_INVALID, without echoing it', () => {
  try {
    connectRedis('redis://:hunter2-secret@[bad');
  } catch (error) {
    assert.ok(isConfabError(error) && error.code === 'CONFIG_INVALID');
    assert.not.match(messages(error), 'hunter2-secret');
    return;
  }
  assert.unreachable('should have thrown');
});

test.run();
