import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import type { Plugin } from '../../core/types.js';
import { filesClient } from '../../plugins/files/client-node.js';
import { files } from '../../plugins/files/server.js';
import { formatBytes, formatDuration, ProgressBar } from '../../cli/progress.js';
import { startTestServer, waitFor, type TestServer } from '../../core/testing.js';

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
/** How many list answers were held back in room `quiet`. */
let held = 0;

/** A plugin that swallows the files list answers of room `quiet`, so a `confab file list` there waits. */
function holdLists(): Plugin {
  return {
    name: 'hold-lists',
    setup(ctx) {
      ctx.hooks.outgoing.tap('hold-lists', (out) => {
        if (!out || out.to?.room.name !== 'quiet' || (out.message as { op?: string }).op !== 'list') return out;
        held++;
        return false;
      });
    },
  };
}

test.before(async () => {
  server = await startTestServer({ plugins: [files(), holdLists()] });
});
test.after(async () => {
  await server.close();
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
  const [header, row] = listed.stdout.trim().split('\n');
  assert.match(header!, /^ID\s+SIZE\s+SHARED\s+FROM\s+NAME$/);
  assert.match(row!, new RegExp(`^${id}\\s+700 kB\\s+${new Date().getFullYear()}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+confab-cli\\s+deck\\.pdf$`), 'human size and local time');
  const json = await confab(['list', '--json', ...address]);
  const files = JSON.parse(json.stdout) as Array<{ id: string; size: number; name: string; createdAt: number }>;
  assert.equal(files.map((f) => [f.id, f.size, f.name]), [[id, data.length, 'deck.pdf']]);

  const got = await confab(['get', id, '--out', 'copy.pdf', ...address]);
  assert.is(got.code, 0, got.stderr);
  assert.ok(readFileSync(join(dir, 'copy.pdf')).equals(data));
  assert.match(got.stdout, `saved ${join(dir, 'copy.pdf')}  700000 bytes`);
  assert.match(got.stdout, 'verified');
});

test('confab file get never overwrites without --force, names the path it wrote, and refuses a device', async () => {
  writeFileSync(join(dir, 'small.bin'), 'new content');
  const address = ['--server', `http://127.0.0.1:${server.port}/`, '--room', 'overwrite'];
  const sent = await confab(['send', 'small.bin', ...address]);
  const id = sent.stdout.trim().split('\n').at(-1)!.split(/\s+/)[0]!;
  writeFileSync(join(dir, 'mine.bin'), 'precious');

  const refused = await confab(['get', id, '--out', 'mine.bin', ...address]);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, `confab: CLI_OUT_EXISTS: ${join(dir, 'mine.bin')} exists; add --force to replace it, or give another --out`);
  assert.is(readFileSync(join(dir, 'mine.bin'), 'utf8'), 'precious', 'untouched');
  const forced = await confab(['get', id, '--out', 'mine.bin', '--force', ...address]);
  assert.is(forced.code, 0, forced.stderr);
  assert.is(readFileSync(join(dir, 'mine.bin'), 'utf8'), 'new content');

  const intoDir = await confab(['get', id, ...address]);
  assert.is(intoDir.code, 0, intoDir.stderr);
  assert.match(intoDir.stdout, `saved ${join(dir, 'small (1).bin')}`, 'the name actually written');
  assert.is(readFileSync(join(dir, 'small.bin'), 'utf8'), 'new content');

  for (const device of ['/dev/full', '/dev/null']) {
    const result = await confab(['get', id, '--out', device, '--force', ...address]);
    assert.is(result.code, 1, device);
    assert.match(result.stderr, `CLI_OUT_NOT_A_FILE: ${device} is not a regular file`);
    assert.ok(statSync(device).isCharacterDevice(), `${device} is still a device`);
  }
  const noDir = await confab(['get', id, '--out', 'missing/dir/x.bin', ...address]);
  assert.is(noDir.code, 1);
  assert.match(noDir.stderr, 'CLI_OUT_NO_DIRECTORY');
  assert.is((await confab(['list', ...address, '--room', 'nobody-here'])).stdout, 'No files in room nobody-here.\n');
});

test('confab file joins quietly: participants see no one come and go, and Ctrl-C leaves at once with BYE', async () => {
  const alice = new ConfabClient({ url: `tcp://127.0.0.1:${server.port}`, name: 'alice', room: 'quiet' });
  const seen: string[] = [];
  alice.on('peerJoined', (peer) => seen.push(`joined ${peer.name}`));
  alice.on('peerLeft', (peer) => seen.push(`left ${peer.name}`));
  await alice.connect();
  try {
  // In this room the server never answers a list (holdLists), so the command waits until it is interrupted.
  const child = spawn(process.execPath, [CLI, 'file', 'list', '--server', `127.0.0.1:${server.port}`, '--room', 'quiet'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const cli = () => [...server.server.sessions.values()].some((s) => s.room.name === 'quiet' && s.name === 'confab-cli');
  await waitFor(() => held > 0, 'the list to be asked for', 20_000);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  child.kill('SIGINT');
  assert.is(await exited, 130, stderr);
  assert.match(stderr, /SIGINT, leaving the room/);
  assert.not.ok(cli(), 'no ghost session: BYE ended it at once');
  assert.equal(seen, [], 'no participant came or went');
  } finally {
    await alice.close();
  }
});

test('confab file: clear errors for a port that is not Confab, a server URL it cannot use, and an empty --as', async () => {
  const web = createHttpServer((_request, response) => response.end('not confab'));
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  try {
    const port = (web.address() as { port: number }).port;
    const http = await confab(['list', '--server', `127.0.0.1:${port}`]);
    assert.is(http.code, 1);
    assert.match(http.stderr, new RegExp(`^confab: NOT_A_CONFAB_SERVER: 127\\.0\\.0\\.1:${port} answered in HTTP`));
    assert.not.match(http.stderr, /FRAME_TOO_LARGE|\n\s+at /, 'no framing jargon, no stack');
  } finally {
    web.closeAllConnections();
    await new Promise((resolve) => web.close(resolve));
  }
  const badUrl = await confab(['list', '--server', 'ftp://127.0.0.1:21']);
  assert.is(badUrl.code, 2);
  assert.match(badUrl.stderr, /--server must be host:port or a URL such as http:\/\/127\.0\.0\.1:5000/);
  const noName = await confab(['list', '--server', `127.0.0.1:${server.port}`, '--as', ' ']);
  assert.is(noName.code, 2);
  assert.match(noName.stderr, /^confab file: --as must not be empty/);
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
  await waitFor(() => announced.length === 1, 'bob to hear of the file');
  const others = await confab(['list', ...address, '--as', 'eve']);
  assert.is(others.stdout, 'No files in room private.\n', 'eve sees nothing');
  await bob.close();
  const later = await confab(['list', ...address, '--as', 'bob']);
  assert.match(later.stdout, /secret\.txt/, 'bob still finds his private file after he left');

  const nobody = await confab(['send', 'secret.txt', '--to', 'nobody', ...address]);
  assert.is(nobody.code, 1);
  assert.match(nobody.stderr, 'FILES_NO_SUCH_PEER');
  const missing = await confab(['get', 'ffffffffffffffffffff', ...address]);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, 'FILES_NO_SUCH_FILE: no file with id ffffffffffffffffffff is shared in room private');
  const usage = await confab(['fetch']);
  assert.is(usage.code, 2);
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
