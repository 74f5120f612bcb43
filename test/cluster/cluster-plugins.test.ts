/**
 * Plugins across the nodes of a cluster (two nodes in this process on a private Redis, sharing one data
 * directory: one store and one auth secret): a token revoked on one node ends its session on the node that
 * hosts it at once, through the bus, not at the next sweep; a meeting's start is announced once to its room,
 * whichever node's timer takes it; a meeting created on one node is told to the rooms of the other; a
 * moderator's bar follows its room to the next node that hosts it.
 */
import { readFileSync } from 'node:fs';
import type { Grant } from '../../core/grants.js';
import { isConfabError } from '../../core/errors.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor, type TestClient, type TestServer } from '../../core/testing.js';
import { auth, secretPath } from '../../plugins/auth/server.js';
import { TOKENS } from '../../plugins/auth/service.js';
import { signToken } from '../../plugins/auth/token.js';
import { moderationClient } from '../../plugins/moderation/client.js';
import { moderation } from '../../plugins/moderation/server.js';
import { schedulerClient } from '../../plugins/scheduler/client.js';
import type { Meeting, MeetingChange } from '../../plugins/scheduler/protocol.js';
import { scheduler } from '../../plugins/scheduler/server.js';
import { useTestCluster } from './nodes.js';

const cluster = useTestCluster(test);

/** A node with auth (its sweep too slow to matter here) and the scheduler. */
function startNode(host: string): Promise<TestServer> {
  return cluster.startNode(host, [auth({ checkIntervalMs: 600_000 }), scheduler()]);
}

/** A token for `room`, signed with the cluster's shared auth secret. */
function token(name: string, room: string, grants: Grant[] = ['join', 'chat', 'subscribe']): Promise<string> {
  const secret = Buffer.from(readFileSync(secretPath(cluster.dataDir), 'utf8').trim(), 'base64url');
  return signToken(secret, { room, name, grants, ttlSeconds: 600 });
}

function jtiOf(signed: string): string {
  return JSON.parse(Buffer.from(signed.split('.')[1]!, 'base64url').toString('utf8')).jti;
}

test('a token revoked on one node ends its session on the node hosting it, at once', async () => {
  const a = await startNode('127.0.0.1');
  const b = await startNode('127.0.0.2');
  try {
    const signed = await token('alice', 'lab');
    const alice = await a.connect('alice', { room: 'lab', client: { token: signed, reconnect: false } });
    const host = [a, b].find((node) => node.server.rooms.has('lab'))!;
    const other = host === a ? b : a;
    const closed = alice.waitForEvent('close', undefined, 3000);
    const ended = await other.server.service(TOKENS)!.revoke(jtiOf(signed), { reason: 'leaked' });
    assert.is(ended, 0, 'the revoking node hosts no session with it');
    const [event] = await closed;
    assert.is(event.error?.code, 'AUTH_TOKEN_REVOKED');
    assert.match(event.error?.message ?? '', /leaked/);
    assert.is(host.server.rooms.get('lab')?.size ?? 0, 0);
  } finally {
    await b.close();
    await a.close();
  }
});

test('a meeting starts once for its room whichever node takes it; changes reach the rooms of every node', async () => {
  const a = await startNode('127.0.0.1');
  const b = await startNode('127.0.0.2');
  try {
    const members: Array<{ client: TestClient<{ schedule: ReturnType<typeof schedulerClient> }>; seen: { started: Meeting[]; changes: MeetingChange[] }; room: string }> = [];
    for (const [node, name, room] of [[a, 'alice', 'lab'], [b, 'bob', 'lab'], [a, 'carol', 'hall'], [b, 'dave', 'hall']] as const) {
      const client = await node.connect(name, { room, client: { token: await token(name, room) }, plugins: { schedule: schedulerClient() } });
      const seen = { started: [] as Meeting[], changes: [] as MeetingChange[] };
      client.schedule.on('started', (meeting) => seen.started.push(meeting));
      client.schedule.on('changed', (change) => seen.changes.push(change.change));
      members.push({ client, seen, room });
    }
    assert.ok(a.server.rooms.size + b.server.rooms.size === 2 && !(a.server.rooms.has('lab') && b.server.rooms.has('lab')));

    const start = new Date(Date.now() + 1500).toISOString();
    const meeting = await members[0]!.client.schedule.create({ title: 'Soon', room: 'lab', start, durationMinutes: 5 });
    await waitFor(() => members.every(({ seen }) => seen.changes.includes('created')), 'every room, on both nodes, told of the new meeting', 5000);
    const inLab = members.filter((member) => member.room === 'lab');
    await waitFor(() => inLab.every(({ seen }) => seen.started.length === 1), 'the started notice in the meeting\'s room', 8000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (const member of members) {
      assert.equal(member.seen.started.map((started) => started.id), member.room === 'lab' ? [meeting.id] : [], 'announced once, to its room only');
    }
  } finally {
    await b.close();
    await a.close();
  }
});

test('a bar follows its room: removed on one node, the participant is refused by the next node that hosts the room', async () => {
  const plugins = () => [auth({ checkIntervalMs: 600_000 }), moderation()];
  const a = await cluster.startNode('127.0.0.1', plugins());
  const b = await cluster.startNode('127.0.0.2', plugins());
  try {
    const mo = await a.connect('mo', {
      room: 'lab', client: { token: await token('mo', 'lab', ['join', 'chat', 'moderate']), reconnect: false }, plugins: { mod: moderationClient() },
    });
    const troll = await a.connect('troll', { room: 'lab', client: { token: await token('troll', 'lab'), reconnect: false } });
    const host = [a, b].find((node) => node.server.rooms.has('lab'))!;
    const other = host === a ? b : a;
    const closed = troll.waitForEvent('close', undefined, 3000);
    mo.mod.remove(troll.id, 'spam');
    const [event] = await closed;
    assert.is(event.error?.code, 'MODERATION_REMOVED');
    const bars = () => other.server.store.db.selectFrom('moderation_bars').select('name').execute();
    for (const deadline = Date.now() + 3000; (await bars()).length === 0 && Date.now() < deadline;) await new Promise((resolve) => setTimeout(resolve, 10));
    await host.close(); // the room's node goes: the next join places the room on the other node

    const refused = await other.connect('troll', { room: 'lab', client: { token: await token('troll', 'lab'), reconnect: false } }).catch((error: unknown) => error);
    assert.ok(isConfabError(refused), String(refused));
    assert.is(refused.code, 'MODERATION_BARRED');
    const guest = await other.connect('guest', { room: 'lab', client: { token: await token('guest', 'lab'), reconnect: false } });
    assert.ok(other.server.rooms.get('lab')?.get(guest.id), 'the room is on the other node now, and others join');
  } finally {
    await b.close();
    await a.close();
  }
});

test.run();
