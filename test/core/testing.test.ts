import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer } from '../../core/testing.js';
import { chatClient } from '../../plugins/chat/client.js';
import { chat } from '../../plugins/chat/server.js';

test('startTestServer(): loopback, a free port, a temporary data dir; close() ends clients, server and dir', async () => {
  const lab = await startTestServer({ plugins: [chat()] });
  assert.is(lab.host, '127.0.0.1');
  assert.ok(lab.port > 0);
  assert.ok(existsSync(lab.dataDir));
  const alice = await lab.connect('alice');
  const bob = await lab.connect('bob', { transport: 'ws' });
  assert.is(lab.server.sessions.size, 2);
  assert.is(lab.session(bob).name, 'bob');
  await lab.close();
  await lab.close();
  assert.is(alice.client.state, 'closed');
  assert.is(bob.client.state, 'closed');
  assert.is(existsSync(lab.dataDir), false);
  assert.is(lab.server.address !== undefined, true);
});

test('waitForMessage() reads on from the last match, and times out naming what it waited for and what came', async () => {
  const lab = await startTestServer({ plugins: [chat()] });
  try {
    const alice = await lab.connect('alice', { plugins: { chat: chatClient() } });
    const bob = await lab.connect('bob');
    await alice.chat.send('one');
    await alice.chat.send('two');
    assert.is((await bob.waitForMessage('chat', (m) => m.op === 'history')).op, 'history', 'a predicate works too');
    assert.is((await bob.waitForMessage('chat', { op: 'message' })).text, 'one');
    assert.is((await bob.waitForMessage('chat', { op: 'message' })).text, 'two');
    const stale = await bob.waitForMessage('chat', { op: 'history' }, 100).then(() => '', (error: Error) => error.message);
    assert.match(stale, /^timed out after 100 ms: bob waited for a message on "chat" matching \{ op: 'history' \}; since the last wait it received 0/,
      'a message before the last one returned is never returned again');
    await alice.chat.send('three');
    const failure = await bob.waitForMessage('chat', { op: 'reaction' }, 100).then(() => '', (error: Error) => error.message);
    assert.match(failure, /received 1 on "chat": \{ op: 'message'.*text: 'three'/, 'the failure shows what arrived');
    const none = await bob.waitForMessage('nothing', undefined, 50).then(() => '', (error: Error) => error.message);
    assert.match(none, /received 0 on "nothing"/);
  } finally {
    await lab.close();
  }
});

test('waitForError() and waitForEvent() resolve with what arrives and fail clearly', async () => {
  const lab = await startTestServer({ plugins: [chat()] });
  try {
    const alice = await lab.connect('alice', { plugins: { chat: chatClient() } });
    const joined = alice.waitForEvent('peerJoined', (peer) => peer.name === 'bob');
    await lab.connect('bob');
    assert.is((await joined)[0].name, 'bob');
    await alice.chat.send('  ').catch(() => undefined);
    assert.is((await alice.waitForError('CHAT_TEXT_EMPTY')).channel, 'chat');
    const missing = await alice.waitForError('CHAT_TEXT_EMPTY', 50).then(() => '', (error: Error) => error.message);
    assert.match(missing, /waited for a server error CHAT_TEXT_EMPTY; it got CHAT_TEXT_EMPTY/, 'each error is returned once');
    const event = await alice.waitForEvent('peerLeft', undefined, 50).then(() => '', (error: Error) => error.message);
    assert.match(event, /alice waited for the "peerLeft" event/);
    assert.throws(() => lab.session({ id: 'nope', name: 'ghost' } as never), /no session for ghost/);
  } finally {
    await lab.close();
  }
});

test('connect() refuses a client half named like a test client field; a bad config fails and leaves no dir', async () => {
  const lab = await startTestServer({ plugins: [chat()] });
  try {
    await lab.connect('alice', { plugins: { close: chatClient() } }).then(
      () => assert.unreachable('accepted'),
      (error: Error) => assert.match(error.message, /cannot be named "close"/),
    );
  } finally {
    await lab.close();
  }
  await startTestServer({ server: { port: -1 } }).then(
    () => assert.unreachable('accepted'),
    (error: { code: string }) => assert.is(error.code, 'CONFIG_INVALID'),
  );
});

test.run();
