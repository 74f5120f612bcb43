import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { ConfabError } from '../../core/errors.js';
import { encodeFrame, encodeJsonFrame } from '../../core/frame.js';
import { FrameDecoder } from '../../core/frame-decoder.js';
import { decodeJsonObject, type JsonObject } from '../../core/json.js';
import { FrameType, QUIET_CLIENT_KIND } from '../../core/protocol.js';
import type { Plugin } from '../../core/types.js';
import { WebSocket as NodeWebSocket } from 'ws';
import { ConfabClient as BrowserClient } from '../../core/client/browser.js';
import {
  ConfabClient,
  connect,
  type ClientEvents,
  type ClientMessage,
  type ClientOptions,
  type ClientPlugin,
} from '../../core/client/node.js';
import { startTestServer, waitFor, type TestServer } from '../../core/testing.js';
import { binaryChannel, jsonChannel, mediaChannel } from '../../core/channel-def.js';

const TRANSPORTS = ['tcp', 'ws'] as const;
type Transport = (typeof TRANSPORTS)[number];

function url(transport: Transport, port: number): string {
  return transport === 'tcp' ? `tcp://127.0.0.1:${port}` : `ws://127.0.0.1:${port}/ws`;
}

const RELAY = jsonChannel<JsonObject, JsonObject>('relay', { parse: (message) => message });
const BLOB = binaryChannel('blob');
const VIDEO = mediaChannel('video');

/**
 * A server plugin for these tests: `relay` (json) broadcasts `{op:"say"}` to the room (sender included) and
 * refuses `{op:"fail"}`; `blob` (binary) echoes to the sender; `video` (media) goes to the others.
 */
function relayServer(): Plugin {
  return {
    name: 'relay',
    channels: [RELAY, BLOB, VIDEO],
    setup(ctx) {
      const relay = ctx.channel(RELAY);
      const blob = ctx.channel(BLOB);
      const video = ctx.channel(VIDEO);
      relay.onMessage((session, message) => {
        const { op, text, ref } = message;
        if (op === 'fail') {
          const error = new ConfabError('RELAY_REFUSED', 'the relay refuses this on purpose', { fatal: false });
          if (typeof ref === 'string') error.ref = ref;
          throw error;
        }
        relay.broadcast(session.room, { op: 'said', from: session.name, text });
      });
      blob.onMessage((session, message) => blob.send(session, message));
      video.onMessage((session, message) => {
        video.broadcast(session.room, message, { except: session, media: { stream: `video:${session.id}` } });
      });
    },
  };
}

/** A server plugin that refuses anyone called mallory at the handshake. */
function noMallory(): Plugin {
  return {
    name: 'no-mallory',
    setup(ctx) {
      ctx.hooks.handshake.tapPromise('no-mallory', async (hello) =>
        hello.name === 'mallory' ? new ConfabError('HANDSHAKE_REFUSED', 'mallory may not join') : undefined,
      );
    },
  };
}

/** The client half of `relayServer`, recording what it gets. */
function relayClient() {
  const plugin: ClientPlugin<{
    say(text: string): boolean;
    fail(ref: string): boolean;
    said: string[];
    blobs: Uint8Array[];
    errors: ConfabError[];
    send(channel: string, message: object | Uint8Array): boolean;
  }> = {
    name: 'relay',
    attach(ctx) {
      const said: string[] = [];
      const blobs: Uint8Array[] = [];
      const errors: ConfabError[] = [];
      ctx.onMessage('relay', (message) => said.push(`${(message as JsonObject).from}: ${(message as JsonObject).text}`));
      ctx.onMessage('blob', (message) => blobs.push((message as Uint8Array).slice()));
      ctx.onError((error) => errors.push(error));
      return {
        say: (text) => ctx.send('relay', { op: 'say', text }),
        fail: (ref) => ctx.send('relay', { op: 'fail', ref }),
        send: (channel, message) => ctx.send(channel, message),
        said,
        blobs,
        errors,
      };
    },
  };
  return plugin;
}

/** Records every event of a client, in order, as `name` or `name:detail`. */
function record(client: ConfabClient): string[] {
  const log: string[] = [];
  client.on('peerJoined', (peer) => log.push(`peerJoined:${peer.name}`));
  client.on('peerLeft', (peer) => log.push(`peerLeft:${peer.name}:${peer.reason}`));
  client.on('reconnecting', () => log.push('reconnecting'));
  client.on('resumed', () => log.push('resumed'));
  client.on('rejoined', () => log.push('rejoined'));
  client.on('serverError', (error) => log.push(`serverError:${error.code}`));
  client.on('error', (error) => log.push(`error:${error.code}`));
  client.on('close', (event) => log.push(`close:${event.reason}${event.error ? `:${event.error.code}` : ''}`));
  return log;
}

/** Resolves with the arguments of the next `event`; rejects after `timeoutMs`. */
function next<K extends keyof ClientEvents>(client: ConfabClient, event: K, timeoutMs = 5000): Promise<ClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${String(event)} within ${timeoutMs} ms`)), timeoutMs);
    client.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

/** Runs `body` with clients that are all closed afterwards, whatever happens. */
async function withClients(body: (open: (options: ClientOptions) => ConfabClient) => Promise<void>): Promise<void> {
  const clients: ConfabClient[] = [];
  try {
    await body((options) => {
      const client = new ConfabClient(options);
      clients.push(client);
      return client;
    });
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}

for (const transport of TRANSPORTS) {
  test(`connect() over ${transport} joins the room; peers see each other join`, async () => {
    const { port, close: stop } = await startTestServer();
    try {
      await withClients(async (open) => {
        const alice = open({ url: url(transport, port), name: 'alice', room: 'r1' });
        const aliceLog = record(alice);
        const welcome = await alice.connect();
        assert.is(alice.state, 'open');
        assert.equal(alice.self, { id: welcome.session, name: 'alice', room: 'r1' });
        assert.is(alice.peers.size, 0);
        const bob = open({ url: url(transport === 'tcp' ? 'ws' : 'tcp', port), name: 'bob', room: 'r1' });
        await bob.connect();
        assert.equal([...bob.peers.values()], [{ id: welcome.session, name: 'alice' }]);
        await waitFor(() => alice.peers.size === 1, 'alice to see bob', 3000);
        assert.equal(alice.peers.get(bob.self!.id), { id: bob.self!.id, name: 'bob' });
        assert.equal(aliceLog, ['peerJoined:bob']);
      });
    } finally {
      await stop();
    }
  });
}

test('connect() with a taken name is renamed alice_1 (client.self.name)', async () => {
  const { port, close: stop } = await startTestServer();
  try {
    await withClients(async (open) => {
      await open({ url: url('tcp', port), name: 'alice' }).connect();
      const second = open({ url: url('ws', port), name: 'alice' });
      const welcome = await second.connect();
      assert.is(welcome.name, 'alice_1');
      assert.is(second.self!.name, 'alice_1');
      assert.is(second.self!.room, 'default');
    });
  } finally {
    await stop();
  }
});

test('connect() helper resolves with an open client', async () => {
  const { port, close: stop } = await startTestServer();
  try {
    const client = await connect({ url: url('tcp', port), name: 'helper' });
    assert.is(client.state, 'open');
    assert.is(client.self!.name, 'helper');
    await client.close();
  } finally {
    await stop();
  }
});

test('a quiet client (clientKind "tool") is not announced: no peerJoined or peerLeft, not in WELCOME peers, yet it sees the room', async () => {
  const { port, close: stop } = await startTestServer({ plugins: [relayServer()] });
  try {
    await withClients(async (open) => {
      const alice = open({ url: url('tcp', port), name: 'alice' });
      await alice.connect();
      const log = record(alice);
      const tool = open({ url: url('ws', port), name: 'confab-cli', clientKind: QUIET_CLIENT_KIND });
      const relay = tool.use(relayClient());
      await tool.connect();
      assert.equal([...tool.peers.values()].map((peer) => peer.name), ['alice'], 'the tool sees the participants');
      relay.say('from a tool');
      await waitFor(() => relay.said.length === 1, 'the tool to use a channel', 3000);
      const bob = open({ url: url('tcp', port), name: 'bob' });
      await bob.connect();
      assert.equal([...bob.peers.values()].map((peer) => peer.name), ['alice'], 'WELCOME does not list the tool');
      await tool.close();
      await bob.close();
      await waitFor(() => alice.peers.size === 0, 'bob to leave', 3000);
      assert.equal(log, ['peerJoined:bob', 'peerLeft:bob:bye'], 'only bob was announced');
    });
  } finally {
    await stop();
  }
});

test('close() is idempotent, resolves once closed, and peers see peerLeft with reason bye', async () => {
  const { port, close: stop } = await startTestServer();
  try {
    await withClients(async (open) => {
      const alice = open({ url: url('tcp', port), name: 'alice' });
      const bob = open({ url: url('ws', port), name: 'bob' });
      await alice.connect();
      await bob.connect();
      await waitFor(() => alice.peers.size === 1, 'alice to see bob', 3000);
      const aliceLog = record(alice);
      const bobLog = record(bob);
      const first = bob.close();
      const second = bob.close();
      await Promise.all([first, second]);
      assert.is(bob.state, 'closed');
      assert.equal(bobLog, ['close:bye']);
      await waitFor(() => alice.peers.size === 0, 'alice to see bob leave', 3000);
      assert.equal(aliceLog, ['peerLeft:bob:bye']);
      await bob.close();
      assert.equal(bobLog, ['close:bye']);
      await assertRejects(bob.connect(), 'NOT_CONNECTED');
    });
  } finally {
    await stop();
  }
});

test('rttMs is measured by the heartbeat, which keeps an idle client alive past the idle timeout', async () => {
  const { server, port, close: stop } = await startTestServer({ plugins: [], server: { heartbeatMs: 50 } });
  try {
    await withClients(async (open) => {
      const client = open({ url: url('tcp', port), name: 'pinger' });
      const log = record(client);
      const welcome = await client.connect();
      assert.is(welcome.heartbeatMs, 50);
      await waitFor(() => client.rttMs !== undefined, 'a PONG', 3000);
      assert.ok(client.rttMs! >= 0 && client.rttMs! < 1000, `rtt ${client.rttMs}`);
      await new Promise((resolve) => setTimeout(resolve, 600)); // 12 heartbeats: more than 5 × 50 ms idle timeout
      assert.is(client.state, 'open');
      assert.is(server.sessions.size, 1);
      assert.equal(log, []);
    });
  } finally {
    await stop();
  }
});

test('use() before connect(): sends wait for WELCOME, then json and binary messages flow both ways', async () => {
  const { port, close: stop } = await startTestServer({ plugins: [relayServer()] });
  try {
    await withClients(async (open) => {
      const alice = open({ url: url('tcp', port), name: 'alice' });
      const relay = alice.use(relayClient());
      assert.ok(relay.say('early'));
      await alice.connect();
      assert.equal([...alice.channels.keys()].sort(), ['blob', 'relay', 'video']);
      assert.is(alice.channels.get('video')!.kind, 'media');
      relay.send('blob', new Uint8Array([1, 2, 3]));
      await waitFor(() => relay.said.length === 1 && relay.blobs.length === 1, 'the relay and blob echoes', 3000);
      assert.equal(relay.said, ['alice: early']);
      assert.equal([...relay.blobs[0]], [1, 2, 3]);
    });
  } finally {
    await stop();
  }
});

test('use() after connect() still gets the messages that arrived before it', async () => {
  const { port, close: stop } = await startTestServer({ plugins: [relayServer()] });
  try {
    await withClients(async (open) => {
      const alice = open({ url: url('ws', port), name: 'alice' });
      await alice.connect();
      const bob = open({ url: url('tcp', port), name: 'bob' });
      const bobRelay = bob.use(relayClient());
      await bob.connect();
      bobRelay.say('one');
      bobRelay.say('two');
      await waitFor(() => bobRelay.said.length === 2, 'bob to get his own messages', 3000);
      const relay = alice.use(relayClient());
      await waitFor(() => relay.said.length === 2, 'the held messages', 3000);
      assert.equal(relay.said, ['bob: one', 'bob: two']);
    });
  } finally {
    await stop();
  }
});

test('send() throws UNKNOWN_CHANNEL naming the channels, and INVALID_PAYLOAD for the wrong kind', async () => {
  const { port, close: stop } = await startTestServer({ plugins: [relayServer()] });
  try {
    await withClients(async (open) => {
      const alice = open({ url: url('tcp', port), name: 'alice' });
      const relay = alice.use(relayClient());
      await alice.connect();
      const unknown = catchError(() => relay.send('nope', { op: 'x' }));
      assert.is(unknown?.code, 'UNKNOWN_CHANNEL');
      assert.match(unknown!.message, /its channels: relay, blob, video/);
      assert.is(catchError(() => relay.send('relay', new Uint8Array(1)))?.code, 'INVALID_PAYLOAD');
      assert.is(catchError(() => relay.send('blob', { op: 'x' }))?.code, 'INVALID_PAYLOAD');
      assert.is(catchError(() => relay.send('relay', [1, 2]))?.code, 'INVALID_PAYLOAD');
    });
  } finally {
    await stop();
  }
});

test('a non-fatal server error arrives as serverError and in the plugin onError, with channel and ref', async () => {
  const { port, close: stop } = await startTestServer({ plugins: [relayServer()] });
  try {
    await withClients(async (open) => {
      const alice = open({ url: url('ws', port), name: 'alice' });
      const relay = alice.use(relayClient());
      const log = record(alice);
      await alice.connect();
      relay.fail('r-42');
      const [error] = await next(alice, 'serverError');
      assert.is(error.code, 'RELAY_REFUSED');
      assert.is(error.channel, 'relay');
      assert.is(error.ref, 'r-42');
      assert.is(error.fatal, false);
      assert.equal(relay.errors.map((e) => e.code), ['RELAY_REFUSED']);
      assert.is(alice.state, 'open');
      assert.equal(log, ['serverError:RELAY_REFUSED']);
    });
  } finally {
    await stop();
  }
});

test('media flows to the others, and is dropped (send() returns false) while reconnecting', async () => {
  const { port, close: stop } = await startTestServer({ plugins: [relayServer()] });
  try {
    await withClients(async (open) => {
      const alice = open({ url: url('tcp', port), name: 'alice' });
      const bob = open({ url: url('ws', port), name: 'bob' });
      const frames: number[] = [];
      bob.use({ name: 'viewer', attach: (ctx) => ctx.onMessage('video', (m) => frames.push((m as Uint8Array)[0])) });
      const camera = alice.use(relayClient());
      await alice.connect();
      await bob.connect();
      assert.ok(camera.send('video', new Uint8Array([7])));
      await waitFor(() => frames.length === 1, 'the video frame', 3000);
      alice.dropConnection();
      assert.is(alice.state, 'reconnecting');
      assert.is(camera.send('video', new Uint8Array([8])), false);
      await next(alice, 'resumed');
      assert.ok(camera.send('video', new Uint8Array([9])));
      await waitFor(() => frames.length === 2, 'the second video frame', 3000);
      assert.equal(frames, [7, 9]);
    });
  } finally {
    await stop();
  }
});

for (const transport of TRANSPORTS) {
  test(`dropConnection() over ${transport} resumes the same session: missed messages once, queued sends flushed`, async () => {
    const { port, close: stop } = await startTestServer({ plugins: [relayServer()] });
    try {
      await withClients(async (open) => {
        const alice = open({ url: url(transport, port), name: 'alice' });
        const bob = open({ url: url('tcp', port), name: 'bob' });
        const aliceRelay = alice.use(relayClient());
        const bobRelay = bob.use(relayClient());
        await alice.connect();
        await bob.connect();
        const bobLog = record(bob);
        const aliceLog = record(alice);
        const { id } = alice.self!;
        await waitFor(() => alice.peers.size === 1, 'alice to see bob', 3000);

        for (let round = 1; round <= 2; round++) {
          alice.dropConnection();
          assert.is(alice.state, 'reconnecting');
          bobRelay.say(`missed ${round}`);
          assert.ok(aliceRelay.say(`queued ${round}`));
          const [welcome] = await next(alice, 'resumed');
          assert.is(welcome.resumed, true);
          assert.is(welcome.session, id);
          assert.is(alice.state, 'open');
          await waitFor(() => aliceRelay.said.length === 2 * round && bobRelay.said.length === 2 * round, `round ${round}`, 3000);
        }
        assert.equal(aliceRelay.said, ['bob: missed 1', 'alice: queued 1', 'bob: missed 2', 'alice: queued 2']);
        assert.equal(bobRelay.said, ['bob: missed 1', 'alice: queued 1', 'bob: missed 2', 'alice: queued 2']);
        assert.equal(aliceLog, ['reconnecting', 'resumed', 'reconnecting', 'resumed']);
        assert.equal(bobLog, []);
        assert.is(alice.self!.id, id);
      });
    } finally {
      await stop();
    }
  });
}

test('a peer that joins while the client is disconnected is announced once after the resume', async () => {
  const { port, close: stop } = await startTestServer();
  try {
    await withClients(async (open) => {
      const alice = open({ url: url('tcp', port), name: 'alice' });
      await alice.connect();
      const log = record(alice);
      alice.dropConnection();
      await open({ url: url('ws', port), name: 'carol' }).connect();
      await next(alice, 'resumed');
      await waitFor(() => log.includes('peerJoined:carol'), 'carol', 3000);
      await new Promise((resolve) => setTimeout(resolve, 100)); // let a duplicate, if any, arrive
      assert.equal(log, ['reconnecting', 'peerJoined:carol', 'resumed']);
      assert.equal([...alice.peers.values()].map((p) => p.name), ['carol']);
    });
  } finally {
    await stop();
  }
});

test('reconnect: false closes with reason disconnected when the connection drops', async () => {
  const { port, close: stop } = await startTestServer();
  try {
    await withClients(async (open) => {
      const alice = open({ url: url('tcp', port), name: 'alice', reconnect: false });
      await alice.connect();
      const log = record(alice);
      alice.dropConnection();
      assert.is(alice.state, 'closed');
      assert.equal(log, ['error:CONNECTION_CLOSED', 'close:disconnected:CONNECTION_CLOSED']);
    });
  } finally {
    await stop();
  }
});

test('with rejoin: false, a lost session that cannot be resumed within resumeGraceMs closes with reason disconnected', async () => {
  const { port, close: stop } = await startTestServer();
  let stopped = false;
  try {
    await withClients(async (open) => {
      const alice = open({ url: url('tcp', port), name: 'alice', rejoin: false, resumeGraceMs: 500, backoff: { initialMs: 50, maxMs: 100 } });
      await alice.connect();
      const log = record(alice);
      const closed = next(alice, 'close');
      alice.dropConnection();
      await stop();
      stopped = true;
      const [event] = await closed;
      assert.is(event.reason, 'disconnected');
      assert.is(event.error?.code, 'CONNECTION_CLOSED');
      assert.match(event.error!.message, /within 500 ms/);
      assert.ok(log.filter((entry) => entry === 'reconnecting').length >= 3, log.join());
      assert.equal(log.slice(-2), ['error:CONNECTION_CLOSED', 'close:disconnected:CONNECTION_CLOSED']);
    });
  } finally {
    if (!stopped) await stop();
  }
});

test('send() before connect() queues up to maxQueuedFrames, then throws SEND_QUEUE_OVERFLOW', async () => {
  const client = new ConfabClient({ url: 'tcp://127.0.0.1:1', name: 'alice', maxQueuedFrames: 2 });
  const relay = client.use(relayClient());
  assert.ok(relay.say('1'));
  assert.ok(relay.say('2'));
  assert.is(catchError(() => relay.say('3'))?.code, 'SEND_QUEUE_OVERFLOW');
  assert.is(catchError(() => client.use(relayClient()))?.code, 'PLUGIN_INVALID');
  await client.close();
  assert.is(catchError(() => relay.say('4'))?.code, 'NOT_CONNECTED');
});

test('a client listener that throws does not stop the others; its error surfaces as an uncaught exception', async () => {
  const { port, close: stop } = await startTestServer();
  try {
    await withClients(async (open) => {
      const alice = open({ url: url('tcp', port), name: 'alice' });
      await alice.connect();
      const seen: string[] = [];
      const thrown = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
      alice.on('peerJoined', () => {
        throw new Error('app bug');
      });
      alice.on('peerJoined', (peer) => seen.push(peer.name));
      await open({ url: url('ws', port), name: 'bob' }).connect();
      assert.is(((await thrown) as Error).message, 'app bug');
      await waitFor(() => seen.length === 1, 'the second listener', 3000);
      assert.is(alice.state, 'open');
    });
  } finally {
    await stop();
  }
});

test('with rejoin: false, server BYE (server.close()) closes the client with its reason and no reconnect', async () => {
  const { port, close: stop } = await startTestServer();
  let stopped = false;
  try {
    await withClients(async (open) => {
      const alice = open({ url: url('ws', port), name: 'alice', rejoin: false });
      await alice.connect();
      const log = record(alice);
      const closed = next(alice, 'close');
      await stop();
      stopped = true;
      const [event] = await closed;
      assert.is(event.reason, 'server closing');
      assert.is(alice.state, 'closed');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(log, ['close:server closing']);
    });
  } finally {
    if (!stopped) await stop();
  }
});

test('with rejoin: false, a resume the server cannot honour emits error and close with RESUME_FAILED', async () => {
  const first = await startTestServer();
  let second: TestServer | undefined;
  try {
    await withClients(async (open) => {
      const alice = open({ url: url('tcp', first.port), name: 'alice', rejoin: false });
      await alice.connect();
      const log = record(alice);
      const closed = next(alice, 'close', 10_000);
      alice.dropConnection();
      await first.close();
      second = await startTestServer({ plugins: [], server: { port: first.port } });
      const [event] = await closed;
      assert.is(event.error?.code, 'RESUME_FAILED');
      assert.is(alice.state, 'closed');
      assert.ok(log.includes('reconnecting'));
      assert.equal(log.slice(-2), ['error:RESUME_FAILED', 'close:error:RESUME_FAILED']);
      assert.is(second.server.sessions.size, 0);
    });
  } finally {
    await first.close();
    await second?.close();
  }
});

test('connect() rejects with the server\'s code when the handshake is refused', async () => {
  const { port, close: stop } = await startTestServer({ plugins: [noMallory()] });
  try {
    await withClients(async (open) => {
      const mallory = open({ url: url('tcp', port), name: 'mallory' });
      const log = record(mallory);
      const error = await assertRejects(mallory.connect(), 'HANDSHAKE_REFUSED');
      assert.is(error.message, 'mallory may not join');
      assert.is(mallory.state, 'closed');
      assert.equal(log, ['error:HANDSHAKE_REFUSED', 'close:error:HANDSHAKE_REFUSED']);
      await assertRejects(connect({ url: url('ws', port), name: 'mallory' }), 'HANDSHAKE_REFUSED');
    });
  } finally {
    await stop();
  }
});

test('connect() rejects with CONNECT_FAILED when nothing listens, and for a URL it cannot dial', async () => {
  const port = await freePort();
  await assertRejects(connect({ url: url('tcp', port), name: 'alice' }), 'CONNECT_FAILED');
  await assertRejects(connect({ url: url('ws', port), name: 'alice' }), 'CONNECT_FAILED');
  await assertRejects(connect({ url: `http://127.0.0.1:${port}`, name: 'alice' }), 'CONNECT_FAILED');
});

test('connect() to another kind of server rejects once with NOT_A_CONFAB_SERVER, quoting what it said', async () => {
  const web = createHttpServer((_request, response) => response.end('hello'));
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  const ssh = createTcpServer((socket) => socket.resume().end('SSH-2.0-OpenSSH_9.6\r\n'));
  await new Promise<void>((resolve) => ssh.listen(0, '127.0.0.1', resolve));
  try {
    for (const [server, quoted] of [[web, /answered in HTTP \("HTTP\/1\.1 400 Bad Request"\)/], [ssh, /sent "SSH-2\.0-OpenSSH_9\.6"/]] as const) {
      const port = (server.address() as { port: number }).port;
      const client = new ConfabClient({ url: url('tcp', port), name: 'alice' });
      const log = record(client);
      const error = await assertRejects(client.connect(), 'NOT_A_CONFAB_SERVER');
      assert.match(error.message, quoted);
      assert.match(error.message, new RegExp(`^127\\.0\\.0\\.1:${port} .*is this the port that confab serve printed\\?`));
      assert.equal(log, ['error:NOT_A_CONFAB_SERVER', 'close:error:NOT_A_CONFAB_SERVER'], 'reported once');
    }
  } finally {
    web.closeAllConnections();
    await new Promise((resolve) => web.close(resolve));
    await new Promise((resolve) => ssh.close(resolve));
  }
});

test('connect() rejects with HANDSHAKE_TIMEOUT when no WELCOME comes', async () => {
  const silent = await listen(() => undefined);
  try {
    await assertRejects(connect({ url: url('tcp', silent.port), name: 'alice', handshakeTimeoutMs: 200 }), 'HANDSHAKE_TIMEOUT');
  } finally {
    await silent.close();
  }
});

test('the browser build joins, exchanges messages and resumes (ws standing in for the page\'s WebSocket)', async () => {
  const { server, port, close: stop } = await startTestServer({ plugins: [relayServer()] });
  const globals = globalThis as { WebSocket?: unknown };
  const original = globals.WebSocket;
  globals.WebSocket = NodeWebSocket;
  const clients: ConfabClient[] = [];
  try {
    const web = new BrowserClient({ url: url('ws', port), name: 'web' });
    clients.push(web);
    const relay = web.use(relayClient());
    const welcome = await web.connect();
    assert.is(welcome.name, 'web');
    assert.is(server.sessions.get(welcome.session)?.clientKind, 'web');
    relay.say('from the page');
    relay.send('blob', new Uint8Array([4, 5]));
    await waitFor(() => relay.said.length === 1 && relay.blobs.length === 1, 'the echoes', 3000);
    assert.equal([...relay.blobs[0]], [4, 5]);
    web.dropConnection();
    relay.say('after the drop');
    await next(web, 'resumed');
    await waitFor(() => relay.said.length === 2, 'the queued message', 3000);
    assert.equal(relay.said, ['web: from the page', 'web: after the drop']);
    await web.close();
    assert.is(web.state, 'closed');
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    globals.WebSocket = original;
    await stop();
  }
});

/**
 * A scripted server (a test double, not the real one) checks what the real server cannot be made to do on
 * demand: go silent, and count exactly which frames the client says it received.
 */
test('a silent connection is lost; each resume HELLO has the newest token and the cumulative count; after RESUME_FAILED a plain HELLO rejoins and the count starts again', async () => {
  const hellos: JsonObject[] = [];
  const bob = { id: 'b', name: 'bob' };
  const carol = { id: 'c', name: 'carol' };
  const welcome = (resume: string, resumed: boolean, peers: object[], session = 's1') => ({
    v: 1, session, name: 'alice', room: 'default', mediaToken: 'm', resume, heartbeatMs: 40, resumed,
    channels: { relay: 0x10, video: 0x11 }, channelKinds: { relay: 'json', video: 'media' }, peers,
  });
  const scripted = await listen((socket, hello) => {
    hellos.push(hello);
    const send = (type: number, value?: unknown) =>
      socket.write(value === undefined ? encodeFrame(type) : encodeJsonFrame(type, value));
    if (hellos.length === 1) {
      send(FrameType.WELCOME, welcome('t1', false, [bob]));
      send(FrameType.PEER_JOINED, carol); // counted: 1
      send(FrameType.PING); // not counted
      socket.write(encodeFrame(0x11, new Uint8Array([1]))); // media: not counted
      send(0x10, { op: 'said', text: 'hi' }); // counted: 2
      send(FrameType.ERROR, { code: 'X', message: 'x', fatal: false }); // counted: 3
      return; // then silence: PINGs are not answered
    }
    if (hellos.length === 2) {
      send(FrameType.WELCOME, welcome('t2', true, [bob, carol]));
      send(FrameType.PEER_JOINED, carol); // a replay: counted (4), not announced again
      send(0x10, { op: 'said', text: 'missed' }); // counted: 5
      setTimeout(() => socket.destroy(), 50);
      return;
    }
    if (hellos.length === 3) {
      send(FrameType.ERROR, { code: 'RESUME_FAILED', message: 'gone', fatal: true });
      socket.end();
      return;
    }
    if (hellos.length === 4) {
      send(FrameType.WELCOME, welcome('t3', false, [carol], 's2')); // a new session: bob is gone
      send(0x10, { op: 'said', text: 'after the rejoin' }); // counted: 1 in the new session
      setTimeout(() => socket.destroy(), 50);
      return;
    }
    if (hellos.length === 5) send(FrameType.WELCOME, welcome('t4', true, [carol], 's2'));
  });
  try {
    await withClients(async (open) => {
      const alice = open({ url: url('tcp', scripted.port), name: 'alice' });
      const said: string[] = [];
      const collect = (message: ClientMessage) => said.push(String((message as JsonObject).text));
      alice.use({ name: 'relay', attach: (ctx) => ctx.onMessage('relay', collect) });
      const log = record(alice);
      const rejoined = next(alice, 'rejoined', 5000);
      const resumedAgain = new Promise<void>((resolve) => alice.on('resumed', () => alice.self?.id === 's2' && resolve()));
      await alice.connect();
      const [event] = await rejoined;
      assert.is(event.previous.id, 's1');
      assert.equal(event.left, [bob]);
      assert.equal(event.joined, []);
      assert.equal(alice.self, { id: 's2', name: 'alice', room: 'default' });
      await resumedAgain;
      assert.equal(hellos.map(({ name, resume, received }) => ({ name, resume, received })), [
        { name: 'alice', resume: undefined, received: undefined },
        { name: 'alice', resume: 't1', received: 3 },
        { name: 'alice', resume: 't2', received: 5 },
        { name: 'alice', resume: undefined, received: undefined },
        { name: 'alice', resume: 't3', received: 1 },
      ]);
      assert.is(hellos[0].client, 'node');
      assert.equal(said, ['hi', 'missed', 'after the rejoin']);
      assert.equal(log.filter((entry) => entry.startsWith('peer')), ['peerJoined:carol']);
      assert.ok(log.includes('serverError:X'));
      assert.not.ok(log.some((entry) => entry.startsWith('close') || entry.startsWith('error')), log.join());
    });
  } finally {
    await scripted.close();
  }
});

/** Asserts that `promise` rejects with a ConfabError of `code`, and returns it. */
async function assertRejects(promise: Promise<unknown>, code: string): Promise<ConfabError> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, ConfabError);
    assert.is((error as ConfabError).code, code, (error as Error).message);
    return error as ConfabError;
  }
  const message = `expected a rejection with ${code}`;
  throw new assert.Assertion({ message, operator: 'rejects', expects: code, actual: 'resolved' });
}

function catchError(fn: () => unknown): ConfabError | undefined {
  try {
    fn();
  } catch (error) {
    return error as ConfabError;
  }
  return undefined;
}

/** A loopback TCP server that calls `onHello` with each connection's HELLO; closing it destroys its sockets. */
async function listen(onHello: (socket: Socket, hello: JsonObject) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const decoder = new FrameDecoder();
    socket.on('data', (chunk) => {
      for (const frame of decoder.push(chunk).frames) {
        if (frame.type !== FrameType.HELLO) continue;
        const hello = decodeJsonObject(frame.payload);
        if (!(hello instanceof ConfabError)) onHello(socket, hello);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port that nothing listens on (it was free a moment ago). */
async function freePort(): Promise<number> {
  const probe = await listen(() => undefined);
  await probe.close();
  return probe.port;
}

test.run();
