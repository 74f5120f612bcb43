/**
 * The resource limits (core/limits.ts, server.ts, dispatch.ts, json.ts, session.ts) against hostile clients:
 * slowloris sockets, a connection flood, a stalled reader in a busy room, message floods, deep and large
 * JSON. Each offender gets a coded error or is closed; a bystander's chat keeps working throughout.
 */
import { connect, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import { encodeFrame, encodeJsonFrame } from '../../core/frame.js';
import { FrameType } from '../../core/protocol.js';
import type { ServerOptions } from '../../core/types.js';
import { chatClient } from '../../plugins/chat/client.js';
import { chat } from '../../plugins/chat/server.js';
import { RawClient } from '../helpers/raw-client.js';
import { sleep, startTestServer, waitFor, type TestServer } from '../../core/testing.js';

const cleanups: Array<() => unknown> = [];

test.after.each(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: ServerOptions = {}): Promise<TestServer> {
  const ts = await startTestServer({ plugins: [chat()], server: options });
  cleanups.push(() => ts.close());
  return ts;
}

/** A member whose chat must keep working. */
async function bystander(ts: TestServer) {
  const client = new ConfabClient({ url: `tcp://127.0.0.1:${ts.port}`, name: 'bystander', reconnect: false });
  cleanups.push(() => client.close());
  const api = client.use(chatClient());
  await client.connect();
  return { client, chat: api, check: async () => assert.is((await api.send('still fine')).text, 'still fine') };
}

/** A plain socket to the server, from `localAddress` (any 127.x address works on loopback). */
async function socket(port: number, localAddress = '127.0.0.1'): Promise<{ socket: Socket; closed: Promise<void>; received: () => Buffer }> {
  const s = connect({ host: '127.0.0.1', port, localAddress });
  const chunks: Buffer[] = [];
  s.on('data', (chunk) => chunks.push(chunk));
  s.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
  await new Promise<void>((resolve) => s.once('connect', resolve));
  cleanups.push(() => s.destroy());
  return { socket: s, closed, received: () => Buffer.concat(chunks) };
}

/** Waits for `closed` at most `ms`; true when it closed. */
async function closesWithin(closed: Promise<void>, ms: number): Promise<boolean> {
  return Promise.race([closed.then(() => true), sleep(ms).then(() => false)]);
}

test('slowloris: a framed client that dribbles its HELLO gets HELLO_TIMEOUT and is closed', async () => {
  const ts = await start({ helloTimeoutMs: 400 });
  const member = await bystander(ts);
  const { socket: s, closed, received } = await socket(ts.port);
  const hello = encodeJsonFrame(FrameType.HELLO, { v: 1, name: 'slow', room: 'default' });
  let sent = 0;
  const drip = setInterval(() => sent < hello.length && s.write(hello.subarray(sent, ++sent)), 100);
  cleanups.push(() => clearInterval(drip));
  assert.ok(await closesWithin(closed, 3000), 'closed');
  assert.ok(sent < hello.length, 'before the HELLO was complete');
  assert.match(received().toString('utf8'), /"code":"HELLO_TIMEOUT"/);
  await member.check();
});

test('slowloris: a silent socket and an HTTP client that dribbles its headers are closed', async () => {
  const ts = await start({ helloTimeoutMs: 400 });
  const member = await bystander(ts);
  const silent = await socket(ts.port);
  const http = await socket(ts.port);
  http.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n');
  const drip = setInterval(() => http.socket.write('X-Slow: 1\r\n'), 100);
  cleanups.push(() => clearInterval(drip));
  assert.ok(await closesWithin(silent.closed, 3000), 'the silent socket closed');
  assert.ok(await closesWithin(http.closed, 4000), 'the slow HTTP client closed');
  await member.check();
});

test('a connection flood from one address is cut at maxConnectionsPerAddress; another address still joins', async () => {
  const ts = await start({ maxConnectionsPerAddress: 10 });
  const member = await bystander(ts);
  const flood = await Promise.all(Array.from({ length: 40 }, () => socket(ts.port, '127.0.0.2')));
  await waitFor(() => (ts.server.metrics.errors.get('CONNECTION_LIMIT') ?? 0) === 30, '30 refusals', 3000);
  const open = await Promise.all(flood.map(async (f) => !(await closesWithin(f.closed, 100))));
  assert.is(open.filter(Boolean).length, 10, 'ten stay open');
  await member.check();
  const { welcome } = await RawClient.join('tcp', ts.port, { name: 'late' });
  assert.ok(welcome.session);
});

test('maxConnections caps the total across addresses', async () => {
  const ts = await start({ maxConnections: 5, helloTimeoutMs: 30_000 });
  const sockets = await Promise.all(Array.from({ length: 8 }, (_, i) => socket(ts.port, `127.0.0.${10 + i}`)));
  await waitFor(() => (ts.server.metrics.errors.get('CONNECTION_LIMIT') ?? 0) === 3, '3 refusals', 3000);
  // Closed by the client before a first byte, a socket frees its place at once, long before helloTimeoutMs.
  for (const s of sockets) s.socket.destroy();
  await sleep(200);
  const { welcome } = await RawClient.join('tcp', ts.port, { name: 'after' });
  assert.ok(welcome.session, 'room again once connections closed');
});

test('a stalled reader in a busy room is closed with SEND_QUEUE_OVERFLOW; the others get every message; its queue stays bounded', async () => {
  const maxQueueBytes = 256 * 1024;
  const ts = await start({ maxQueueBytes, mediaHighWaterBytes: 64 * 1024, jsonMessagesPerSecond: 100_000 });
  const member = await bystander(ts);
  const { client: stalled, welcome } = await RawClient.join('tcp', ts.port, { name: 'stalled' });
  cleanups.push(() => stalled.destroy());
  stalled.pause();
  const { client: talker, welcome: talkerWelcome } = await RawClient.join('tcp', ts.port, { name: 'talker' });
  cleanups.push(() => talker.destroy());
  const received: string[] = [];
  member.chat.on('message', (m) => received.push(m.text));
  const session = ts.server.sessions.get(welcome.session)!;
  let peakQueue = 0;
  // 15 MB in all: more than the kernel's socket buffers can hide from the send queue.
  const text = 'x'.repeat(3900);
  for (let i = 0; i < 4000; i++) {
    talker.sendJson(talkerWelcome.channels.chat!, { op: 'send', text: `${i} ${text}` });
    if (i % 50 === 0) await sleep(1);
    peakQueue = Math.max(peakQueue, session.queuedBytes);
  }
  await waitFor(() => received.length === 4000, 'the bystander to get all 4000 messages', 20_000);
  assert.is(ts.server.sessions.has(welcome.session), false, 'the stalled session is gone');
  assert.ok((ts.server.metrics.errors.get('SEND_QUEUE_OVERFLOW') ?? 0) >= 1);
  assert.ok(peakQueue <= maxQueueBytes + 8192, `queue peaked at ${peakQueue} bytes`);
  await member.check();
});

test('a message flood gets RATE_LIMITED (non-fatal, excess dropped); a sustained flood is closed with RATE_LIMIT_ABUSE', async () => {
  const ts = await start({ jsonMessagesPerSecond: 50, maxDroppedMessages: 400 });
  const member = await bystander(ts);
  const { client, welcome } = await RawClient.join('tcp', ts.port, { name: 'flooder' });
  cleanups.push(() => client.destroy());
  const chatId = welcome.channels.chat!;
  for (let i = 0; i < 200; i++) client.sendJson(chatId, { op: 'send', text: `m${i}`, clientId: `c${i}` });
  const error = await client.nextError();
  assert.is(error.code, 'RATE_LIMITED');
  assert.is(error.channel, 'chat');
  assert.is(error.fatal, false);
  await sleep(200);
  const acks = client.frames.filter((f) => f.type === chatId && f.json?.op === 'ack').length;
  assert.ok(acks >= 100 && acks < 200, `${acks} acks: the burst (2 s worth) passed, the rest was dropped`);
  assert.is(client.isClosed, false, 'a short flood does not close the session');

  for (let i = 0; i < 1000; i++) client.sendJson(chatId, { op: 'send', text: `again ${i}` });
  const fatal = await client.next((f) => f.type === FrameType.ERROR && f.json.fatal === true);
  assert.is(fatal.json.code, 'RATE_LIMIT_ABUSE');
  await client.closed;
  await member.check();
});

test('PING floods are rate limited too', async () => {
  const ts = await start({ jsonMessagesPerSecond: 20 });
  const { client } = await RawClient.join('tcp', ts.port, { name: 'pinger' });
  cleanups.push(() => client.destroy());
  for (let i = 0; i < 100; i++) client.send(FrameType.PING, new Uint8Array([i]));
  const error = await client.nextError();
  assert.is(error.code, 'RATE_LIMITED');
  await sleep(100);
  assert.ok(client.frames.filter((f) => f.type === FrameType.PONG).length <= 41, 'at most the burst was answered');
});

test('JSON nested deeper than maxJsonDepth gets JSON_TOO_DEEP, JSON over maxJsonBytes gets FRAME_TOO_LARGE; both non-fatal', async () => {
  const ts = await start({ maxJsonDepth: 16, maxJsonBytes: 4096 });
  const deep = `{"op":"send","text":"hi","x":${'['.repeat(2000)}${']'.repeat(2000)}}`;
  const member = await bystander(ts);
  const { client, welcome } = await RawClient.join('tcp', ts.port, { name: 'nester' });
  cleanups.push(() => client.destroy());
  const chatId = welcome.channels.chat!;
  client.send(chatId, new TextEncoder().encode(deep));
  assert.is((await client.nextError()).code, 'JSON_TOO_DEEP');
  // Brackets inside strings do not count.
  client.sendJson(chatId, { op: 'send', text: '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[', clientId: 'ok' });
  const ack = await client.next((f) => f.type === chatId && f.json?.op === 'ack');
  assert.is(ack.json.clientId, 'ok');
  client.send(chatId, new TextEncoder().encode(JSON.stringify({ op: 'send', text: 'y'.repeat(5000) })));
  const error = await client.nextError();
  assert.is(error.code, 'FRAME_TOO_LARGE');
  assert.is(error.fatal, false);
  await member.check();
});

test('a frame header announcing more than maxPayload is refused before any payload is read', async () => {
  const ts = await start({ maxPayload: 1024 });
  const member = await bystander(ts);
  const { client } = await RawClient.join('tcp', ts.port, { name: 'big' });
  const header = encodeFrame(0x10, new Uint8Array(0));
  new DataView(header.buffer, header.byteOffset).setUint32(1, 0xffff_fff0);
  client.sendBytes(header);
  const error = await client.nextError();
  assert.is(error.code, 'FRAME_TOO_LARGE');
  await client.closed;
  await member.check();
});

test.run();
