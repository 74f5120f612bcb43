import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import type { ConfabError } from '../../core/errors.js';
import { FrameType } from '../../core/protocol.js';
import { chatClient, type ChatApi } from '../../plugins/chat/client.js';
import type { ChatMessage } from '../../plugins/chat/protocol.js';
import { chat } from '../../plugins/chat/server.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, waitFor, type TestServer } from '../../core/testing.js';

interface Member {
  client: ConfabClient;
  chat: ChatApi;
  received: ChatMessage[];
  history: ChatMessage[][];
}

async function join(port: number, name: string, room = 'lab', transport: 'tcp' | 'ws' = 'tcp'): Promise<Member> {
  const url = transport === 'tcp' ? `tcp://127.0.0.1:${port}` : `ws://127.0.0.1:${port}/ws`;
  const client = new ConfabClient({ url, name, room, backoff: { initialMs: 20, maxMs: 100 } });
  const api = client.use(chatClient());
  const member: Member = { client, chat: api, received: [], history: [] };
  api.on('message', (m) => member.received.push(m));
  api.on('history', (h) => member.history.push(h));
  await client.connect();
  return member;
}

async function withServer(body: (t: TestServer) => Promise<void>, options = {}): Promise<void> {
  const server = await startTestServer({ plugins: [chat(options)] });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

test('chat.send() reaches every other member, resolves with the server id and time, and not the other room', async () => {
  await withServer(async ({ port }) => {
    const a = await join(port, 'alice');
    const b = await join(port, 'bob', 'lab', 'ws');
    const other = await join(port, 'eve', 'elsewhere');
    const before = Date.now();
    const sent = await a.chat.send('hello lab');
    assert.ok(sent.id.length > 0);
    assert.ok(sent.ts >= before && sent.ts <= Date.now());
    assert.equal(sent.from, { id: a.client.self!.id, name: 'alice' });
    await waitFor(() => b.received.length === 1, 'bob to receive', 3000);
    assert.is(b.received[0].id, sent.id);
    assert.is(b.received[0].text, 'hello lab');
    assert.is(b.received[0].clientId, undefined, 'clientId goes back to the sender only');
    assert.equal(a.received.map((m) => m.id), [sent.id], 'the sender sees its own message once, from the ack');
    await b.chat.send('hi alice');
    await waitFor(() => a.received.length === 2);
    assert.is(other.received.length, 0);
    for (const m of [a, b, other]) await m.client.close();
  });
});

test('chat.send({ to }) is private: only the recipient receives it', async () => {
  await withServer(async ({ port }) => {
    const a = await join(port, 'alice');
    const b = await join(port, 'bob');
    const c = await join(port, 'carol');
    const sent = await a.chat.send('for bob only', { to: b.client.self!.id });
    assert.equal(sent.to, { id: b.client.self!.id, name: 'bob' });
    await waitFor(() => b.received.length === 1);
    assert.is(b.received[0].text, 'for bob only');
    await c.chat.send('sync');
    await waitFor(() => b.received.length === 2);
    assert.equal(c.received.map((m) => m.text), ['sync']);
    for (const m of [a, b, c]) await m.client.close();
  });
});

test('chat.send() is refused with a coded error for empty, too long, or an unknown recipient', async () => {
  await withServer(async ({ port }) => {
    const a = await join(port, 'alice');
    const b = await join(port, 'bob');
    const codes: string[] = [];
    for (const attempt of [() => a.chat.send('   '), () => a.chat.send('x'.repeat(11)), () => a.chat.send('hi', { to: 'nobody' }), () => a.chat.send('me', { to: a.client.self!.id })]) {
      try {
        await attempt();
        codes.push('accepted');
      } catch (error) {
        codes.push((error as ConfabError).code);
      }
    }
    assert.equal(codes, ['CHAT_TEXT_EMPTY', 'CHAT_TEXT_TOO_LONG', 'CHAT_NO_SUCH_PEER', 'CHAT_NO_SUCH_PEER']);
    const ok = await a.chat.send('😀'.repeat(10));
    assert.is(ok.text, '😀'.repeat(10), 'the limit counts characters, not UTF-16 units');
    await waitFor(() => b.received.length === 1);
    assert.is(b.received.length, 1, 'nothing refused was delivered');
    for (const m of [a, b]) await m.client.close();
  }, { maxTextLength: 10 });
});

test('a re-sent clientId is stored once and acknowledged again with the same id', async () => {
  await withServer(async ({ port }) => {
    const a = await RawClient.join('tcp', port, { name: 'alice', room: 'lab' });
    const b = await RawClient.join('tcp', port, { name: 'bob', room: 'lab' });
    a.client.sendJson(0x10, { op: 'send', text: 'once', clientId: 'c-1' });
    a.client.sendJson(0x10, { op: 'send', text: 'once', clientId: 'c-1' });
    const first = await a.client.next((f) => f.json?.op === 'ack');
    const second = await a.client.next((f) => f.json?.op === 'ack');
    assert.is(first.json.id, second.json.id);
    assert.is(first.json.clientId, 'c-1');
    a.client.sendJson(FrameType.PING, {});
    await b.client.next((f) => f.json?.op === 'message');
    await a.client.next((f) => f.type === FrameType.PONG);
    b.client.sendJson(FrameType.PING, {});
    await b.client.next((f) => f.type === FrameType.PONG);
    assert.is(b.client.frames.filter((f) => f.json?.op === 'message').length, 0, 'bob got the message once');
    a.client.sendJson(0x10, { op: 'send', text: 'something else', clientId: 'c-1' });
    const reused = await a.client.nextError();
    assert.is(reused.code, 'CHAT_CLIENT_ID_REUSED');
    assert.is(reused.ref, 'c-1');
    a.client.destroy();
    b.client.destroy();
  });
});

test('a late joiner gets the room history, with private messages only when it is a party', async () => {
  await withServer(async ({ port }) => {
    const a = await join(port, 'alice');
    const b = await join(port, 'bob');
    await a.chat.send('one');
    await a.chat.send('secret', { to: b.client.self!.id });
    await b.chat.send('two');
    const late = await join(port, 'late');
    await waitFor(() => late.history.length === 1);
    assert.equal(late.history[0].map((m) => m.text), ['one', 'two']);
    assert.equal(late.chat.messages.map((m) => m.text), ['one', 'two']);
    for (const m of [a, b, late]) await m.client.close();
  });
});

test('history is bounded by historyLimit and survives a server restart', async () => {
  const first = await startTestServer({ plugins: [chat({ historyLimit: 3 })] });
  const a = await join(first.port, 'alice');
  for (const text of ['1', '2', '3', '4', '5']) await a.chat.send(text);
  await a.client.close();
  // Whichever the store is (SQLite, or PostgreSQL in the postgres pass).
  const { rows } = await first.server.store.db.selectFrom('chat_messages').select((eb) => eb.fn.countAll<number>().as('rows')).executeTakeFirstOrThrow();
  await first.close({ keepData: true });
  assert.is(Number(rows), 3, 'the store keeps no more than historyLimit messages per room');

  const second = await startTestServer({ plugins: [chat({ historyLimit: 3 })], server: { dataDir: first.dataDir } });
  try {
    const late = await join(second.port, 'late');
    await waitFor(() => late.history.length === 1);
    assert.equal(late.history[0].map((m) => m.text), ['3', '4', '5']);
    await late.client.close();
  } finally {
    await second.close();
  }
});

test('bad chat payloads get coded errors and the session keeps chatting', async () => {
  await withServer(async ({ port }) => {
    const a = await RawClient.join('ws', port, { name: 'alice', room: 'lab' });
    const b = await join(port, 'bob');
    a.client.sendJson(0x10, { op: 'shout', text: 'x' });
    assert.is((await a.client.nextError()).code, 'CHAT_BAD_REQUEST');
    a.client.sendJson(0x10, { op: 'send', text: 42 });
    assert.is((await a.client.nextError()).code, 'CHAT_BAD_REQUEST');
    a.client.send(0x10, new TextEncoder().encode('not json'));
    const invalid = await a.client.nextError();
    assert.is(invalid.code, 'INVALID_JSON');
    assert.is(invalid.channel, 'chat');
    assert.is(invalid.fatal, false);
    a.client.send(0x10, new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    assert.is((await a.client.nextError()).code, 'INVALID_UTF8');
    a.client.sendJson(0x10, { op: 'send', text: 'still here', clientId: 'ok' });
    await a.client.next((f) => f.json?.op === 'ack');
    await waitFor(() => b.received.length === 1);
    assert.is(b.received[0].text, 'still here');
    a.client.destroy();
    await b.client.close();
  });
});

test('chat(options) rejects a wrong option before the server starts', () => {
  for (const options of [{ historyLimit: -1 }, { maxTextLength: 0 }, { historyLimt: 5 }]) {
    try {
      chat(options as never);
      assert.unreachable('should have thrown');
    } catch (error) {
      assert.is((error as ConfabError).code, 'CONFIG_INVALID');
    }
  }
});

test.run();
