import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { definePlugin } from '../../core/config.js';
import { isConfabError } from '../../core/errors.js';
import type { JsonObject } from '../../core/json.js';
import type { ClientPluginContext } from '../../core/client/types.js';
import { sleep, startTestServer, type TestServer } from '../../core/testing.js';
import { impairmentClient } from '../../plugins/impairment/client.js';
import { parseImpairmentRequest } from '../../plugins/impairment/protocol.js';
import { createRandom, sessionSeed } from '../../plugins/impairment/random.js';
import { impairment, type ImpairmentOptions } from '../../plugins/impairment/server.js';
import { mediaChannel } from '../../core/channel-def.js';

const RELAY = mediaChannel('relay');

/** A minimal media relay: each frame goes to the rest of the room, one stream per sender. */
const relay = definePlugin({
  name: 'relay',
  channels: [RELAY],
  setup(ctx) {
    const channel = ctx.channel(RELAY);
    channel.onMessage((session, frame) => channel.broadcast(session.room, frame, { except: session, media: { stream: session.id } }));
  },
});

/** A raw client half: send media frames, record what arrives (sequence number, arrival time). */
const mediaClient = () => ({
  name: 'media',
  attach(ctx: ClientPluginContext) {
    const received: Array<{ seq: number; at: number }> = [];
    ctx.onMessage('relay', (bytes) => received.push({ seq: new DataView((bytes as Uint8Array).buffer, (bytes as Uint8Array).byteOffset).getUint32(0), at: performance.now() }));
    return {
      received,
      send: (seq: number, size = 16) => {
        const frame = new Uint8Array(size);
        new DataView(frame.buffer).setUint32(0, seq);
        ctx.send('relay', frame);
      },
    };
  },
});

async function lab(options: ImpairmentOptions = {}): Promise<TestServer> {
  return startTestServer({ plugins: [relay, impairment({ seed: 7, ...options })] });
}

const join = (server: TestServer, name: string, room?: string) =>
  server.connect(name, { room, plugins: { media: mediaClient(), net: impairmentClient() } });

test('impairment: loss drops exactly the frames the seeded generator picks, for that session only', async () => {
  const server = await lab();
  try {
    const alice = await join(server, 'alice');
    const bob = await join(server, 'bob');
    const carol = await join(server, 'carol');
    alice.net.set({ loss: 0.3, seed: 42 }, { session: bob.id });
    await bob.waitForMessage('impairment', { op: 'rules' });
    const random = createRandom(sessionSeed(42, 'bob'));
    const expected = Array.from({ length: 200 }, (_, seq) => seq).filter(() => !(random() < 0.3));
    for (let seq = 0; seq < 200; seq++) alice.media.send(seq);
    await server.waitFor(() => carol.media.received.length === 200, 'carol to get all 200 frames');
    await server.waitFor(() => bob.media.received.length >= expected.length, `bob to get ${expected.length} frames`);
    await sleep(50);
    assert.equal(bob.media.received.map((r) => r.seq), expected, 'the seeded losses, in order');
    assert.ok(expected.length > 110 && expected.length < 170, 'about 30% lost');
    const { stats } = await alice.net.get();
    assert.equal(stats![bob.id], { delivered: expected.length, lost: 200 - expected.length, overflow: 0 });
    assert.is(stats![carol.id], undefined, 'carol is not impaired');
  } finally {
    await server.close();
  }
});

test('impairment: latency delays a session\'s frames; clear restores it; a room rule from the config applies to all', async () => {
  const server = await lab({ rooms: { lab1: { latencyMs: 120 } } });
  try {
    const alice = await join(server, 'alice', 'lab1');
    const bob = await join(server, 'bob', 'lab1');
    const sentAt = performance.now();
    alice.media.send(1);
    await server.waitFor(() => bob.media.received.length === 1, 'the delayed frame', 5000);
    // Timers never fire early; 1 ms of slack for rounding.
    assert.ok(bob.media.received[0]!.at - sentAt >= 119, `delayed by the room rule (${(bob.media.received[0]!.at - sentAt).toFixed(1)} ms)`);
    bob.net.clear();
    await alice.waitForMessage('impairment', { op: 'rules', room: null });
    for (let seq = 2; seq < 12; seq++) alice.media.send(seq);
    await server.waitFor(() => bob.media.received.length === 11, 'the undelayed frames');
    assert.equal(bob.media.received.map((r) => r.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 'without jitter the order is kept');
  } finally {
    await server.close();
  }
});

test('impairment: a bandwidth cap spaces frames out and drops what would queue past maxQueueMs', async () => {
  const server = await lab({ maxQueueMs: 300 });
  try {
    const alice = await join(server, 'alice');
    const bob = await join(server, 'bob');
    // 800 kbit/s = 100 bytes per ms: each 1000-byte frame (1005 with the frame header) holds the link ~10 ms.
    alice.net.set({ bandwidthKbps: 800 }, { session: bob.id });
    await bob.waitForMessage('impairment', { op: 'rules' });
    const start = performance.now();
    for (let seq = 0; seq < 20; seq++) alice.media.send(seq, 1000);
    await server.waitFor(() => bob.media.received.length === 20, 'the 20 frames');
    assert.ok(bob.media.received[19]!.at - start >= 190, 'the last frame left after 20 frame times');

    // 8 kbit/s: one 1000-byte frame holds the link ~1 s, longer than maxQueueMs, so the next ones overflow.
    alice.net.set({ bandwidthKbps: 8 }, { session: bob.id });
    await bob.waitForMessage('impairment', { op: 'rules', sessions: { [bob.id]: { latencyMs: 0, jitterMs: 0, loss: 0, bandwidthKbps: 8, seed: 7 } } });
    for (let seq = 100; seq < 105; seq++) alice.media.send(seq, 1000);
    await server.waitFor(() => bob.media.received.length === 21, 'the one frame that fits', 5000);
    const { stats } = await alice.net.get();
    assert.equal(stats![bob.id], { delivered: 1, lost: 0, overflow: 4 });
  } finally {
    await server.close();
  }
});

test('impairment: jitter reorders frames exactly as the seeded delays say', async () => {
  const random = createRandom(sessionSeed(70, 'bob'));
  const delays = Array.from({ length: 8 }, () => 300 + (random() * 2 - 1) * 280);
  const expected = delays.map((delay, seq) => ({ delay, seq })).sort((a, b) => a.delay - b.delay);
  const closest = Math.min(...expected.slice(1).map((e, i) => e.delay - expected[i]!.delay));
  // Seed 70 spreads the eight delays at least 25 ms apart, far more than the burst below takes to arrive,
  // even on a busy machine.
  assert.ok(closest > 25, 'with seed 70 no two delays are within 25 ms, so the burst has one possible order');
  const server = await lab();
  try {
    const alice = await join(server, 'alice');
    const bob = await join(server, 'bob');
    alice.net.set({ latencyMs: 300, jitterMs: 280, seed: 70 }, { session: bob.id });
    await bob.waitForMessage('impairment', { op: 'rules' });
    for (let seq = 0; seq < 8; seq++) alice.media.send(seq);
    await server.waitFor(() => bob.media.received.length === 8, 'the eight frames', 5000);
    assert.equal(bob.media.received.map((r) => r.seq), expected.map((e) => e.seq));
    assert.not.equal(expected.map((e) => e.seq), [0, 1, 2, 3, 4, 5, 6, 7], 'the jitter does reorder');
  } finally {
    await server.close();
  }
});

test('impairment: rules need moderate; bad rules and unknown sessions get coded errors', async () => {
  const server = await lab();
  try {
    const alice = await join(server, 'alice');
    const bob = await join(server, 'bob');
    const eve = await join(server, 'eve', 'other');
    server.session(bob).grants.delete('moderate');
    bob.net.set({ loss: 1 });
    await bob.waitForError('IMPAIRMENT_NOT_ALLOWED');
    assert.is((await bob.net.get().catch((e) => e)).code, 'IMPAIRMENT_NOT_ALLOWED');
    alice.net.set({ loss: 2 });
    alice.net.set({ latencyMs: -1 });
    alice.net.set({ latencyMs: '100' as unknown as number });
    alice.net.set({ color: 'red' } as never);
    alice.net.set({ seed: 1.5 });
    for (let i = 0; i < 5; i++) await alice.waitForError('IMPAIRMENT_BAD_REQUEST');
    alice.net.set({ loss: 1 }, { session: eve.id });
    await alice.waitForError('IMPAIRMENT_NO_SUCH_SESSION');
    const { room, sessions } = await alice.net.get();
    assert.equal({ room, sessions }, { room: null, sessions: {} }, 'nothing was set');
    assert.throws(() => impairment({ rooms: { lab: { loss: 5 } } }), /rooms\.lab: loss must be a number from 0 to 1/);
  } finally {
    await server.close();
  }
});

test('parseImpairmentRequest() refuses unknown ops, a session that is no string and bad rule fields with IMPAIRMENT_BAD_REQUEST and the ref', () => {
  const refusals: JsonObject[] = [
    { op: 'reset', ref: 'r1' },
    { op: 'clear', session: 7, ref: 'r1' },
    { op: 'set', loss: 2, ref: 'r1' },
    { op: 'set', latencyMs: '100', ref: 'r1' },
    { op: 'set', color: 'red', ref: 'r1' },
    { op: 'set', seed: 1.5, ref: 'r1' },
  ];
  for (const message of refusals) {
    try {
      parseImpairmentRequest(message);
      assert.unreachable(`${JSON.stringify(message)} was accepted`);
    } catch (error) {
      assert.ok(isConfabError(error) && error.code === 'IMPAIRMENT_BAD_REQUEST' && error.ref === 'r1', JSON.stringify(message));
    }
  }
  assert.equal(parseImpairmentRequest({ op: 'set', session: 's1', loss: 0.5 }), { op: 'set', session: 's1', loss: 0.5, ref: undefined });
});

/** Timers keeping the process alive now (the server runs in this process). */
const pendingTimers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

test('impairment: frames still delayed for a session are dropped with their timers when it leaves', async () => {
  const server = await lab();
  try {
    const alice = await join(server, 'alice');
    const bob = await join(server, 'bob');
    alice.net.set({ latencyMs: 10_000 }, { session: bob.id });
    await bob.waitForMessage('impairment', { op: 'rules' });
    const before = pendingTimers();
    for (let seq = 0; seq < 50; seq++) alice.media.send(seq);
    // Sent on the same connection after the frames, the get is answered once all 50 are on their way.
    assert.is((await alice.net.get()).stats![bob.id]!.delivered, 50);
    assert.ok(pendingTimers() >= before + 50, 'one timer per delayed frame');
    await bob.close();
    await server.waitFor(() => pendingTimers() <= before, 'the delayed frames\' timers to go with bob');
    assert.is(bob.media.received.length, 0);
  } finally {
    await server.close();
  }
});

test.run();
