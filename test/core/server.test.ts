import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from 'node:net';
import { FrameType } from '../../core/protocol.js';
import { chat } from '../../plugins/chat/server.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, waitFor } from '../../core/testing.js';

test('HELLO gets WELCOME with session, channels, peers and tokens, over TCP and WebSocket', async () => {
  const { port, close: stop } = await startTestServer({ plugins: [chat()] });
  try {
    const a = await RawClient.join('tcp', port, { name: 'alice', room: 'r1' });
    const b = await RawClient.join('ws', port, { name: 'bob', room: 'r1' });
    assert.is(a.welcome.name, 'alice');
    assert.is(a.welcome.room, 'r1');
    assert.equal(a.welcome.channels, { chat: 0x10 });
    assert.equal(a.welcome.channelKinds, { chat: 'json' });
    assert.equal(a.welcome.peers, []);
    assert.is(a.welcome.heartbeatMs, 3000);
    assert.is(a.welcome.resumed, false);
    assert.ok(a.welcome.mediaToken.length >= 16 && a.welcome.resume.length >= 16);
    assert.equal(b.welcome.peers, [{ id: a.welcome.session, name: 'alice' }]);
    const joined = await a.client.next((f) => f.type === FrameType.PEER_JOINED);
    assert.equal(joined.json, { id: b.welcome.session, name: 'bob' });
    a.client.destroy();
    b.client.destroy();
  } finally {
    await stop();
  }
});

test('HELLO with a taken name is renamed alice_1, alice_2 within the room only', async () => {
  const { port, close: stop } = await startTestServer();
  try {
    const names = [];
    const clients = [];
    for (const [transport, room] of [['tcp', 'r1'], ['ws', 'r1'], ['tcp', 'r1'], ['ws', 'r2']] as const) {
      const joined = await RawClient.join(transport, port, { name: 'alice', room });
      names.push(joined.welcome.name);
      clients.push(joined.client);
    }
    assert.equal(names, ['alice', 'alice_1', 'alice_2', 'alice']);
    for (const client of clients) client.destroy();
  } finally {
    await stop();
  }
});

test('HELLO without room joins "default"; names are trimmed', async () => {
  const { port, close: stop } = await startTestServer();
  try {
    const { client, welcome } = await RawClient.join('tcp', port, { name: '  carol ' });
    assert.is(welcome.room, 'default');
    assert.is(welcome.name, 'carol');
    client.destroy();
  } finally {
    await stop();
  }
});

test('rooms are isolated: chat and peer events stay in their room', async () => {
  const { port, close: stop } = await startTestServer({ plugins: [chat()] });
  try {
    const a = await RawClient.join('tcp', port, { name: 'a', room: 'r1' });
    const other = await RawClient.join('ws', port, { name: 'x', room: 'r2' });
    const b = await RawClient.join('ws', port, { name: 'b', room: 'r1' });
    a.client.sendJson(0x10, { op: 'send', text: 'only r1', clientId: 'm1' });
    const message = await b.client.next((f) => f.json?.op === 'message');
    assert.is(message.json.text, 'only r1');
    await a.client.next((f) => f.json?.op === 'ack');
    other.client.sendJson(FrameType.PING, {});
    await other.client.next((f) => f.type === FrameType.PONG);
    assert.not.ok(other.client.frames.some((f) => f.json?.op === 'message' || f.type === FrameType.PEER_JOINED));
    for (const c of [a, b, other]) c.client.destroy();
  } finally {
    await stop();
  }
});

test('BYE leaves at once: peers get PEER_LEFT with reason bye and the empty room is disposed', async () => {
  const { server, port, close: stop } = await startTestServer();
  try {
    const a = await RawClient.join('tcp', port, { name: 'a', room: 'r1' });
    const b = await RawClient.join('tcp', port, { name: 'b', room: 'r1' });
    b.client.sendJson(FrameType.BYE, { reason: 'done' });
    const left = await a.client.next((f) => f.type === FrameType.PEER_LEFT);
    assert.equal(left.json, { id: b.welcome.session, name: 'b', reason: 'bye' });
    await b.client.closed;
    a.client.sendJson(FrameType.BYE, {});
    await waitFor(() => server.rooms.size === 0, 'room disposal', 3000);
    assert.is(server.sessions.size, 0);
  } finally {
    await stop();
  }
});

test('PING is answered by PONG carrying the same bytes', async () => {
  const { port, close: stop } = await startTestServer();
  try {
    const { client } = await RawClient.join('tcp', port, { name: 'a' });
    client.send(FrameType.PING, new Uint8Array([1, 2, 3, 250]));
    const pong = await client.next((f) => f.type === FrameType.PONG);
    assert.equal([...pong.payload], [1, 2, 3, 250]);
    client.destroy();
  } finally {
    await stop();
  }
});

test('server.close() sends BYE to every session and leaves nothing listening', async () => {
  const { port, close: stop } = await startTestServer();
  const a = await RawClient.join('tcp', port, { name: 'a' });
  const b = await RawClient.join('ws', port, { name: 'b' });
  await stop();
  const byeA = await a.client.next((f) => f.type === FrameType.BYE);
  const byeB = await b.client.next((f) => f.type === FrameType.BYE);
  assert.is(byeA.json.reason, 'server closing');
  assert.is(byeB.json.reason, 'server closing');
  await Promise.all([a.client.closed, b.client.closed]);
  const refused = await new Promise<string>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => { socket.destroy(); resolve('connected'); });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
  assert.is(refused, 'ECONNREFUSED');
});

test('GET /health and /metrics answer on the same port; other paths are 404', async () => {
  const { port, close: stop } = await startTestServer({ plugins: [chat()] });
  try {
    const { client } = await RawClient.join('tcp', port, { name: 'a' });
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.is(health.status, 200);
    const body = await health.json() as Record<string, unknown>;
    assert.is(body.status, 'ok');
    assert.is(body.sessions, 1);
    assert.equal(body.plugins, ['chat']);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /confab_sessions 1/);
    assert.match(metrics, /confab_frames_in_total\{channel="HELLO"\}|confab_connections_total\{transport="tcp"\} 1/);
    assert.is((await fetch(`http://127.0.0.1:${port}/nope`)).status, 404);
    client.destroy();
  } finally {
    await stop();
  }
});

test.run();
