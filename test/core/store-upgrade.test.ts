/**
 * The in-place upgrade of a version-1 store (SQL string migrations, synchronous better-sqlite3) to Store v2
 * (Kysely): a copy of test/fixtures/store-v1/, written by the old code (test/fixtures/make-store-v1.ts), is
 * opened by a server with chat, scheduler, files and auth, which finds every message, meeting, file and
 * revocation; the migration versions continue from the old ones, and the new steps 1…N make the same schema
 * as the shipped SQL did.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, type Kysely } from 'kysely';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openStore, type MigrationStep } from '../../core/store.js';
import { startTestServer, type TestServer } from '../../core/testing.js';
import { AUTH_MIGRATIONS } from '../../plugins/auth/revocations.js';
import { auth, secretPath } from '../../plugins/auth/server.js';
import { signToken } from '../../plugins/auth/token.js';
import { chatClient } from '../../plugins/chat/client.js';
import { CHAT_MIGRATIONS } from '../../plugins/chat/history.js';
import { chat } from '../../plugins/chat/server.js';
import { filesClient } from '../../plugins/files/client-node.js';
import { files } from '../../plugins/files/server.js';
import { FILES_MIGRATIONS } from '../../plugins/files/store.js';
import { schedulerClient } from '../../plugins/scheduler/client.js';
import { SCHEDULER_MIGRATIONS } from '../../plugins/scheduler/meetings.js';
import { scheduler } from '../../plugins/scheduler/server.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'store-v1');
const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8'));
const MIGRATIONS: Record<string, MigrationStep[]> = { auth: AUTH_MIGRATIONS, chat: CHAT_MIGRATIONS, files: FILES_MIGRATIONS, scheduler: SCHEDULER_MIGRATIONS };
const work: string[] = [];

test.after.each(() => {
  for (const dir of work.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the fixture's data directory, removed after the test. */
function copyOfFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'confab-upgrade-'));
  work.push(dir);
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

/** A server on `dataDir`'s SQLite file (whatever CONFAB_TEST_STORE says) with the four store-touching plugins. */
function serve(dataDir: string): Promise<TestServer> {
  return startTestServer({ server: { dataDir, store: join(dataDir, 'confab.db') }, plugins: [auth(), chat(), scheduler(), files()] });
}

async function token(ts: TestServer, name: string): Promise<string> {
  const secret = Buffer.from(readFileSync(secretPath(ts.dataDir), 'utf8').trim(), 'base64url');
  return signToken(secret, { room: 'lab1', name, grants: ['join', 'chat', 'subscribe', 'files'], ttlSeconds: 600 });
}

/** Each table's columns (name, type, not null, default, primary key) and its indexes, as SQLite describes them. */
async function schemaOf(db: Kysely<any>): Promise<Record<string, unknown>> {
  const schema: Record<string, unknown> = {};
  for (const table of ['chat_messages', 'scheduler_meetings', 'files_entries', 'auth_revoked', 'confab_migrations']) {
    const columns = (await sql.raw(`PRAGMA table_info(${table})`).execute(db)).rows;
    const indexes = (await sql.raw(`PRAGMA index_list(${table})`).execute(db)).rows as Array<{ name: string; unique: number }>;
    const indexColumns = [];
    for (const index of indexes.sort((a, b) => a.name.localeCompare(b.name))) {
      const cols = (await sql.raw(`PRAGMA index_info(${index.name})`).execute(db)).rows as Array<{ name: string }>;
      indexColumns.push({ name: index.name.startsWith('sqlite_autoindex') ? 'auto' : index.name, unique: index.unique, columns: cols.map((c) => c.name) });
    }
    schema[table] = { columns, indexes: indexColumns };
  }
  return schema;
}

test('a version-1 store opens with every message, meeting, file and revocation, and its versions continue', async () => {
  const dataDir = copyOfFixture();
  const ts = await serve(dataDir);
  try {
    const versions = await ts.server.store.db.selectFrom('confab_migrations').select(['plugin', 'version']).orderBy('plugin').execute();
    assert.equal(versions, expected.versions, 'no step ran again, none was skipped');
    for (const { plugin, version } of expected.versions as Array<{ plugin: string; version: number }>) {
      assert.is(MIGRATIONS[plugin]!.length, version, `${plugin}: the new list's steps are the shipped ones (append new steps after them)`);
    }

    const alice = await ts.connect('alice', { room: 'lab1', plugins: { chat: chatClient(), scheduler: schedulerClient(), files: filesClient() }, client: { token: await token(ts, 'alice') } });
    const history = await new Promise<Array<{ id: string; text: string }>>((resolve) => {
      if (alice.chat.messages.length > 0) resolve([...alice.chat.messages]);
      alice.chat.on('history', (messages) => resolve([...messages]));
    });
    const [hello, unicode, secret] = expected.messages;
    assert.equal(history.map((m) => [m.id, m.text]), [[hello.id, hello.text], [unicode.id, unicode.text]], 'room-wide messages, in order');
    const rows = await ts.server.store.db.selectFrom('chat_messages').select(['id', 'text', 'to_name', 'client_id', 'ts']).orderBy('seq').execute();
    assert.equal(rows.map((r) => [r.id, r.text, r.to_name, r.client_id, Number(r.ts)]),
      expected.messages.map((m: any) => [m.id, m.text, m.to?.name ?? null, m.clientId, m.ts]));
    assert.is(rows[2]!.text, secret.text, 'the private message is kept too');

    assert.equal(await alice.scheduler.list(), expected.meetings);
    const listed = await alice.files.list();
    assert.equal(listed.map((f) => [f.id, f.name, f.size, f.sha256]), expected.files.map((f: any) => [f.id, f.name, f.size, f.sha256]));
    const target = join(dataDir, 'downloaded.txt');
    await alice.files.download(expected.files[0].id, target).done;
    assert.is(readFileSync(target, 'utf8'), 'notes kept across the store upgrade\n');

    const revoked = await ts.server.store.db.selectFrom('auth_revoked').select(['jti', 'reason']).execute();
    assert.equal(revoked, [{ jti: expected.revoked[0], reason: 'fixture' }]);

    // New writes land after the old ones.
    const sent = await alice.chat.send('written by v2');
    const last = await ts.server.store.db.selectFrom('chat_messages').select(['id']).orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    assert.is(last.id, sent.id);
  } finally {
    await ts.close({ keepData: true });
  }
});

test('the new migration steps make on a fresh SQLite store the schema that version 1 shipped', async () => {
  const fixture = openStore({ dataDir: copyOfFixture() });
  const fresh = openStore({ dataDir: copyOfFixture(), url: 'sqlite:fresh.db' });
  try {
    for (const [plugin, steps] of Object.entries(MIGRATIONS)) await fresh.forPlugin(plugin).migrate(steps);
    assert.equal(await schemaOf(fresh.db), await schemaOf(fixture.db));
  } finally {
    await fixture.close();
    await fresh.close();
  }
});

test('a store at an older version gets only the steps after it', async () => {
  const store = openStore({ dataDir: copyOfFixture() });
  try {
    await store.db.updateTable('confab_migrations').set({ version: 1 }).where('plugin', '=', 'chat').execute();
    await sql`ALTER TABLE chat_messages DROP COLUMN client_id`.execute(store.db);
    await store.forPlugin('chat').migrate(CHAT_MIGRATIONS);
    const version = await store.db.selectFrom('confab_migrations').select('version').where('plugin', '=', 'chat').executeTakeFirstOrThrow();
    assert.is(version.version, 2);
    const count = await store.db.selectFrom('chat_messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.is(Number(count.n), expected.messages.length, 'step 1 did not run again (it would have failed: the table exists)');
  } finally {
    await store.close();
  }
});

test.run();
