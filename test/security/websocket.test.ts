/**
 * WebSocket limits (core/server.ts: ws's maxPayload and perMessageDeflate off): an oversized message and a
 * compressed "deflate bomb" end only the offending connection; the other sessions keep working and the
 * server's memory does not take the bomb's size.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { deflateRawSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket } from 'ws';
import { ConfabClient } from '../../core/client/node.js';
import { encodeJsonFrame } from '../../core/frame.js';
import { FrameType } from '../../core/protocol.js';
import { chatClient } from '../../plugins/chat/client.js';
import { chat } from '../../plugins/chat/server.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../../core/testing.js';

const cleanups: Array<() => unknown> = [];
test.after.each(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(): Promise<TestServer> {
  const ts = await startTestServer({ plugins: [chat()], server: { maxPayload: 64 * 1024 } });
  cleanups.push(() => ts.close());
  return ts;
}

async function bystander(ts: TestServer) {
  const client = new ConfabClient({ url: `ws://127.0.0.1:${ts.port}/ws`, name: 'bystander', reconnect: false });
  cleanups.push(() => client.close());
  const api = client.use(chatClient());
  await client.connect();
  return async () => assert.is((await api.send('fine')).text, 'fine');
}

/** One masked WebSocket frame (client → server), with RSV1 (the "compressed" bit) when asked. */
function wsFrame(payload: Buffer, options: { rsv1?: boolean } = {}): Buffer {
  const mask = randomBytes(4);
  const length = payload.length;
  const header = length < 126 ? Buffer.from([0, 0x80 | length])
    : length < 65536 ? Buffer.from([0, 0x80 | 126, length >> 8, length & 0xff])
      : Buffer.concat([Buffer.from([0, 0x80 | 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(length)); return b; })()]);
  header[0] = 0x80 | (options.rsv1 ? 0x40 : 0) | 0x02;
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i]! ^= mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

test('a WebSocket message over maxPayload ends that connection with FRAME_TOO_LARGE; others keep working', async () => {
  const ts = await start();
  const check = await bystander(ts);
  const { client } = await RawClient.join('ws', ts.port, { name: 'big' });
  cleanups.push(() => client.destroy());
  client.sendBytes(new Uint8Array(256 * 1024));
  await client.closed;
  assert.ok((ts.server.metrics.errors.get('FRAME_TOO_LARGE') ?? 0) >= 1);
  await check();
});

test('permessage-deflate is not negotiated, and a compressed "deflate bomb" frame closes the connection without being inflated', async () => {
  const ts = await start();
  const check = await bystander(ts);
  const offered = new WebSocket(`ws://127.0.0.1:${ts.port}/ws`, { perMessageDeflate: true });
  cleanups.push(() => offered.terminate());
  await new Promise((resolve) => offered.once('open', resolve));
  assert.is(offered.extensions, '', 'the server accepted no extension');

  const socket = connect({ host: '127.0.0.1', port: ts.port });
  socket.on('error', () => undefined);
  cleanups.push(() => socket.destroy());
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n`
    + `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`);
  const response = await new Promise<string>((resolve) => socket.once('data', (chunk) => resolve(chunk.toString('latin1'))));
  assert.match(response, /^HTTP\/1\.1 101/);
  assert.not.match(response, /permessage-deflate/i);
  socket.write(wsFrame(Buffer.from(encodeJsonFrame(FrameType.HELLO, { v: 1, name: 'bomber' }))));
  // 64 MiB of zeros compress to about 64 KiB.
  const bomb = deflateRawSync(Buffer.alloc(64 * 1024 * 1024));
  const heapBefore = process.memoryUsage().heapUsed;
  socket.write(wsFrame(bomb, { rsv1: true }));
  await closed;
  const grown = process.memoryUsage().heapUsed - heapBefore;
  assert.ok(grown < 16 * 1024 * 1024, `heap grew by ${grown} bytes`);
  await check();
});

test.run();
