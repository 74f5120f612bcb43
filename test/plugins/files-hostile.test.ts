/**
 * The files plugin against a client that speaks its ops by hand: lies about size and hash, hostile names,
 * quotas, malformed requests and chunks, too many transfers, requests sent twice. Every refusal is a coded
 * error naming the request's ref, nothing half-done is kept, and the session carries on.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ClientPlugin, ClientPluginContext } from '../../core/client/types.js';
import { startTestServer, waitFor, type TestClient, type TestServer } from '../../core/testing.js';
import { encodeChunk, FILES, FILES_DATA } from '../../plugins/files/protocol.js';
import { files, type FilesOptions } from '../../plugins/files/server.js';

/** A client half that only hands out its context, to send whatever a test wants. */
const raw = (): ClientPlugin<ClientPluginContext> => ({ name: 'raw-files', attach: (ctx) => ctx });

type Raw = TestClient<{ raw: ClientPlugin<ClientPluginContext> }>;

async function withServer(body: (lab: TestServer) => Promise<void>, options: FilesOptions = {}): Promise<void> {
  const lab = await startTestServer({ plugins: [files(options)] });
  try {
    await body(lab);
  } finally {
    await lab.close();
  }
}

/** Joins with the raw client half; `send` and `chunk` speak the control and data channels. */
async function rawJoin(lab: TestServer, name: string) {
  const client: Raw = await lab.connect(name, { room: 'lab', plugins: { raw: raw() } });
  return {
    client,
    send: (message: Record<string, unknown>) => client.raw.send(FILES.name, message),
    chunk: (transfer: number, offset: number, bytes: Uint8Array) => client.raw.send(FILES_DATA.name, encodeChunk(transfer, offset, bytes)),
    /** The transfer id of the `accepted` or `sending` answer to `ref`. */
    transferOf: async (ref: string): Promise<number> => (await client.waitForMessage(FILES.name, { ref })).transfer,
    /** The first error about request `ref`. */
    errorFor: async (ref: string) => {
      await waitFor(() => client.errors.some((e) => e.ref === ref), `an error for ${ref}`);
      return client.errors.find((e) => e.ref === ref)!;
    },
  };
}

/** What the plugin keeps on disk: stored contents and temporary files. */
function disk(dataDir: string): { content: string[]; tmp: string[] } {
  const dir = joinPath(dataDir, 'plugins', 'files');
  return { content: readdirSync(joinPath(dir, 'content')), tmp: readdirSync(joinPath(dir, 'tmp')) };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

test('a lying size, a wrong hash, a path-traversal name, an over-quota and a too-large file are refused; nothing is stored', async () => {
  await withServer(async (lab) => {
    const liar = await rawJoin(lab, 'liar');

    // More bytes than announced.
    liar.send({ op: 'offer', ref: 'long', name: 'a.bin', size: 100 });
    liar.chunk(await liar.transferOf('long'), 0, randomBytes(200));
    assert.is((await liar.errorFor('long')).code, 'FILES_SIZE_MISMATCH');

    // Fewer bytes than announced.
    liar.send({ op: 'offer', ref: 'short', name: 'b.bin', size: 100 });
    const short = await liar.transferOf('short');
    liar.chunk(short, 0, randomBytes(50));
    liar.send({ op: 'end', transfer: short, sha256: '0'.repeat(64) });
    assert.is((await liar.errorFor('short')).code, 'FILES_SIZE_MISMATCH');

    // The right size with a hash that lies.
    liar.send({ op: 'offer', ref: 'hash', name: 'c.bin', size: 1000 });
    const hash = await liar.transferOf('hash');
    liar.chunk(hash, 0, randomBytes(1000));
    liar.send({ op: 'end', transfer: hash, sha256: sha256('other') });
    assert.is((await liar.errorFor('hash')).code, 'FILES_HASH_MISMATCH');

    for (const [ref, name] of [['t1', '../../etc/passwd'], ['t2', '/etc/passwd'], ['t3', 'C:\\Windows\\x.dll'], ['t4', 'a\u0000b'], ['t5', 'CON.txt'], ['t6', 'x\nrm -rf']]) {
      liar.send({ op: 'offer', ref, name, size: 10 });
      assert.is((await liar.errorFor(ref!)).code, 'FILES_BAD_NAME', `name ${JSON.stringify(name)}`);
    }
    liar.send({ op: 'offer', ref: 'big', name: 'big.bin', size: 2_000_001 });
    assert.is((await liar.errorFor('big')).code, 'FILES_TOO_LARGE');
    liar.send({ op: 'offer', ref: 'q1', name: 'q1.bin', size: 2_000_000 });
    await liar.transferOf('q1');
    liar.send({ op: 'offer', ref: 'q2', name: 'q2.bin', size: 1_500_000 });
    assert.is((await liar.errorFor('q2')).code, 'FILES_QUOTA_EXCEEDED', 'an upload in progress counts against the quota');

    // The session is still fine, and nothing was stored or left behind (q1 is still running).
    liar.send({ op: 'list', ref: 'list' });
    assert.equal((await liar.client.waitForMessage(FILES.name, { ref: 'list' })).files, []);
    await lab.waitFor(() => disk(lab.dataDir).tmp.length === 1, 'the refused uploads\' temporary files to go');
    assert.equal(disk(lab.dataDir).content, []);
    await liar.client.close();
    await lab.waitFor(() => disk(lab.dataDir).tmp.length === 0, 'the abandoned upload\'s temporary file to go');
  }, { maxFileBytes: 2_000_000, roomQuotaBytes: 3_000_000 });
});

test('parse refuses a malformed request with a coded error carrying the request\'s ref; the session carries on', async () => {
  await withServer(async (lab) => {
    const fuzzer = await rawJoin(lab, 'fuzzer');
    const malformed: Array<[Record<string, unknown>, string]> = [
      [{ op: 'offer', ref: 'p1', name: 'a.txt', size: '10' }, 'FILES_BAD_REQUEST'],
      [{ op: 'offer', ref: 'p2', name: 5, size: 10 }, 'FILES_BAD_NAME'],
      [{ op: 'offer', ref: 'p3', name: 'a.txt', size: 10, to: 42 }, 'FILES_BAD_REQUEST'],
      [{ op: 'get', ref: 'p4' }, 'FILES_BAD_REQUEST'],
      [{ op: 'get', ref: 'p5', id: 'x', offset: 1.5 }, 'FILES_BAD_REQUEST'],
      [{ op: 'delete', ref: 'p6', id: 7 }, 'FILES_BAD_REQUEST'],
      [{ op: 'end', ref: 'p7', transfer: 1, sha256: 'not hex' }, 'FILES_BAD_REQUEST'],
      [{ op: 'ack', ref: 'p8', transfer: -1, offset: 0 }, 'FILES_BAD_REQUEST'],
      [{ op: 'status', ref: 'p9', transfer: '1' }, 'FILES_BAD_REQUEST'],
      [{ op: 'cancel', ref: 'p10', transfer: 2 ** 32 }, 'FILES_BAD_REQUEST'],
      [{ op: 'drop-table', ref: 'p11' }, 'FILES_BAD_REQUEST'],
    ];
    for (const [request, code] of malformed) {
      fuzzer.send(request);
      const error = await fuzzer.errorFor(String(request.ref));
      assert.is(error.code, code, JSON.stringify(request));
      assert.is(error.channel, 'files');
      assert.not.ok(error.fatal);
    }
    const before = fuzzer.client.errors.length;
    fuzzer.send({ op: 'list' });
    await lab.waitFor(() => fuzzer.client.errors.length > before, 'the refusal of a list without a ref');
    const unnamed = fuzzer.client.errors.at(-1)!;
    assert.is(unnamed.code, 'FILES_BAD_REQUEST');
    assert.is(unnamed.ref, undefined);
    assert.match(unnamed.message, '"ref"', 'it says a list needs a ref');
    fuzzer.send({ op: 'list', ref: 'fine' });
    assert.equal((await fuzzer.client.waitForMessage(FILES.name, { ref: 'fine' })).files, []);
  });
});

test('malformed chunks and chunks for unknown transfers get coded errors; the session carries on', async () => {
  await withServer(async (lab) => {
    const fuzzer = await rawJoin(lab, 'fuzzer');
    const errors = fuzzer.client.errors;
    fuzzer.client.raw.send(FILES_DATA.name, new Uint8Array(5));
    fuzzer.chunk(99, 0, new Uint8Array(10));
    fuzzer.send({ op: 'explode' });
    fuzzer.send({ op: 'offer', ref: 'x', name: 'ok.txt', size: -1 });
    await lab.waitFor(() => errors.length === 4, 'four errors');
    assert.equal(errors.map((e) => e.code), ['FILES_BAD_CHUNK', 'FILES_NO_SUCH_TRANSFER', 'FILES_BAD_REQUEST', 'FILES_BAD_REQUEST']);
    assert.equal(errors.map((e) => e.channel), ['files-data', 'files-data', 'files', 'files']);
    // A download acknowledged beyond what was sent is refused.
    fuzzer.send({ op: 'offer', ref: 'up', name: 'ok.txt', size: 4 });
    const up = await fuzzer.transferOf('up');
    fuzzer.chunk(up, 0, new TextEncoder().encode('abcd'));
    fuzzer.send({ op: 'end', transfer: up, sha256: sha256('abcd') });
    const { id } = (await fuzzer.client.waitForMessage(FILES.name, { op: 'stored' })).file;
    fuzzer.send({ op: 'get', ref: 'down', id });
    const sending = await fuzzer.client.waitForMessage(FILES.name, { ref: 'down' });
    const down: number = sending.transfer;
    fuzzer.send({ op: 'ack', transfer: down, offset: 1_000_000 });
    await lab.waitFor(() => errors.length === 5, 'a fifth error');
    assert.is(errors[4]!.code, 'FILES_BAD_REQUEST');
    assert.is(sending.window, 2 * 1024 * 1024, 'sending tells the download window');
    // Binary acks (empty chunks): one past the sent bytes and one carrying bytes are refused; a true one completes it.
    fuzzer.chunk(down, 5, new Uint8Array(0));
    fuzzer.chunk(down, 4, new Uint8Array(1));
    await lab.waitFor(() => errors.length === 7, 'seven errors');
    assert.equal(errors.slice(5).map((e) => e.code), ['FILES_BAD_CHUNK', 'FILES_BAD_CHUNK']);
    fuzzer.chunk(down, 4, new Uint8Array(0));
    fuzzer.send({ op: 'status', transfer: down });
    await lab.waitFor(() => errors.length === 8, 'eight errors');
    assert.is(errors[7]!.code, 'FILES_NO_SUCH_TRANSFER', 'the acknowledged download is complete and gone');
    assert.is(fuzzer.client.client.state, 'open');
  });
});

test('a session may run only maxTransfersPerSession transfers at once', async () => {
  await withServer(async (lab) => {
    const greedy = await rawJoin(lab, 'greedy');
    for (const ref of ['a', 'b', 'c']) greedy.send({ op: 'offer', ref, name: `${ref}.bin`, size: 10 });
    const refused = await greedy.client.waitForError('FILES_TOO_MANY_TRANSFERS');
    assert.is(refused.ref, 'c');
    assert.is(greedy.client.errors.length, 1);
  }, { maxTransfersPerSession: 2 });
});

test('an offer or get sent again with the same ref is answered again and starts nothing; a second end is ignored', async () => {
  await withServer(async (lab) => {
    const eager = await rawJoin(lab, 'eager');
    eager.send({ op: 'offer', ref: 'once', name: 'once.txt', size: 4 });
    eager.send({ op: 'offer', ref: 'once', name: 'once.txt', size: 4 });
    const first = await eager.client.waitForMessage(FILES.name, { ref: 'once' });
    const again = await eager.client.waitForMessage(FILES.name, { ref: 'once' });
    assert.equal(again, first, 'the same accepted, the same transfer');
    eager.chunk(first.transfer, 0, new TextEncoder().encode('abcd'));
    eager.send({ op: 'end', transfer: first.transfer, sha256: sha256('abcd') });
    eager.send({ op: 'end', transfer: first.transfer, sha256: sha256('abcd') });
    const { id } = (await eager.client.waitForMessage(FILES.name, { op: 'stored' })).file;

    // Two transfers at most: a get sent twice takes one, so one more offer fits and the next does not.
    eager.send({ op: 'offer', ref: 'hold', name: 'hold.txt', size: 4 });
    await eager.transferOf('hold');
    eager.send({ op: 'get', ref: 'twice', id });
    eager.send({ op: 'get', ref: 'twice', id });
    const sending = await eager.client.waitForMessage(FILES.name, { ref: 'twice' });
    assert.equal(await eager.client.waitForMessage(FILES.name, { ref: 'twice' }), sending);
    eager.send({ op: 'offer', ref: 'third', name: 'third.txt', size: 4 });
    assert.is((await eager.errorFor('third')).code, 'FILES_TOO_MANY_TRANSFERS');
    assert.equal(eager.client.errors.map((e) => e.code), ['FILES_TOO_MANY_TRANSFERS'], 'the second end was ignored');
    assert.equal(eager.client.messages(FILES.name).filter((m) => m.op === 'stored').length, 1);
  }, { maxTransfersPerSession: 2 });
});

test.run();
