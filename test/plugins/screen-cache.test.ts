/**
 * A VP8 screen share: the server keeps the share since its keyframe and replays it to late joiners and to
 * receivers that ask for a keyframe, so the presenter is asked only when the cache cannot answer. The
 * presenter is a raw client sending fake VP8 frames (test/helpers/vp8.ts); receivers use the client half.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabClient } from '../../core/client/node.js';
import { encodeMediaFrame, MediaCodec, type MediaFrame } from '../../core/media.js';
import type { Welcome } from '../../core/protocol.js';
import { sleep, startTestServer, waitFor, type TestServer } from '../../core/testing.js';
import { screenClient, type ScreenApi } from '../../plugins/screen/client.js';
import { KEYFRAME_INTERVAL_MS } from '../../plugins/screen/protocol.js';
import { screen } from '../../plugins/screen/server.js';
import { MAX_CACHE_FRAMES } from '../../plugins/screen/share-cache.js';
import { RawClient } from '../helpers/raw-client.js';
import { l1t3, vp8Delta, vp8Keyframe } from '../helpers/vp8.js';

interface Viewer {
  client: ConfabClient;
  screen: ScreenApi;
  frames: MediaFrame[];
}

async function viewer(lab: TestServer, name: string): Promise<Viewer> {
  const client = new ConfabClient({ url: `tcp://127.0.0.1:${lab.port}`, name, room: 'lab', reconnect: false });
  const api = client.use(screenClient());
  const member: Viewer = { client, screen: api, frames: [] };
  api.on('frame', (frame) => member.frames.push({ ...frame, data: frame.data.slice() }));
  await client.connect();
  return member;
}

/** A raw presenter that has started a share. */
async function presenter(lab: TestServer): Promise<{ raw: RawClient; welcome: Welcome; send(index: number): void }> {
  const { client: raw, welcome } = await RawClient.join('tcp', lab.port, { name: 'presenter', room: 'lab' });
  raw.sendJson(welcome.channels['screen-control'], { op: 'start' });
  await raw.next((f) => f.json?.op === 'started');
  const send = (index: number) => {
    const keyframe = index === 0;
    raw.send(welcome.channels.screen, encodeMediaFrame({
      codec: MediaCodec.VP8, keyframe, ...l1t3(index), seq: index, captureMs: Date.now(), sender: '',
      data: keyframe ? vp8Keyframe(index % 256) : vp8Delta(index % 256),
    }));
  };
  return { raw, welcome, send };
}

/** Keyframe requests the presenter received within `ms`. */
async function keyframeRequests(raw: RawClient, ms: number): Promise<number> {
  let count = 0;
  while (await raw.next((f) => f.json?.op === 'keyframe', ms).catch(() => undefined)) count++;
  return count;
}

async function withLab(body: (lab: TestServer) => Promise<void>): Promise<void> {
  const lab = await startTestServer({ plugins: [screen()] });
  try {
    await body(lab);
  } finally {
    await lab.close();
  }
}

test('a late joiner gets the keyframe and the base-layer frames since, then the share goes on; the presenter is not asked', async () => {
  await withLab(async (lab) => {
    const share = await presenter(lab);
    for (let i = 0; i < 10; i++) share.send(i);
    await waitFor(() => lab.server.metrics.framesIn.get('screen') === 10, 'the frames to reach the server');
    const late = await viewer(lab, 'late');
    await waitFor(() => late.frames.length === 3, 'the cached share');
    assert.equal(late.frames.map((f) => f.seq), [0, 4, 8], 'the keyframe and the base-layer frames after it');
    for (let i = 10; i < 16; i++) share.send(i);
    // 10 (layer 1, a switch-up point), not 11 (layer 2, not one), then from 13 (layer 2, one) the whole stream.
    await waitFor(() => late.frames.length === 8, 'the share to go on');
    assert.equal(late.frames.map((f) => f.seq).slice(3), [10, 12, 13, 14, 15]);
    assert.is(await keyframeRequests(share.raw, 200), 0);
    share.raw.destroy();
    await late.client.close();
  });
});

test('a receiver\'s keyframe request is answered from the cache; SCREEN_NO_SHARE and SCREEN_KEYFRAME_RATE refuse the others', async () => {
  await withLab(async (lab) => {
    const watcher = await viewer(lab, 'watcher');
    const codes: string[] = [];
    watcher.client.on('serverError', (error) => codes.push(error.code));
    watcher.screen.requestKeyframe('gap');
    await waitFor(() => codes.length === 1);
    assert.equal(codes.splice(0), ['SCREEN_NO_SHARE']);
    const share = await presenter(lab);
    for (let i = 0; i < 6; i++) share.send(i);
    await waitFor(() => watcher.frames.length === 6);
    watcher.screen.requestKeyframe('decode-error');
    await waitFor(() => watcher.frames.length === 8, 'the replayed keyframe and base-layer frame');
    assert.equal(watcher.frames.slice(6).map((f) => f.seq), [0, 4]);
    assert.match((await lab.server.metrics.render()), /confab_screen_keyframe_requests_total\{outcome="cached"\} 1/);
    for (let i = 0; i < 10; i++) watcher.screen.requestKeyframe('gap');
    await waitFor(() => codes.length > 0, 'a refusal');
    assert.ok(codes.every((code) => code === 'SCREEN_KEYFRAME_RATE'));
    assert.is(await keyframeRequests(share.raw, 200), 0, 'the presenter was never asked');
    share.raw.destroy();
    await watcher.client.close();
  });
});

test(`a cache past ${MAX_CACHE_FRAMES} frames is dropped and the presenter asked for a keyframe; a receiver that asks meanwhile waits for it`, async () => {
  await withLab(async (lab) => {
    const share = await presenter(lab);
    const watcher = await viewer(lab, 'watcher');
    // Base-layer frames only (every 4th index): 0 is the keyframe, then MAX_CACHE_FRAMES deltas.
    for (let k = 0; k <= MAX_CACHE_FRAMES; k++) share.send(4 * k);
    assert.is(await keyframeRequests(share.raw, 300), 1);
    await waitFor(() => watcher.frames.length === MAX_CACHE_FRAMES + 1, 'every frame to the watcher');
    watcher.screen.requestKeyframe('decode-error');
    assert.is(await keyframeRequests(share.raw, KEYFRAME_INTERVAL_MS + 200), 1, 'the cache cannot answer: the presenter is asked');
    share.send(4 * (MAX_CACHE_FRAMES + 1));
    await sleep(100);
    assert.is(watcher.frames.length, MAX_CACHE_FRAMES + 1, 'no delta while it waits for the keyframe');
    share.send(0);
    await waitFor(() => watcher.frames.length === MAX_CACHE_FRAMES + 2);
    assert.ok(watcher.frames.at(-1)!.keyframe);
    share.raw.destroy();
    await watcher.client.close();
  });
});

test.run();
