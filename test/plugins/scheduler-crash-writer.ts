/**
 * Child process of scheduler-crash.test.ts: writes meetings into a store as fast as it can, through the
 * scheduler's own MeetingStore, printing the id of each one once its write has committed, until it is killed.
 *
 * Usage: tsx scheduler-crash-writer.ts <dataDir> <id prefix, one letter per run>
 */
import { openStore } from '../../core/store.js';
import { MeetingStore } from '../../plugins/scheduler/meetings.js';
import type { Meeting } from '../../plugins/scheduler/protocol.js';

const [dataDir, prefix] = process.argv.slice(2);
if (!dataDir || !prefix) throw new Error('usage: scheduler-crash-writer.ts <dataDir> <id prefix>');
const store = openStore(dataDir);
const meetings = new MeetingStore(store.forPlugin('scheduler'));
await meetings.migrate();
const startMs = Date.now() + 24 * 60 * 60 * 1000;

for (let n = 0; ; n++) {
  const now = Date.now();
  const meeting: Meeting = {
    id: `${prefix}${n.toString(16).padStart(9, '0')}`,
    title: `Meeting ${n}`,
    room: `room-${n % 7}`,
    start: new Date(startMs + n * 60_000).toISOString(),
    startMs: startMs + n * 60_000,
    durationMinutes: 30,
    description: 'x'.repeat(n % 500),
    organiser: 'writer',
    createdAt: now,
    updatedAt: now,
  };
  await meetings.insert(meeting);
  // Every third meeting is also changed, so the kill can land in an update too.
  if (n % 3 === 0) await meetings.update({ ...meeting, title: `Meeting ${n} (moved)`, durationMinutes: 45, updatedAt: now }, false);
  process.stdout.write(`${meeting.id}\n`);
}
