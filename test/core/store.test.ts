import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isConfabError } from '../../core/errors.js';
import { openStore, type Store } from '../../core/store.js';

let dir = '';
const opened: Store[] = [];
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'confab-store-'));
});
test.after.each(() => {
  for (const store of opened.splice(0)) store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Opens a store in the test's temp dir (or `dataDir`), closed after the test. */
function open(dataDir = join(dir, 'data')): Store {
  const store = openStore(dataDir);
  opened.push(store);
  return store;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    assert.ok(isConfabError(error), `expected a ConfabError, got ${String(error)}`);
    return error.code;
  }
  return undefined;
}

const CHAT_V1 = 'CREATE TABLE chat_messages (id INTEGER PRIMARY KEY, text TEXT NOT NULL)';
const CHAT_V2 = 'ALTER TABLE chat_messages ADD COLUMN room TEXT NOT NULL DEFAULT \'default\'';

const version = (store: Store, plugin: string) =>
  (store.db.prepare('SELECT version FROM confab_migrations WHERE plugin = ?').get(plugin) as { version: number } | undefined)?.version;

test('openStore() creates the data directory and confab.db in WAL mode with foreign keys on', () => {
  const store = open(join(dir, 'a', 'b'));
  assert.is(store.path, join(dir, 'a', 'b', 'confab.db'));
  assert.ok(existsSync(store.path));
  assert.is(store.db.pragma('journal_mode', { simple: true }), 'wal');
  assert.is(store.db.pragma('foreign_keys', { simple: true }), 1);
  assert.is(store.db.pragma('synchronous', { simple: true }), 1); // NORMAL
  assert.ok((store.db.pragma('busy_timeout', { simple: true }) as number) > 0);
});

test('openStore() of a data dir that is a file fails with STORE_OPEN_FAILED', () => {
  const file = join(dir, 'not-a-dir');
  writeFileSync(file, 'x');
  assert.is(codeOf(() => openStore(file)), 'STORE_OPEN_FAILED');
});

test('openStore() of a file that is not a database fails with STORE_OPEN_FAILED', () => {
  writeFileSync(join(dir, 'confab.db'), 'this is not an SQLite database, just enough bytes to look like a header......');
  assert.is(codeOf(() => openStore(dir)), 'STORE_OPEN_FAILED');
});

test('store.forPlugin(name).migrate() applies the steps once', () => {
  const store = open();
  const chat = store.forPlugin('chat');
  chat.migrate([CHAT_V1]);
  assert.is(version(store, 'chat'), 1);
  chat.migrate([CHAT_V1]); // CREATE TABLE again would throw if it ran
  assert.is(version(store, 'chat'), 1);
  assert.is(store.forPlugin('chat'), chat);
});

test('migrate() with an extra step applies only that step', () => {
  const store = open();
  const chat = store.forPlugin('chat');
  chat.migrate([CHAT_V1]);
  chat.db.prepare('INSERT INTO chat_messages (text) VALUES (?)').run('hello');
  chat.migrate([CHAT_V1, CHAT_V2]);
  assert.is(version(store, 'chat'), 2);
  assert.equal(chat.db.prepare('SELECT text, room FROM chat_messages').all(), [{ text: 'hello', room: 'default' }]);
});

test('data and versions survive store.close() and a reopen', () => {
  const first = open();
  first.forPlugin('chat').migrate([CHAT_V1, CHAT_V2]);
  first.db.prepare('INSERT INTO chat_messages (text, room) VALUES (?, ?)').run('kept', 'lab1');
  first.close();
  const second = open();
  second.forPlugin('chat').migrate([CHAT_V1, CHAT_V2]);
  assert.is(version(second, 'chat'), 2);
  assert.equal(second.db.prepare('SELECT text, room FROM chat_messages').all(), [{ text: 'kept', room: 'lab1' }]);
});

test('two plugins keep independent schema versions', () => {
  const store = open();
  store.forPlugin('chat').migrate([CHAT_V1, CHAT_V2]);
  store.forPlugin('files').migrate(['CREATE TABLE files_meta (id TEXT PRIMARY KEY)']);
  assert.is(version(store, 'chat'), 2);
  assert.is(version(store, 'files'), 1);
  store.forPlugin('files').migrate(['CREATE TABLE files_meta (id TEXT PRIMARY KEY)', 'CREATE INDEX files_meta_id ON files_meta (id)']);
  assert.is(version(store, 'chat'), 2);
  assert.is(version(store, 'files'), 2);
});

test('migrate() with a failing step fails with STORE_MIGRATION_FAILED and keeps the steps before it', () => {
  const store = open();
  const chat = store.forPlugin('chat');
  assert.is(codeOf(() => chat.migrate([CHAT_V1, 'CREATE TABLE chat_x (a INT); THIS IS NOT SQL'])), 'STORE_MIGRATION_FAILED');
  assert.is(version(store, 'chat'), 1);
  // The failed step was rolled back whole, its first statement included.
  const tables = store.db.prepare<[], { n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'chat_x'").get();
  assert.is(tables?.n, 0);
});

test('migrate() with fewer steps than applied fails with STORE_MIGRATION_FAILED', () => {
  const store = open();
  store.forPlugin('chat').migrate([CHAT_V1, CHAT_V2]);
  assert.is(codeOf(() => store.forPlugin('chat').migrate([CHAT_V1])), 'STORE_MIGRATION_FAILED');
});

test('store.close() is idempotent and forPlugin() afterwards fails with STORE_CLOSED', () => {
  const store = open();
  const chat = store.forPlugin('chat');
  store.close();
  store.close();
  assert.is(store.db.open, false);
  assert.is(codeOf(() => store.forPlugin('chat')), 'STORE_CLOSED');
  assert.is(codeOf(() => chat.migrate([CHAT_V1])), 'STORE_CLOSED');
});

test.run();
