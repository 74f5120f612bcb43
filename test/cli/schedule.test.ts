import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withLocalZone } from '../../cli/schedule.js';
import type { Meeting } from '../../plugins/scheduler/protocol.js';
import { scheduler } from '../../plugins/scheduler/server.js';
import { parseIsoDateTime } from '../../plugins/scheduler/validate.js';
import { startTestServer, type TestServer } from '../../core/testing.js';

const CLI = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'cli/confab.mjs');

/** Runs `confab …` to its end; resolves with its exit code and output. */
function confab(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CONFAB_TOKEN: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

async function withServer(body: (server: TestServer) => Promise<void>, plugins = [scheduler()]): Promise<void> {
  const server = await startTestServer({ plugins: plugins });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

test('confab schedule add, list, update and rm manage meetings on a server', async () => {
  await withServer(async ({ port }) => {
    const server = `127.0.0.1:${port}`;
    const start = inAnHour();
    const added = await confab(['schedule', 'add', '--server', server, '--name', 'alice', '--title', 'Lab review',
      '--room', 'lab1', '--start', start, '--duration', '45', '--description', 'bring the graphs']);
    assert.is(added.code, 0, added.stderr);
    const id = /^Scheduled ([0-9a-f]{10}): "Lab review" in room lab1/.exec(added.stdout)?.[1];
    assert.ok(id, added.stdout);

    const listed = await confab(['schedule', 'list', '--server', server, '--json']);
    assert.is(listed.code, 0, listed.stderr);
    const meetings = JSON.parse(listed.stdout) as Meeting[];
    assert.equal(meetings.map((m) => [m.id, m.title, m.room, m.start, m.durationMinutes, m.description, m.organiser]),
      [[id, 'Lab review', 'lab1', start, 45, 'bring the graphs', 'alice']]);

    const table = await confab(['schedule', 'list', '--server', server]);
    assert.match(table.stdout, /^ID\s+START\s+MIN\s+ROOM\s+TITLE\s+ORGANISER$/m);
    assert.match(table.stdout, new RegExp(`^${id}\\s+${start.replace(/[.+]/g, '\\$&')}\\s+45\\s+lab1\\s+Lab review\\s+alice$`, 'm'));

    const updated = await confab(['schedule', 'update', id!, '--server', server, '--name', 'alice', '--room', 'lab2']);
    assert.is(updated.code, 0, updated.stderr);
    assert.match(updated.stdout, /in room lab2/);

    const removed = await confab(['schedule', 'rm', id!, '--server', server, '--name', 'alice']);
    assert.is(removed.code, 0, removed.stderr);
    assert.is((await confab(['schedule', 'list', '--server', server])).stdout, 'No upcoming meetings.\n');
  });
});

test('confab schedule prints the server\'s error code and exits 1 when it refuses, naming the flag', async () => {
  await withServer(async ({ port }) => {
    const result = await confab(['schedule', 'add', '--server', `127.0.0.1:${port}`, '--title', 'Old', '--room', 'lab',
      '--start', '2020-01-01T10:00:00Z', '--duration', '30']);
    assert.is(result.code, 1);
    assert.match(result.stderr, /^confab: SCHEDULER_START_IN_PAST: --start: start 2020-01-01T10:00:00Z is in the past/);
    const blank = await confab(['schedule', 'add', '--server', `http://127.0.0.1:${port}`, '--title', ' ', '--room', 'lab', '--start', inAnHour(), '--duration', '30']);
    assert.match(blank.stderr, /^confab: SCHEDULER_TITLE_EMPTY: --title: /);
    assert.not.match(blank.stderr + result.stderr, /durationMinutes/);
    const missing = await confab(['schedule', 'rm', '0123456789', '--server', `127.0.0.1:${port}`]);
    assert.is(missing.code, 1);
    assert.match(missing.stderr, /SCHEDULER_NOT_FOUND/);
  });
  await withServer(async ({ port }) => {
    const result = await confab(['schedule', 'list', '--server', `127.0.0.1:${port}`]);
    assert.is(result.code, 1);
    assert.match(result.stderr, /UNKNOWN_CHANNEL: .*does not run the scheduler plugin/);
  }, []);
});

test('confab schedule refuses wrong usage with exit code 2 before connecting', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['schedule'], /say what to do/],
    [['schedule', 'explode'], /unknown subcommand "explode"/],
    [['schedule', 'rm'], /rm needs the meeting's id/],
    [['schedule', 'add', '--title', 'x'], /add needs --room, --start, --duration/],
    [['schedule', 'add', '--title', 'x', '--room', 'r', '--start', inAnHour(), '--duration', '1h'], /--duration must be a whole number/],
    [['schedule', 'add', '--title', 'x', '--room', 'r', '--start', inAnHour(), '--duration', '0'], /--duration must be a whole number of minutes from 1 to 1440, got "0"/],
    [['schedule', 'add', '--title', 'x', '--room', 'r', '--start', inAnHour(), '--duration', '1441'], /from 1 to 1440/],
    [['schedule', 'list', '--name', ''], /--name must not be empty/],
    [['schedule', 'update', 'abc'], /update needs at least one of/],
    [['schedule', 'list', '--server', 'nowhere'], /--server must be host:port/],
    [['schedule', 'list', '--bogus'], /bogus/],
  ];
  for (const [args, message] of cases) {
    const result = await confab(args);
    assert.is(result.code, 2, args.join(' '));
    assert.match(result.stderr, message);
  }
});

test('without a time zone, --start is local time, as the help says; anyone may update on a server without auth, as the help says', async () => {
  await withServer(async ({ port }) => {
    const server = `127.0.0.1:${port}`;
    const help = await confab(['schedule', '--help']);
    assert.match(help.stdout, /in your local time/);
    assert.match(help.stdout, /Without the auth plugin every session has every grant, so anyone may/);
    const start = new Date(Date.now() + 86_400_000);
    const pad = (n: number) => String(n).padStart(2, '0');
    const local = `${start.getFullYear()}-${pad(start.getMonth() + 1)}-${pad(start.getDate())} ${pad(start.getHours())}:${pad(start.getMinutes())}`;
    const added = await confab(['schedule', 'add', '--server', server, '--name', 'alice', '--title', 'Local', '--room', 'lab', '--start', local, '--duration', '30']);
    assert.is(added.code, 0, added.stderr);
    const id = /^Scheduled ([0-9a-f]{10})/.exec(added.stdout)![1]!;
    const listed = JSON.parse((await confab(['schedule', 'list', '--server', server, '--json'])).stdout) as Meeting[];
    assert.is(listed[0]!.startMs, new Date(start.getFullYear(), start.getMonth(), start.getDate(), start.getHours(), start.getMinutes()).getTime());
    const byBob = await confab(['schedule', 'update', id, '--server', server, '--name', 'bob', '--title', 'Renamed by bob']);
    assert.is(byBob.code, 0, byBob.stderr);
  });
});

test('withLocalZone() adds this machine\'s offset to a time without a zone and leaves others alone', () => {
  const local = withLocalZone('2030-03-01T14:00');
  assert.match(local, /^2030-03-01T14:00:00[+-]\d{2}:\d{2}$/);
  assert.is(parseIsoDateTime(local), new Date(2030, 2, 1, 14, 0).getTime());
  assert.is(parseIsoDateTime(withLocalZone('2030-03-01 14:00:30')), new Date(2030, 2, 1, 14, 0, 30).getTime());
  assert.is(withLocalZone('2030-03-01T14:00Z'), '2030-03-01T14:00Z');
  assert.is(withLocalZone('tomorrow'), 'tomorrow');
});

test.run();
