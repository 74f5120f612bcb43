/**
 * Sealed UDP media (core/media-crypto.ts, core/transports/udp.ts, core/client/udp-node.ts): spoofed, forged,
 * replayed and reflected datagrams are dropped without a reply; the Node client binds, sends and receives
 * media over UDP, and falls back to its connection when UDP does not answer.
 */
import { createSocket, type Socket } from 'node:dgram';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import { definePlugin } from '../../core/config.js';
import { encodeFrame } from '../../core/frame.js';
import { MediaSealer } from '../../core/media-crypto.js';
import { FrameType, type Welcome } from '../../core/protocol.js';
import type { ServerOptions } from '../../core/types.js';
import { RawClient } from '../helpers/raw-client.js';
import { sleep, startTestServer, waitFor, type TestServer } from '../../core/testing.js';
import { mediaChannel } from '../../core/channel-def.js';

const MEDIA = mediaChannel('media');

const cleanups: Array<() => unknown> = [];
test.after.each(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Relays each media frame to the rest of the room. */
const relay = definePlugin({
  name: 'relay',
  channels: [MEDIA],
  setup(ctx) {
    const media = ctx.channel(MEDIA);
    media.onMessage((session, message) => media.broadcast(session.room, message, { except: session, media: { stream: session.id } }));
  },
});

async function start(options: ServerOptions = {}): Promise<TestServer> {
  const ts = await startTestServer({ plugins: [relay], server: options });
  cleanups.push(() => ts.close());
  return ts;
}

async function udpSocket(): Promise<{ socket: Socket; received: Buffer[] }> {
  const socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (message) => received.push(message));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return { socket, received };
}

function send(socket: Socket, bytes: Uint8Array, port: number): Promise<void> {
  return new Promise((resolve) => socket.send(bytes, port, '127.0.0.1', () => resolve()));
}

function sealerFor(welcome: Welcome): MediaSealer {
  return new MediaSealer(Buffer.from(welcome.mediaKey, 'base64'), welcome.mediaToken, 'to-server');
}

function refused(ts: TestServer, reason: string): number {
  return ts.server.metrics.mediaRefused.get(`udp-${reason}`) ?? 0;
}

async function joined(ts: TestServer, name: string) {
  const result = await RawClient.join('tcp', ts.port, { name });
  cleanups.push(() => result.client.destroy());
  return { ...result, mediaId: result.welcome.channels.media! };
}

test('a replayed media datagram is relayed once; a replayed UDP_BIND from another address binds nothing and gets no reply', async () => {
  const ts = await start();
  const alice = await joined(ts, 'alice');
  const bob = await joined(ts, 'bob');
  const aliceUdp = await udpSocket();
  const attacker = await udpSocket();
  const sealer = sealerFor(alice.welcome);

  const bind = sealer.seal(encodeFrame(FrameType.UDP_BIND, new Uint8Array(8)));
  await send(aliceUdp.socket, bind, ts.port);
  await waitFor(() => aliceUdp.received.length === 1, 'the bind answer', 3000);
  assert.is(aliceUdp.received[0]!.length, bind.length, 'the answer is exactly as large as the request');

  await send(attacker.socket, bind, ts.port);
  await waitFor(() => refused(ts, 'replayed') === 1, 'the replayed bind to be dropped', 3000);
  assert.is(ts.server.sessions.get(alice.welcome.session)!.udpAddress!.port, aliceUdp.socket.address().port, 'still bound to alice');

  const frame = sealer.seal(encodeFrame(alice.mediaId, new TextEncoder().encode('once')));
  await send(aliceUdp.socket, frame, ts.port);
  await send(aliceUdp.socket, frame, ts.port);
  await send(attacker.socket, frame, ts.port);
  await waitFor(() => refused(ts, 'replayed') === 3, 'two more replays dropped', 3000);
  await sleep(100);
  assert.is(bob.client.frames.filter((f) => f.type === alice.mediaId).length, 1, 'relayed once');
  assert.is(attacker.received.length, 0, 'the attacker got nothing back');
});

test('forged, tampered, unsealed, reflected and too-old datagrams are dropped without a reply', async () => {
  const ts = await start();
  const alice = await joined(ts, 'alice');
  const bob = await joined(ts, 'bob');
  const aliceUdp = await udpSocket();
  const stranger = await udpSocket();
  const sealer = sealerFor(alice.welcome);
  await send(aliceUdp.socket, sealer.seal(encodeFrame(FrameType.UDP_BIND, new Uint8Array(4))), ts.port);
  await waitFor(() => aliceUdp.received.length === 1, 'bound', 3000);

  const media = (text: string) => encodeFrame(alice.mediaId, new TextEncoder().encode(text));
  const tampered = Buffer.from(sealer.seal(media('tampered')));
  tampered[tampered.length - 20]! ^= 0x01;
  // Sequence numbers ahead of alice's, so that they pass the replay window and meet the tag check.
  const ahead = (sealer: MediaSealer, text: string) => {
    for (let i = 0; i < 10; i++) sealer.seal(media(text));
    return sealer.seal(media(text));
  };
  const forged = ahead(new MediaSealer(Buffer.alloc(32, 9), alice.welcome.mediaToken, 'to-server'), 'forged');
  const reflected = ahead(new MediaSealer(Buffer.from(alice.welcome.mediaKey, 'base64'), alice.welcome.mediaToken, 'to-client'), 'reflected');
  for (const bytes of [tampered, forged, reflected]) await send(stranger.socket, bytes, ts.port);
  await send(aliceUdp.socket, tampered, ts.port);
  await waitFor(() => refused(ts, 'not-authentic') === 4, 'four forgeries dropped', 3000);
  await send(stranger.socket, media('bare frame'), ts.port);
  await waitFor(() => refused(ts, 'not-sealed') === 1, 'the unsealed frame dropped', 3000);

  // A genuine datagram sent from an address that is not bound is not relayed either.
  await send(stranger.socket, sealer.seal(media('wrong address')), ts.port);
  await waitFor(() => refused(ts, 'address-not-bound') === 1, 'the unbound address dropped', 3000);

  const old = sealer.seal(media('old'));
  for (let i = 0; i < 1100; i++) sealer.seal(media('skipped'));
  await send(aliceUdp.socket, sealer.seal(media('new')), ts.port);
  await send(aliceUdp.socket, old, ts.port);
  await waitFor(() => refused(ts, 'replayed') === 1, 'the old datagram dropped', 3000);
  await sleep(100);
  assert.equal(bob.client.frames.filter((f) => f.type === alice.mediaId).map((f) => new TextDecoder().decode(f.payload)), ['new']);
  assert.is(stranger.received.length, 0, 'nothing was sent to the stranger');
  assert.is(aliceUdp.received.length, 1, 'nothing but the bind answer went to alice');
});

test('ConfabClient({ udp: true }) binds, sends and receives media over sealed UDP', async () => {
  const ts = await start();
  const make = (name: string) => {
    const client = new ConfabClient({ url: `tcp://127.0.0.1:${ts.port}`, name, udp: true, reconnect: false });
    cleanups.push(() => client.close());
    const heard: string[] = [];
    const say = client.use({ name: 'relay', attach: (ctx) => {
      ctx.onMessage('media', (bytes) => heard.push(new TextDecoder().decode(bytes as Uint8Array)));
      return (text: string) => ctx.send('media', new TextEncoder().encode(text));
    } });
    return { client, heard, say };
  };
  const alice = make('alice');
  const bob = make('bob');
  await alice.client.connect();
  await bob.client.connect();
  await waitFor(() => alice.client.mediaOverUdp && bob.client.mediaOverUdp, 'both to bind', 3000);
  const udpBefore = ts.server.metrics.framesIn.get('media') ?? 0;
  alice.say('over udp');
  await waitFor(() => bob.heard.includes('over udp'), 'bob to hear alice', 3000);
  assert.ok(ts.server.sessions.get(alice.client.self!.id)!.udpAddress, 'alice is bound');
  assert.ok(ts.server.sessions.get(bob.client.self!.id)!.udpAddress, 'bob is bound');
  assert.is((ts.server.metrics.framesIn.get('media') ?? 0) - udpBefore, 1);
});

test('ConfabClient({ udp: true }) keeps media on its connection when the server does not answer on UDP', async () => {
  const ts = await start({ udp: false });
  const clients = ['alice', 'bob'].map((name) => {
    const client = new ConfabClient({ url: `tcp://127.0.0.1:${ts.port}`, name, udp: true, reconnect: false });
    cleanups.push(() => client.close());
    return client;
  });
  const heard: string[] = [];
  const say = clients[0]!.use({ name: 'relay', attach: (ctx) => (text: string) => ctx.send('media', new TextEncoder().encode(text)) });
  clients[1]!.use({ name: 'relay', attach: (ctx) => ctx.onMessage('media', (bytes) => heard.push(new TextDecoder().decode(bytes as Uint8Array))) });
  await Promise.all(clients.map((client) => client.connect()));
  await sleep(300);
  assert.is(clients[0]!.mediaOverUdp, false);
  say('over tcp');
  await waitFor(() => heard.includes('over tcp'), 'bob to hear alice over the connection', 3000);
});

test.run();
