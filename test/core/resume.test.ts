import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import { FrameType } from '../../core/protocol.js';
import { chatClient } from '../../plugins/chat/client.js';
import type { ChatMessage } from '../../plugins/chat/protocol.js';
import { chat } from '../../plugins/chat/server.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, waitFor } from '../../core/testing.js';

test('HELLO with resume and received replays exactly the missed frames and keeps name, room and id', async () => {
  const server = await startTestServer({ plugins: [chat()] });
  try {
    const a = await RawClient.join('tcp', server.port, { name: 'alice', room: 'lab' });
    const b = await RawClient.join('tcp', server.port, { name: 'bob', room: 'lab' });
    await b.client.next((f) => f.json?.op === 'history');
    await a.client.next((f) => f.type === FrameType.PEER_JOINED);
    a.client.sendJson(0x10, { op: 'send', text: 'before', clientId: '1' });
    await b.client.next((f) => f.json?.op === 'message');
    const receivedBeforeCut = 2; // history, "before"
    b.client.destroy();
    await waitFor(() => server.server.sessions.get(b.welcome.session)?.state === 'detached', 'detach', 3000);
    a.client.sendJson(0x10, { op: 'send', text: 'while away 1', clientId: '2' });
    a.client.sendJson(0x10, { op: 'send', text: 'while away 2', clientId: '3' });
    await a.client.next((f) => f.json?.clientId === '3');

    const back = await RawClient.tcp(server.port);
    back.sendJson(FrameType.HELLO, { v: 1, name: 'bob', room: 'lab', resume: b.welcome.resume, received: receivedBeforeCut - 1 });
    const welcome = (await back.next((f) => f.type === FrameType.WELCOME)).json;
    assert.is(welcome.resumed, true);
    assert.is(welcome.session, b.welcome.session);
    assert.is(welcome.name, 'bob');
    assert.is.not(welcome.resume, b.welcome.resume, 'a new resume token');
    const replayed = [await back.next(), await back.next(), await back.next()];
    assert.equal(replayed.map((f) => f.json.text), ['before', 'while away 1', 'while away 2'], 'the one it did not count, then the missed');
    assert.not.ok(a.client.frames.some((f) => f.type === FrameType.PEER_LEFT || f.type === FrameType.PEER_JOINED), 'peers saw no leave or join');

    const stale = await RawClient.tcp(server.port);
    stale.sendJson(FrameType.HELLO, { v: 1, name: 'bob', resume: b.welcome.resume, received: 0 });
    assert.is((await stale.nextError()).code, 'RESUME_FAILED', 'an old token is spent');
    a.client.destroy();
    back.destroy();
  } finally {
    await server.close();
  }
});

test('resume fails with RESUME_FAILED when the missed frames no longer fit the buffer, and the session ends', async () => {
  const server = await startTestServer({ plugins: [chat()], server: { resumeBufferFrames: 4 } });
  try {
    const a = await RawClient.join('tcp', server.port, { name: 'alice', room: 'lab' });
    const b = await RawClient.join('tcp', server.port, { name: 'bob', room: 'lab' });
    b.client.destroy();
    await waitFor(() => server.server.sessions.get(b.welcome.session)?.state === 'detached');
    for (let i = 0; i < 6; i++) a.client.sendJson(0x10, { op: 'send', text: `m${i}`, clientId: `c${i}` });
    await a.client.next((f) => f.json?.clientId === 'c5');
    const back = await RawClient.tcp(server.port);
    back.sendJson(FrameType.HELLO, { v: 1, name: 'bob', room: 'lab', resume: b.welcome.resume, received: 1 /* the history */ });
    const error = await back.nextError();
    assert.is(error.code, 'RESUME_FAILED');
    assert.is(error.fatal, true);
    const left = await a.client.next((f) => f.type === FrameType.PEER_LEFT);
    assert.is(left.json.reason, 'disconnected');
    a.client.destroy();
  } finally {
    await server.close();
  }
});

test('a detached session ends after resumeGraceMs: peers see PEER_LEFT "disconnected" and the name is free again', async () => {
  const server = await startTestServer({ plugins: [], server: { resumeGraceMs: 200 } });
  try {
    const a = await RawClient.join('tcp', server.port, { name: 'alice', room: 'lab' });
    const b = await RawClient.join('tcp', server.port, { name: 'bob', room: 'lab' });
    b.client.destroy();
    const left = await a.client.next((f) => f.type === FrameType.PEER_LEFT, 3000);
    assert.equal(left.json, { id: b.welcome.session, name: 'bob', reason: 'disconnected' });
    const again = await RawClient.join('ws', server.port, { name: 'bob', room: 'lab' });
    assert.is(again.welcome.name, 'bob');
    a.client.destroy();
    again.client.destroy();
  } finally {
    await server.close();
  }
});

test('the SDK resumes after a dropped connection without losing a chat message, in both directions', async () => {
  const server = await startTestServer({ plugins: [chat()] });
  const options = { room: 'lab', backoff: { initialMs: 50, maxMs: 200 } };
  const alice = new ConfabClient({ url: `tcp://127.0.0.1:${server.port}`, name: 'alice', ...options });
  const bob = new ConfabClient({ url: `ws://127.0.0.1:${server.port}/ws`, name: 'bob', ...options });
  try {
    const aliceChat = alice.use(chatClient());
    const bobChat = bob.use(chatClient());
    const bobGot: ChatMessage[] = [];
    const aliceGot: ChatMessage[] = [];
    bobChat.on('message', (m) => bobGot.push(m));
    aliceChat.on('message', (m) => aliceGot.push(m));
    await alice.connect();
    await bob.connect();
    let resumed = 0;
    bob.on('resumed', () => resumed++);

    bob.dropConnection();
    const sentWhileAway = await aliceChat.send('sent while bob was away');
    const bobSentWhileAway = bobChat.send('queued by bob while reconnecting');
    await waitFor(() => resumed === 1, 'resume', 5000);
    await bobSentWhileAway;
    await waitFor(() => bobGot.some((m) => m.id === sentWhileAway.id), 'the missed message', 3000);
    await waitFor(() => aliceGot.some((m) => m.text === 'queued by bob while reconnecting'), 'bob\'s queued message', 3000);
    assert.is(bobGot.filter((m) => m.id === sentWhileAway.id).length, 1, 'delivered exactly once');
    assert.is(bob.self!.name, 'bob');
    assert.is(alice.peers.size, 1, 'alice never saw bob leave');
  } finally {
    await alice.close();
    await bob.close();
    await server.close();
  }
});

test.run();
