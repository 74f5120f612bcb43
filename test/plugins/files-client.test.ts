/**
 * The files client half's own machinery (plugins/files/client-transfer.ts and the loops): chunks that come
 * with a download's answer before its loop starts are kept for it, an upload cancelled before its offer is
 * answered is ended on the server too, and a transfer whose session is gone after a server restart fails
 * with FILES_SESSION_LOST instead of waiting forever, a download keeping what it wrote.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import { ConfabError, isConfabError } from '../../core/errors.js';
import { startTestServer, type TestServer } from '../../core/testing.js';
import { RunningTransfers, type Running } from '../../plugins/files/client-transfer.js';
import type { FileSink, FileSource } from '../../plugins/files/client.js';
import { filesClient } from '../../plugins/files/client-node.js';
import { files, getFilesHooks } from '../../plugins/files/server.js';

const MIB = 2 ** 20;

/** A running transfer that records what it is handed. */
function recorder(ref: string) {
  const chunks: Array<[number, number]> = [];
  const errors: string[] = [];
  const running: Running = {
    ref,
    onChunk: (offset, bytes) => void chunks.push([offset, bytes.length]),
    onResumed: () => undefined,
    fail: (error) => void errors.push(error.code),
  };
  return { running, chunks, errors };
}

test('RunningTransfers: what arrives for a transfer not started yet is kept while a loop waits, and handed over at start()', () => {
  const transfers = new RunningTransfers();
  transfers.chunk(7, 0, new Uint8Array(3));
  const release = transfers.expect();
  const bytes = new Uint8Array(5);
  transfers.chunk(7, 0, bytes);
  bytes.fill(1); // the frame's buffer is reused: the kept chunk is a copy
  transfers.chunk(7, 5, new Uint8Array(5));
  transfers.error(new ConfabError('FILES_STORAGE_FAILED', 'disk read failed'));
  const withRef = new ConfabError('FILES_TRANSFER_STALLED', 'stalled');
  withRef.ref = 'r1';
  transfers.error(withRef);
  const download = recorder('r1');
  transfers.start(7, download.running);
  release();
  assert.equal(download.chunks, [[0, 5], [5, 5]], 'the chunks that came while the loop waited, not the one before');
  assert.equal(download.errors, ['FILES_TRANSFER_STALLED'], 'the error with its ref');
  transfers.chunk(7, 10, new Uint8Array(2));
  assert.equal(download.chunks.at(-1), [10, 2], 'later chunks go straight to it');
  transfers.end(7);
  transfers.chunk(8, 0, new Uint8Array(2));
  const late = recorder('r2');
  transfers.start(8, late.running);
  assert.equal(late.chunks, [], 'with no loop waiting, chunks of unknown transfers are dropped');
});

test('an upload cancelled while its offer waits for the answer is ended on the server too', async () => {
  const lab = await startTestServer({ plugins: [files()] });
  try {
    const failed: string[] = [];
    getFilesHooks(lab.server).failed.tap('test', (_progress, error) => void failed.push(error.code));
    const alice = await lab.connect('alice', { plugins: { files: filesClient() } });
    const upload = alice.files.upload({ name: 'never.bin', size: MIB, read: async (_offset, length) => new Uint8Array(length) });
    setImmediate(() => upload.cancel()); // after the offer went out, before its answer came back
    assert.is((await rejection(upload.done)).code, 'FILES_CANCELLED');
    await lab.waitFor(() => failed.includes('FILES_CANCELLED'), 'the server to end the upload');
    assert.equal(alice.errors, [], 'no error about it');
  } finally {
    await lab.close();
  }
});

/** A server on a port and data directory that it can be restarted on. */
async function restartable(): Promise<{ first: TestServer; restart(): Promise<TestServer> }> {
  const first = await startTestServer({ plugins: [files()] });
  return { first, restart: () => startTestServer({ plugins: [files()], server: { port: first.port, dataDir: first.dataDir } }) };
}

/** Resolves with the error a promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<ConfabError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isConfabError(error), `a ConfabError, got ${String(error)}`);
    return error;
  }
  throw new Error('expected a rejection');
}

test('a transfer whose session is gone after a restart fails with FILES_SESSION_LOST; a download keeps what it wrote', async () => {
  const { first, restart } = await restartable();
  let second: TestServer | undefined;
  const alice = new ConfabClient({ url: first.url, name: 'alice', room: 'lab', backoff: { initialMs: 20, maxMs: 200 } });
  try {
    const api = alice.use(filesClient());
    await alice.connect();
    const stored = await api.upload({ name: 'stored.bin', size: 3 * MIB, read: async (_offset, length) => new Uint8Array(length) }).done;

    // An upload whose source stalls after its first chunk, and a download whose sink stalls after its first write.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let reads = 0;
    const slow: FileSource = {
      name: 'slow.bin',
      size: 4 * MIB,
      read: async (_offset, length) => {
        if (reads++ > 0) await gate;
        return new Uint8Array(length);
      },
    };
    let writes = 0;
    let keptPartial: boolean | undefined;
    const sink: FileSink = {
      write: async () => {
        if (writes++ > 0) await gate;
      },
      close: async () => undefined,
      abort: async (keepPartial) => void (keptPartial = keepPartial),
    };
    const upload = api.upload(slow);
    const download = api.download(stored.id, sink);
    await Promise.all([
      new Promise((resolve) => upload.once('progress', resolve)),
      new Promise((resolve) => download.once('progress', resolve)),
    ]);

    const rejoined = new Promise((resolve) => alice.once('rejoined', resolve));
    await first.close({ keepData: true });
    second = await restart();
    await rejoined;
    open();
    assert.is((await rejection(upload.done)).code, 'FILES_SESSION_LOST');
    assert.is((await rejection(download.done)).code, 'FILES_SESSION_LOST');
    assert.is(keptPartial, true, 'the download may continue from what it wrote');
    assert.equal(await api.list(), [stored], 'the new session lists the files');
  } finally {
    await alice.close();
    await first.close();
    await second?.close();
  }
});

test.run();
