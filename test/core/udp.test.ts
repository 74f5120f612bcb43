/**
 * UDP media on the server's port number (core/transports/udp.ts): every datagram is sealed with the session's
 * media key (core/media-crypto.ts); an address is bound to a session only by a sealed UDP_BIND; only
 * media-channel frames from bound addresses are relayed; everything else is ignored without a reply.
 * Spoofed, replayed and forged datagrams are tested in test/security/udp-crypto.test.ts.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { definePlugin } from '../../core/config.js';
import { decodeSingleFrame, encodeFrame, encodeJsonFrame, type Frame } from '../../core/frame.js';
import { MediaSealer, openSealed, readSealedHeader, ReplayWindow } from '../../core/media-crypto.js';
import { FrameType, type Welcome } from '../../core/protocol.js';
import { RawClient, type ReceivedFrame } from '../helpers/raw-client.js';
import { sleep, startTestServer, waitFor, type TestServer } from '../../core/testing.js';
import { jsonChannel, mediaChannel } from '../../core/channel-def.js';

const U_MEDIA = mediaChannel('u-media');
const U_JSON = jsonChannel('u-json', { parse: (message) => message });

const ROOM = 'udp';
/** How long a test waits to be reasonably sure that no reply is coming. */
const SILENCE_MS = 300;
const LONG = 5000;

/** Calls of the json channel's handler. */
let jsonHandled = 0;

/** A test plugin: `u-media` relays each frame to the rest of the room; `u-json` relays too, reliably. */
const relay = definePlugin({
  name: 'udp-relay',
  channels: [U_MEDIA, U_JSON],
  setup(ctx) {
    const media = ctx.channel(U_MEDIA);
    const json = ctx.channel(U_JSON);
    media.onMessage((session, message) => {
      media.broadcast(session.room, message, { except: session, media: { stream: 'v:' + session.id } });
    });
    json.onMessage((session, message) => {
      jsonHandled++;
      json.broadcast(session.room, message, { except: session });
    });
  },
});

/** What a UdpPeer knows of a session: its key, and its own sealer and replay window for that key. */
interface PeerSession {
  key: Uint8Array;
  sealer: MediaSealer;
  window: ReplayWindow;
}

/**
 * A UDP socket on 127.0.0.1 that collects the frames it receives, opened with the keys of the sessions it
 * was told about (`use`, `bind`); datagrams it cannot open are kept with type -1.
 */
class UdpPeer {
  readonly frames: Frame[] = [];
  readonly socket: Socket;
  readonly #serverPort: number;
  #sessions = new Map<string, PeerSession>();
  #current: PeerSession | undefined;
  #wake: (() => void) | undefined;

  private constructor(socket: Socket, serverPort: number) {
    this.socket = socket;
    this.#serverPort = serverPort;
    socket.on('message', (message) => {
      this.frames.push(this.#open(new Uint8Array(message)) ?? { type: -1, payload: new Uint8Array(message) });
      this.#wake?.();
    });
  }

  static async open(serverPort: number): Promise<UdpPeer> {
    const socket = createSocket('udp4');
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    return new UdpPeer(socket, serverPort);
  }

  /** From now on, `send` seals with this session's key (from its WELCOME). */
  use(welcome: Welcome): void {
    let session = this.#sessions.get(welcome.mediaToken);
    if (!session) {
      const key = Buffer.from(welcome.mediaKey, 'base64');
      session = { key, sealer: new MediaSealer(key, welcome.mediaToken, 'to-server'), window: new ReplayWindow() };
      this.#sessions.set(welcome.mediaToken, session);
    }
    this.#current = session;
  }

  /** Sends one datagram to the server and resolves once it was handed to the kernel. */
  sendBytes(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(bytes, this.#serverPort, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
  }

  /** Seals `bytes` (normally one encoded frame) with the current session's key and sends it. */
  sendSealed(bytes: Uint8Array): Promise<void> {
    return this.sendBytes(this.#current!.sealer.seal(bytes));
  }

  /** Sends a frame: sealed once the peer uses a session, else as a bare frame (which the server ignores). */
  send(type: number, payload: Uint8Array): Promise<void> {
    const frame = encodeFrame(type, payload);
    return this.#current ? this.sendSealed(frame) : this.sendBytes(frame);
  }

  /** Binds this socket's address to the session of `welcome` with a sealed UDP_BIND and returns the reply. */
  async bind(welcome: Welcome): Promise<Frame> {
    this.use(welcome);
    await this.send(FrameType.UDP_BIND, new Uint8Array(randomBytes(8)));
    return this.next((f) => f.type === FrameType.UDP_BIND);
  }

  async next(match: (frame: Frame) => boolean, timeoutMs = LONG): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex(match);
      if (index >= 0) return this.frames.splice(index, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching datagram within ${timeoutMs} ms; received types: ${this.frames.map((f) => f.type).join(',')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  /** The frame inside a sealed datagram from the server, if a known key opens it and it is no replay. */
  #open(bytes: Uint8Array): Frame | undefined {
    const header = readSealedHeader(bytes);
    const session = header && this.#sessions.get(header.token);
    if (!header || !session || !session.window.fresh(header.seq)) return undefined;
    const opened = openSealed(session.key, bytes, header, 'to-client');
    if (!opened) return undefined;
    session.window.mark(header.seq);
    return decodeSingleFrame(opened);
  }
}

const cleanups: Array<() => unknown> = [];

test.before.each(() => {
  jsonHandled = 0;
});

test.after.each(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(): Promise<TestServer> {
  const testServer = await startTestServer({ plugins: [relay], server: { resumeGraceMs: 10_000 } });
  cleanups.push(() => testServer.close());
  return testServer;
}

async function join(port: number, name: string) {
  const joined = await RawClient.join('tcp', port, { name, room: ROOM });
  cleanups.push(() => joined.client.destroy());
  return { ...joined, mediaId: joined.welcome.channels['u-media']!, jsonId: joined.welcome.channels['u-json']! };
}

async function udp(port: number): Promise<UdpPeer> {
  const peer = await UdpPeer.open(port);
  cleanups.push(() => peer.close());
  return peer;
}

function ignoredCount(ts: TestServer): number {
  return ts.server.metrics.framesIn.get('udp_ignored') ?? 0;
}

/** Waits until the server has ignored `n` more datagrams than `before`. */
async function ignored(ts: TestServer, before: number, n = 1): Promise<void> {
  await waitFor(() => ignoredCount(ts) >= before + n, `the server to ignore ${n} datagram(s)`, LONG);
  assert.is(ignoredCount(ts), before + n);
}

/** A media payload that names itself. */
function media(label: string): Uint8Array {
  return new TextEncoder().encode(label);
}

function text(frame: Frame | ReceivedFrame): string {
  return new TextDecoder().decode(frame.payload);
}

/** A PING round trip on the connection: whatever the server wrote before it has arrived. */
async function roundTrip(client: RawClient): Promise<void> {
  const token = randomBytes(4);
  client.send(FrameType.PING, token);
  const pong = await client.next((f) => f.type === FrameType.PONG && Buffer.from(f.payload).equals(token), LONG);
  assert.ok(pong);
}

test('UDP_BIND that is not sealed with the session\'s key gets no reply', async () => {
  const ts = await start();
  const { welcome } = await join(ts.port, 'alice');
  const peer = await udp(ts.port);
  const before = ignoredCount(ts);
  // The old, unsealed format: the mediaToken alone proves nothing, since it travels in every datagram.
  await peer.send(FrameType.UDP_BIND, new TextEncoder().encode(welcome.mediaToken));
  // Sealed, naming the session, but with another key (the resume token is a secret too, but not this one).
  peer.use({ ...welcome, mediaKey: randomBytes(32).toString('base64') });
  await peer.send(FrameType.UDP_BIND, new TextEncoder().encode(welcome.resume));
  await ignored(ts, before, 2);
  await sleep(SILENCE_MS);
  assert.is(peer.frames.length, 0, 'no datagram came back');
  assert.is(ts.server.sessions.get(welcome.session)?.udpAddress, undefined);
});

test('UDP_BIND sealed with the session\'s key is answered by a sealed UDP_BIND of exactly the request\'s size', async () => {
  const ts = await start();
  const { welcome } = await join(ts.port, 'alice');
  const peer = await udp(ts.port);
  const sealer = new MediaSealer(Buffer.from(welcome.mediaKey, 'base64'), welcome.mediaToken, 'to-server');
  const request = sealer.seal(encodeFrame(FrameType.UDP_BIND, new TextEncoder().encode('proof-1')));
  peer.use(welcome);
  await peer.sendBytes(request);
  const reply = await peer.next(() => true);
  assert.is(reply.type, FrameType.UDP_BIND);
  assert.is(reply.payload.length + 5 + sealer.overhead, request.length);
  assert.is(text(reply), 'proof-1');
  const bound = ts.server.sessions.get(welcome.session)!.udpAddress;
  assert.equal(bound, { address: '127.0.0.1', port: peer.socket.address().port });
});

test('a media frame over UDP from a bound address reaches a TCP member, and reaches it over UDP once it binds', async () => {
  const ts = await start();
  const { welcome: aliceWelcome, mediaId } = await join(ts.port, 'alice');
  const { client: bob, welcome: bobWelcome } = await join(ts.port, 'bob');
  const aliceUdp = await udp(ts.port);
  await aliceUdp.bind(aliceWelcome);

  await aliceUdp.send(mediaId, media('frame-1'));
  const overTcp = await bob.next((f) => f.type === mediaId, LONG);
  assert.is(text(overTcp), 'frame-1');

  const bobUdp = await udp(ts.port);
  await bobUdp.bind(bobWelcome);
  await aliceUdp.send(mediaId, media('frame-2'));
  const overUdp = await bobUdp.next((f) => f.type === mediaId);
  assert.is(text(overUdp), 'frame-2');
  await roundTrip(bob);
  assert.is(bob.frames.filter((f) => f.type === mediaId).length, 0, 'frame-2 did not also come over TCP');
  assert.is(aliceUdp.frames.length, 0, 'the sender does not get its own frame back');
});

test('session.sendMediaFrame() sends a media frame too large for one datagram over the connection of a UDP-bound member', async () => {
  const ts = await start();
  const { client: alice, mediaId } = await join(ts.port, 'alice');
  const { client: bob, welcome: bobWelcome } = await join(ts.port, 'bob');
  const bobUdp = await udp(ts.port);
  await bobUdp.bind(bobWelcome);

  const big = new Uint8Array(70_000).fill(9);
  alice.send(mediaId, big);
  const frame = await bob.next((f) => f.type === mediaId, LONG);
  assert.is(frame.payload.length, big.length);
  alice.send(mediaId, media('small'));
  assert.is(text(await bobUdp.next((f) => f.type === mediaId)), 'small');
  assert.is(bobUdp.frames.length, 0);
});

test('the server ignores datagrams from unbound addresses, non-frames, core frames and json-channel frames over UDP', async () => {
  const ts = await start();
  const { client: alice, welcome: aliceWelcome, mediaId, jsonId } = await join(ts.port, 'alice');
  const { client: bob } = await join(ts.port, 'bob');
  const aliceUdp = await udp(ts.port);
  await aliceUdp.bind(aliceWelcome);
  const stranger = await udp(ts.port);

  let before = ignoredCount(ts);
  await stranger.send(mediaId, media('from-a-stranger'));
  await ignored(ts, before);

  before = ignoredCount(ts);
  await stranger.sendBytes(new Uint8Array(randomBytes(64)));
  await ignored(ts, before);

  before = ignoredCount(ts);
  // A header that promises more bytes than the datagram has.
  await aliceUdp.sendSealed(encodeFrame(mediaId, media('truncated')).subarray(0, 8));
  await ignored(ts, before);

  before = ignoredCount(ts);
  await aliceUdp.sendSealed(encodeJsonFrame(jsonId, { op: 'hi' }));
  await ignored(ts, before);
  assert.is(jsonHandled, 0, 'the json handler never saw the UDP frame');

  before = ignoredCount(ts);
  await aliceUdp.send(FrameType.PING, media('ping'));
  await aliceUdp.send(FrameType.BYE, new TextEncoder().encode('{}'));
  await ignored(ts, before, 2);
  assert.is(ts.server.sessions.get(aliceWelcome.session)?.state, 'active', 'BYE over UDP does not end the session');

  // The server is still fine: the bound address still relays, and the connections still answer.
  await aliceUdp.send(mediaId, media('sentinel'));
  const relayed = await bob.next((f) => f.type === mediaId, LONG);
  assert.is(text(relayed), 'sentinel');
  await roundTrip(bob);
  await roundTrip(alice);
  assert.equal(bob.frames.filter((f) => f.type === mediaId || f.type === jsonId).map(text), [], 'nothing else was relayed');
  assert.is(stranger.frames.length, 0, 'the stranger got no reply');
  assert.equal(aliceUdp.frames.map((f) => f.type), [], 'no PONG or other reply over UDP');
});

test('server.endSession() unbinds a session that leaves with BYE: its old address and token no longer work', async () => {
  const ts = await start();
  const { client: alice, welcome: aliceWelcome, mediaId } = await join(ts.port, 'alice');
  const { client: bob } = await join(ts.port, 'bob');
  const aliceUdp = await udp(ts.port);
  await aliceUdp.bind(aliceWelcome);

  alice.sendJson(FrameType.BYE, {});
  const left = await bob.next((f) => f.type === FrameType.PEER_LEFT, LONG);
  assert.is(left.json.reason, 'bye');

  let before = ignoredCount(ts);
  await aliceUdp.send(mediaId, media('after-bye'));
  await ignored(ts, before);

  before = ignoredCount(ts);
  await aliceUdp.send(FrameType.UDP_BIND, new TextEncoder().encode('proof'));
  await ignored(ts, before);
  await sleep(SILENCE_MS);
  assert.is(aliceUdp.frames.length, 0, 'the old token is not answered');

  await roundTrip(bob);
  assert.is(bob.frames.filter((f) => f.type === mediaId).length, 0);
});

test('a session that loses its connection is unbound while it waits for a resume', async () => {
  const ts = await start();
  const { client: alice, welcome: aliceWelcome, mediaId } = await join(ts.port, 'alice');
  const { client: bob } = await join(ts.port, 'bob');
  const aliceUdp = await udp(ts.port);
  await aliceUdp.bind(aliceWelcome);

  alice.destroy();
  await waitFor(() => ts.server.sessions.get(aliceWelcome.session)?.state === 'detached', 'alice to be detached', LONG);
  const before = ignoredCount(ts);
  await aliceUdp.send(mediaId, media('while-detached'));
  await ignored(ts, before);
  await roundTrip(bob);
  assert.is(bob.frames.filter((f) => f.type === mediaId).length, 0);
});

test('UDP_BIND for a session that waits for a resume gets no reply and binds nothing', async () => {
  const ts = await start();
  const { client: alice, welcome } = await join(ts.port, 'alice');
  alice.destroy();
  await waitFor(() => ts.server.sessions.get(welcome.session)?.state === 'detached', 'alice to be detached', LONG);
  const peer = await udp(ts.port);
  peer.use(welcome);
  await peer.send(FrameType.UDP_BIND, new TextEncoder().encode('proof'));
  await sleep(SILENCE_MS);
  // Only an active session can be bound: a detached one has no connection to take its media.
  assert.is(peer.frames.length, 0, 'no UDP_BIND reply for a detached session');
  assert.is(ts.server.sessions.get(welcome.session)?.udpAddress, undefined);
});

test('UDP_BIND of an address already bound to another session moves it: media for the first session takes its connection', async () => {
  const ts = await start();
  const { client: alice, welcome: aliceWelcome, mediaId } = await join(ts.port, 'alice');
  const { welcome: bobWelcome } = await join(ts.port, 'bob');
  const { client: carol } = await join(ts.port, 'carol');
  const shared = await udp(ts.port);
  await shared.bind(aliceWelcome);
  await shared.bind(bobWelcome);

  carol.send(mediaId, media('for-everyone'));
  assert.is(text(await shared.next((f) => f.type === mediaId)), 'for-everyone');
  await sleep(SILENCE_MS);
  await roundTrip(alice);
  // Regression (fixed in 3837a5d): udp.ts #onMessage gave the address to Bob but left alice.udpAddress
  // pointing at it, so Alice's copy went to Bob's socket (a second datagram), never to Alice's connection.
  assert.is(shared.frames.length, 0, 'only Bob\'s copy came over UDP');
  assert.equal(alice.frames.filter((f) => f.type === mediaId).map(text), ['for-everyone'], 'Alice got her copy over TCP');
  assert.is(ts.server.sessions.get(aliceWelcome.session)?.udpAddress, undefined);
});

test('UDP_BIND of an address already bound to another session moves it: the first session\'s leaving keeps the second bound', async () => {
  const ts = await start();
  const { client: alice, welcome: aliceWelcome, mediaId } = await join(ts.port, 'alice');
  const { welcome: bobWelcome } = await join(ts.port, 'bob');
  const { client: carol } = await join(ts.port, 'carol');
  const shared = await udp(ts.port);
  await shared.bind(aliceWelcome);
  await shared.bind(bobWelcome);

  alice.sendJson(FrameType.BYE, {});
  await carol.next((f) => f.type === FrameType.PEER_LEFT, LONG);
  const before = ignoredCount(ts);
  await shared.send(mediaId, media('from-bob'));
  await waitFor(() => carol.frames.some((f) => f.type === mediaId) || ignoredCount(ts) > before, 'the datagram to be relayed or ignored', LONG);
  // Regression (fixed in 3837a5d): Alice's leaving (server.endSession → udp.unbind) deleted the binding of
  // the address, which was Bob's by then, so his datagrams were ignored although bob.udpAddress named it.
  assert.is(ignoredCount(ts), before, 'Bob\'s datagram was not ignored');
  assert.equal(carol.frames.filter((f) => f.type === mediaId).map(text), ['from-bob']);
  assert.equal(ts.server.sessions.get(bobWelcome.session)?.udpAddress, { address: '127.0.0.1', port: shared.socket.address().port });
});

test('UDP_BIND over the TCP connection gets a non-fatal CHANNEL_NOT_ALLOWED', async () => {
  const ts = await start();
  const { client: alice, welcome } = await join(ts.port, 'alice');
  alice.send(FrameType.UDP_BIND, new TextEncoder().encode(welcome.mediaToken));
  const error = await alice.nextError(LONG);
  assert.is(error.code, 'CHANNEL_NOT_ALLOWED');
  assert.is(error.fatal, false);
  await roundTrip(alice);
  assert.not.ok(alice.isClosed);
  assert.is(ts.server.sessions.get(welcome.session)?.state, 'active');
  assert.is(ts.server.sessions.get(welcome.session)?.udpAddress, undefined);
});

test.run();
