import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import { filesClient } from '../../plugins/files/client-node.js';
import { files } from '../../plugins/files/server.js';
import { formatBytes, formatDuration, ProgressBar } from '../../cli/progress.js';
import { startServer, waitFor, type TestServer } from '../helpers/server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'cli/confab.mjs');
const dir = mkdtempSync(join(tmpdir(), 'confab-cli-file-'));

/** Runs `confab file …` (stdout is a pipe, so the output is plain) and resolves with its exit code and output. */
function confab(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, 'file', ...args], { cwd: dir, timeout: 60_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

let server: TestServer;
test.before(async () => {
  server = await startServer([files()]);
});
test.after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('confab file send, list and get: the file goes round, with plain output on a pipe', async () => {
  const data = randomBytes(700_000);
  writeFileSync(join(dir, 'deck.pdf'), data);
  const address = ['--server', `127.0.0.1:${server.port}`, '--room', 'cli'];
  const sent = await confab(['send', 'deck.pdf', ...address]);
  assert.is(sent.code, 0, sent.stderr);
  const [id, name] = sent.stdout.trim().split('\n').at(-1)!.split(/\s+/);
  assert.is(name, 'deck.pdf');
  assert.match(sent.stdout, createHash('sha256').update(data).digest('hex'));
  assert.not.match(sent.stdout, '\r', 'no bar is drawn on a pipe');

  const listed = await confab(['list', ...address]);
  assert.is(listed.code, 0, listed.stderr);
  const columns = listed.stdout.trim().split('\t');
  assert.is(columns[0], id);
  assert.is(columns[1], String(data.length));
  assert.is(columns.at(-1), 'deck.pdf');

  const got = await confab(['get', id, '--out', 'copy.pdf', ...address]);
  assert.is(got.code, 0, got.stderr);
  assert.ok(readFileSync(join(dir, 'copy.pdf')).equals(data));
  assert.match(got.stdout, 'verified');
});

test('confab file send --to NAME shares with that participant only; an unknown name and a bad id fail clearly', async () => {
  const bob = new ConfabClient({ url: `tcp://127.0.0.1:${server.port}`, name: 'bob', room: 'private' });
  const bobFiles = bob.use(filesClient());
  const announced: string[] = [];
  bobFiles.on('file', (file) => announced.push(file.name));
  await bob.connect();
  writeFileSync(join(dir, 'secret.txt'), 'for bob');
  const address = ['--server', `127.0.0.1:${server.port}`, '--room', 'private'];
  const sent = await confab(['send', 'secret.txt', '--to', 'bob', ...address]);
  assert.is(sent.code, 0, sent.stderr);
  await waitFor(() => announced.length === 1);
  const others = await confab(['list', ...address, '--as', 'eve']);
  assert.is(others.stdout, '', 'eve sees nothing');

  const nobody = await confab(['send', 'secret.txt', '--to', 'nobody', ...address]);
  assert.is(nobody.code, 1);
  assert.match(nobody.stderr, 'FILES_NO_SUCH_PEER');
  const missing = await confab(['get', 'ffffffffffffffffffff', ...address]);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, 'FILES_NO_SUCH_FILE');
  const usage = await confab(['fetch']);
  assert.is(usage.code, 2);
  await bob.close();
});

test('ProgressBar draws in place on a terminal and only a final line elsewhere', () => {
  const written: string[] = [];
  const tty = { isTTY: true, columns: 100, write: (text: string) => written.push(text) };
  const bar = new ProgressBar({ label: 'big.iso', total: 2_000_000, stream: tty, redrawMs: 0 });
  bar.update(500_000);
  bar.update(1_000_000);
  bar.done('sent');
  assert.is(written.length, 3);
  assert.match(written[0], /^\rbig\.iso \[#+\.+\]  25%  500 kB \/ 2\.00 MB/);
  assert.match(written[1], ' 50%');
  assert.match(written[2], /^\rbig\.iso  2\.00 MB  sent in/);
  assert.ok(written[2].endsWith('\n'));

  const piped: string[] = [];
  const plain = new ProgressBar({ label: 'big.iso', total: 100, stream: { write: (text: string) => piped.push(text) } });
  plain.update(50);
  plain.fail('FILES_HASH_MISMATCH');
  assert.equal(piped, ['big.iso  failed at 50%: FILES_HASH_MISMATCH\n']);
  assert.is(formatBytes(999), '999 B');
  assert.is(formatBytes(1_073_741_824), '1.07 GB');
  assert.is(formatDuration(3725), '1:02:05');
});

test.run();
