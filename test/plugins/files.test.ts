import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import type { ClientMessage, ClientPluginContext } from '../../core/client/types.js';
import { definePlugin } from '../../core/config.js';
import type { ConfabError } from '../../core/errors.js';
import type { Grant } from '../../core/grants.js';
import type { Plugin } from '../../core/types.js';
import { filesClient, type FileInfo, type FilesApi } from '../../plugins/files/client-node.js';
import { encodeChunk, FILES_CHANNEL, FILES_DATA_CHANNEL } from '../../plugins/files/protocol.js';
import { files, type FilesOptions, type TransferProgress } from '../../plugins/files/server.js';
import { startServer, waitFor, type TestServer } from '../helpers/server.js';

const work = mkdtempSync(joinPath(tmpdir(), 'confab-files-test-'));
let counter = 0;

interface Member {
  client: ConfabClient;
  files: FilesApi;
  announced: FileInfo[];
  removed: string[];
}

async function join(port: number, name: string, room = 'lab'): Promise<Member> {
  const client = new ConfabClient({ url: `tcp://127.0.0.1:${port}`, name, room, backoff: { initialMs: 20, maxMs: 100 } });
  const api = client.use(filesClient());
  const member: Member = { client, files: api, announced: [], removed: [] };
  api.on('file', (file) => member.announced.push(file));
  api.on('removed', ({ id }) => member.removed.push(id));
  await client.connect();
  return member;
}

/** A client that speaks the files ops by hand, for lies and malformed input. */
async function rawJoin(port: number, name: string, room = 'lab') {
  const client = new ConfabClient({ url: `tcp://127.0.0.1:${port}`, name, room });
  const messages: Record<string, unknown>[] = [];
  const errors: ConfabError[] = [];
  const ctx = client.use({ name: 'raw-files', attach: (c: ClientPluginContext) => c });
  ctx.onMessage(FILES_CHANNEL, (m: ClientMessage) => void messages.push(m as Record<string, unknown>));
  ctx.onMessage(FILES_DATA_CHANNEL, () => undefined);
  ctx.onError((error) => void errors.push(error));
  await client.connect();
  return { client, ctx, messages, errors };
}

function makeFile(bytes: number, name = `file-${++counter}.bin`): { path: string; data: Buffer; sha256: string } {
  const data = randomBytes(bytes);
  const path = joinPath(work, name);
  writeFileSync(path, data);
  return { path, data, sha256: createHash('sha256').update(data).digest('hex') };
}

async function withServer(body: (t: TestServer) => Promise<void>, options: FilesOptions = {}, extra: Plugin[] = []): Promise<void> {
  const server = await startServer([...extra, files(options)]);
  try {
    await body(server);
  } finally {
    await server.stop();
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
  await withServer(async ({ port, dataDir }) => {
    const alice = await join(port, 'alice');
    const bob = await join(port, 'bob');
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
    assert.equal(stored.from, { id: alice.client.self!.id, name: 'alice' });
    assert.is(progress.at(-1), source.data.length);
    assert.ok(progress.every((value, i) => i === 0 || value > progress[i - 1]), 'progress only grows');

    await waitFor(() => bob.announced.length === 1, 3000, 'bob to hear of the file');
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
    assert.equal(disk(dataDir), { content: [stored.id], tmp: [] });
    await alice.client.close();
    await bob.client.close();
  });
});

test('download into a directory uses the clean name, and an empty file works', async () => {
  await withServer(async ({ port }) => {
    const alice = await join(port, 'alice');
    const empty = makeFile(0, 'empty.txt');
    const stored = await alice.files.upload(empty.path, { name: 'notes/empty.txt' }).done;
    assert.is(stored.name, 'empty.txt');
    assert.is(stored.size, 0);
    const dir = mkdtempSync(joinPath(work, 'dl-'));
    await alice.files.download(stored.id, dir).done;
    await alice.files.download(stored.id, dir).done;
    assert.equal(readdirSync(dir).sort(), ['empty (1).txt', 'empty.txt']);
    await alice.client.close();
  });
});

test('a file shared with one participant is announced to and downloadable by that participant only', async () => {
  await withServer(async ({ port }) => {
    const alice = await join(port, 'alice');
    const bob = await join(port, 'bob');
    const carol = await join(port, 'carol');
    const source = makeFile(100_000);
    const stored = await alice.files.upload(source.path, { to: bob.client.self!.id }).done;
    assert.equal(stored.to, { id: bob.client.self!.id, name: 'bob' });
    await waitFor(() => bob.announced.length === 1);
    const roomWide = await alice.files.upload(makeFile(10).path).done;
    await waitFor(() => carol.announced.length === 1);
    assert.equal(carol.announced.map((f) => f.id), [roomWide.id], 'carol never hears of the private file');
    assert.equal((await carol.files.list()).map((f) => f.id), [roomWide.id]);
    assert.equal((await bob.files.list()).map((f) => f.id), [stored.id, roomWide.id]);
    const refused = await rejection(carol.files.download(stored.id, joinPath(work, 'stolen')).done);
    assert.is(refused.code, 'FILES_NO_SUCH_FILE');
    // Even asking the server directly with the id is refused the same way.
    const raw = await rawJoin(port, 'mallory');
    raw.ctx.send(FILES_CHANNEL, { op: 'get', ref: 'r1', id: stored.id });
    await waitFor(() => raw.errors.length === 1);
    assert.is(raw.errors[0].code, 'FILES_NO_SUCH_FILE');
    assert.is(raw.errors[0].ref, 'r1');
    await bob.files.download(stored.id, joinPath(work, `bob-${++counter}`)).done;
    for (const m of [alice.client, bob.client, carol.client, raw.client]) await m.close();
  });
});

test('a lying size, a wrong hash, a path-traversal name, an over-quota and a too-large file are refused; nothing is stored', async () => {
  await withServer(async ({ port, dataDir }) => {
    const raw = await rawJoin(port, 'liar');
    const errorFor = async (ref: string) => {
      await waitFor(() => raw.errors.some((e) => e.ref === ref), 3000, `an error for ${ref}`);
      return raw.errors.find((e) => e.ref === ref)!;
    };
    const accepted = async (ref: string) => {
      await waitFor(() => raw.messages.some((m) => m.ref === ref), 3000, `accepted ${ref}`);
      return raw.messages.find((m) => m.ref === ref)!.transfer as number;
    };

    // More bytes than announced.
    raw.ctx.send(FILES_CHANNEL, { op: 'offer', ref: 'long', name: 'a.bin', size: 100 });
    const long = await accepted('long');
    raw.ctx.send(FILES_DATA_CHANNEL, encodeChunk(long, 0, randomBytes(200)));
    assert.is((await errorFor('long')).code, 'FILES_SIZE_MISMATCH');

    // Fewer bytes than announced.
    raw.ctx.send(FILES_CHANNEL, { op: 'offer', ref: 'short', name: 'b.bin', size: 100 });
    const short = await accepted('short');
    raw.ctx.send(FILES_DATA_CHANNEL, encodeChunk(short, 0, randomBytes(50)));
    raw.ctx.send(FILES_CHANNEL, { op: 'end', transfer: short, sha256: '0'.repeat(64) });
    assert.is((await errorFor('short')).code, 'FILES_SIZE_MISMATCH');

    // The right size with a hash that lies.
    raw.ctx.send(FILES_CHANNEL, { op: 'offer', ref: 'hash', name: 'c.bin', size: 1000 });
    const hash = await accepted('hash');
    raw.ctx.send(FILES_DATA_CHANNEL, encodeChunk(hash, 0, randomBytes(1000)));
    raw.ctx.send(FILES_CHANNEL, { op: 'end', transfer: hash, sha256: createHash('sha256').update('other').digest('hex') });
    assert.is((await errorFor('hash')).code, 'FILES_HASH_MISMATCH');

    for (const [ref, name] of [['t1', '../../etc/passwd'], ['t2', '/etc/passwd'], ['t3', 'C:\\Windows\\x.dll'], ['t4', 'a\u0000b'], ['t5', 'CON.txt'], ['t6', 'x\nrm -rf']]) {
      raw.ctx.send(FILES_CHANNEL, { op: 'offer', ref, name, size: 10 });
      assert.is((await errorFor(ref)).code, 'FILES_BAD_NAME', `name ${JSON.stringify(name)}`);
    }
    raw.ctx.send(FILES_CHANNEL, { op: 'offer', ref: 'big', name: 'big.bin', size: 2_000_001 });
    assert.is((await errorFor('big')).code, 'FILES_TOO_LARGE');
    raw.ctx.send(FILES_CHANNEL, { op: 'offer', ref: 'q1', name: 'q1.bin', size: 2_000_000 });
    await accepted('q1');
    raw.ctx.send(FILES_CHANNEL, { op: 'offer', ref: 'q2', name: 'q2.bin', size: 1_500_000 });
    assert.is((await errorFor('q2')).code, 'FILES_QUOTA_EXCEEDED', 'an upload in progress counts against the quota');

    // The session is still fine, and nothing was stored or left behind (q1 is still running).
    raw.ctx.send(FILES_CHANNEL, { op: 'list', ref: 'list' });
    await waitFor(() => raw.messages.some((m) => m.ref === 'list'));
    assert.equal(raw.messages.find((m) => m.ref === 'list')!.files, []);
    await waitFor(() => disk(dataDir).tmp.length === 1, 3000, 'the refused uploads\' temporary files to go');
    assert.equal(disk(dataDir).content, []);
    await raw.client.close();
    await waitFor(() => disk(dataDir).tmp.length === 0, 3000, 'the abandoned upload\'s temporary file to go');
  }, { maxFileBytes: 2_000_000, roomQuotaBytes: 3_000_000 });
});

test('an over-quota upload through the client API is refused with FILES_QUOTA_EXCEEDED', async () => {
  await withServer(async ({ port, dataDir }) => {
    const alice = await join(port, 'alice');
    await alice.files.upload(makeFile(600_000).path).done;
    const error = await rejection(alice.files.upload(makeFile(600_000).path).done);
    assert.is(error.code, 'FILES_QUOTA_EXCEEDED');
    assert.is(disk(dataDir).content.length, 1);
    assert.equal(disk(dataDir).tmp, []);
    await alice.client.close();
  }, { roomQuotaBytes: 1_000_000 });
});

test('malformed chunks and chunks for unknown transfers get coded errors; the session carries on', async () => {
  await withServer(async ({ port }) => {
    const raw = await rawJoin(port, 'fuzzer');
    raw.ctx.send(FILES_DATA_CHANNEL, new Uint8Array(5));
    raw.ctx.send(FILES_DATA_CHANNEL, encodeChunk(99, 0, new Uint8Array(10)));
    raw.ctx.send(FILES_CHANNEL, { op: 'explode' });
    raw.ctx.send(FILES_CHANNEL, { op: 'offer', ref: 'x', name: 'ok.txt', size: -1 });
    await waitFor(() => raw.errors.length === 4);
    assert.equal(raw.errors.map((e) => e.code), ['FILES_BAD_CHUNK', 'FILES_NO_SUCH_TRANSFER', 'FILES_BAD_REQUEST', 'FILES_BAD_REQUEST']);
    // A download acknowledged beyond what was sent is refused.
    raw.ctx.send(FILES_CHANNEL, { op: 'offer', ref: 'up', name: 'ok.txt', size: 4 });
    await waitFor(() => raw.messages.some((m) => m.ref === 'up'));
    const up = raw.messages.find((m) => m.ref === 'up')!.transfer as number;
    raw.ctx.send(FILES_DATA_CHANNEL, encodeChunk(up, 0, new TextEncoder().encode('abcd')));
    raw.ctx.send(FILES_CHANNEL, { op: 'end', transfer: up, sha256: createHash('sha256').update('abcd').digest('hex') });
    await waitFor(() => raw.messages.some((m) => m.op === 'stored'));
    const id = (raw.messages.find((m) => m.op === 'stored')!.file as FileInfo).id;
    raw.ctx.send(FILES_CHANNEL, { op: 'get', ref: 'down', id });
    await waitFor(() => raw.messages.some((m) => m.ref === 'down'));
    const down = raw.messages.find((m) => m.ref === 'down')!.transfer as number;
    raw.ctx.send(FILES_CHANNEL, { op: 'ack', transfer: down, offset: 1_000_000 });
    await waitFor(() => raw.errors.length === 5);
    assert.is(raw.errors[4].code, 'FILES_BAD_REQUEST');
    assert.is(raw.messages.find((m) => m.ref === 'down')!.window, 2 * 1024 * 1024, 'sending tells the download window');
    // Binary acks (empty chunks): one past the sent bytes and one carrying bytes are refused; a true one completes it.
    raw.ctx.send(FILES_DATA_CHANNEL, encodeChunk(down, 5, new Uint8Array(0)));
    raw.ctx.send(FILES_DATA_CHANNEL, encodeChunk(down, 4, new Uint8Array(1)));
    await waitFor(() => raw.errors.length === 7);
    assert.equal(raw.errors.slice(5).map((e) => e.code), ['FILES_BAD_CHUNK', 'FILES_BAD_CHUNK']);
    raw.ctx.send(FILES_DATA_CHANNEL, encodeChunk(down, 4, new Uint8Array(0)));
    raw.ctx.send(FILES_CHANNEL, { op: 'status', transfer: down });
    await waitFor(() => raw.errors.length === 8);
    assert.is(raw.errors[7].code, 'FILES_NO_SUCH_TRANSFER', 'the acknowledged download is complete and gone');
    assert.is(raw.client.state, 'open');
    await raw.client.close();
  });
});

test('a session may run only maxTransfersPerSession transfers at once', async () => {
  await withServer(async ({ port }) => {
    const raw = await rawJoin(port, 'greedy');
    for (const ref of ['a', 'b', 'c']) raw.ctx.send(FILES_CHANNEL, { op: 'offer', ref, name: `${ref}.bin`, size: 10 });
    await waitFor(() => raw.errors.length === 1);
    assert.is(raw.errors[0].code, 'FILES_TOO_MANY_TRANSFERS');
    assert.is(raw.errors[0].ref, 'c');
    await raw.client.close();
  }, { maxTransfersPerSession: 2 });
});

test('an upload cut by a lost connection continues from the confirmed offset after the resume', async () => {
  await withServer(async ({ port, dataDir }) => {
    const alice = await join(port, 'alice');
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
    const content = readFileSync(joinPath(dataDir, 'plugins', 'files', 'content', stored.id));
    assert.ok(content.equals(source.data));
    await alice.client.close();
  }, { maxFileBytes: 64 * 1024 * 1024 });
});

test('a download cut by a lost connection continues after the resume and verifies', async () => {
  await withServer(async ({ port }) => {
    const alice = await join(port, 'alice');
    const bob = await join(port, 'bob');
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
    await alice.client.close();
    await bob.client.close();
  }, { maxFileBytes: 64 * 1024 * 1024 });
});

test('a download whose session is lost for good leaves a .part file that the next download continues', async () => {
  await withServer(async ({ port }) => {
    const alice = await join(port, 'alice');
    const source = makeFile(6 * 1024 * 1024);
    const stored = await alice.files.upload(source.path).done;
    const out = joinPath(work, `part-${++counter}.bin`);
    const bob = new ConfabClient({ url: `tcp://127.0.0.1:${port}`, name: 'bob', room: 'lab', reconnect: false });
    const bobFiles = bob.use(filesClient());
    await bob.connect();
    const first = bobFiles.download(stored.id, out);
    first.on('progress', ({ received }) => {
      if (received >= 2 * 1024 * 1024) bob.dropConnection();
    });
    await rejection(first.done);
    const part = readdirSync(work).find((name) => name.startsWith(`part-${counter}.bin.`) && name.endsWith('.part'));
    assert.ok(part, 'the partial download is kept');
    const kept = readFileSync(joinPath(work, part!)).length;
    assert.ok(kept >= 2 * 1024 * 1024 && kept < source.data.length);

    const again = await join(port, 'bob');
    const second = again.files.download(stored.id, out);
    let firstProgress: number | undefined;
    second.on('progress', ({ received }) => (firstProgress ??= received));
    await second.done;
    assert.ok(firstProgress! > kept, 'the second download started after the kept bytes');
    assert.ok(readFileSync(out).equals(source.data));
    await alice.client.close();
    await again.client.close();
  }, { maxFileBytes: 64 * 1024 * 1024 });
});

test('stored files survive a server restart', async () => {
  const first = await startServer([files()]);
  const alice = await join(first.port, 'alice');
  const source = makeFile(300_000, 'keep.me');
  const stored = await alice.files.upload(source.path).done;
  await alice.client.close();
  await first.stop({ keepData: true });

  const second = await startServer([files()], { dataDir: first.dataDir });
  try {
    const bob = await join(second.port, 'bob');
    assert.equal(await bob.files.list(), [stored]);
    const out = joinPath(work, `restart-${++counter}`);
    await bob.files.download(stored.id, out).done;
    assert.ok(readFileSync(out).equals(source.data));
    const other = await join(second.port, 'eve', 'other-room');
    assert.equal(await other.files.list(), [], 'files stay in their room');
    await bob.client.close();
    await other.client.close();
  } finally {
    await second.stop();
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
  await withServer(async ({ port }) => {
    const alice = await join(port, 'alice');
    const stored = await alice.files.upload(makeFile(1000).path).done;
    const guest = await join(port, 'guest');
    assert.is((await rejection(guest.files.upload(makeFile(1000).path).done)).code, 'FILES_FORBIDDEN');
    assert.is((await rejection(guest.files.list())).code, 'FILES_FORBIDDEN');
    assert.is((await rejection(guest.files.download(stored.id, joinPath(work, 'nope')).done)).code, 'FILES_FORBIDDEN');
    await alice.client.close();
    await guest.client.close();
  }, {}, [revoke('guest', 'files')]);
});

test('delete removes a file for everyone; only its sender may delete it; expiry removes old files', async () => {
  await withServer(async ({ port, dataDir }) => {
    const alice = await join(port, 'alice');
    const bob = await join(port, 'bob');
    const stored = await alice.files.upload(makeFile(1000).path).done;
    assert.is((await rejection(bob.files.delete(stored.id))).code, 'FILES_NOT_ALLOWED');
    await alice.files.delete(stored.id);
    await waitFor(() => bob.removed.length === 1);
    assert.equal(bob.removed, [stored.id]);
    assert.equal(disk(dataDir).content, []);
    await alice.client.close();
    await bob.client.close();
  }, {}, [revoke('bob', 'moderate')]);
  await withServer(async ({ port, dataDir }) => {
    const alice = await join(port, 'alice');
    const stored = await alice.files.upload(makeFile(1000).path).done;
    await waitFor(() => alice.removed.length === 1, 5000, 'the file to expire');
    assert.equal(alice.removed, [stored.id]);
    assert.equal(await alice.files.list(), []);
    assert.equal(disk(dataDir).content, []);
    await alice.client.close();
  }, { expireAfterMs: 300 });
});

test('the server-side hooks report progress and stored files', async () => {
  const plugin = files();
  const progress: TransferProgress[] = [];
  const stored: string[] = [];
  plugin.hooks.progress.tap('test', (p) => progress.push({ ...p }));
  plugin.hooks.stored.tap('test', (file) => stored.push(file.name));
  const server = await startServer([plugin]);
  try {
    const alice = await join(server.port, 'alice');
    const file = await alice.files.upload(makeFile(700_000, 'hooked.bin').path).done;
    await alice.files.download(file.id, joinPath(work, `hooked-${++counter}`)).done;
    assert.equal(stored, ['hooked.bin']);
    const uploads = progress.filter((p) => p.direction === 'upload');
    const downloads = () => progress.filter((p) => p.direction === 'download');
    assert.is(uploads.at(-1)!.bytes, 700_000);
    await waitFor(() => downloads().at(-1)?.bytes === 700_000);
    assert.is(uploads[0].name, 'hooked.bin');
    await alice.client.close();
  } finally {
    await server.stop();
  }
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
