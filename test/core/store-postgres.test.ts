/**
 * The store on PostgreSQL (each test starts its own private instance, test/helpers/postgres.ts): a chat
 * message sent while PostgreSQL is down is refused with STORE_WRITE_FAILED (retryable) and delivered to
 * nobody, and works again once it is back; `confab serve --store-url` runs on it and shows the URL only
 * with its password redacted; an unreachable PostgreSQL is a STORE_OPEN_FAILED that names no password.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isConfabError, type ConfabError } from '../../core/errors.js';
import { openStore, parseStoreUrl, redactStoreUrl } from '../../core/store.js';
import { startTestServer, waitFor } from '../../core/testing.js';
import { chatClient } from '../../plugins/chat/client.js';
import { chat } from '../../plugins/chat/server.js';
import { schedulerClient } from '../../plugins/scheduler/client.js';
import { scheduler } from '../../plugins/scheduler/server.js';
import { startPostgres, type PrivatePostgres } from '../helpers/postgres.js';

const cleanups: Array<() => unknown> = [];
test.after.each(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function postgres(): Promise<PrivatePostgres> {
  const instance = await startPostgres();
  cleanups.push(() => instance.stop());
  return instance;
}

async function rejection(promise: Promise<unknown>): Promise<ConfabError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isConfabError(error), `a ConfabError, got ${String(error)}`);
    return error;
  }
  throw new Error('it was not refused');
}

/** A URL of the instance's database with a password in it (trust auth ignores it). */
function withPassword(url: string, password: string): string {
  return url.replace('postgres://confab@', `postgres://confab:${password}@`);
}

test('redactStoreUrl() hides the password of a URL, in its userinfo and in a password= parameter', () => {
  assert.is(redactStoreUrl('postgres://confab:s3cr%40t@db.lan:5432/confab'), 'postgres://confab:***@db.lan:5432/confab');
  assert.is(redactStoreUrl('postgresql://u:p@127.0.0.1/db?sslmode=require&password=other'), 'postgresql://u:***@127.0.0.1/db?sslmode=require&password=***');
  assert.is(redactStoreUrl('postgres://nobody@host/db'), 'postgres://nobody@host/db');
  assert.is(parseStoreUrl('postgres://a:b@h/d', '/data').display, 'postgres://a:***@h/d');
  assert.equal(parseStoreUrl(undefined, '/data'), { dialect: 'sqlite', path: '/data/confab.db', display: '/data/confab.db' });
  assert.is(parseStoreUrl('sqlite:x/y.db', '/data').dialect, 'sqlite');
});

test('an unreachable PostgreSQL fails the first migration with STORE_OPEN_FAILED, which names the store without its password', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'confab-pg-down-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  // Port 1 of loopback: nothing listens there.
  const store = openStore({ dataDir, url: 'postgres://confab:hunter2-secret@127.0.0.1:1/confab' });
  cleanups.push(() => store.close());
  const error = await rejection(store.forPlugin('chat').migrate([]));
  assert.is(error.code, 'STORE_OPEN_FAILED');
  assert.match(error.message, 'postgres://confab:***@127.0.0.1:1/confab');
  assert.not.match(error.message, 'hunter2');
  assert.is(store.location, 'postgres://confab:***@127.0.0.1:1/confab');
});

test('PostgreSQL stopped mid-run: chat and scheduler are refused with STORE_WRITE_FAILED (retryable), nothing acknowledged or delivered; once it is back they work', async () => {
  const pg = await postgres();
  const lab = await startTestServer({ plugins: [chat(), scheduler()], server: { store: await pg.createDatabase() } });
  cleanups.push(() => lab.close());
  const plugins = { chat: chatClient(), scheduler: schedulerClient() };
  const alice = await lab.connect('alice', { room: 'lab1', plugins });
  const bob = await lab.connect('bob', { room: 'lab1', plugins });
  await alice.chat.send('before');
  await waitFor(() => bob.chat.messages.some((m) => m.text === 'before'), 'bob to get "before"');

  const health = async () => (await (await fetch(`http://127.0.0.1:${lab.port}/health`)).json()) as { store: { dialect: string; location: string; reachable: boolean } };
  assert.is((await health()).store.reachable, true);
  await pg.halt();
  const down = (await health()).store;
  assert.is(down.dialect, 'postgres');
  assert.is(down.reachable, false, '/health shows the store unreachable');
  assert.not.match(down.location, /:[^:@/]+@/, 'and not its password');
  const refused = await rejection(alice.chat.send('while down'));
  assert.is(refused.code, 'STORE_WRITE_FAILED');
  assert.is(refused.retryable, true);
  assert.is(refused.fatal, false);
  assert.is(refused.channel, 'chat');
  assert.match(refused.message, /unreachable|terminat|ECONNREFUSED/);
  const meeting = await rejection(alice.scheduler.create({ title: 'Down', room: 'lab1', start: new Date(Date.now() + 3_600_000).toISOString(), durationMinutes: 15 }));
  assert.is(meeting.code, 'STORE_WRITE_FAILED');
  assert.is(meeting.retryable, true);

  await pg.start();
  const after = await alice.chat.send('after');
  await waitFor(() => bob.chat.messages.some((m) => m.text === 'after'), 'bob to get "after"');
  assert.not.ok(bob.chat.messages.some((m) => m.text === 'while down'), 'a refused message reached nobody');
  const stored = await lab.server.store.db.selectFrom('chat_messages').select('text').orderBy('seq').execute();
  assert.equal(stored.map((row) => row.text), ['before', 'after'], 'and it is not in the store');
  assert.is(after.text, 'after');
});

test('confab serve --store-url postgres://… runs on PostgreSQL and prints the URL with its password as ***', async () => {
  const pg = await postgres();
  const url = withPassword(await pg.createDatabase(), 'top-secret-pw');
  const dataDir = mkdtempSync(join(tmpdir(), 'confab-serve-pg-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const child = spawn(process.execPath, ['cli/confab.mjs', 'serve', '--port', '0', '--data-dir', dataDir, '--store-url', url, '--log-level', 'info'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CONFAB_STORE_URL: '' } });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  });
  await waitFor(() => /^store: /m.test(output), 'the server to listen on PostgreSQL', 20_000);
  assert.match(output, `store: ${url.replace('top-secret-pw', '***')}`);
  child.kill('SIGTERM');
  assert.is(await exited, 0);
  assert.not.match(output, 'top-secret-pw', 'neither the output nor the logs show the password');
});

test.run();
