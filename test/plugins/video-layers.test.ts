/**
 * The video relay with layered VP8 traffic, on a real server and real sockets: keyframes for late joiners,
 * layer subscriptions, keyframe-request throttling, hostile frames and requests, and a receiver whose link
 * cannot keep up. The VP8 payloads are fakes that pass the server's frame-tag check (test/helpers/vp8.ts);
 * real encoders are exercised by the bots' and the browser's tests.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeMediaFrame, encodeMediaFrame, MediaCodec, type MediaFrame, type MediaFrameInit } from '../../core/media.js';
import type { Welcome } from '../../core/protocol.js';
import { sleep, startTestServer, waitFor, type TestServer } from '../../core/testing.js';
import { KEYFRAME_INTERVAL_MS } from '../../plugins/video-relay/protocol.js';
import { videoRelay } from '../../plugins/video-relay/server.js';
import { RawClient, type ReceivedFrame } from '../helpers/raw-client.js';
import { l1t3, vp8Delta, vp8Keyframe } from '../helpers/vp8.js';

/** A raw participant: its connection, WELCOME, and every frame it received, decoded as they came. */
interface Raw {
  client: RawClient;
  welcome: Welcome;
  id: string;
}

async function rawJoin(lab: TestServer, name: string): Promise<Raw> {
  const { client, welcome } = await RawClient.join('tcp', lab.port, { name, room: 'lab' });
  return { client, welcome, id: welcome.session };
}

/** Frame `index` of a layered VP8 stream that starts with a keyframe at index 0 (and at every `gop`). */
function vp8(index: number, gop = 1000, init: Partial<MediaFrameInit> = {}): Uint8Array {
  const position = index % gop;
  const keyframe = position === 0;
  return encodeMediaFrame({
    codec: MediaCodec.VP8, keyframe, ...l1t3(position), seq: index, captureMs: Date.now(), sender: '',
    data: keyframe ? vp8Keyframe(index % 256) : vp8Delta(index % 256), ...init,
  });
}

/** Drains the video frames a raw client received so far (waiting `settleMs` for more), decoded. */
async function videoFrames(raw: Raw, settleMs = 150): Promise<MediaFrame[]> {
  const frames: MediaFrame[] = [];
  for (;;) {
    const frame = await raw.client.next((f) => f.type === raw.welcome.channels.video, settleMs).catch(() => undefined);
    if (!frame) return frames;
    const decoded = decodeMediaFrame(frame.payload);
    if (decoded.ok) frames.push(decoded.frame);
  }
}

/** The control messages with this op a raw client received (waiting `settleMs` for more). */
async function controls(raw: Raw, op: string, settleMs = 150): Promise<ReceivedFrame['json'][]> {
  const found = [];
  for (;;) {
    const frame = await raw.client.next((f) => f.type === raw.welcome.channels['video-control'] && f.json?.op === op, settleMs).catch(() => undefined);
    if (!frame) return found;
    found.push(frame.json);
  }
}

async function withLab(body: (lab: TestServer) => Promise<void>, server = {}): Promise<void> {
  const lab = await startTestServer({ plugins: [videoRelay()], server });
  try {
    await body(lab);
  } finally {
    await lab.close();
  }
}

test('a receiver that joins mid-stream gets nothing before a keyframe, and the sender is asked for one', async () => {
  await withLab(async (lab) => {
    const sender = await rawJoin(lab, 'sender');
    for (let i = 0; i < 4; i++) sender.client.send(sender.welcome.channels.video, vp8(i));
    await waitFor(() => lab.server.metrics.framesIn.get('video') === 4, 'the first four frames to reach the server');
    const late = await rawJoin(lab, 'late');
    for (let i = 4; i < 8; i++) sender.client.send(sender.welcome.channels.video, vp8(i));
    await waitFor(() => lab.server.metrics.framesIn.get('video') === 8, 'the next four');
    assert.equal(await videoFrames(late), [], 'deltas cannot be decoded without their keyframe');
    assert.ok((await controls(sender, 'keyframe')).length >= 1, 'the relay asked the sender');
    sender.client.send(sender.welcome.channels.video, vp8(8, 8));
    for (let i = 9; i < 12; i++) sender.client.send(sender.welcome.channels.video, vp8(i, 8));
    const got = await videoFrames(late);
    assert.equal(got.map((f) => f.seq), [8, 9, 10, 11]);
    assert.ok(got[0]!.keyframe);
    assert.match((await lab.server.metrics.render()), /confab_video_frames_skipped_total\{reason="wait-keyframe"\} 4\n/);
    for (const raw of [sender, late]) raw.client.destroy();
  });
});

test('subscribe({ layer: 0, layers: { [speaker]: 2 } }) gives thumbnails at base layer and the speaker in full', async () => {
  await withLab(async (lab) => {
    const speaker = await rawJoin(lab, 'speaker');
    const other = await rawJoin(lab, 'other');
    const viewer = await rawJoin(lab, 'viewer');
    viewer.client.sendJson(viewer.welcome.channels['video-control'], { op: 'subscribe', layer: 0, layers: { [speaker.id]: 2 } });
    const [ack] = await controls(viewer, 'subscribed');
    assert.equal(ack, { op: 'subscribed', senders: null, maxFps: null, layer: 0, layers: { [speaker.id]: 2 } });
    for (let i = 0; i < 12; i++) {
      speaker.client.send(speaker.welcome.channels.video, vp8(i));
      other.client.send(other.welcome.channels.video, vp8(i));
    }
    const got = await videoFrames(viewer);
    assert.equal(got.filter((f) => f.sender === speaker.id).map((f) => f.seq), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.equal(got.filter((f) => f.sender === other.id).map((f) => f.seq), [0, 4, 8], 'every 4th frame: the base layer');
    for (const raw of [speaker, other, viewer]) raw.client.destroy();
  });
});

test('keyframe requests from many receivers reach the sender at most once per interval', async () => {
  await withLab(async (lab) => {
    const sender = await rawJoin(lab, 'sender');
    const receivers = await Promise.all(['a', 'b', 'c'].map((name) => rawJoin(lab, name)));
    sender.client.send(sender.welcome.channels.video, vp8(0));
    await sleep(50);
    const asked = performance.now();
    for (let round = 0; round < 3; round++) {
      for (const raw of receivers) raw.client.sendJson(raw.welcome.channels['video-control'], { op: 'keyframe', sender: sender.id, reason: 'gap' });
    }
    const first = await sender.client.next((f) => f.json?.op === 'keyframe');
    assert.ok(first);
    // The other eight requests are merged into one, sent when the interval ends.
    await sender.client.next((f) => f.json?.op === 'keyframe', KEYFRAME_INTERVAL_MS + 500);
    assert.ok(performance.now() - asked >= KEYFRAME_INTERVAL_MS - 5, 'the second one waited for the interval');
    assert.equal(await controls(sender, 'keyframe', KEYFRAME_INTERVAL_MS + 100), [], 'and no third');
    const metrics = (await lab.server.metrics.render());
    assert.match(metrics, /confab_video_keyframe_requests_total\{outcome="forwarded"\} 1/);
    assert.match(metrics, /confab_video_keyframe_requests_total\{outcome="merged"\} 8/);
    for (const raw of [sender, ...receivers]) raw.client.destroy();
  });
});

test('a keyframe that arrives within the interval answers the merged requests', async () => {
  await withLab(async (lab) => {
    const sender = await rawJoin(lab, 'sender');
    const receiver = await rawJoin(lab, 'receiver');
    const ask = () => receiver.client.sendJson(receiver.welcome.channels['video-control'], { op: 'keyframe', sender: sender.id });
    ask();
    await sender.client.next((f) => f.json?.op === 'keyframe');
    ask();
    await waitFor(() => lab.server.metrics.counterValues('confab_video_keyframe_requests_total')?.get('merged') === 1, 'the second request to be merged');
    sender.client.send(sender.welcome.channels.video, vp8(0));
    assert.equal(await controls(sender, 'keyframe', KEYFRAME_INTERVAL_MS + 100), []);
    for (const raw of [sender, receiver]) raw.client.destroy();
  });
});

test('hostile keyframe requests get coded refusals and are counted; the others are unaffected', async () => {
  await withLab(async (lab) => {
    const sender = await rawJoin(lab, 'sender');
    const hostile = await rawJoin(lab, 'hostile');
    const bystander = await rawJoin(lab, 'bystander');
    const control = hostile.welcome.channels['video-control'];
    hostile.client.sendJson(control, { op: 'keyframe', sender: 'nobody' });
    assert.is((await hostile.client.nextError()).code, 'VIDEO_UNKNOWN_SENDER');
    hostile.client.sendJson(control, { op: 'keyframe', sender: hostile.id });
    assert.is((await hostile.client.nextError()).code, 'VIDEO_UNKNOWN_SENDER', 'not of itself');
    for (let i = 0; i < 100; i++) hostile.client.sendJson(control, { op: 'keyframe', sender: sender.id });
    const codes: string[] = [];
    for (;;) {
      const error = await hostile.client.nextError(300).catch(() => undefined);
      if (!error) break;
      codes.push(error.code);
    }
    assert.ok(codes.length >= 70 && codes.every((code) => code === 'VIDEO_KEYFRAME_RATE'), `${codes.length} refusals`);
    assert.ok((await controls(sender, 'keyframe', KEYFRAME_INTERVAL_MS + 100)).length <= 2, 'the sender is asked at most twice');
    assert.match((await lab.server.metrics.render()), new RegExp(`confab_errors_total\\{code="VIDEO_KEYFRAME_RATE"\\} ${codes.length}`));
    // The flood changed nothing for anyone else.
    sender.client.send(sender.welcome.channels.video, vp8(0));
    assert.equal((await videoFrames(bystander)).map((f) => f.seq), [0]);
    for (const raw of [sender, hostile, bystander]) raw.client.destroy();
  });
});

test('malformed layered frames get MEDIA_REFUSED and are counted by reason; nothing of them is relayed', async () => {
  await withLab(async (lab) => {
    const hostile = await rawJoin(lab, 'hostile');
    const receiver = await rawJoin(lab, 'receiver');
    const video = hostile.welcome.channels.video;
    const layerThree = vp8(1);
    layerThree[1] = (layerThree[1]! & ~0x06) | (3 << 1);
    const keyframeOnLayerOne = vp8(0);
    keyframeOnLayerOne[1] = keyframeOnLayerOne[1]! | (1 << 1);
    const deltaFlaggedKey = vp8(0, 1000, { data: vp8Delta(1) });
    const keyFlaggedDelta = vp8(1, 1000, { data: vp8Keyframe(1) });
    const truncated = vp8(1, 1000, { data: new Uint8Array([1, 0]) });
    for (const bad of [layerThree, keyframeOnLayerOne, deltaFlaggedKey, keyFlaggedDelta, truncated]) hostile.client.send(video, bad);
    const error = await hostile.client.nextError();
    assert.equal([error.code, error.fatal, error.channel], ['MEDIA_REFUSED', false, 'video']);
    assert.match(error.message, /bad-layer/);
    const refused = lab.server.metrics.mediaRefused;
    assert.equal([refused.get('bad-layer'), refused.get('vp8-keyframe-mismatch'), refused.get('vp8-malformed')], [2, 2, 1]);
    assert.equal(await videoFrames(receiver), []);
    hostile.client.send(video, vp8(0));
    assert.equal((await videoFrames(receiver)).map((f) => f.seq), [0], 'a good frame still goes');
    for (const raw of [hostile, receiver]) raw.client.destroy();
  });
});

/** Sends frames `from`..`to`-1 of a stream with a keyframe every 60 at 30 fps, of `bytes` each. */
async function stream(sender: Raw, from: number, to: number, bytes: number, each: () => void = () => undefined): Promise<void> {
  for (let i = from; i < to; i++) {
    sender.client.send(sender.welcome.channels.video, vp8(i, 60, { data: i % 60 === 0 ? vp8Keyframe(i, bytes) : vp8Delta(i, bytes) }));
    each();
    await sleep(1000 / 30);
  }
}

test('a receiver whose link backs up gets fewer layers, then climbs back; the others get every frame', async () => {
  const highWater = 64 * 1024;
  await withLab(async (lab) => {
    const sender = await rawJoin(lab, 'sender');
    const fast = await rawJoin(lab, 'fast');
    const slow = await rawJoin(lab, 'slow');
    slow.client.pause();
    const slowSession = lab.server.sessions.get(slow.id)!;
    let maxQueued = 0;
    // 64 KiB frames for 3 s: more than the kernel's socket buffers take.
    await stream(sender, 0, 90, 65536, () => (maxQueued = Math.max(maxQueued, slowSession.queuedBytes)));
    assert.is(slowSession.state, 'active', 'a slow media receiver is not closed');
    assert.ok(maxQueued <= highWater + 65536 + 16 * 1024, `the slow receiver queued ${maxQueued} bytes`);
    assert.match((await lab.server.metrics.render()), /confab_video_layer_changes_total\{direction="down"\} [1-9]/);
    assert.equal((await videoFrames(fast)).length, 90, 'the fast receiver got every frame');
    assert.equal(await controls(sender, 'bitrate'), [], 'no limit for the sender while one receiver takes everything');

    // Reading again, the slow receiver drains, and gets every layer again after calm seconds.
    slow.client.resume();
    await videoFrames(slow, 300);
    await stream(sender, 90, 240, 2048);
    const later = (await videoFrames(slow)).filter((f) => f.seq >= 210);
    assert.equal(later.map((f) => f.seq), Array.from({ length: 30 }, (_, k) => 210 + k), 'every frame, every layer');
    assert.match((await lab.server.metrics.render()), /confab_video_layer_changes_total\{direction="up"\} [1-9]/);
    for (const raw of [sender, fast, slow]) raw.client.destroy();
  }, { mediaHighWaterBytes: highWater });
});

test('a sender whose every receiver is congested is told a lower bitrate', async () => {
  await withLab(async (lab) => {
    const sender = await rawJoin(lab, 'sender');
    const slow = await rawJoin(lab, 'slow');
    slow.client.pause();
    await stream(sender, 0, 75, 65536);
    const [limit] = await controls(sender, 'bitrate', 1200);
    assert.ok(typeof limit?.bps === 'number' && limit.bps < 64 * 1024 * 8 * 30, `told ${JSON.stringify(limit)}`);
    for (const raw of [sender, slow]) raw.client.destroy();
  }, { mediaHighWaterBytes: 64 * 1024 });
});

test.run();
