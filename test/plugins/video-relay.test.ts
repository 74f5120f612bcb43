import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import type { ConfabError } from '../../core/errors.js';
import { decodeMediaFrame, encodeMediaFrame, MediaCodec, type MediaFrame } from '../../core/media.js';
import type { Welcome } from '../../core/protocol.js';
import { videoClient, type VideoApi } from '../../plugins/video-relay/client.js';
import { videoRelay } from '../../plugins/video-relay/server.js';
import { RawClient } from '../helpers/raw-client.js';
import { l1t3, vp8Delta, vp8Keyframe } from '../helpers/vp8.js';
import { sleep, startTestServer, waitFor, type TestServer } from '../../core/testing.js';

interface Member {
  client: ConfabClient;
  video: VideoApi;
  frames: MediaFrame[];
  cameras: Array<{ peer: string; on: boolean }>;
  errors: ConfabError[];
}

async function join(port: number, name: string, room = 'lab', transport: 'tcp' | 'ws' = 'tcp'): Promise<Member> {
  const url = transport === 'tcp' ? `tcp://127.0.0.1:${port}` : `ws://127.0.0.1:${port}/ws`;
  const client = new ConfabClient({ url, name, room, reconnect: false });
  const video = client.use(videoClient());
  const member: Member = { client, video, frames: [], cameras: [], errors: [] };
  // Frames are views into what was received: keep copies.
  video.on('frame', (frame) => member.frames.push({ ...frame, data: frame.data.slice() }));
  video.on('camera', (event) => member.cameras.push(event));
  client.on('serverError', (error) => member.errors.push(error));
  await client.connect();
  return member;
}

async function withServer(body: (t: TestServer) => Promise<void>, serverOptions = {}, pluginOptions = {}): Promise<void> {
  const server = await startTestServer({ plugins: [videoRelay(pluginOptions)], server: serverOptions });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

/** A recognisable fake JPEG of `size` bytes whose first byte is `mark`. */
function picture(mark: number, size = 1000): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.fill(mark);
  bytes[0] = 0xff;
  bytes[1] = 0xd8;
  return bytes;
}

/** A raw media frame payload as a hostile client would build it. */
function rawFrame(fields: Partial<MediaFrame> = {}): Uint8Array {
  return encodeMediaFrame({ codec: MediaCodec.JPEG, keyframe: true, seq: 0, captureMs: Date.now(), sender: '', data: picture(1), ...fields });
}

/** The next frame on the video channel a raw client receives, decoded. */
async function nextVideo(raw: RawClient, welcome: Welcome, timeoutMs = 3000): Promise<MediaFrame> {
  const frame = await raw.next((f) => f.type === welcome.channels.video, timeoutMs);
  const decoded = decodeMediaFrame(frame.payload);
  if (!decoded.ok) throw new Error(`malformed relayed frame: ${decoded.problem}`);
  return decoded.frame;
}

test('video.publish() reaches B and C with the sender id, not A itself, and not another room', async () => {
  await withServer(async ({ port }) => {
    const a = await join(port, 'alice');
    const b = await join(port, 'bob', 'lab', 'ws');
    const c = await join(port, 'carol');
    const other = await join(port, 'eve', 'elsewhere');
    const capture = Date.now() - 5;
    assert.ok(a.video.publish(picture(7), { captureMs: capture }));
    assert.ok(a.video.publish(picture(8)));
    await waitFor(() => b.frames.length === 2 && c.frames.length === 2, 'B and C to receive both frames', 3000);
    for (const member of [b, c]) {
      assert.equal(member.frames.map((f) => f.sender), [a.client.self!.id, a.client.self!.id]);
      assert.equal(member.frames.map((f) => f.data[2]), [7, 8]);
      assert.equal(member.frames.map((f) => f.seq), [0, 1]);
      assert.is(member.frames[0].captureMs, capture);
      assert.is(member.frames[0].codec, MediaCodec.JPEG);
      assert.ok(member.frames[0].keyframe);
    }
    // C publishes after A's frames: once A has C's frame, anything of A's own would have arrived before it.
    c.video.publish(picture(9));
    await waitFor(() => a.frames.length === 1 && b.frames.length === 3);
    assert.is(a.frames[0].sender, c.client.self!.id);
    assert.is(other.frames.length, 0);
    for (const m of [a, b, c, other]) await m.client.close();
  });
});

test('camera on/off is announced to the room, to late joiners, and turned off when the peer leaves', async () => {
  await withServer(async ({ port }) => {
    const a = await join(port, 'alice');
    const b = await join(port, 'bob');
    a.video.setCamera(true);
    await waitFor(() => b.cameras.length === 1);
    assert.equal(b.cameras[0], { peer: a.client.self!.id, on: true });
    assert.is(b.video.cameras.get(a.client.self!.id), true);
    assert.ok(a.video.camera);
    const late = await join(port, 'late');
    await waitFor(() => late.cameras.length === 1, 'the late joiner to learn about A', 3000);
    assert.equal(late.cameras[0], { peer: a.client.self!.id, on: true });
    a.video.setCamera(false);
    await waitFor(() => b.cameras.length === 2 && late.cameras.length === 2);
    assert.equal(b.cameras[1], { peer: a.client.self!.id, on: false });
    // publish() with the camera off announces it on first.
    b.video.publish(picture(3));
    await waitFor(() => late.cameras.length === 3 && late.frames.length === 1);
    assert.equal(late.cameras[2], { peer: b.client.self!.id, on: true });
    await b.client.close();
    await waitFor(() => late.cameras.length === 4);
    assert.equal(late.cameras[3], { peer: b.client.self!.id, on: false });
    assert.is(late.video.cameras.has(b.client.self!.id), false);
    for (const m of [a, late]) await m.client.close();
  });
});

test('video.subscribe({ senders }) receives only the chosen senders; subscribe({}) everyone again', async () => {
  await withServer(async ({ port }) => {
    const a = await join(port, 'alice');
    const b = await join(port, 'bob');
    const c = await join(port, 'carol');
    const raw = await RawClient.join('tcp', port, { name: 'raw', room: 'lab' });
    raw.client.sendJson(raw.welcome.channels['video-control'], { op: 'subscribe', senders: [b.client.self!.id] });
    const ack = await raw.client.next((f) => f.json?.op === 'subscribed');
    assert.equal(ack.json, { op: 'subscribed', senders: [b.client.self!.id], maxFps: null, layer: null, layers: null });
    c.video.subscribe({ senders: [b.client.self!.id] });
    await sleep(100);
    a.video.publish(picture(1));
    b.video.publish(picture(2));
    await waitFor(() => c.frames.length === 1 && a.frames.length === 1);
    assert.is(c.frames[0].sender, b.client.self!.id, 'C only gets B');
    assert.is((await nextVideo(raw.client, raw.welcome)).sender, b.client.self!.id);
    c.video.subscribe({});
    await sleep(100);
    a.video.publish(picture(4));
    await waitFor(() => c.frames.length === 2);
    assert.is(c.frames[1].sender, a.client.self!.id);
    raw.client.destroy();
    for (const m of [a, b, c]) await m.client.close();
  });
});

test('video.subscribe({ maxFps }) drops frames to meet the rate; other receivers get every frame', async () => {
  await withServer(async ({ port }) => {
    const a = await join(port, 'alice');
    const full = await join(port, 'full');
    const slow = await join(port, 'slow');
    slow.video.subscribe({ maxFps: 5 });
    await sleep(100);
    const started = performance.now();
    for (let i = 0; i < 30; i++) {
      a.video.publish(picture(i));
      await sleep(1000 / 15);
    }
    await waitFor(() => full.frames.length === 30, 'every frame at full rate', 5000);
    const elapsedMs = performance.now() - started;
    // At most one frame per 200 ms of the time the frames took to arrive, plus the first one.
    assert.ok(slow.frames.length <= 2 + elapsedMs / 200, `${slow.frames.length} frames in ${elapsedMs} ms at maxFps 5`);
    assert.ok(slow.frames.length >= 3, `got ${slow.frames.length} frames: maxFps must pace, not stop`);
    const seqs = slow.frames.map((f) => f.seq);
    assert.equal(seqs, [...seqs].sort((x, y) => x - y), 'in order');
    for (const m of [a, full, slow]) await m.client.close();
  });
});

test('maxFps on a VP8 sender keeps the temporal layers that fit the rate; the base layer always goes', async () => {
  await withServer(async ({ port }) => {
    const { client: sender, welcome } = await RawClient.join('tcp', port, { name: 'vp8', room: 'lab' });
    const slow = await join(port, 'slow');
    slow.video.subscribe({ maxFps: 4 });
    const full = await join(port, 'full');
    await sleep(100);
    // 16 fps: layer 2 is every frame, layer 1 half (8 fps), layer 0 a quarter (4 fps): maxFps 4 keeps layer 0.
    for (let index = 0; index < 40; index++) {
      const keyframe = index === 0;
      sender.send(welcome.channels.video, rawFrame({ codec: MediaCodec.VP8, keyframe, ...l1t3(index), seq: index, data: keyframe ? vp8Keyframe(1) : vp8Delta(1) }));
      await sleep(1000 / 16);
    }
    await waitFor(() => full.frames.length === 40, 'every frame to the receiver without maxFps', 5000);
    await sleep(100);
    const later = slow.frames.filter((f) => f.seq >= 20);
    assert.ok(later.length > 0, 'the base layer goes');
    assert.equal(later.map((f) => f.layer).filter((layer) => layer !== 0), [], 'once the rate is known, only base-layer frames');
    sender.destroy();
    for (const m of [slow, full]) await m.client.close();
  });
});

test('video-control refuses bad requests with VIDEO_BAD_REQUEST, and camera on without publish:video', async () => {
  await withServer(async ({ port, server }) => {
    const { client: raw, welcome } = await RawClient.join('tcp', port, { name: 'raw', room: 'lab' });
    const controlId = welcome.channels['video-control'];
    for (const bad of [{ op: 'camera' }, { op: 'subscribe', senders: 'x' }, { op: 'subscribe', maxFps: 0 },
      { op: 'subscribe', maxFps: 1000 }, { op: 'subscribe', senders: [42] }, { op: 'dance' }]) {
      raw.sendJson(controlId, bad);
      const error = await raw.nextError();
      assert.is(error.code, 'VIDEO_BAD_REQUEST', JSON.stringify(bad));
      assert.is(error.channel, 'video-control');
      assert.is(error.fatal, false);
    }
    server.sessions.get(welcome.session)!.grants.delete('publish:video');
    raw.sendJson(controlId, { op: 'camera', on: true });
    assert.is((await raw.nextError()).code, 'VIDEO_NOT_ALLOWED');
    raw.destroy();
  });
});

test('grants: frames without publish:video are dropped, and a session without subscribe receives none', async () => {
  await withServer(async ({ port, server }) => {
    const a = await join(port, 'alice');
    const b = await join(port, 'bob');
    const c = await join(port, 'carol');
    server.sessions.get(a.client.self!.id)!.grants.delete('publish:video');
    server.sessions.get(c.client.self!.id)!.grants.delete('subscribe');
    a.video.publish(picture(1));
    b.video.publish(picture(2));
    await waitFor(() => a.frames.length === 1);
    await sleep(100);
    assert.is(b.frames.length, 0, 'A lacks publish:video');
    assert.is(c.frames.length, 0, 'C lacks subscribe');
    assert.is(server.metrics.mediaRefused.get('no-grant'), 1);
    for (const m of [a, b, c]) await m.client.close();
  });
});

test('session.removeGrant(publish:video) announces the camera off to the room and the sender; removeGrant(subscribe) stops delivery at once', async () => {
  await withServer(async ({ port, server }) => {
    const a = await join(port, 'alice');
    const b = await join(port, 'bob');
    const c = await join(port, 'carol');
    const aliceId = a.client.self!.id;
    const raw = await RawClient.join('tcp', port, { name: 'raw', room: 'lab' });
    a.video.publish(picture(1));
    await waitFor(() => b.frames.length === 1 && c.frames.length === 1, 'the first frame', 3000);
    assert.equal(b.cameras, [{ peer: aliceId, on: true }]);

    server.sessions.get(c.client.self!.id)!.removeGrant('subscribe');
    a.video.publish(picture(2));
    await waitFor(() => b.frames.length === 2, 'bob to get the second frame', 3000);
    await sleep(100);
    assert.is(c.frames.length, 1, 'carol lost subscribe: no more frames');

    server.sessions.get(aliceId)!.removeGrant('publish:video');
    await waitFor(() => b.cameras.length === 2, 'bob to see the camera off', 3000);
    assert.equal(b.cameras[1], { peer: aliceId, on: false });
    const toAlice = await raw.client.next((f) => f.type === raw.welcome.channels['video-control'] && f.json.op === 'camera' && f.json.on === false);
    assert.is(toAlice.json.peer, aliceId);
    await waitFor(() => a.video.camera === false, 'alice\'s client to take the server\'s word that her camera is off', 3000);
    a.video.publish(picture(3));
    await sleep(150);
    assert.is(b.frames.length, 2, 'frames after the grant was taken are dropped');

    const late = await join(port, 'late');
    await sleep(100);
    assert.equal(late.cameras, [], 'a late joiner does not see the camera on');

    server.sessions.get(aliceId)!.addGrant('publish:video');
    a.video.publish(picture(4));
    await waitFor(() => b.frames.length === 3, 'frames again once the grant is back', 3000);
    await waitFor(() => b.cameras.length === 3, 'bob to see the camera on again', 3000);
    assert.equal(b.cameras[2], { peer: aliceId, on: true });
    raw.client.destroy();
    for (const m of [a, b, c, late]) await m.client.close();
  });
});

test('malformed frames are dropped and counted, never relayed; a session that keeps sending them is closed', async () => {
  await withServer(async ({ port, server }) => {
    const b = await join(port, 'bob');
    const { client: raw, welcome } = await RawClient.join('tcp', port, { name: 'hostile', room: 'lab' });
    const video = welcome.channels.video;
    const short = rawFrame().subarray(0, 10);
    const unknownCodec = rawFrame();
    unknownCodec[2] = 99;
    const audioCodec = rawFrame({ codec: MediaCodec.OPUS });
    const spoofed = rawFrame({ sender: b.client.self!.id });
    const oversized = rawFrame({ data: picture(1, 2048 + 1) });
    for (const bad of [short, unknownCodec, audioCodec, spoofed, oversized]) raw.send(video, bad);
    raw.send(video, rawFrame({ data: picture(42) }));
    await waitFor(() => b.frames.length === 1, 'the one good frame', 3000);
    assert.is(b.frames[0].data[2], 42);
    assert.is(b.frames[0].sender, welcome.session);
    const refused = server.metrics.mediaRefused;
    assert.equal([refused.get('short-header'), refused.get('unknown-codec'), refused.get('codec-not-accepted'),
      refused.get('not-owner'), refused.get('too-large')], [1, 1, 1, 1, 1]);
    // The first malformed frame of the window is reported, the rest only counted.
    const reported = await raw.nextError();
    assert.equal([reported.code, reported.fatal, reported.channel], ['MEDIA_REFUSED', false, 'video']);
    // Keep going: past maxMalformed (5 here) in the window, the session is closed with MEDIA_MALFORMED.
    for (let i = 0; i < 5; i++) raw.send(video, short);
    const error = await raw.nextError();
    assert.is(error.code, 'MEDIA_MALFORMED');
    assert.ok(error.fatal);
    await raw.closed;
    await waitFor(() => !b.client.peers.has(welcome.session));
    assert.is(b.frames.length, 1, 'nothing malformed was relayed');
    await b.client.close();
  }, {}, { maxFrameBytes: 2048, maxMalformed: 5 });
});

test('a stalled receiver does not delay the others, and its queued bytes stay bounded', async () => {
  const highWater = 64 * 1024;
  const frameBytes = 96 * 1024;
  const intervalMs = 1000 / 30;
  /** Sends `count` frames from A at 30 fps; returns each frame's delivery latency at B (ms, by seq). */
  const run = async (port: number, sample: () => void) => {
    const a = await join(port, 'alice');
    const b = await join(port, 'bob', 'lab', 'ws');
    const sentAt = new Map<number, number>();
    const latency: number[] = [];
    b.video.on('frame', (frame) => latency.push(performance.now() - sentAt.get(frame.seq)!));
    const data = picture(5, frameBytes);
    for (let seq = 0; seq < 90; seq++) {
      sentAt.set(seq, performance.now());
      assert.ok(a.video.publish(data));
      sample();
      await sleep(intervalMs);
    }
    await waitFor(() => latency.length === 90, 'B to receive every frame', 5000);
    for (const m of [a, b]) await m.client.close();
    return latency.sort((x, y) => x - y);
  };
  await withServer(async ({ port, server }) => {
    const alone = await run(port, () => undefined);

    const { client: stalled, welcome } = await RawClient.join('tcp', port, { name: 'stalled', room: 'lab' });
    stalled.pause();
    const session = server.sessions.get(welcome.session)!;
    let maxQueued = 0;
    const dropsBefore = server.metrics.mediaDropped;
    const withStall = await run(port, () => (maxQueued = Math.max(maxQueued, session.queuedBytes)));

    const p90 = (values: number[]) => values[Math.floor(values.length * 0.9)]!;
    // Timely: B's deliveries with a stalled peer are within one frame interval of the run without it.
    assert.ok(p90(withStall) < p90(alone) + intervalMs, `p90 ${p90(withStall).toFixed(1)} ms with a stalled peer, ${p90(alone).toFixed(1)} ms without`);
    assert.ok(server.metrics.mediaDropped > dropsBefore, 'frames for the stalled receiver were dropped');
    // Bounded: the high-water mark plus the frame written when it was crossed, plus small reliable frames.
    assert.ok(maxQueued <= highWater + frameBytes + 16 * 1024, `the stalled session queued ${maxQueued} bytes`);
    assert.is(session.state, 'active', 'a slow media receiver is not closed');

    // Once it reads again it gets frames, newest last, in order.
    stalled.resume();
    const seqs: number[] = [];
    for (;;) {
      const frame = await nextVideo(stalled, welcome).catch(() => undefined);
      if (!frame) break;
      seqs.push(frame.seq);
      if (frame.seq === 89) break;
    }
    assert.is(seqs[seqs.length - 1], 89, 'the newest frame arrives');
    assert.ok(seqs.length < 90, `it received ${seqs.length} of 90 frames: some were dropped for it`);
    stalled.destroy();
  }, { mediaHighWaterBytes: highWater });
});

test('media from a session in another room or before joining goes nowhere', async () => {
  await withServer(async ({ port }) => {
    const b = await join(port, 'bob');
    const outsider = await join(port, 'eve', 'elsewhere');
    outsider.video.publish(picture(1));
    // A connection that has not joined cannot send media: its first frame must be HELLO.
    const stranger = await RawClient.tcp(port);
    stranger.send(0x10, rawFrame());
    assert.is((await stranger.nextError()).code, 'HELLO_REQUIRED');
    await sleep(150);
    assert.is(b.frames.length, 0);
    stranger.destroy();
    for (const m of [b, outsider]) await m.client.close();
  });
});

test.run();
