import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findFfmpeg } from '../../bots/ffmpeg.js';
import { inject } from '../../bots/injector.js';
import { BitratePolicy } from '../../bots/media/bitrate-policy.js';
import { IvfReader, ivfFileHeader, ivfFrame } from '../../bots/media/ivf.js';
import type { EncodedVideoFrame } from '../../bots/media/vp8-encoder.js';
import { l1t3 } from '../../bots/media/vp8-settings.js';
import { Vp8Stream } from '../../bots/media/vp8-stream.js';
import { MediaCodec, type MediaFrame } from '../../core/media.js';
import { startTestServer, type TestServer } from '../../core/testing.js';
import { vp8FrameKind, vp8KeyframeSize } from '../../core/vp8.js';
import { audioClient } from '../../plugins/audio-mix/client.js';
import { audioMix } from '../../plugins/audio-mix/server.js';
import { videoClient } from '../../plugins/video-relay/client.js';
import { videoRelay } from '../../plugins/video-relay/server.js';

const ffmpegPath = (await findFfmpeg()).path;

/** Decodes VP8 frames with ffmpeg; resolves how many pictures came out and what ffmpeg complained about. */
function decodeVp8(frames: Uint8Array[]): { pictures: number; errors: string } {
  const size = vp8KeyframeSize(frames[0]!)!;
  const ivf = Buffer.concat([ivfFileHeader({ fourcc: 'VP80', ...size, timebaseDen: 1000, timebaseNum: 1 }), ...frames.map((f, i) => ivfFrame(i, f))]);
  const result = spawnSync(ffmpegPath, ['-v', 'error', '-f', 'ivf', '-i', 'pipe:0', '-f', 'framemd5', 'pipe:1'], { input: ivf, encoding: 'buffer' });
  const lines = result.stdout.toString('utf8').split('\n').filter((line) => /^\d+,/.test(line));
  return { pictures: lines.length, errors: result.stderr.toString('utf8').trim() };
}

/** A server and a receiver in room `lab` that keeps every video frame it gets. */
async function room(plugins = [videoRelay(), audioMix()]): Promise<{ lab: TestServer; frames: MediaFrame[]; receiver: Awaited<ReturnType<typeof connectReceiver>> }> {
  const lab = await startTestServer({ plugins });
  const receiver = await connectReceiver(lab);
  const frames: MediaFrame[] = [];
  receiver.video.on('frame', (frame) => frames.push({ ...frame, data: Buffer.from(frame.data) }));
  return { lab, frames, receiver };
}

function connectReceiver(lab: TestServer) {
  return lab.connect('receiver', { room: 'lab', plugins: { video: videoClient(), audio: audioClient({ listen: true }) } });
}

test('inject() publishes VP8 in the L1T3 pattern, keyframe first, that ffmpeg decodes; a base-layer subscriber gets layer 0 only, which decodes on its own', async () => {
  const { lab, frames } = await room();
  try {
    const base = await lab.connect('base', { room: 'lab', plugins: { video: videoClient() } });
    const baseFrames: Uint8Array[] = [];
    base.video.on('frame', (frame) => baseFrames.push(Buffer.from(frame.data)));
    base.video.subscribe({ layer: 0 });
    await base.waitForMessage('video-control', { op: 'subscribed' });
    const result = await inject({ server: lab.url, room: 'lab', input: { testPattern: {} }, durationS: 2, width: 320, height: 240 });
    await lab.waitFor(() => frames.length >= result.sent.videoFrames, 'the receiver to get every frame');

    assert.is(result.codecs.video, 'vp8');
    assert.ok(frames.every((f) => f.codec === MediaCodec.VP8));
    assert.ok(frames[0]!.keyframe && vp8FrameKind(frames[0]!.data) === 'keyframe', 'the first frame is a keyframe');
    assert.equal(vp8KeyframeSize(frames[0]!.data), { width: 320, height: 240 });
    frames.forEach((frame, i) => {
      assert.is(frame.seq, i);
      assert.is(frame.keyframe, vp8FrameKind(frame.data) === 'keyframe', `frame ${i}: the keyframe flag matches the VP8 frame tag`);
      if (!frame.keyframe) assert.equal({ layer: frame.layer, switchUp: frame.switchUp }, l1t3(i), `frame ${i} is in the 0-2-1-2 pattern`);
    });
    const full = decodeVp8(frames.map((f) => f.data));
    assert.is(full.errors, '');
    assert.is(full.pictures, frames.length);

    assert.ok(baseFrames.length >= frames.length / 4 - 1 && baseFrames.length <= frames.length / 4 + 1, `${baseFrames.length} base-layer frames of ${frames.length}`);
    const subset = decodeVp8(baseFrames);
    assert.is(subset.errors, '', 'the base layer alone decodes without errors (error-resilient mode)');
    assert.is(subset.pictures, baseFrames.length);
  } finally {
    await lab.close();
  }
});

test('inject() answers a keyframe request with a keyframe and counts how long it took', async () => {
  const { lab, frames, receiver } = await room();
  try {
    const injection = inject({ server: lab.url, room: 'lab', input: { testPattern: {} }, durationS: 3, width: 320, height: 240 });
    await lab.waitFor(() => frames.length >= 10, 'ten frames', 10_000);
    const injector = [...receiver.client.peers.values()].find((peer) => peer.name === 'injector')!;
    const askedAt = frames.length;
    receiver.video.requestKeyframe(injector.id, 'decode-error');
    await lab.waitFor(() => frames.slice(askedAt).some((f) => f.keyframe), 'a keyframe after the request', 5000);
    const result = await injection;

    const answer = frames.slice(askedAt).find((f) => f.keyframe)!;
    assert.ok(answer.seq > 0 && vp8FrameKind(answer.data) === 'keyframe');
    assert.is(frames.filter((f) => f.keyframe).length, 2, 'the first frame and the answer: no keyframe nobody asked for');
    assert.is(result.video.keyframeRequests, 1);
    assert.is(result.video.keyframeLatencyMs.length, 1);
    assert.ok(result.video.keyframeLatencyMs[0]! >= 0);
    // The encoder after the keyframe starts its layer pattern again: the frame after the answer is layer 2.
    assert.is(frames.find((f) => f.seq === answer.seq + 1)?.layer, 2);
    assert.is(decodeVp8(frames.map((f) => f.data)).errors, '');
  } finally {
    await lab.close();
  }
});

test('inject() follows the server\'s bitrate feedback within its bounds: a new encoder at the lower rate, starting with a keyframe', async () => {
  const { lab, frames } = await room();
  try {
    const injection = inject({ server: lab.url, room: 'lab', input: { testPattern: {} }, durationS: 3, width: 320, height: 240, bitrate: { minBps: 120_000, maxBps: 400_000 } });
    await lab.waitFor(() => frames.length >= 10, 'ten frames', 10_000);
    const injector = [...lab.server.sessions.values()].find((session) => session.name === 'injector')!;
    const toldAt = frames.length;
    // What the video relay sends a publisher whose receivers are congested: far under the floor.
    injector.sendReliableJson(lab.server.channels.ids()['video-control']!, { op: 'bitrate', bps: 60_000 });
    await lab.waitFor(() => frames.slice(toldAt).some((f) => f.keyframe), 'the new encoder\'s keyframe', 5000);
    const result = await injection;
    assert.equal(result.video.bitrateChanges, [120_000], 'down to the floor, once');
    assert.is(frames.filter((f) => f.keyframe).length, 2);
    assert.is(decodeVp8(frames.map((f) => f.data)).errors, '');
  } finally {
    await lab.close();
  }
});

test('inject() falls back to PCM audio on a server without Opus, and sends JPEG with codec jpeg', async () => {
  const { lab, frames, receiver } = await room([videoRelay(), audioMix({ opus: false })]);
  try {
    let mixFrames = 0;
    receiver.audio.on('mix', () => mixFrames++);
    const result = await inject({ server: lab.url, room: 'lab', codec: 'jpeg', input: { testPattern: {} }, durationS: 1.5, width: 160, height: 120 });
    assert.equal(result.codecs, { video: 'jpeg', audio: 'pcm' });
    assert.ok(result.sent.audioFrames >= 60, `sent ${result.sent.audioFrames} audio frames`);
    await lab.waitFor(() => mixFrames >= 50, 'the mix of the injected audio');
    assert.ok(frames.length >= 15 && frames.every((f) => f.codec === MediaCodec.JPEG && f.keyframe));
    assert.is(result.video.keyframeLatencyMs.length, 0);
  } finally {
    await lab.close();
  }
});

test('Vp8Stream switches to an encoder at the new rate with a keyframe, keeps the frames in order, and answers requests at the next frame', async () => {
  const out: EncodedVideoFrame[] = [];
  const stream = await Vp8Stream.start({ width: 160, height: 120, fps: 15, bitrateBps: 300_000, onFrame: (frame) => out.push(frame) });
  const picture = (i: number) => Buffer.alloc(160 * 120 * 1.5, i * 7);
  let written = 0;
  let requestedAt: number | undefined;
  // Frames keep coming, as from a camera, until the request was answered (a spare may take a while to start);
  // the request comes once the switch to the new rate is done, so the two are not answered by one keyframe.
  const keyframes = () => out.filter((f) => f.keyframe).map((f) => f.captureMs - 1000);
  try {
    for (; written < 300 && (written < 40 || keyframes().length < 3); written++) {
      if (written === 10) stream.setBitrate(100_000);
      if (requestedAt === undefined && keyframes().length === 2 && written >= 25) {
        requestedAt = written;
        stream.requestKeyframe();
      }
      stream.write(picture(written), 1000 + written);
      await new Promise((done) => setTimeout(done, 30));
    }
  } finally {
    await stream.close();
  }
  assert.is(out.length, written, 'every frame written came out');
  assert.equal(out.map((f) => f.captureMs), Array.from({ length: written }, (_, i) => 1000 + i), 'in order');
  const at = keyframes();
  assert.is(at[0], 0);
  assert.is(at.length, 3, `keyframes at ${at.join(', ')}`);
  assert.ok(at[1]! >= 10 && at[2]! >= requestedAt!, `keyframes at ${at.join(', ')}: after the rate change and the request (${requestedAt})`);
  assert.equal(stream.stats.bitrateChanges, [100_000]);
  assert.is(stream.stats.keyframeRequests, 1);
  assert.is(stream.stats.keyframeLatencyMs.length, 1);
  assert.is(stream.bitrateBps, 100_000);
});

test('BitratePolicy goes down at once on a material drop, up only after the higher target held, never twice within 2 s, within its bounds', () => {
  const policy = new BitratePolicy({ minBps: 150_000, maxBps: 500_000 }, 500_000);
  policy.feedback(450_000, 0);
  assert.is(policy.decide(0), undefined, '10 % less is not material');
  policy.feedback(100_000, 100);
  assert.is(policy.decide(100), 150_000, 'down to the floor at once');
  policy.feedback(null, 200);
  assert.is(policy.decide(1000), undefined, 'within 2 s of the last change');
  assert.is(policy.decide(3100), undefined, 'up only after 3 s of a higher target');
  assert.is(policy.decide(3300), 500_000, 'no limit: back to the ceiling');
  policy.feedback(300_000, 6000);
  assert.is(policy.decide(6000), 300_000);
  assert.throws(() => new BitratePolicy({ minBps: 500_000, maxBps: 100_000 }, 100_000), /bounds/);
});

test('IvfReader reads frames written by ivfFileHeader/ivfFrame across any chunking', () => {
  const frames = [Buffer.from([1, 2, 3]), Buffer.alloc(0), Buffer.alloc(1000, 9)];
  const stream = Buffer.concat([ivfFileHeader({ fourcc: 'VP80', width: 320, height: 240, timebaseDen: 15, timebaseNum: 1 }), ...frames.map((f, i) => ivfFrame(i * 2, f))]);
  for (const step of [1, 7, stream.length]) {
    const got: Array<{ pts: number; data: Buffer }> = [];
    const reader = new IvfReader((frame) => got.push(frame));
    for (let i = 0; i < stream.length; i += step) reader.push(stream.subarray(i, i + step));
    assert.equal(reader.header, { fourcc: 'VP80', width: 320, height: 240, timebaseDen: 15, timebaseNum: 1 });
    assert.equal(got, frames.map((data, i) => ({ pts: i * 2, data })));
  }
  assert.throws(() => new IvfReader(() => {}).push(Buffer.alloc(40)), /not an IVF stream/);
});

test.run();
