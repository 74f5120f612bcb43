import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { definePlugin } from '../../core/config.js';
import { ConfabClient } from '../../core/client/node.js';
import { chat } from '../../plugins/chat/server.js';
import { schedulerClient } from '../../plugins/scheduler/client.js';
import { scheduler } from '../../plugins/scheduler/server.js';
import { MEETINGS, type MeetingDirectory } from '../../plugins/scheduler/service.js';
import { web } from '../../plugins/web/server.js';
import { startTestServer } from '../../core/testing.js';

const rooms = async (port: number) => (await fetch(`http://127.0.0.1:${port}/api/rooms`)).json();

test('/api/rooms lists rooms in use and the scheduler\'s coming meetings, from its MEETINGS service', async () => {
  // web before scheduler: the service is looked up per request, so the order of the plugins does not matter.
  const server = await startTestServer({ plugins: [chat(), web(), scheduler()] });
  const clients: ConfabClient[] = [];
  try {
    const url = `tcp://127.0.0.1:${server.port}`;
    const alice = new ConfabClient({ url, name: 'alice', room: 'lab' });
    const schedule = alice.use(schedulerClient());
    const bob = new ConfabClient({ url, name: 'bob', room: 'lab' });
    const carol = new ConfabClient({ url, name: 'carol', room: 'quiet' });
    clients.push(alice, bob, carol);
    await Promise.all(clients.map((client) => client.connect()));
    const later = await schedule.create({ title: 'Retro', room: 'board', start: new Date(Date.now() + 7_200_000).toISOString(), durationMinutes: 60 });
    const sooner = await schedule.create({ title: 'Stand-up', room: 'lab', start: new Date(Date.now() + 3_600_000).toISOString(), durationMinutes: 15 });
    assert.equal(await rooms(server.port), {
      rooms: [{ name: 'lab', participants: 2 }, { name: 'quiet', participants: 1 }],
      meetings: [sooner, later].map(({ title, room, startMs, durationMinutes }) => ({ title, room, startMs, durationMinutes })),
    });
    await schedule.remove(sooner.id);
    assert.equal((await rooms(server.port)).meetings.map((m: { title: string }) => m.title), ['Retro']);
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await server.close();
  }
});

test('/api/rooms has no meetings without a MEETINGS service, and lists those of any plugin that provides it', async () => {
  const impostor = definePlugin({ name: 'scheduler', setup() {} });
  for (const plugins of [[chat(), web()], [web(), impostor]]) {
    const server = await startTestServer({ plugins: plugins });
    try {
      assert.equal(await rooms(server.port), { rooms: [], meetings: [] });
    } finally {
      await server.close();
    }
  }
  const meeting = { title: 'Demo', room: 'hall', startMs: 1_900_000_000_000, durationMinutes: 30 };
  const calendar = definePlugin({
    name: 'calendar',
    provides: [MEETINGS],
    setup(ctx) {
      ctx.provide(MEETINGS, { upcomingMeetings: () => [{ ...meeting, id: 'c1', start: '', description: '', organiser: 'x', createdAt: 0, updatedAt: 0 }] });
    },
  });
  const server = await startTestServer({ plugins: [web(), calendar] });
  try {
    assert.equal(await rooms(server.port), { rooms: [], meetings: [meeting] });
  } finally {
    await server.close();
  }
});

test('the scheduler\'s MEETINGS service lists only meetings that have not ended', async () => {
  let directory: MeetingDirectory | undefined;
  const reader = definePlugin({ name: 'reader', requires: [MEETINGS], setup: (ctx) => void (directory = ctx.service(MEETINGS)) });
  const server = await startTestServer({ plugins: [scheduler(), reader] });
  const client = new ConfabClient({ url: `tcp://127.0.0.1:${server.port}`, name: 'ann', room: 'r' });
  const schedule = client.use(schedulerClient());
  try {
    await client.connect();
    assert.equal(directory!.upcomingMeetings(), []);
    const meeting = await schedule.create({ title: 'Plan', room: 'r', start: new Date(Date.now() + 60_000).toISOString(), durationMinutes: 30 });
    assert.equal(directory!.upcomingMeetings().map((m) => m.id), [meeting.id]);
    assert.equal(directory!.upcomingMeetings(meeting.startMs + 30 * 60_000), [], 'ended by then');
  } finally {
    await client.close();
    await server.close();
  }
});

test.run();
