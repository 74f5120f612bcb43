/**
 * core/store.ts: opening the store, per-plugin migrations written with Kysely's schema builder, closing.
 * Runs on SQLite, and on PostgreSQL too when CONFAB_TEST_STORE=postgres (test/run.mjs's second pass): then
 * every store is a fresh database of the run's private PostgreSQL (test/helpers/postgres.ts).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sql, type Kysely } from 'kysely';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isConfabError } from '../../core/errors.js';
import { openStore, type MigrationStep, type Store } from '../../core/store.js';
import { testStoreUrl } from '../helpers/postgres.js';

const POSTGRES = process.env.CONFAB_TEST_STORE === 'postgres';
const HERE = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
let dir = '';
const opened: Store[] = [];
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'confab-store-'));
});
test.after.each(async () => {
  for (const store of opened.splice(0)) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Opens a store: SQLite in the test's temp dir (or `dataDir`), or `url`, or a fresh PostgreSQL database in the postgres pass. */
async function open(dataDir = join(dir, 'data'), url?: string): Promise<Store> {
  const store = openStore({ dataDir, url: url ?? await testStoreUrl() });
  opened.push(store);
  return store;
}

async function codeOf(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (error) {
    assert.ok(isConfabError(error), `expected a ConfabError, got ${String(error)}`);
    return error.code;
  }
  return undefined;
}

const CHAT_V1: MigrationStep = (db) => db.schema.createTable('chat_messages')
  .addColumn('id', 'integer', (c) => c.primaryKey())
  .addColumn('text', 'text', (c) => c.notNull())
  .execute();
const CHAT_V2: MigrationStep = (db) => db.schema.alterTable('chat_messages').addColumn('room', 'text', (c) => c.notNull().defaultTo('default')).execute();
const FILES_V1: MigrationStep = (db) => db.schema.createTable('files_meta').addColumn('id', 'text', (c) => c.primaryKey()).execute();
const FILES_V2: MigrationStep = (db) => db.schema.createIndex('files_meta_id').on('files_meta').column('id').execute();

const version = async (store: Store, plugin: string) =>
  (await store.db.selectFrom('confab_migrations').select('version').where('plugin', '=', plugin).executeTakeFirst())?.version;
const tableExists = async (db: Kysely<any>, name: string) => (await db.introspection.getTables()).some((table) => table.name === name);

if (!POSTGRES) {
  test('openStore() creates the data directory and confab.db in WAL mode with foreign keys on', async () => {
    const store = await open(join(dir, 'a', 'b'));
    assert.is(store.dialect, 'sqlite');
    assert.is(store.path, join(dir, 'a', 'b', 'confab.db'));
    assert.ok(existsSync(store.path!));
    const pragma = async (name: string) => Object.values((await sql.raw(`PRAGMA ${name}`).execute(store.db)).rows[0] as object)[0];
    assert.is(await pragma('journal_mode'), 'wal');
    assert.is(await pragma('foreign_keys'), 1);
    assert.is(await pragma('synchronous'), 1); // NORMAL
    assert.ok((await pragma('busy_timeout') as number) > 0);
  });

  test('openStore() of a data dir that is a file fails with STORE_OPEN_FAILED', async () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    assert.is(await codeOf(() => openStore({ dataDir: file })), 'STORE_OPEN_FAILED');
  });

  test('openStore() of a file that is not a database fails with STORE_OPEN_FAILED', async () => {
    writeFileSync(join(dir, 'confab.db'), 'this is not an SQLite database, just enough bytes to look like a header......');
    assert.is(await codeOf(() => openStore(dir)), 'STORE_OPEN_FAILED');
  });

  test('openStore({ url: "sqlite:<path>" }) opens that file, relative to the data directory', async () => {
    const store = await open(dir, 'sqlite:other/named.db');
    assert.is(store.path, join(dir, 'other', 'named.db'));
    await store.forPlugin('chat').migrate([CHAT_V1]);
    assert.ok(existsSync(join(dir, 'other', 'named.db')));
  });
}

test('store.forPlugin(name).migrate() applies the steps once', async () => {
  const store = await open();
  const chat = store.forPlugin('chat');
  await chat.migrate([CHAT_V1]);
  assert.is(await version(store, 'chat'), 1);
  await chat.migrate([CHAT_V1]); // CREATE TABLE again would throw if it ran
  assert.is(await version(store, 'chat'), 1);
  assert.is(store.forPlugin('chat'), chat);
});

test('migrate() with an extra step applies only that step', async () => {
  const store = await open();
  const chat = store.forPlugin('chat');
  await chat.migrate([CHAT_V1]);
  await chat.db.insertInto('chat_messages').values({ id: 1, text: 'hello' }).execute();
  await chat.migrate([CHAT_V1, CHAT_V2]);
  assert.is(await version(store, 'chat'), 2);
  assert.equal(await chat.db.selectFrom('chat_messages').select(['text', 'room']).execute(), [{ text: 'hello', room: 'default' }]);
});

test('data and versions survive store.close() and a reopen', async () => {
  const url = await testStoreUrl();
  const first = await open(undefined, url);
  await first.forPlugin('chat').migrate([CHAT_V1, CHAT_V2]);
  await first.db.insertInto('chat_messages').values({ id: 1, text: 'kept', room: 'lab1' }).execute();
  await first.close();
  const second = await open(undefined, url);
  await second.forPlugin('chat').migrate([CHAT_V1, CHAT_V2]);
  assert.is(await version(second, 'chat'), 2);
  assert.equal(await second.db.selectFrom('chat_messages').select(['text', 'room']).execute(), [{ text: 'kept', room: 'lab1' }]);
});

test('two plugins keep independent schema versions', async () => {
  const store = await open();
  await store.forPlugin('chat').migrate([CHAT_V1, CHAT_V2]);
  await store.forPlugin('files').migrate([FILES_V1]);
  assert.is(await version(store, 'chat'), 2);
  assert.is(await version(store, 'files'), 1);
  await store.forPlugin('files').migrate([FILES_V1, FILES_V2]);
  assert.is(await version(store, 'chat'), 2);
  assert.is(await version(store, 'files'), 2);
});

test('migrate() with a failing step fails with STORE_MIGRATION_FAILED and keeps the steps before it, the failed one rolled back whole', async () => {
  const store = await open();
  const chat = store.forPlugin('chat');
  const broken: MigrationStep = async (db) => {
    await db.schema.createTable('chat_x').addColumn('a', 'integer').execute();
    await sql`THIS IS NOT SQL`.execute(db);
  };
  assert.is(await codeOf(() => chat.migrate([CHAT_V1, broken])), 'STORE_MIGRATION_FAILED');
  assert.is(await version(store, 'chat'), 1);
  assert.is(await tableExists(store.db, 'chat_x'), false);
});

test('migrate() with fewer steps than applied, or steps that are not functions, fails with STORE_MIGRATION_FAILED', async () => {
  const store = await open();
  await store.forPlugin('chat').migrate([CHAT_V1, CHAT_V2]);
  assert.is(await codeOf(() => store.forPlugin('chat').migrate([CHAT_V1])), 'STORE_MIGRATION_FAILED');
  assert.is(await codeOf(() => store.forPlugin('files').migrate(['CREATE TABLE files_meta (id TEXT)'] as never)), 'STORE_MIGRATION_FAILED');
});

test('two processes migrating one database at once apply each step once', async () => {
  const url = await testStoreUrl();
  const dataDir = join(dir, 'data');
  const child = () => run(process.execPath, ['--import', 'tsx', join(HERE, 'store-migrate-child.ts'), dataDir, ...(url ? [url] : [])]);
  const outputs = await Promise.all([child(), child()]);
  const applied = outputs.flatMap(({ stdout }) => JSON.parse(stdout) as number[]);
  assert.equal(applied.sort(), [1, 2, 3], 'each step ran once, in one process or the other');
  const store = await open(dataDir, url);
  assert.is(await version(store, 'race'), 3);
  assert.ok(await tableExists(store.db, 'race_b'));
});

test('store.close() is idempotent and forPlugin() afterwards fails with STORE_CLOSED', async () => {
  const store = await open();
  const chat = store.forPlugin('chat');
  await store.close();
  await store.close();
  assert.is(store.open, false);
  assert.is(await codeOf(() => store.forPlugin('chat')), 'STORE_CLOSED');
  assert.is(await codeOf(() => chat.migrate([CHAT_V1])), 'STORE_CLOSED');
});

test.run();
