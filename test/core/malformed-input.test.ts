import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from 'node:net';
import { WebSocket } from 'ws';
import { encodeFrame, encodeJsonFrame } from '../../core/frame.js';
import { FrameType } from '../../core/protocol.js';
import { chat } from '../../plugins/chat/server.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, waitFor, type TestServer } from '../../core/testing.js';

const MAX_PAYLOAD = 64 * 1024;

/**
 * Runs `attack` in a room where two well-behaved members chat, then checks that both still chat both ways
 * and that the server still serves new joins.
 */
async function withBystanders(attack: (server: TestServer) => Promise<void>): Promise<void> {
  const server = await startTestServer({ plugins: [chat()], server: { maxPayload: MAX_PAYLOAD } });
  try {
    const a = await RawClient.join('tcp', server.port, { name: 'a', room: 'lab' });
    const b = await RawClient.join('ws', server.port, { name: 'b', room: 'lab' });
    await attack(server);
    a.client.sendJson(0x10, { op: 'send', text: 'after the attack', clientId: 'x1' });
    assert.is((await b.client.next((f) => f.json?.op === 'message')).json.text, 'after the attack');
    b.client.sendJson(0x10, { op: 'send', text: 'still fine', clientId: 'x2' });
    assert.is((await a.client.next((f) => f.json?.op === 'message')).json.text, 'still fine');
    const late = await RawClient.join('tcp', server.port, { name: 'late', room: 'lab' });
    late.client.destroy();
    assert.not.ok(a.client.isClosed || b.client.isClosed, 'bystanders stay connected');
    a.client.destroy();
    b.client.destroy();
  } finally {
    await server.close();
  }
}

/** Joins a third member, the attacker. */
function attacker(transport: 'tcp' | 'ws', port: number) {
  return RawClient.join(transport, port, { name: 'mallory', room: 'lab' });
}

test('a TCP frame longer than maxPayload gets FRAME_TOO_LARGE before the payload is read, and is closed', async () => {
  await withBystanders(async ({ port }) => {
    const { client } = await attacker('tcp', port);
    client.sendBytes(new Uint8Array([0x10, 0x7f, 0xff, 0xff, 0xff]));
    const error = await client.nextError();
    assert.is(error.code, 'FRAME_TOO_LARGE');
    assert.is(error.fatal, true);
    await client.closed;
  });
});

test('a WebSocket message over maxPayload is refused with close code 1009 and its session ends', async () => {
  await withBystanders(async ({ port, server }) => {
    await attacker('ws', port);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(encodeJsonFrame(FrameType.HELLO, { v: 1, name: 'big', room: 'lab' }));
    await new Promise((resolve) => ws.once('message', resolve));
    ws.send(encodeFrame(0x10, new Uint8Array(MAX_PAYLOAD + 100)));
    const code = await new Promise<number>((resolve) => ws.once('close', resolve));
    assert.is(code, 1009);
    await waitFor(() => ![...server.sessions.values()].some((s) => s.name === 'big'), 'the session to end', 3000);
  });
});

test('a chat frame over the channel limit but within maxPayload gets a non-fatal FRAME_TOO_LARGE', async () => {
  await withBystanders(async ({ port }) => {
    const { client } = await attacker('tcp', port);
    client.send(0x10, new Uint8Array(MAX_PAYLOAD - 10).fill(0x20));
    const error = await client.nextError();
    assert.is(error.code, 'FRAME_TOO_LARGE');
    assert.is(error.fatal, false);
    assert.is(error.channel, 'chat');
    client.send(FrameType.PING);
    await client.next((f) => f.type === FrameType.PONG);
    client.destroy();
  });
});

test('a TCP stream that ends inside a frame gets FRAME_TRUNCATED', async () => {
  await withBystanders(async ({ port }) => {
    const { client } = await attacker('tcp', port);
    client.sendBytes(encodeJsonFrame(0x10, { op: 'send', text: 'cut short' }).subarray(0, 12));
    client.end();
    const error = await client.nextError();
    assert.is(error.code, 'FRAME_TRUNCATED');
    assert.is(error.fatal, true);
    await client.closed;
  });
});

test('a WebSocket message that is not one whole frame gets FRAME_MALFORMED and the session goes on', async () => {
  await withBystanders(async ({ port }) => {
    const { client } = await attacker('ws', port);
    for (const bytes of [new Uint8Array([0x10, 0, 0]), new Uint8Array([0x10, 0, 0, 0, 9, 1, 2]), new Uint8Array([0x10, 0, 0, 0, 0, 1])]) {
      client.sendBytes(bytes);
      const error = await client.nextError();
      assert.is(error.code, 'FRAME_MALFORMED');
      assert.is(error.fatal, false);
    }
    client.sendText('{"op":"send","text":"as text"}');
    assert.is((await client.nextError()).code, 'TEXT_FRAME_UNSUPPORTED');
    client.send(FrameType.PING);
    await client.next((f) => f.type === FrameType.PONG);
    client.destroy();
  });
});

test('unknown frame types get UNKNOWN_FRAME_TYPE without closing the session', async () => {
  await withBystanders(async ({ port }) => {
    for (const transport of ['tcp', 'ws'] as const) {
      const { client } = await attacker(transport, port);
      for (const type of [0x7f, 0xff, 0x00, 0x0e, FrameType.WELCOME, FrameType.PEER_JOINED, FrameType.HELLO]) {
        client.send(type, new Uint8Array([1, 2, 3]));
        const error = await client.nextError();
        assert.is(error.code, 'UNKNOWN_FRAME_TYPE', `type 0x${type.toString(16)}`);
        assert.is(error.fatal, false);
      }
      client.send(FrameType.PING);
      await client.next((f) => f.type === FrameType.PONG);
      client.destroy();
    }
  });
});

test('non-JSON and invalid UTF-8 payloads get INVALID_JSON and INVALID_UTF8', async () => {
  await withBystanders(async ({ port }) => {
    const { client } = await attacker('tcp', port);
    const cases: Array<[Uint8Array, string]> = [
      [new TextEncoder().encode('{"op":"send",'), 'INVALID_JSON'],
      [new TextEncoder().encode('[1,2,3]'), 'INVALID_JSON'],
      [new TextEncoder().encode('"just a string"'), 'INVALID_JSON'],
      [new Uint8Array([0xc3, 0x28]), 'INVALID_UTF8'],
      [new Uint8Array([0x7b, 0xed, 0xa0, 0x80, 0x7d]), 'INVALID_UTF8'],
      [new Uint8Array(0), 'INVALID_JSON'],
    ];
    for (const [payload, code] of cases) {
      client.send(0x10, payload);
      const error = await client.nextError();
      assert.is(error.code, code);
      assert.is(error.channel, 'chat');
    }
    client.destroy();
  });
});

test('a first frame that is not HELLO gets HELLO_REQUIRED and is closed, over TCP and WebSocket', async () => {
  await withBystanders(async ({ port }) => {
    const tcp = await RawClient.tcp(port);
    tcp.send(FrameType.PING);
    assert.is((await tcp.nextError()).code, 'HELLO_REQUIRED');
    await tcp.closed;
    const chatFirst = await RawClient.tcp(port);
    chatFirst.sendJson(0x10, { op: 'send', text: 'hi' });
    assert.is((await chatFirst.nextError()).code, 'HELLO_REQUIRED');
    await chatFirst.closed;
    const ws = await RawClient.ws(port);
    ws.sendJson(0x10, { op: 'send', text: 'hi' });
    const error = await ws.nextError();
    assert.is(error.code, 'HELLO_REQUIRED');
    assert.is(error.fatal, true);
    await ws.closed;
  });
});

test('a bad HELLO gets HELLO_INVALID or UNSUPPORTED_VERSION and is closed', async () => {
  await withBystanders(async ({ port }) => {
    const hellos: Array<[Uint8Array, string]> = [
      [new TextEncoder().encode('hello?'), 'HELLO_INVALID'],
      [new Uint8Array([0xff, 0xfe]), 'HELLO_INVALID'],
      [new TextEncoder().encode('{"v":2,"name":"a"}'), 'UNSUPPORTED_VERSION'],
      [new TextEncoder().encode('{"v":1}'), 'HELLO_INVALID'],
      [new TextEncoder().encode('{"v":1,"name":""}'), 'HELLO_INVALID'],
      [new TextEncoder().encode(JSON.stringify({ v: 1, name: 'x'.repeat(65) })), 'HELLO_INVALID'],
      [new TextEncoder().encode('{"v":1,"name":"a\\u0007b"}'), 'HELLO_INVALID'],
      [new TextEncoder().encode('{"v":1,"name":"a","room":42}'), 'HELLO_INVALID'],
      [new TextEncoder().encode('{"v":1,"name":"a","received":-1}'), 'HELLO_INVALID'],
    ];
    for (const [payload, code] of hellos) {
      const client = await RawClient.tcp(port);
      client.send(FrameType.HELLO, payload);
      const error = await client.nextError();
      assert.is(error.code, code, new TextDecoder().decode(payload));
      assert.is(error.fatal, true);
      await client.closed;
    }
  });
});

test('a first byte that is neither HELLO, HTTP nor TLS gets an ERROR frame and is closed', async () => {
  await withBystanders(async ({ port }) => {
    const client = await RawClient.tcp(port);
    client.sendBytes(new TextEncoder().encode('\u0000\u0000garbage'));
    assert.is((await client.nextError()).code, 'HELLO_REQUIRED');
    await client.closed;
  });
});

test('random bytes after HELLO end only the sender\'s session', async () => {
  await withBystanders(async ({ port }) => {
    const { client } = await attacker('tcp', port);
    let seed = 7;
    const noise = new Uint8Array(4096).map(() => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff);
    noise[0] = 0x10;
    noise[1] = 0xff;
    client.sendBytes(noise);
    const error = await client.nextError();
    assert.is(error.code, 'FRAME_TOO_LARGE');
    await client.closed;
  });
});

test('a socket that connects and never speaks is closed after helloTimeoutMs', async () => {
  const server = await startTestServer({ plugins: [], server: { helloTimeoutMs: 200 } });
  try {
    const silent = connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => silent.on('close', () => resolve()).on('error', () => undefined));
    const slow = await RawClient.tcp(server.port);
    slow.sendBytes(new Uint8Array([FrameType.HELLO, 0, 0]));
    assert.is((await slow.nextError(2000)).code, 'HELLO_TIMEOUT');
    await slow.closed;
  } finally {
    await server.close();
  }
});

test.run();
