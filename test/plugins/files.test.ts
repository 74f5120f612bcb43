/**
 * The files plugin through its client API: uploads, announcements, lists and downloads that verify, targeted
 * sharing, quotas, grants, deletion and expiry, resume after a lost connection, a restart, and the plugin's
 * own hooks (per server). Hostile and malformed input is in files-hostile.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ClientPluginContext } from '../../core/client/types.js';
import { definePlugin } from '../../core/config.js';
import type { ConfabError } from '../../core/errors.js';
import type { Grant } from '../../core/grants.js';
import { startTestServer, waitFor, type TestServer } from '../../core/testing.js';
import type { Plugin } from '../../core/types.js';
import { filesClient, type FileInfo } from '../../plugins/files/client-node.js';
import { FILES } from '../../plugins/files/protocol.js';
import { files, getFilesHooks, type FilesOptions, type TransferProgress } from '../../plugins/files/server.js';

const work = mkdtempSync(joinPath(tmpdir(), 'confab-files-test-'));
let counter = 0;

/** Joins `room` with the files client half, recording the files announced and removed. */
async function join(lab: TestServer, name: string, room = 'lab', client: { reconnect?: boolean } = {}) {
  const member = await lab.connect(name, { room, plugins: { files: filesClient() }, client });
  const announced: FileInfo[] = [];
  const removed: string[] = [];
  member.files.on('file', (file) => announced.push(file));
  member.files.on('removed', ({ id }) => removed.push(id));
  return Object.assign(member, { announced, removed });
}

function makeFile(bytes: number, name = `file-${++counter}.bin`): { path: string; data: Buffer; sha256: string } {
  const data = randomBytes(bytes);
  const path = joinPath(work, name);
  writeFileSync(path, data);
  return { path, data, sha256: createHash('sha256').update(data).digest('hex') };
}

/** Runs `body` with a server running the files plugin (after `extra`), closing it and its clients after. */
async function withServer(body: (lab: TestServer) => Promise<void>, options: FilesOptions = {}, extra: Plugin[] = []): Promise<void> {
  const lab = await startTestServer({ plugins: [...extra, files(options)] });
  try {
    await body(lab);
  } finally {
    await lab.close();
  }
}

/** What the plugin keeps on disk: stored contents and temporary files. */
function disk(dataDir: string): { content: string[]; tmp: string[] } {
  const dir = joinPath(dataDir, 'plugins', 'files');
  return { content: readdirSync(joinPath(dir, 'content')), tmp: readdirSync(joinPath(dir, 'tmp')) };
}

async function rejection(promise: Promise<unknown>): Promise<ConfabError> {
  try {
    await promise;
  } catch (error) {
    return error as ConfabError;
  }
  throw new Error('expected a rejection');
}

test('upload → announce → list → download: the bytes and the SHA-256 survive the round trip, with progress', async () => {
  await withServer(async (lab) => {
    const alice = await join(lab, 'alice');
    const bob = await join(lab, 'bob');
    const source = makeFile(3 * 1024 * 1024 + 12345, 'report.pdf');
    const upload = alice.files.upload(source.path);
    const progress: number[] = [];
    upload.on('progress', ({ sent, total }) => {
      assert.is(total, source.data.length);
      progress.push(sent);
    });
    const stored = await upload.done;
    assert.is(stored.name, 'report.pdf');
    assert.is(stored.size, source.data.length);
    assert.is(stored.sha256, source.sha256);
    assert.equal(stored.from, { id: alice.id, name: 'alice' });
    assert.is(progress.at(-1), source.data.length);
    assert.ok(progress.every((value, i) => i === 0 || value > progress[i - 1]), 'progress only grows');

    await waitFor(() => bob.announced.length === 1, 'bob to hear of the file', 3000);
    assert.equal(bob.announced[0], stored);
    assert.is(alice.announced.length, 0, 'the sender gets stored, not file');
    assert.equal(await bob.files.list(), [stored]);

    const out = joinPath(work, `bob-${++counter}.pdf`);
    const download = bob.files.download(stored.id, out);
    let received = 0;
    download.on('progress', (p) => (received = p.received));
    assert.equal(await download.done, stored);
    assert.is(received, source.data.length);
    assert.ok(readFileSync(out).equals(source.data));
    assert.equal(disk(lab.dataDir), { content: [stored.id], tmp: [] });
  });
});

test('download into a directory uses the clean name, and an empty file works', async () => {
  await withServer(async (lab) => {
    const alice = await join(lab, 'alice');
    const empty = makeFile(0, 'empty.txt');
    const stored = await alice.files.upload(empty.path, { name: 'notes/empty.txt' }).done;
    assert.is(stored.name, 'empty.txt');
    assert.is(stored.size, 0);
    const dir = mkdtempSync(joinPath(work, 'dl-'));
    await alice.files.download(stored.id, dir).done;
    await alice.files.download(stored.id, dir).done;
    assert.equal(readdirSync(dir).sort(), ['empty (1).txt', 'empty.txt']);
  });
});

test('a file shared with one participant is announced to and downloadable by that participant only', async () => {
  await withServer(async (lab) => {
    const alice = await join(lab, 'alice');
    const bob = await join(lab, 'bob');
    const carol = await join(lab, 'carol');
    const source = makeFile(100_000);
    const stored = await alice.files.upload(source.path, { to: bob.id }).done;
    assert.equal(stored.to, { id: bob.id, name: 'bob' });
    await waitFor(() => bob.announced.length === 1);
    const roomWide = await alice.files.upload(makeFile(10).path).done;
    await waitFor(() => carol.announced.length === 1);
    assert.equal(carol.announced.map((f) => f.id), [roomWide.id], 'carol never hears of the private file');
    assert.equal((await carol.files.list()).map((f) => f.id), [roomWide.id]);
    assert.equal((await bob.files.list()).map((f) => f.id), [stored.id, roomWide.id]);
    const refused = await rejection(carol.files.download(stored.id, joinPath(work, 'stolen')).done);
    assert.is(refused.code, 'FILES_NO_SUCH_FILE');
    // Even asking the server directly with the id is refused the same way.
    const mallory = await lab.connect('mallory', { room: 'lab', plugins: { raw: { name: 'raw-files', attach: (ctx: ClientPluginContext) => ctx } } });
    mallory.raw.send(FILES.name, { op: 'get', ref: 'r1', id: stored.id });
    const hidden = await mallory.waitForError('FILES_NO_SUCH_FILE');
    assert.is(hidden.ref, 'r1');
    await bob.files.download(stored.id, joinPath(work, `bob-${++counter}`)).done;
  });
});

test('an over-quota upload through the client API is refused with FILES_QUOTA_EXCEEDED', async () => {
  await withServer(async (lab) => {
    const alice = await join(lab, 'alice');
    await alice.files.upload(makeFile(600_000).path).done;
    const error = await rejection(alice.files.upload(makeFile(600_000).path).done);
    assert.is(error.code, 'FILES_QUOTA_EXCEEDED');
    assert.is(disk(lab.dataDir).content.length, 1);
    assert.equal(disk(lab.dataDir).tmp, []);
  }, { roomQuotaBytes: 1_000_000 });
});

test('an upload cut by a lost connection continues from the confirmed offset after the resume', async () => {
  await withServer(async (lab) => {
    const alice = await join(lab, 'alice');
    const source = makeFile(12 * 1024 * 1024);
    const upload = alice.files.upload(source.path);
    let resumed = 0;
    alice.client.on('resumed', () => resumed++);
    let cut = false;
    upload.on('progress', ({ sent }) => {
      if (!cut && sent >= 2 * 1024 * 1024) {
        cut = true;
        alice.client.dropConnection();
      }
    });
    const stored = await upload.done;
    assert.ok(cut);
    assert.is(resumed, 1);
    assert.is(stored.sha256, source.sha256);
    const content = readFileSync(joinPath(lab.dataDir, 'plugins', 'files', 'content', stored.id));
    assert.ok(content.equals(source.data));
  }, { maxFileBytes: 64 * 1024 * 1024 });
});

test('a download cut by a lost connection continues after the resume and verifies', async () => {
  await withServer(async (lab) => {
    const alice = await join(lab, 'alice');
    const bob = await join(lab, 'bob');
    const source = makeFile(12 * 1024 * 1024);
    const stored = await alice.files.upload(source.path).done;
    const out = joinPath(work, `cut-${++counter}.bin`);
    const download = bob.files.download(stored.id, out);
    let cuts = 0;
    download.on('progress', ({ received }) => {
      if (cuts < 2 && received >= (cuts + 1) * 4 * 1024 * 1024) {
        cuts++;
        bob.client.dropConnection();
      }
    });
    await download.done;
    assert.is(cuts, 2);
    assert.ok(readFileSync(out).equals(source.data));
  }, { maxFileBytes: 64 * 1024 * 1024 });
});

test('a download whose session is lost for good leaves a .part file that the next download continues', async () => {
  await withServer(async (lab) => {
    const alice = await join(lab, 'alice');
    const source = makeFile(6 * 1024 * 1024);
    const stored = await alice.files.upload(source.path).done;
    const out = joinPath(work, `part-${++counter}.bin`);
    const bob = await join(lab, 'bob', 'lab', { reconnect: false });
    const first = bob.files.download(stored.id, out);
    first.on('progress', ({ received }) => {
      if (received >= 2 * 1024 * 1024) bob.client.dropConnection();
    });
    await rejection(first.done);
    const part = readdirSync(work).find((name) => name.startsWith(`part-${counter}.bin.`) && name.endsWith('.part'));
    assert.ok(part, 'the partial download is kept');
    const kept = readFileSync(joinPath(work, part!)).length;
    assert.ok(kept >= 2 * 1024 * 1024 && kept < source.data.length);

    const again = await join(lab, 'bob');
    const second = again.files.download(stored.id, out);
    let firstProgress: number | undefined;
    second.on('progress', ({ received }) => (firstProgress ??= received));
    await second.done;
    assert.ok(firstProgress! > kept, 'the second download started after the kept bytes');
    assert.ok(readFileSync(out).equals(source.data));
  }, { maxFileBytes: 64 * 1024 * 1024 });
});

test('stored files survive a server restart', async () => {
  const first = await startTestServer({ plugins: [files()] });
  const alice = await join(first, 'alice');
  const source = makeFile(300_000, 'keep.me');
  const stored = await alice.files.upload(source.path).done;
  await first.close({ keepData: true });

  const second = await startTestServer({ plugins: [files()], server: { dataDir: first.dataDir } });
  try {
    const bob = await join(second, 'bob');
    assert.equal(await bob.files.list(), [stored]);
    const out = joinPath(work, `restart-${++counter}`);
    await bob.files.download(stored.id, out).done;
    assert.ok(readFileSync(out).equals(source.data));
    const other = await join(second, 'eve', 'other-room');
    assert.equal(await other.files.list(), [], 'files stay in their room');
  } finally {
    await second.close();
  }
});

/** A plugin that takes a grant away from the sessions of one name when they join. */
function revoke(name: string, grant: Grant): Plugin {
  return definePlugin({
    name: `revoke-${grant}`,
    setup(ctx) {
      ctx.hooks.sessionJoined.tap('revoke', (session) => {
        if (session.name === name) session.grants.delete(grant);
      });
    },
  });
}

test('a session without the files grant can neither share nor list nor download', async () => {
  await withServer(async (lab) => {
    const alice = await join(lab, 'alice');
    const stored = await alice.files.upload(makeFile(1000).path).done;
    const guest = await join(lab, 'guest');
    assert.is((await rejection(guest.files.upload(makeFile(1000).path).done)).code, 'FILES_FORBIDDEN');
    assert.is((await rejection(guest.files.list())).code, 'FILES_FORBIDDEN');
    assert.is((await rejection(guest.files.download(stored.id, joinPath(work, 'nope')).done)).code, 'FILES_FORBIDDEN');
  }, {}, [revoke('guest', 'files')]);
});

test('delete removes a file for everyone; only its sender may delete it; expiry removes old files', async () => {
  await withServer(async (lab) => {
    const alice = await join(lab, 'alice');
    const bob = await join(lab, 'bob');
    const stored = await alice.files.upload(makeFile(1000).path).done;
    assert.is((await rejection(bob.files.delete(stored.id))).code, 'FILES_NOT_ALLOWED');
    await alice.files.delete(stored.id);
    await waitFor(() => bob.removed.length === 1);
    assert.equal(bob.removed, [stored.id]);
    assert.equal(disk(lab.dataDir).content, []);
  }, {}, [revoke('bob', 'moderate')]);
  await withServer(async (lab) => {
    const alice = await join(lab, 'alice');
    const stored = await alice.files.upload(makeFile(1000).path).done;
    await waitFor(() => alice.removed.length === 1, 'the file to expire', 5000);
    assert.equal(alice.removed, [stored.id]);
    assert.equal(await alice.files.list(), []);
    assert.equal(disk(lab.dataDir).content, []);
  }, { expireAfterMs: 300 });
});

test('getFilesHooks(server) reports progress and stored files; a plugin taps the same hooks with getFilesHooks(ctx)', async () => {
  const audited: string[] = [];
  const audit = definePlugin({
    name: 'audit',
    setup(ctx) {
      getFilesHooks(ctx).stored.tap('audit', (file) => audited.push(file.name));
    },
  });
  const lab = await startTestServer({ plugins: [audit, files()] });
  try {
    const progress: TransferProgress[] = [];
    const stored: string[] = [];
    getFilesHooks(lab.server).progress.tap('test', (p) => progress.push({ ...p }));
    getFilesHooks(lab.server).stored.tap('test', (file) => stored.push(file.name));
    const alice = await join(lab, 'alice');
    const file = await alice.files.upload(makeFile(700_000, 'hooked.bin').path).done;
    await alice.files.download(file.id, joinPath(work, `hooked-${++counter}`)).done;
    assert.equal(stored, ['hooked.bin']);
    assert.equal(audited, ['hooked.bin'], 'a plugin set up before files taps the same hooks');
    const uploads = progress.filter((p) => p.direction === 'upload');
    const downloads = () => progress.filter((p) => p.direction === 'download');
    assert.is(uploads.at(-1)!.bytes, 700_000);
    await waitFor(() => downloads().at(-1)?.bytes === 700_000, 'the last download progress');
    assert.is(uploads[0].name, 'hooked.bin');
  } finally {
    await lab.close();
  }
});

test('getFilesHooks(): two servers that share one files() plugin object have hooks of their own', async () => {
  const shared = files();
  const first = await startTestServer({ plugins: [shared] });
  const second = await startTestServer({ plugins: [shared] });
  try {
    assert.is.not(getFilesHooks(first.server), getFilesHooks(second.server));
    const firstStored: string[] = [];
    const secondStored: string[] = [];
    getFilesHooks(first.server).stored.tap('test', (file) => firstStored.push(file.name));
    getFilesHooks(second.server).stored.tap('test', (file) => secondStored.push(file.name));
    await (await join(second, 'bob')).files.upload(makeFile(1000, 'second.bin').path).done;
    assert.equal(firstStored, [], 'the first server\'s taps hear nothing of the second server');
    await (await join(first, 'alice')).files.upload(makeFile(1000, 'first.bin').path).done;
    assert.equal(firstStored, ['first.bin']);
    assert.equal(secondStored, ['second.bin']);
  } finally {
    await second.close();
    await first.close();
  }
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
