import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import { schedulerClient } from '../../plugins/scheduler/client.js';
import { scheduler } from '../../plugins/scheduler/server.js';
import { checkMeeting } from '../../plugins/scheduler/validate.js';
import { startTestServer } from '../../core/testing.js';

const WRITER = join(dirname(fileURLToPath(import.meta.url)), 'scheduler-crash-writer.ts');

/** Runs the writer until it has committed `count` meetings, kills it with SIGKILL; resolves with the ids it committed. */
function writeThenKill(dataDir: string, prefix: string, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir, prefix], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let killed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (!killed && out.split('\n').length > count) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    // 'close', not 'exit': by then every line the writer printed has been read.
    child.once('close', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`the writer exited with ${code ?? signal} before it was killed: ${err}`));
      // The last line may be cut short by the kill: only whole lines name committed meetings.
      resolve(out.split('\n').slice(0, -1));
    });
  });
}

test('a writer killed with SIGKILL mid-write leaves a consistent store that the next server opens and serves', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'confab-scheduler-crash-'));
  try {
    const committed: string[] = [];
    for (const [prefix, count] of [['a', 400], ['b', 1500], ['c', 3000]] as const) {
      committed.push(...await writeThenKill(dataDir, prefix, count));
    }

    const db = new Database(join(dataDir, 'confab.db'));
    assert.is(db.pragma('integrity_check', { simple: true }), 'ok');
    const rows = db.prepare('SELECT id, title, room, start, duration_minutes AS durationMinutes, description FROM scheduler_meetings').all() as
      Array<{ id: string; title: string; room: string; start: string; durationMinutes: number; description: string }>;
    const stored = new Set(rows.map((row) => row.id));
    const reported = new Set(committed);
    for (const id of committed) assert.ok(stored.has(id), `meeting ${id} was reported committed but is missing`);
    assert.ok(rows.length - committed.length <= 3, 'at most the one write in flight per run is there without being reported');
    for (const row of rows) {
      // Every row is whole: it passes the same checks as a meeting a client creates.
      checkMeeting(row, Date.now(), Date.now());
      if (reported.has(row.id) && Number.parseInt(row.id.slice(1), 16) % 3 === 0) assert.match(row.title, /\(moved\)$/);
    }
    db.close();

    const server = await startTestServer({ plugins: [scheduler({ maxMeetings: 10_000 })], server: { dataDir } });
    try {
      const client = new ConfabClient({ url: `tcp://127.0.0.1:${server.port}`, name: 'checker', room: 'lobby' });
      const schedule = client.use(schedulerClient());
      await client.connect();
      const listed = await schedule.list();
      assert.is(listed.length, rows.length);
      const created = await schedule.create({ title: 'after the crash', room: 'lab', start: new Date(Date.now() + 3_600_000).toISOString(), durationMinutes: 10 });
      assert.is((await schedule.get(created.id)).title, 'after the crash');
      await client.close();
    } finally {
      await server.close({ keepData: true });
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();
