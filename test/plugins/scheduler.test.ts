import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import { definePlugin } from '../../core/config.js';
import { isConfabError, type ConfabError } from '../../core/errors.js';
import { FrameType } from '../../core/protocol.js';
import { schedulerClient, type SchedulerApi, type SchedulerEvents } from '../../plugins/scheduler/client.js';
import { parseSchedulerRequest, type Meeting, type MeetingInput } from '../../plugins/scheduler/protocol.js';
import { scheduler } from '../../plugins/scheduler/server.js';
import { parseIsoDateTime } from '../../plugins/scheduler/validate.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, waitFor, type TestServer } from '../../core/testing.js';

interface Member {
  client: ConfabClient;
  schedule: SchedulerApi;
  started: Meeting[];
  changes: SchedulerEvents['changed'][0][];
}

const HOUR_MS = 60 * 60 * 1000;

/** An ISO start `ms` from now, written with a +02:00 offset as a person in that zone would. */
function startIn(ms: number): string {
  const local = new Date(Date.now() + ms + 2 * HOUR_MS).toISOString().replace('Z', '');
  return `${local}+02:00`;
}

function input(overrides: Partial<MeetingInput> = {}): MeetingInput {
  return { title: 'Stand-up', room: 'lab1', start: startIn(HOUR_MS), durationMinutes: 15, ...overrides };
}

async function join(port: number, name: string, room = 'lobby'): Promise<Member> {
  const client = new ConfabClient({ url: `tcp://127.0.0.1:${port}`, name, room, backoff: { initialMs: 20, maxMs: 100 } });
  const schedule = client.use(schedulerClient());
  const member: Member = { client, schedule, started: [], changes: [] };
  schedule.on('started', (meeting) => member.started.push(meeting));
  schedule.on('changed', (change) => member.changes.push(change));
  await client.connect();
  return member;
}

/** A plugin for these tests only: sessions whose name starts with `guest` lose the moderate grant, as auth would do. */
const guestsCannotModerate = definePlugin({
  name: 'guest-grants',
  setup(ctx) {
    ctx.hooks.sessionJoined.tap('guest-grants', (session) => {
      if (session.name.startsWith('guest')) session.grants.delete('moderate');
    });
  },
});

async function withServer(body: (t: TestServer) => Promise<void>): Promise<void> {
  const server = await startTestServer({ plugins: [scheduler(), guestsCannotModerate] });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

async function rejection(promise: Promise<unknown>): Promise<ConfabError> {
  try {
    await promise;
  } catch (error) {
    return error as ConfabError;
  }
  throw new Error('expected a rejection');
}

test('parseIsoDateTime() reads offsets and Z, and refuses no time zone and impossible dates', () => {
  assert.is(parseIsoDateTime('2030-03-01T14:00:00+01:00'), Date.UTC(2030, 2, 1, 13, 0, 0));
  assert.is(parseIsoDateTime('2030-03-01T14:00+0130'), Date.UTC(2030, 2, 1, 12, 30, 0));
  assert.is(parseIsoDateTime('2030-03-01T14:00:00.250Z'), Date.UTC(2030, 2, 1, 14, 0, 0, 250));
  assert.is(parseIsoDateTime('2030-03-01T01:00:00-05:00'), Date.UTC(2030, 2, 1, 6, 0, 0));
  assert.is(parseIsoDateTime('2028-02-29T10:00Z'), Date.UTC(2028, 1, 29, 10, 0));
  for (const bad of ['2030-03-01T14:00:00', '2030-02-29T10:00Z', '2030-04-31T10:00Z', '2030-13-01T10:00Z', '2030-01-01T24:00Z',
    '2030-01-01 10:00Z', 'tomorrow', '', '2030-01-01T10:00+25:00', '2030-01-01T10:00:60Z']) {
    assert.is(parseIsoDateTime(bad), undefined, bad);
  }
});

test('create, list, get, update and remove over real sockets, with changes told to every room', async () => {
  await withServer(async ({ port }) => {
    const alice = await join(port, 'alice');
    const bob = await join(port, 'bob', 'elsewhere');
    const later = await alice.schedule.create(input({ title: '  Retro  ', start: startIn(3 * HOUR_MS), description: 'bring notes\nand tea' }));
    const sooner = await alice.schedule.create(input({ title: 'Planning', start: startIn(HOUR_MS), durationMinutes: 60 }));
    assert.match(later.id, /^[0-9a-f]{10}$/);
    assert.is(later.title, 'Retro', 'the title is trimmed');
    assert.is(later.organiser, 'alice');
    assert.is(later.description, 'bring notes\nand tea');
    assert.is(sooner.description, '');
    assert.is(later.startMs, parseIsoDateTime(later.start));
    assert.ok(later.start.endsWith('+02:00'), 'the start keeps the organiser\'s time zone');

    const listed = await bob.schedule.list();
    assert.equal(listed.map((m) => m.id), [sooner.id, later.id], 'earliest start first');
    assert.equal(listed[1], later);
    assert.equal(await bob.schedule.get(later.id), later);
    assert.is(await bob.schedule.roomOf(later.id), 'lab1');

    const moved = await alice.schedule.update(later.id, { room: 'lab2', durationMinutes: 90 });
    assert.is(moved.room, 'lab2');
    assert.is(moved.durationMinutes, 90);
    assert.is(moved.title, 'Retro');
    assert.ok(moved.updatedAt >= later.updatedAt);
    await alice.schedule.remove(sooner.id);
    assert.equal((await bob.schedule.list()).map((m) => m.id), [later.id]);
    const gone = await rejection(bob.schedule.get(sooner.id));
    assert.is(gone.code, 'SCHEDULER_NOT_FOUND');

    await waitFor(() => bob.changes.length === 4, 'bob to hear four changes', 3000);
    assert.equal(bob.changes.map((c) => [c.change, c.meeting.id]),
      [['created', later.id], ['created', sooner.id], ['updated', later.id], ['removed', sooner.id]]);
    await waitFor(() => alice.changes.length === 4, 'alice to hear her own changes', 3000);
    for (const m of [alice, bob]) await m.client.close();
  });
});

test('create() and update() are refused with a coded error for each bad field', async () => {
  await withServer(async ({ port }) => {
    const alice = await join(port, 'alice');
    const cases: Array<[Partial<MeetingInput>, string]> = [
      [{ title: '   ' }, 'SCHEDULER_TITLE_EMPTY'],
      [{ title: 'x'.repeat(201) }, 'SCHEDULER_FIELD_TOO_LONG'],
      [{ title: 'two\nlines' }, 'SCHEDULER_BAD_REQUEST'],
      [{ description: 'd'.repeat(2001) }, 'SCHEDULER_FIELD_TOO_LONG'],
      [{ room: '' }, 'SCHEDULER_BAD_ROOM'],
      [{ room: 'r'.repeat(65) }, 'SCHEDULER_BAD_ROOM'],
      [{ room: 'lab\u0007' }, 'SCHEDULER_BAD_ROOM'],
      [{ start: 'next tuesday' }, 'SCHEDULER_BAD_START'],
      [{ start: '2031-02-30T10:00:00Z' }, 'SCHEDULER_BAD_START'],
      [{ start: '2031-01-01T10:00:00' }, 'SCHEDULER_BAD_START'],
      [{ start: '2020-01-01T10:00:00Z' }, 'SCHEDULER_START_IN_PAST'],
      [{ start: startIn(-60_000) }, 'SCHEDULER_START_IN_PAST'],
      [{ start: '2999-01-01T10:00:00Z' }, 'SCHEDULER_START_TOO_FAR'],
      [{ durationMinutes: 0 }, 'SCHEDULER_BAD_DURATION'],
      [{ durationMinutes: 1441 }, 'SCHEDULER_BAD_DURATION'],
      [{ durationMinutes: 1.5 }, 'SCHEDULER_BAD_DURATION'],
      [{ durationMinutes: '30' as unknown as number }, 'SCHEDULER_BAD_REQUEST'],
    ];
    for (const [overrides, code] of cases) {
      const error = await rejection(alice.schedule.create(input(overrides)));
      assert.is(error.code, code, JSON.stringify(overrides).slice(0, 60));
      assert.is(error.channel, 'scheduler');
    }
    assert.equal(await alice.schedule.list(), [], 'nothing was stored');

    const meeting = await alice.schedule.create(input());
    assert.is((await rejection(alice.schedule.update(meeting.id, { start: '2020-01-01T10:00:00Z' }))).code, 'SCHEDULER_START_IN_PAST');
    assert.is((await rejection(alice.schedule.update(meeting.id, { title: '' }))).code, 'SCHEDULER_TITLE_EMPTY');
    assert.is((await rejection(alice.schedule.update('0000000000', { title: 'x' }))).code, 'SCHEDULER_NOT_FOUND');
    assert.is((await rejection(alice.schedule.remove('0000000000'))).code, 'SCHEDULER_NOT_FOUND');
    assert.equal(await alice.schedule.get(meeting.id), meeting, 'a refused update changed nothing');
    await alice.client.close();
  });
});

test('only the organiser or a session with the moderate grant may update or remove a meeting', async () => {
  await withServer(async ({ port }) => {
    const alice = await join(port, 'alice');
    const guest = await join(port, 'guest');
    const moderator = await join(port, 'mod');
    const meeting = await alice.schedule.create(input());
    assert.is((await rejection(guest.schedule.update(meeting.id, { title: 'mine now' }))).code, 'SCHEDULER_FORBIDDEN');
    assert.is((await rejection(guest.schedule.remove(meeting.id))).code, 'SCHEDULER_FORBIDDEN');
    const guestOwn = await guest.schedule.create(input({ title: 'guest meeting' }));
    assert.is((await guest.schedule.update(guestOwn.id, { title: 'renamed' })).title, 'renamed', 'a guest may change its own');
    assert.is((await moderator.schedule.update(meeting.id, { title: 'moderated' })).title, 'moderated');
    await moderator.schedule.remove(meeting.id);
    assert.equal((await alice.schedule.list()).map((m) => m.id), [guestOwn.id]);
    for (const m of [alice, guest, moderator]) await m.client.close();
  });
});

test('parseSchedulerRequest() refuses a missing ref, an unknown op and fields of the wrong type with SCHEDULER_BAD_REQUEST and the ref', () => {
  const refusals: Array<[Record<string, unknown>, RegExp]> = [
    [{ op: 'list' }, /needs a "ref"/],
    [{ op: 'explode', ref: 'a' }, /the request must be/],
    [{ op: 'get', ref: 'a' }, /"get" needs an "id" string/],
    [{ op: 'create', ref: 'a', meeting: { ...input(), durationMinutes: '15' } }, /"meeting.durationMinutes" must be a number/],
    [{ op: 'create', ref: 'a', meeting: { title: 'x', room: 'r', durationMinutes: 5 } }, /"meeting.start" must be a string/],
    [{ op: 'update', ref: 'a', id: 'x', patch: { room: 'r', color: 'red' } }, /"patch.color" is not a meeting field/],
  ];
  for (const [message, text] of refusals) {
    try {
      parseSchedulerRequest(message);
      assert.unreachable(`${JSON.stringify(message)} was accepted`);
    } catch (error) {
      assert.ok(isConfabError(error) && error.code === 'SCHEDULER_BAD_REQUEST', JSON.stringify(message));
      assert.match(error.message, text);
      assert.is(error.ref, message.ref);
    }
  }
  assert.equal(parseSchedulerRequest({ op: 'update', ref: 'u', id: 'x', patch: { title: 'T' } }), { op: 'update', ref: 'u', id: 'x', patch: { title: 'T' } });
});

test('malformed requests get SCHEDULER_BAD_REQUEST with their ref and leave the session working', async () => {
  await withServer(async ({ port }) => {
    const { client: raw, welcome } = await RawClient.join('tcp', port, { name: 'mallory', room: 'lab' });
    const id = (welcome as unknown as { channels: Record<string, number> }).channels.scheduler!;
    const bad: unknown[] = [
      { op: 'list' },
      { op: 'list', ref: 'r'.repeat(65) },
      { op: 'explode', ref: 'a' },
      { op: 'get', ref: 'b' },
      { op: 'create', ref: 'c', meeting: 'a meeting' },
      { op: 'create', ref: 'd', meeting: { title: 'x', room: 'r', start: startIn(HOUR_MS) } },
      { op: 'create', ref: 'e', meeting: { ...input(), organiser: 'someone else' } },
      { op: 'update', ref: 'f', id: 'abc', patch: [1, 2] },
      { op: 'remove', ref: 'g', id: 42 },
    ];
    for (const message of bad) {
      raw.sendJson(id, message);
      const error = await raw.nextError();
      assert.is(error.code, 'SCHEDULER_BAD_REQUEST', JSON.stringify(message));
      assert.is(error.fatal, false);
      const ref = (message as { ref?: string }).ref;
      assert.is(error.ref, ref !== undefined && ref.length <= 64 ? ref : undefined);
    }
    raw.send(id, new TextEncoder().encode('{"op":'));
    assert.is((await raw.nextError()).code, 'INVALID_JSON');
    raw.sendJson(id, { op: 'list', ref: 'ok' });
    const reply = await raw.next((f) => f.json?.op === 'list');
    assert.equal(reply.json, { op: 'list', ref: 'ok', meetings: [] });
    raw.sendJson(FrameType.BYE, {});
    raw.destroy();
  });
});

test('a create re-sent with the same ref is stored once and answered again', async () => {
  await withServer(async ({ port }) => {
    const { client: raw, welcome } = await RawClient.join('tcp', port, { name: 'alice', room: 'lab' });
    const id = (welcome as unknown as { channels: Record<string, number> }).channels.scheduler!;
    raw.sendJson(id, { op: 'create', ref: 'c-1', meeting: input() });
    raw.sendJson(id, { op: 'create', ref: 'c-1', meeting: input() });
    const first = await raw.next((f) => f.json?.op === 'meeting');
    const second = await raw.next((f) => f.json?.op === 'meeting');
    assert.equal(first.json, second.json);
    raw.sendJson(id, { op: 'list', ref: 'l' });
    const list = await raw.next((f) => f.json?.op === 'list');
    assert.is(list.json.meetings.length, 1);
    raw.destroy();
  });
});

test('meetings survive a server restart and the store holds them in scheduler_meetings', async () => {
  const first = await startTestServer({ plugins: [scheduler()] });
  let meeting: Meeting;
  try {
    const alice = await join(first.port, 'alice');
    meeting = await alice.schedule.create(input({ description: 'kept' }));
    await alice.client.close();
    // Whichever the store is (SQLite, or PostgreSQL in the postgres pass), the row is there once acknowledged.
    assert.equal(await first.server.store.db.selectFrom('scheduler_meetings').select(['id', 'title']).execute(), [{ id: meeting.id, title: 'Stand-up' }]);
  } finally {
    await first.close({ keepData: true });
  }
  const second = await startTestServer({ plugins: [scheduler()], server: { dataDir: first.dataDir } });
  try {
    const bob = await join(second.port, 'bob');
    assert.equal(await bob.schedule.list(), [meeting]);
    await bob.schedule.remove(meeting.id);
    await bob.client.close();
  } finally {
    await second.close();
  }
});

test('the participants of the meeting\'s room hear "started" when it starts, other rooms do not', async () => {
  await withServer(async ({ port }) => {
    const alice = await join(port, 'alice', 'lab1');
    const bob = await join(port, 'bob', 'lab1');
    const eve = await join(port, 'eve', 'lab2');
    const soon = await alice.schedule.create(input({ start: startIn(1500), title: 'Soon' }));
    const elsewhere = await alice.schedule.create(input({ start: startIn(HOUR_MS), title: 'Later' }));
    await waitFor(() => alice.started.length === 1 && bob.started.length === 1, 'the started notice', 6000);
    assert.ok(Date.now() >= soon.startMs, 'not before the start');
    assert.equal(bob.started[0], soon);
    assert.is(eve.started.length, 0);
    assert.ok(elsewhere.id.length > 0);
    assert.equal((await alice.schedule.list()).map((m) => m.id), [soon.id, elsewhere.id], 'a meeting in progress is still listed');
    for (const m of [alice, bob, eve]) await m.client.close();
  });
});

test('a start timer survives a restart: a meeting created before it starts is announced by the next server', async () => {
  const first = await startTestServer({ plugins: [scheduler()] });
  const alice = await join(first.port, 'alice', 'lab1');
  const meeting = await alice.schedule.create(input({ start: startIn(2500) }));
  await alice.client.close();
  await first.close({ keepData: true });
  const second = await startTestServer({ plugins: [scheduler()], server: { dataDir: first.dataDir } });
  try {
    const bob = await join(second.port, 'bob', 'lab1');
    await waitFor(() => bob.started.length === 1, 'the started notice from the restarted server', 8000);
    assert.is(bob.started[0].id, meeting.id);
    await bob.client.close();
  } finally {
    await second.close();
  }
  const third = await startTestServer({ plugins: [scheduler()], server: { dataDir: first.dataDir } });
  try {
    const carol = await join(third.port, 'carol', 'lab1');
    await carol.schedule.list();
    assert.is(carol.started.length, 0, 'a meeting is announced once, not again after another restart');
    await carol.client.close();
  } finally {
    await third.close();
  }
});

test('scheduler({ maxMeetings }) refuses more with SCHEDULER_FULL, and bad options fail at config time', async () => {
  const server = await startTestServer({ plugins: [scheduler({ maxMeetings: 2 })] });
  try {
    const alice = await join(server.port, 'alice');
    await alice.schedule.create(input());
    await alice.schedule.create(input());
    assert.is((await rejection(alice.schedule.create(input()))).code, 'SCHEDULER_FULL');
    await alice.client.close();
  } finally {
    await server.close();
  }
  assert.throws(() => scheduler({ maxMeetings: 0 }), /maxMeetings/);
  assert.throws(() => scheduler({ maxMeetngs: 5 } as never), /did you mean maxMeetings/);
});

test.run();
