import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { definePlugin } from '../../core/config.js';
import { ConfabClient } from '../../core/client/node.js';
import { chat } from '../../plugins/chat/server.js';
import { schedulerClient } from '../../plugins/scheduler/client.js';
import { scheduler } from '../../plugins/scheduler/server.js';
import { web } from '../../plugins/web/server.js';
import { startServer } from '../helpers/server.js';

const rooms = async (port: number) => (await fetch(`http://127.0.0.1:${port}/api/rooms`)).json();

test('/api/rooms lists rooms in use and the scheduler\'s coming meetings, asked from the scheduler plugin object', async () => {
  // web before scheduler: the lookup happens per request, so the order of the plugins does not matter.
  const server = await startServer([chat(), web(), scheduler()]);
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
    await server.stop();
  }
});

test('/api/rooms has no meetings without the scheduler, or when a plugin named scheduler offers no upcomingMeetings', async () => {
  const impostor = definePlugin({ name: 'scheduler', setup() {} });
  for (const plugins of [[chat(), web()], [web(), impostor]]) {
    const server = await startServer(plugins);
    try {
      assert.equal(await rooms(server.port), { rooms: [], meetings: [] });
    } finally {
      await server.stop();
    }
  }
});

test('scheduler().upcomingMeetings() is empty before setup and lists only meetings that have not ended', async () => {
  const plugin = scheduler();
  assert.equal(plugin.upcomingMeetings(), []);
  const server = await startServer([plugin]);
  const client = new ConfabClient({ url: `tcp://127.0.0.1:${server.port}`, name: 'ann', room: 'r' });
  const schedule = client.use(schedulerClient());
  try {
    await client.connect();
    const meeting = await schedule.create({ title: 'Plan', room: 'r', start: new Date(Date.now() + 60_000).toISOString(), durationMinutes: 30 });
    assert.equal(plugin.upcomingMeetings().map((m) => m.id), [meeting.id]);
    assert.equal(plugin.upcomingMeetings(meeting.startMs + 30 * 60_000), [], 'ended by then');
  } finally {
    await client.close();
    await server.stop();
  }
});

test.run();
