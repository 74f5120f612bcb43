/**
 * Backpressure end to end (core/session.ts, core/room.ts): media to a slow reader is held back one frame per
 * stream (newest wins, keyframes preferred) so its queue stays bounded; reliable frames are never dropped, so
 * a reader that lets them pile up past maxQueueBytes is closed with SEND_QUEUE_OVERFLOW and the room goes on.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { definePlugin } from '../../core/config.js';
import { FrameType } from '../../core/protocol.js';
import { RawClient, type ReceivedFrame } from '../helpers/raw-client.js';
import { startTestServer, waitFor, type TestServer } from '../../core/testing.js';
import { binaryChannel, mediaChannel } from '../../core/channel-def.js';

const T_MEDIA = mediaChannel('t-media');
const T_DATA = binaryChannel('t-data');

const ROOM = 'bp';
const KIB = 1024;
const MIB = 1024 * KIB;
const LIMITS = { maxQueueBytes: 2 * MIB, mediaHighWaterBytes: 64 * KIB, heartbeatMs: 10_000 };
/** Generous: loopback is fast, but test machines can be slow and busy. */
const LONG = 20_000;

/** What the relay plugin has handled, and a probe the tests run after every relayed frame. */
const relayed = { media: 0, data: 0 };
let afterRelay: (() => void) | undefined;

/**
 * A test plugin: `t-media` relays each frame to the rest of the room as stream `v:<sender id>`, the first
 * payload byte being the keyframe flag; `t-data` (reliable) relays each frame to the rest of the room.
 */
const relay = definePlugin({
  name: 'bp-relay',
  channels: [T_MEDIA, T_DATA],
  setup(ctx) {
    const media = ctx.channel(T_MEDIA);
    const data = ctx.channel(T_DATA);
    media.onMessage((session, message) => {
      const bytes = message as Uint8Array;
      media.broadcast(session.room, bytes, { except: session, media: { stream: 'v:' + session.id, keyframe: bytes[0] === 1 } });
      relayed.media++;
      afterRelay?.();
    });
    data.onMessage((session, message) => {
      data.broadcast(session.room, message, { except: session });
      relayed.data++;
      afterRelay?.();
    });
  },
});

const cleanups: Array<() => unknown> = [];

test.before.each(() => {
  relayed.media = 0;
  relayed.data = 0;
  afterRelay = undefined;
});

test.after.each(async () => {
  afterRelay = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(): Promise<TestServer> {
  const testServer = await startTestServer({ plugins: [relay], server: LIMITS });
  cleanups.push(() => testServer.close());
  return testServer;
}

async function joinRaw(port: number, name: string, transport: 'tcp' | 'ws' = 'tcp') {
  const joined = await RawClient.join(transport, port, { name, room: ROOM });
  cleanups.push(() => joined.client.destroy());
  return joined;
}

/** A payload: [keyframe flag u8][counter u32 BE][filler]. */
function payload(counter: number, size: number, keyframe = false): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes[0] = keyframe ? 1 : 0;
  new DataView(bytes.buffer).setUint32(1, counter);
  return bytes;
}

function counterOf(frame: ReceivedFrame): number {
  return new DataView(frame.payload.buffer, frame.payload.byteOffset, frame.payload.byteLength).getUint32(1);
}

/**
 * Sends reliable `t-data` frames from `sender` until the server has at least `bytes` waiting for the paused
 * session `readerId` (the kernel's socket buffers fill first, so the count of frames needed varies).
 * Returns how many frames it sent.
 */
async function fillQueue(ts: TestServer, sender: RawClient, dataId: number, readerId: string, bytes: number): Promise<number> {
  const chunk = 64 * KIB;
  let sent = 0;
  while ((ts.server.sessions.get(readerId)?.queuedBytes ?? 0) < bytes) {
    assert.ok(sent < 4096, 'the queue never filled');
    for (let k = 0; k < 4; k++) sender.send(dataId, payload(sent++, chunk));
    await waitFor(() => relayed.data >= sent, 'the server to relay the filler', LONG);
  }
  assert.ok(ts.server.sessions.get(readerId)!.queuedBytes < LIMITS.maxQueueBytes, 'the filler must not overflow the queue');
  return sent;
}

for (const transport of ['tcp', 'ws'] as const) {
  test(`session.sendMediaFrame() holds back media for a paused ${transport} reader: it stays connected with a bounded queue, and a fast reader gets the last frame`, async () => {
    const ts = await start();
    const { client: sender, welcome } = await joinRaw(ts.port, 'sender');
    const { client: fast } = await joinRaw(ts.port, 'fast');
    const { client: slow, welcome: slowWelcome } = await joinRaw(ts.port, 'slow', transport);
    const mediaId = welcome.channels['t-media']!;
    const slowId = slowWelcome.session;
    slow.pause();

    const FRAMES = 2000;
    const BATCH = 25;
    const FRAME_BYTES = 32 * KIB;
    let maxQueued = 0;
    const sample = () => {
      maxQueued = Math.max(maxQueued, ts.server.sessions.get(slowId)?.queuedBytes ?? 0);
    };
    afterRelay = sample;
    const fastGot = new Set<number>();
    const collectFast = () => {
      for (const frame of fast.frames.splice(0)) if (frame.type === mediaId) fastGot.add(counterOf(frame));
    };

    for (let i = 0; i < FRAMES; i += BATCH) {
      // A keyframe every 100 frames, and the last frame is one, so that no held keyframe can keep it out.
      for (let j = i; j < i + BATCH; j++) sender.send(mediaId, payload(j, FRAME_BYTES, j % 100 === 0 || j === FRAMES - 1));
      await waitFor(() => relayed.media >= i + BATCH, `the server to relay frames up to ${i + BATCH}`, LONG);
      sample();
      collectFast();
      assert.is(ts.server.sessions.get(slowId)?.state, 'active', `the slow reader is still connected after ${i + BATCH} frames`);
    }

    assert.is(relayed.media, FRAMES);
    assert.ok(maxQueued > 0, 'the slow reader\'s queue was sampled while it was backed up');
    assert.ok(maxQueued <= LIMITS.maxQueueBytes, `queued ${maxQueued} bytes for the slow reader; maxQueueBytes is ${LIMITS.maxQueueBytes}`);
    // Media is written only below the high-water mark, so the queue never passes it by more than a frame.
    assert.ok(maxQueued <= LIMITS.mediaHighWaterBytes + FRAME_BYTES + KIB,
      `queued ${maxQueued} bytes; mediaHighWaterBytes ${LIMITS.mediaHighWaterBytes} plus one frame is the most media can take`);
    assert.ok(ts.server.metrics.mediaDropped > 0, 'frames for the slow reader were dropped');
    assert.not.ok(slow.isClosed);

    await waitFor(() => {
      collectFast();
      return fastGot.has(FRAMES - 1);
    }, 'the fast reader to receive the last frame', LONG);
    assert.not.ok(fast.isClosed);

    // Once it reads again, the slow reader catches up to the newest frame.
    slow.resume();
    const last = await slow.next((f) => f.type === mediaId && counterOf(f) === FRAMES - 1, LONG);
    assert.is(last.payload.length, FRAME_BYTES);
    assert.is(ts.server.sessions.get(slowId)?.state, 'active');
  });
}

test('session.sendReliableFrame() closes a paused reader past maxQueueBytes with SEND_QUEUE_OVERFLOW; the room keeps working', async () => {
  const ts = await start();
  const { client: sender, welcome } = await joinRaw(ts.port, 'sender');
  const { client: member, welcome: memberWelcome } = await joinRaw(ts.port, 'member');
  const { client: slow, welcome: slowWelcome } = await joinRaw(ts.port, 'slow');
  const dataId = welcome.channels['t-data']!;
  const slowId = slowWelcome.session;
  slow.pause();

  let sent = 0;
  let memberGot = 0;
  const collectMember = () => {
    for (let i = member.frames.length - 1; i >= 0; i--) {
      if (member.frames[i]!.type === dataId) {
        member.frames.splice(i, 1);
        memberGot++;
      }
    }
  };
  let maxQueued = 0;
  afterRelay = () => {
    maxQueued = Math.max(maxQueued, ts.server.sessions.get(slowId)?.queuedBytes ?? 0);
  };
  // 64 KiB at a time until the server gives up on the slow reader; the member reads everything as it comes.
  while (ts.server.sessions.has(slowId)) {
    assert.ok(sent < 2048, `sent ${sent} frames of 64 KiB and the slow reader was never closed`);
    for (let k = 0; k < 8; k++) sender.send(dataId, payload(sent++, 64 * KIB));
    await waitFor(() => relayed.data >= sent, 'the server to relay the batch', LONG);
    await waitFor(() => {
      collectMember();
      return memberGot >= sent;
    }, 'the member to receive the batch', LONG);
  }
  slow.resume();

  assert.ok(maxQueued <= LIMITS.maxQueueBytes, `queued ${maxQueued} bytes for the slow reader; maxQueueBytes is ${LIMITS.maxQueueBytes}`);
  const error = await slow.next((f) => f.type === FrameType.ERROR, LONG);
  assert.is(error.json.code, 'SEND_QUEUE_OVERFLOW');
  assert.is(error.json.fatal, true);
  await waitFor(() => slow.isClosed, 'the connection to close', LONG);

  for (const peer of [sender, member]) {
    const left = await peer.next((f) => f.type === FrameType.PEER_LEFT);
    assert.equal(left.json, { id: slowId, name: 'slow', reason: 'error' });
    assert.not.ok(peer.isClosed);
  }
  assert.is(ts.server.metrics.errors.get('SEND_QUEUE_OVERFLOW'), 1);

  // The two who read keep exchanging messages, in both directions.
  sender.send(dataId, payload(100_001, 16));
  assert.is(counterOf(await member.next((f) => f.type === dataId && counterOf(f) === 100_001)), 100_001);
  member.send(dataId, payload(100_002, 16));
  assert.is(counterOf(await sender.next((f) => f.type === dataId && counterOf(f) === 100_002)), 100_002);
  assert.equal([...ts.server.sessions.keys()].sort(), [welcome.session, memberWelcome.session].sort());
});

for (const transport of ['tcp', 'ws'] as const) {
  test(`session.sendMediaFrame() keeps a held keyframe for a paused ${transport} reader rather than replace it by later deltas`, async () => {
    const ts = await start();
    const { client: sender, welcome } = await joinRaw(ts.port, 'sender');
    const { client: reader, welcome: readerWelcome } = await joinRaw(ts.port, 'reader', transport);
    const mediaId = welcome.channels['t-media']!;
    const dataId = welcome.channels['t-data']!;
    reader.pause();
    // Reliable filler well past the high-water mark, so every media frame from here on is held back.
    const fillers = await fillQueue(ts, sender, dataId, readerWelcome.session, 4 * LIMITS.mediaHighWaterBytes);
    const droppedBefore = ts.server.metrics.mediaDropped;

    sender.send(mediaId, payload(1, 1000, true));
    for (const counter of [2, 3, 4]) sender.send(mediaId, payload(counter, 1000, false));
    await waitFor(() => relayed.media >= 4, 'the server to relay the media frames', LONG);
    assert.is(ts.server.metrics.mediaDropped - droppedBefore, 3, 'the three deltas were dropped for the held keyframe');

    reader.resume();
    const first = await reader.next((f) => f.type === mediaId, LONG);
    assert.is(counterOf(first), 1, 'the first media frame after the backlog is the keyframe');
    assert.is(first.payload[0], 1);
    // Everything reliable arrived too, nothing was lost.
    assert.is(reader.frames.filter((f) => f.type === dataId).length, fillers);
  });
}

test('session.sendMediaFrame() holds the newest frame of each stream for a paused reader and drops older ones', async () => {
  const ts = await start();
  const { client: alice, welcome } = await joinRaw(ts.port, 'alice');
  const { client: bob } = await joinRaw(ts.port, 'bob');
  const { client: reader, welcome: readerWelcome } = await joinRaw(ts.port, 'reader');
  const mediaId = welcome.channels['t-media']!;
  const dataId = welcome.channels['t-data']!;
  reader.pause();
  // Alice's filler also reaches Bob, who reads it; only the reader falls behind.
  await fillQueue(ts, alice, dataId, readerWelcome.session, 4 * LIMITS.mediaHighWaterBytes);
  const droppedBefore = ts.server.metrics.mediaDropped;
  const relayedBefore = relayed.media;

  // Delta frames only: two streams, three frames each.
  for (const counter of [1, 2, 3]) {
    alice.send(mediaId, payload(counter, 1000));
    bob.send(mediaId, payload(100 + counter, 1000));
  }
  await waitFor(() => relayed.media >= relayedBefore + 6, 'the server to relay the media frames', LONG);
  assert.is(ts.server.metrics.mediaDropped - droppedBefore, 4, 'two frames of each stream were replaced');

  reader.resume();
  const got: number[] = [];
  for (let i = 0; i < 2; i++) got.push(counterOf(await reader.next((f) => f.type === mediaId, LONG)));
  assert.equal(got.sort((a, b) => a - b), [3, 103], 'only the newest frame of each stream arrives');
  // A round trip after the held frames were written: nothing older follows them.
  reader.send(FrameType.PING, new Uint8Array([7]));
  await reader.next((f) => f.type === FrameType.PONG, LONG);
  assert.is(reader.frames.filter((f) => f.type === mediaId).length, 0);
});

test('session.sendReliableFrame() delivers a frame larger than maxQueueBytes to a reader whose queue is empty', async () => {
  const ts = await start();
  const { client: sender, welcome } = await joinRaw(ts.port, 'sender');
  const { client: reader, welcome: readerWelcome } = await joinRaw(ts.port, 'reader');
  const dataId = welcome.channels['t-data']!;
  assert.is(ts.server.sessions.get(readerWelcome.session)!.queuedBytes, 0);
  // Within maxPayload (16 MiB), so the server accepts it from the sender.
  const big = payload(1, LIMITS.maxQueueBytes + 512 * KIB);
  sender.send(dataId, big);
  // An empty queue takes any frame: the limit is on what waits, and one frame is bounded by maxPayload.
  const frame = await reader.next((f) => f.type === dataId || f.type === FrameType.ERROR, LONG);
  assert.is(frame.type, dataId, `the reader got ${JSON.stringify(frame.json)} instead of the frame`);
  assert.is(frame.payload.length, big.length);
  assert.is(ts.server.sessions.get(readerWelcome.session)?.state, 'active');
});

test('a mediaHighWaterBytes below a socket\'s own high-water mark (16 KiB) is refused as CONFIG_INVALID', async () => {
  try {
    await startTestServer({ plugins: [relay], server: { ...LIMITS, mediaHighWaterBytes: 0 } });
    assert.unreachable('startServer should have refused the option');
  } catch (error) {
    assert.is((error as { code?: string }).code, 'CONFIG_INVALID');
  }
});

test.run();
