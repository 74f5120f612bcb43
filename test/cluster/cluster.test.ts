/**
 * Cluster mode with two nodes in this process on a private Redis, one on 127.0.0.1 and one on 127.0.0.2:
 * a client that reaches the node not hosting its room is relayed to the one that does (TCP and WebSocket),
 * chat crosses, the room lives on one node only; a node that stops frees its rooms and its clients rejoin on
 * the other; while Redis is down running rooms keep working and a new room is refused with a retryable
 * CLUSTER_UNAVAILABLE; a forged node is refused at the link.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dialNodeLink } from '../../core/cluster/node-link.js';
import { isConfabError } from '../../core/errors.js';
import { waitFor, type TestServer } from '../../core/testing.js';
import type { Plugin } from '../../core/types.js';
import { chatClient } from '../../plugins/chat/client.js';
import { chat } from '../../plugins/chat/server.js';
import { filesClient } from '../../plugins/files/client-node.js';
import { files } from '../../plugins/files/server.js';
import { videoClient } from '../../plugins/video-relay/client.js';
import { videoRelay } from '../../plugins/video-relay/server.js';
import { web } from '../../plugins/web/server.js';
import { useTestCluster } from './nodes.js';

const cluster = useTestCluster(test);

/** A node of the test cluster on `host`, with chat and `plugins`. */
function startNode(host: string, plugins: Plugin[] = []): Promise<TestServer> {
  return cluster.startNode(host, [chat(), ...plugins]);
}

const withChat = { chat: chatClient() };

/** The node of the two that hosts `room`, and the other one. */
function hostOf(room: string, nodes: TestServer[]): { host: TestServer; other: TestServer } {
  const host = nodes.find((node) => node.server.rooms.has(room));
  assert.ok(host, `a node hosts room "${room}"`);
  return { host: host!, other: nodes.find((node) => node !== host)! };
}

test('a client that reaches the other node is relayed to its room; chat crosses; the room lives on one node', async () => {
  const a = await startNode('127.0.0.1');
  const b = await startNode('127.0.0.2', [web()]);
  try {
    const alice = await a.connect('alice', { room: 'lab', plugins: withChat, client: { udp: true } });
    const bob = await b.connect('bob', { room: 'lab', plugins: { chat: chatClient() }, client: { udp: true } });
    const carol = await b.connect('carol', { room: 'lab', transport: 'ws', plugins: { chat: chatClient() } });
    const dave = await a.connect('dave', { room: 'lab', transport: 'ws' });
    assert.equal([...dave.client.peers.values()].map((peer) => peer.name).sort(), ['alice', 'bob', 'carol']);
    const { host, other } = hostOf('lab', [a, b]);
    assert.is(host.server.rooms.get('lab')?.size, 4);
    assert.not.ok(other.server.rooms.has('lab'), 'the other node hosts no copy of the room');
    const transports = [...host.server.rooms.get('lab')!.sessions].map((session) => session.connection?.transport).sort();
    assert.equal(transports, ['tcp', 'tcp', 'ws', 'ws'], 'a relayed session keeps the transport its client dialed');

    // Media over UDP goes to the node of the session, not the node its client dialed.
    await waitFor(() => bob.client.mediaOverUdp && alice.client.mediaOverUdp, 'UDP media bound for bob (relayed) and alice', 5000);
    await bob.chat.send('hello from b');
    await alice.waitForMessage('chat', { op: 'message', text: 'hello from b' });
    await carol.waitForMessage('chat', { op: 'message', text: 'hello from b' });
    await alice.chat.send('hello from a');
    await bob.waitForMessage('chat', { op: 'message', text: 'hello from a' });

    // Both nodes list the room, on its node, from the directory (renewed every second).
    for (const node of [a, b]) {
      assert.equal(await listing(node, 1), [['lab', 4, host.server.cluster!.id]]);
    }
    const rooms = await (await fetch(`http://127.0.0.2:${b.port}/api/rooms`)).json() as { rooms: unknown };
    assert.equal(rooms.rooms, [{ name: 'lab', participants: 4 }], 'the join screen lists rooms of every node');

    // /health is the node's view of the cluster; the link port answers its /health and /metrics too.
    const health = await (await fetch(`http://127.0.0.1:${a.port}/health`)).json() as { cluster: { node: { id: string }; directory: string; nodes: Array<{ id: string; load: { sessions: number } }> } };
    assert.is(health.cluster.node.id, a.server.cluster!.id);
    assert.is(health.cluster.directory, 'connected');
    assert.equal(health.cluster.nodes.map((node) => node.id).sort(), [a.server.cluster!.id, b.server.cluster!.id].sort());
    const link = host.server.cluster!.self;
    const metrics = await (await fetch(`http://${link.linkHost}:${link.linkPort}/metrics`)).text();
    assert.match(metrics, new RegExp(`confab_connections_total\\{transport="tcp",node="${link.id}"\\} \\d+`));
  } finally {
    await b.close();
    await a.close();
  }
});
/** The cluster-wide room list as `node` reads it, once it has `count` rooms (the nodes renew every second). */
async function listing(node: TestServer, count: number): Promise<Array<[string, number, string]>> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const rooms = await node.server.cluster!.directory.rooms();
    if (rooms.length === count || Date.now() > deadline) return rooms.map((room) => [room.name, room.participants, room.node]);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('the node hosting a room stops: the room frees itself, and a client relayed through the other node rejoins there within 10 s', async () => {
  const a = await startNode('127.0.0.1');
  const b = await startNode('127.0.0.2');
  try {
    await a.connect('alice', { room: 'rescue', plugins: withChat });
    await b.connect('bob', { room: 'rescue', plugins: withChat });
    const { host, other } = hostOf('rescue', [a, b]);
    const throughOther = await other.connect('carol', { room: 'rescue', plugins: { chat: chatClient() }, client: { backoff: { initialMs: 100, maxMs: 500 } } });
    await throughOther.chat.send('acknowledged before');
    const rejoined = throughOther.waitForEvent('rejoined', undefined, 10_000);
    await host.close();
    await rejoined;
    await other.waitFor(() => other.server.rooms.get('rescue') !== undefined, 'room "rescue" placed on the live node', 10_000);
    // The message acknowledged before the crash is in the room's history on its new node.
    const history = await throughOther.waitForMessage('chat', (message) => message.op === 'history' && message.messages.length > 0, 5000);
    assert.equal(history.messages.map((message: { text: string }) => message.text), ['acknowledged before']);
    const ack = await throughOther.chat.send('still here');
    assert.is(ack.text, 'still here');
  } finally {
    await b.close();
    await a.close();
  }
});

test('files and video across nodes: an upload through one node, a download through the other; frames relayed both ways; the file outlives its node', async () => {
  const a = await startNode('127.0.0.1', [files(), videoRelay()]);
  const b = await startNode('127.0.0.2', [files(), videoRelay()]);
  const work = mkdtempSync(join(tmpdir(), 'confab-cluster-files-'));
  try {
    const alice = await a.connect('alice', { room: 'studio', plugins: { files: filesClient(), video: videoClient() } });
    const bob = await b.connect('bob', { room: 'studio', plugins: { files: filesClient(), video: videoClient() } });
    const frames: Array<{ from: string; mark: number }> = [];
    for (const [member, name] of [[alice, 'alice'], [bob, 'bob']] as const) {
      member.video.on('frame', (frame) => frames.push({ from: name, mark: frame.data[2]! }));
    }
    alice.video.publish(picture(7));
    bob.video.publish(picture(9));
    await waitFor(() => frames.some((f) => f.from === 'bob' && f.mark === 7) && frames.some((f) => f.from === 'alice' && f.mark === 9), 'video both ways', 5000);

    const data = randomBytes(300 * 1024 + 7);
    const source = join(work, 'notes.bin');
    writeFileSync(source, data);
    const stored = await bob.files.upload(source).done;
    const out = join(work, 'alice.bin');
    assert.equal(await alice.files.download(stored.id, out).done, stored);
    assert.ok(readFileSync(out).equals(data));

    // The room's node stops; its room is placed on the other node, where the file is still there.
    const { host, other } = hostOf('studio', [a, b]);
    await host.close();
    const carol = await other.connect('carol', { room: 'studio', plugins: { files: filesClient() } });
    assert.equal((await carol.files.list()).map((file) => [file.id, file.sha256]), [[stored.id, stored.sha256]]);
    const again = join(work, 'carol.bin');
    await carol.files.download(stored.id, again).done;
    assert.ok(readFileSync(again).equals(data));
  } finally {
    await b.close();
    await a.close();
    rmSync(work, { recursive: true, force: true });
  }
});

/** A recognisable fake JPEG whose bytes after the marker are `mark`. */
function picture(mark: number): Uint8Array {
  const bytes = new Uint8Array(1000).fill(mark);
  bytes[0] = 0xff;
  bytes[1] = 0xd8;
  return bytes;
}

test('Redis down: running rooms keep working, a new room is refused with retryable CLUSTER_UNAVAILABLE; then it works again', async () => {
  const a = await startNode('127.0.0.1');
  const b = await startNode('127.0.0.2');
  try {
    const alice = await a.connect('alice', { room: 'steady', plugins: withChat });
    const bob = await b.connect('bob', { room: 'steady', plugins: { chat: chatClient() } });
    await cluster.redis.restart(async () => {
      await bob.chat.send('during the outage');
      await alice.waitForMessage('chat', { op: 'message', text: 'during the outage' });
      const refused = await b.connect('dave', { room: 'brand-new', client: { reconnect: false } }).catch((error: unknown) => error);
      assert.ok(isConfabError(refused), String(refused));
      assert.match(refused.message, /CLUSTER_UNAVAILABLE|cannot|Redis/);
      assert.ok(refused.code === 'CLUSTER_UNAVAILABLE' || refused.cause !== undefined, refused.code);
    });
    await b.waitFor(() => b.server.cluster!.directory.status().state === 'connected', 'node b reconnected to Redis', 10_000);
    const dave = await b.connect('dave', { room: 'brand-new' });
    assert.ok(dave.id);
    await bob.chat.send('after the outage');
    await alice.waitForMessage('chat', { op: 'message', text: 'after the outage' });
  } finally {
    await b.close();
    await a.close();
  }
});

test('a forged node (wrong secret) is refused at the link and counted; nothing reaches a room', async () => {
  const a = await startNode('127.0.0.1');
  try {
    const self = a.server.cluster!.self;
    const forged = await dialNodeLink({
      host: self.linkHost, port: self.linkPort, secret: 'a guessed secret, not ours', node: 'intruder', expect: self.id,
    }).catch((error: unknown) => error);
    assert.ok(isConfabError(forged));
    assert.is(forged.code, 'NODE_LINK_REFUSED');
    const metrics = await (await fetch(`http://127.0.0.1:${a.port}/metrics`)).text();
    assert.match(metrics, new RegExp(`confab_errors_total\\{code="NODE_LINK_REFUSED",node="${self.id}"\\} 1`));
    assert.is(a.server.sessions.size, 0);
  } finally {
    await a.close();
  }
});

test.run();
